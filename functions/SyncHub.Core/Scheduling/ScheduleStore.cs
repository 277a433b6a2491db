using Azure;
using Azure.Data.Tables;
using SyncHub.Core.Storage;
using SyncHub.Core.Model;

namespace SyncHub.Core.Scheduling;

/// <summary>
/// The <c>schedules</c> table: PartitionKey = hash of (integration, connection), RowKey = <c>sync:variant</c>.
/// Every change is a read-modify-write guarded by the row's ETag and retried on conflict, so the runner's lease and
/// heartbeats, the scheduler and the API's start/pause/trigger never overwrite each other's fields.
/// </summary>
public sealed class ScheduleStore(FixedTables tables)
{
    public async Task<Schedule?> GetAsync(SyncKey key, CancellationToken ct)
    {
        var row = await (await RowsAsync(ct)).GetAsync(StorageKeys.SchedulePartition(key), key.RowKey, ct);
        return row is { } r ? WithETag(r) : null;
    }

    /// <summary>All schedules of one connection (every sync and variant).</summary>
    public async Task<IReadOnlyList<Schedule>> ListAsync(string integration, string connectionId, CancellationToken ct)
    {
        var pk = StorageKeys.SchedulePartition(integration, connectionId);
        var result = new List<Schedule>();
        await foreach (var row in (await RowsAsync(ct)).QueryAsync(TableClient.CreateQueryFilter($"PartitionKey eq {pk}"), ct))
        {
            result.Add(WithETag(row));
        }
        return result;
    }

    /// <summary>Creates the schedule unless it exists; returns the stored one and whether it was created.</summary>
    public async Task<(Schedule Schedule, bool Created)> CreateIfMissingAsync(Schedule schedule, CancellationToken ct)
    {
        var added = await (await RowsAsync(ct)).TryAddAsync(schedule, ct);
        return added is { } row ? (WithETag(row), true) : ((await GetAsync(schedule.Key, ct))!, false);
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the current row, retrying on concurrent changes. The change returns null
    /// to leave the row as it is. Returns the row as written, or null if unchanged or absent.
    /// </summary>
    public async Task<Schedule?> UpdateAsync(SyncKey key, Func<Schedule, Schedule?> change, CancellationToken ct)
    {
        var written = await (await RowsAsync(ct)).UpdateAsync(StorageKeys.SchedulePartition(key), key.RowKey, s => s is null ? null : change(s), ct);
        return written is { } row ? WithETag(row) : null;
    }

    /// <summary>
    /// Writes <paramref name="next"/> if the row is still the version <paramref name="current"/> was read as: one
    /// request, for the holder of a run lease. Null when someone else wrote the row since (the lease may be lost).
    /// </summary>
    public async Task<Schedule?> TryReplaceAsync(Schedule current, Schedule next, CancellationToken ct)
    {
        var written = await (await RowsAsync(ct)).TryReplaceAsync(next, current.ETag, ct);
        return written is { } row ? WithETag(row) : null;
    }

    public async Task DeleteAsync(SyncKey key, CancellationToken ct)
    {
        await (await RowsAsync(ct)).DeleteAsync(StorageKeys.SchedulePartition(key), key.RowKey, ct);
    }

    private async Task<RowTable<Schedule>> RowsAsync(CancellationToken ct) =>
        new(await tables.GetAsync(StorageNames.SchedulesTable, ct), ScheduleRows.Codec);

    private static Schedule WithETag(Versioned<Schedule> row) => row.Value with { ETag = row.ETag };
}
