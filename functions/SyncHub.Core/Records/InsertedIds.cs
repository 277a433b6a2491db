using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace SyncHub.Core.Records;

/// <summary>
/// The ids a writer session inserted, as a Bloom filter of the SHA-256 of each id (the hash its index key is made of):
/// <see cref="MightContain"/> is never false for an id that was added, and rarely true for one that was not. It grows
/// in layers (the first for 16,384 ids, each next one twice the size of the one before, 10 bits and 7 hash functions
/// per id), so its memory follows the ids added: about 1.3 MB per million ids (at most 2.6 MB right after a layer is
/// added). A full layer answers a wrong "maybe" for about 0.8 % of the ids it is asked about, an underfilled one for far
/// fewer (3,000 ids in the first layer: about 1 in 3 million); at a million ids, about 5 %. Its memory is capped at
/// <see cref="MaxBytes"/> (about 13 million ids): past that <see cref="TryAdd"/> refuses, and the writer looks ids up instead.
/// </summary>
/// <param name="maxBytes">The cap (tests use a small one).</param>
internal sealed class InsertedIds(long maxBytes = InsertedIds.MaxBytes)
{
    private const int FirstCapacity = 16_384;
    private const int BitsPerId = 10;
    private const int Hashes = 7;

    /// <summary>The most memory the filter takes: a writer's memory stays bounded whatever it inserts.</summary>
    internal const long MaxBytes = 16L * 1024 * 1024;

    private readonly List<Layer> _layers = [];

    /// <summary>Ids added (an id added twice counts twice).</summary>
    public long Count { get; private set; }

    /// <summary>Memory of the bit arrays.</summary>
    public long Bytes => _layers.Sum(l => (long)l.Bits.Length * sizeof(ulong));

    /// <summary>Adds <paramref name="id"/>; false (nothing added) when that needs a layer past the cap.</summary>
    public bool TryAdd(string id)
    {
        var (h1, h2) = HashOf(id);
        if (_layers.Count == 0 || _layers[^1].Count >= _layers[^1].Capacity)
        {
            var capacity = _layers.Count == 0 ? FirstCapacity : _layers[^1].Capacity * 2;
            if (Bytes + LayerBytes(capacity) > maxBytes)
            {
                return false;
            }
            _layers.Add(new Layer(capacity));
        }
        _layers[^1].Add(h1, h2);
        Count++;
        return true;
    }

    private static long LayerBytes(int capacity) => ((long)capacity * BitsPerId + 63) / 64 * sizeof(ulong);

    /// <summary>False: <paramref name="id"/> was certainly not added. True: it probably was.</summary>
    public bool MightContain(string id)
    {
        if (_layers.Count == 0)
        {
            return false;
        }
        var (h1, h2) = HashOf(id);
        foreach (var layer in _layers)
        {
            if (layer.MightContain(h1, h2))
            {
                return true;
            }
        }
        return false;
    }

    private static (ulong, ulong) HashOf(string id)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(id), digest);
        // Double hashing (Kirsch–Mitzenmacher): position i is h1 + i·h2; h2 odd so the positions never repeat early.
        return (BinaryPrimitives.ReadUInt64LittleEndian(digest), BinaryPrimitives.ReadUInt64LittleEndian(digest[8..]) | 1);
    }

    private sealed class Layer(int capacity)
    {
        public readonly int Capacity = capacity;
        public readonly ulong[] Bits = new ulong[((long)capacity * BitsPerId + 63) / 64];
        public int Count;

        private ulong Size => (ulong)Bits.Length * 64;

        public void Add(ulong h1, ulong h2)
        {
            for (var i = 0UL; i < Hashes; i++)
            {
                var bit = (h1 + i * h2) % Size;
                Bits[bit / 64] |= 1UL << (int)(bit % 64);
            }
            Count++;
        }

        public bool MightContain(ulong h1, ulong h2)
        {
            for (var i = 0UL; i < Hashes; i++)
            {
                var bit = (h1 + i * h2) % Size;
                if ((Bits[bit / 64] & (1UL << (int)(bit % 64))) == 0)
                {
                    return false;
                }
            }
            return true;
        }
    }
}
