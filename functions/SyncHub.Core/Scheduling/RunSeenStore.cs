using System.Text;
using Azure;
using Azure.Data.Tables;
using SyncHub.Core.Storage;

namespace SyncHub.Core.Scheduling;

/// <summary>
/// The ids a full sync with <c>track_deletes</c> has seen, once they no longer fit the invocation's bounded memory
/// (<see cref="RunSeenIds.SpillAt"/>) or the run continues in another invocation (table <c>runseen</c>, PartitionKey =
/// run id). Ids are kept as <see cref="RunSeenIds.Key"/>s (the first 22 characters of the record's index key hash), in
/// rows per model and first key character (<c>&lt;model&gt;|&lt;c&gt;|&lt;guid&gt;</c>), so the end-of-run sweep reads the
/// seen ids of one 64th of the key space at a time, next to the same range of the record set's index.
/// </summary>
public sealed class RunSeenStore(FixedTables tables)
{
    private const int KeysPerRow = 64 * 1024 / RunSeenIds.KeyChars;
    private const int RowsPerTransaction = 100;

    /// <summary>Adds seen keys of <paramref name="model"/> (one row per first character, a transaction per 100 rows).</summary>
    public async Task AppendAsync(string runId, string model, IEnumerable<string> keys, CancellationToken ct)
    {
        var rows = new List<TableEntity>();
        foreach (var bucket in keys.GroupBy(k => k[0]))
        {
            foreach (var chunk in bucket.Chunk(KeysPerRow))
            {
                rows.Add(new TableEntity(runId, $"{model}|{bucket.Key}|{Guid.NewGuid():N}") { ["Model"] = model, ["C"] = Encoding.ASCII.GetBytes(string.Concat(chunk)) });
            }
        }
        if (rows.Count == 0)
        {
            return;
        }
        var table = await tables.GetAsync(StorageNames.RunSeenTable, ct);
        foreach (var batch in rows.Chunk(RowsPerTransaction))
        {
            await table.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)), ct);
        }
    }

    /// <summary>The seen keys of <paramref name="model"/> starting with <paramref name="first"/>, streamed row by row.</summary>
    public async IAsyncEnumerable<string> ReadAsync(string runId, string model, char first, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.RunSeenTable, ct);
        var from = $"{model}|{first}|";
        var to = $"{model}|{first}}}";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {runId} and RowKey ge {from} and RowKey lt {to}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["C"], cancellationToken: ct))
        {
            var chars = Encoding.ASCII.GetString(row.GetBinary("C"));
            for (var i = 0; i + RunSeenIds.KeyChars <= chars.Length; i += RunSeenIds.KeyChars)
            {
                yield return chars.Substring(i, RunSeenIds.KeyChars);
            }
        }
    }

    public async Task DeleteAsync(string runId, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.RunSeenTable, ct);
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {runId}"), select: ["RowKey"], cancellationToken: ct))
        {
            keys.Add(row.RowKey);
        }
        foreach (var batch in keys.Chunk(RowsPerTransaction))
        {
            await table.SubmitTransactionAsync(batch.Select(k => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(runId, k), ETag.All)), ct);
        }
    }
}

/// <summary>
/// The ids one invocation of a <c>track_deletes</c> run has seen, per model, with bounded memory: as keys (the first 22
/// characters of the base64url SHA-256 of the id that its index row key carries: 132 bits, so two ids of a set share one
/// with a probability around N² / 2^133), at most <see cref="SpillAt"/> in memory per model; beyond that, and when the
/// run continues in another invocation, they go to <see cref="RunSeenStore"/>.
/// </summary>
public sealed class RunSeenIds(RunSeenStore store, string runId, int spillAt = RunSeenIds.SpillAt)
{
    public const int KeyChars = 22;

    /// <summary>Seen keys a model keeps in memory before they are written to the store.</summary>
    public const int SpillAt = 20_000;

    private readonly Dictionary<string, HashSet<string>> _memory = new(StringComparer.Ordinal);
    private readonly HashSet<string> _stored = new(StringComparer.Ordinal);
    private bool _earlierInvocations;

    /// <summary>The key of an id: what its index row key (<c>i:</c> + hash) holds after the prefix, cut to 22 characters.</summary>
    public static string Key(string id) => StorageKeys.Hash(id)[..KeyChars];

    /// <summary>Whether anything of this run is in the store (an earlier invocation's, or spilled by this one).</summary>
    public bool AnyStored => _earlierInvocations || _stored.Count > 0;

    /// <summary>Whether the seen ids of <paramref name="model"/> may be in the store, not only in memory.</summary>
    public bool Stored(string model) => _earlierInvocations || _stored.Contains(model);

    /// <summary>Earlier invocations of this run stored what they saw.</summary>
    public void ContinuesEarlierInvocations() => _earlierInvocations = true;

    public async Task AddAsync(string model, IEnumerable<string> ids, CancellationToken ct)
    {
        if (!_memory.TryGetValue(model, out var keys))
        {
            _memory[model] = keys = new HashSet<string>(StringComparer.Ordinal);
        }
        foreach (var id in ids)
        {
            keys.Add(Key(id));
        }
        if (keys.Count >= spillAt)
        {
            await SpillAsync(model, keys, ct);
        }
    }

    /// <summary>Writes every key still in memory to the store (the run continues in another invocation).</summary>
    public async Task SpillAllAsync(CancellationToken ct)
    {
        foreach (var (model, keys) in _memory)
        {
            await SpillAsync(model, keys, ct);
        }
    }

    /// <summary>The keys of <paramref name="model"/> in the key range <c>[from, to)</c>, from memory and the store.</summary>
    public async Task<HashSet<string>> InRangeAsync(string model, char first, string from, string to, CancellationToken ct)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        bool In(string k) => string.CompareOrdinal(k, from) >= 0 && string.CompareOrdinal(k, to) < 0;
        if (_memory.TryGetValue(model, out var keys))
        {
            result.UnionWith(keys.Where(In));
        }
        if (Stored(model))
        {
            await foreach (var key in store.ReadAsync(runId, model, first, ct))
            {
                if (In(key))
                {
                    result.Add(key);
                }
            }
        }
        return result;
    }

    /// <summary>The keys of <paramref name="model"/> in memory (all of them when nothing was stored).</summary>
    public IReadOnlySet<string> InMemory(string model) => _memory.TryGetValue(model, out var keys) ? keys : new HashSet<string>();

    private async Task SpillAsync(string model, HashSet<string> keys, CancellationToken ct)
    {
        if (keys.Count == 0)
        {
            return;
        }
        await store.AppendAsync(runId, model, keys, ct);
        _stored.Add(model);
        keys.Clear();
    }
}
