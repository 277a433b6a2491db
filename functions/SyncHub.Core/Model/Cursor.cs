using System.Buffers.Binary;
using System.Globalization;

namespace SyncHub.Core.Model;

/// <summary>
/// A record's position in its partition: its last-modified time in 100 ns ticks, made strictly increasing per partition
/// (<c>max(now, high_water + 1)</c>). The same number is the record row's key (<c>r:</c> + 19 digits, so string order
/// is numeric order) and, encoded, the opaque cursor clients hold. last_modified_at is this time, so
/// <c>modified_after</c> is a RowKey range too.
/// </summary>
public readonly record struct Cursor(long Ticks) : IComparable<Cursor>
{
    public const string RowKeyPrefix = "r:";

    /// <summary>Just past every record row key (';' follows ':').</summary>
    public const string RowKeyEnd = "r;";

    public static readonly Cursor Zero = new(0);

    public string RowKey => RowKeyPrefix + Ticks.ToString("D19", CultureInfo.InvariantCulture);

    public DateTimeOffset Time => new(Ticks, TimeSpan.Zero);

    /// <summary>11 base64url characters of the big-endian ticks: compact, and opaque on purpose.</summary>
    public string Encode()
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, Ticks);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static bool TryDecode(string? text, out Cursor cursor)
    {
        cursor = Zero;
        if (text is not { Length: 11 } || text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[9];
        if (!Convert.TryFromBase64String(text.Replace('-', '+').Replace('_', '/') + "=", bytes, out var written) || written != 8)
        {
            return false;
        }
        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes);
        if (ticks <= 0 || ticks > DateTime.MaxValue.Ticks)
        {
            return false;
        }
        cursor = new Cursor(ticks);
        return true;
    }

    public static Cursor FromRowKey(string rowKey) =>
        new(long.Parse(rowKey.AsSpan(RowKeyPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture));

    /// <summary>The next cursor to hand out: now, unless the partition's high-water mark is already at or past now.</summary>
    public static Cursor Next(Cursor highWater, DateTimeOffset now) => new(Math.Max(now.UtcTicks, highWater.Ticks + 1));

    public int CompareTo(Cursor other) => Ticks.CompareTo(other.Ticks);

    public static bool operator <(Cursor a, Cursor b) => a.Ticks < b.Ticks;
    public static bool operator >(Cursor a, Cursor b) => a.Ticks > b.Ticks;
    public static bool operator <=(Cursor a, Cursor b) => a.Ticks <= b.Ticks;
    public static bool operator >=(Cursor a, Cursor b) => a.Ticks >= b.Ticks;

    public override string ToString() => Encode();
}
