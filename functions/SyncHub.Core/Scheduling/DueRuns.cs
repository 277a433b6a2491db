using Azure;
using Azure.Data.Tables;
using SyncHub.Core.Storage;
using SyncHub.Core.Model;

namespace SyncHub.Core.Scheduling;

/// <summary>A schedule's entry in the due index: run <see cref="Key"/> at <see cref="At"/>.</summary>
public sealed record DueRun(SyncKey Key, long At, string RowKey);

/// <summary>
/// The due index (<c>dueruns</c> table, one partition per run queue, PartitionKey = the run queue's name, RowKey = <c>&lt;ticks&gt;|&lt;schedule&gt;</c>): what is due is one
/// RowKey range, so a scheduler tick costs what is due, not the number of schedules. An entry is written before its
/// schedule's next run is, so none is ever missing; a stale one (the schedule changed since) only makes the runner
/// find nothing to do.
/// </summary>
public sealed class DueRuns(FixedTables tables, Microsoft.Extensions.Options.IOptions<SchedulingOptions> options)
{
    private string Partition => options.Value.RunQueue;

    public async Task AddAsync(SyncKey key, long at, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.DueRunsTable, ct);
        await table.UpsertEntityAsync(Entry(Partition, key, at), TableUpdateMode.Replace, ct);
    }

    /// <summary>The due-index row for running <paramref name="key"/> at <paramref name="at"/> on run queue <paramref name="queue"/>.</summary>
    public static TableEntity Entry(string queue, SyncKey key, long at) => new(queue, RowKey(key, at))
    {
        ["Integration"] = key.Integration,
        ["ConnectionId"] = key.ConnectionId,
        ["Sync"] = key.Sync,
        ["Variant"] = key.Variant,
    };

    /// <summary>Best effort: a leftover entry is harmless.</summary>
    public async Task RemoveAsync(SyncKey key, long at, CancellationToken ct)
    {
        if (at <= 0)
        {
            return;
        }
        var table = await tables.GetAsync(StorageNames.DueRunsTable, ct);
        await table.DeleteEntityAsync(Partition, RowKey(key, at), ETag.All, ct);
    }

    /// <summary>Entries due at or before <paramref name="now"/>, oldest first, at most <paramref name="max"/>.</summary>
    public async Task<IReadOnlyList<DueRun>> TakeDueAsync(long now, int max, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.DueRunsTable, ct);
        var upper = now.ToString("D19", System.Globalization.CultureInfo.InvariantCulture) + "}";
        var filter = $"PartitionKey eq '{Partition}' and RowKey lt '{upper}'";
        var result = new List<DueRun>();
        await foreach (var page in table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max, 1000), cancellationToken: ct).AsPages())
        {
            foreach (var row in page.Values)
            {
                var key = new SyncKey(row.GetString("Integration"), row.GetString("ConnectionId"), row.GetString("Sync"), row.GetString("Variant"));
                result.Add(new DueRun(key, long.Parse(row.RowKey.AsSpan(0, 19), System.Globalization.CultureInfo.InvariantCulture), row.RowKey));
                if (result.Count >= max)
                {
                    return result;
                }
            }
        }
        return result;
    }

    /// <summary>Removes handled entries, 100 per transaction (one partition).</summary>
    public async Task DeleteAsync(IEnumerable<DueRun> runs, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.DueRunsTable, ct);
        foreach (var chunk in runs.Chunk(100))
        {
            var actions = chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(Partition, r.RowKey), ETag.All));
            try
            {
                await table.SubmitTransactionAsync(actions, ct);
            }
            catch (TableTransactionFailedException)
            {
                // Another tick removed some of them already: delete the rest one by one.
                foreach (var run in chunk)
                {
                    await table.DeleteEntityAsync(Partition, run.RowKey, ETag.All, ct);
                }
            }
        }
    }

    private static string RowKey(SyncKey key, long at) =>
        $"{at.ToString("D19", System.Globalization.CultureInfo.InvariantCulture)}|{StorageKeys.SchedulePartition(key)}|{key.RowKey}";
}
