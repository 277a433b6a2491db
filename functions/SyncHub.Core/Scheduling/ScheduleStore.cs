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
        var table = await tables.GetAsync(StorageNames.SchedulesTable, ct);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(StorageKeys.SchedulePartition(key), key.RowKey, cancellationToken: ct);
        return row.HasValue ? Schedule.FromEntity(row.Value!) : null;
    }

    /// <summary>All schedules of one connection (every sync and variant).</summary>
    public async Task<IReadOnlyList<Schedule>> ListAsync(string integration, string connectionId, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.SchedulesTable, ct);
        var pk = StorageKeys.SchedulePartition(integration, connectionId);
        var result = new List<Schedule>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pk}"), cancellationToken: ct))
        {
            result.Add(Schedule.FromEntity(row));
        }
        return result;
    }

    /// <summary>Creates the schedule unless it exists; returns the stored one and whether it was created.</summary>
    public async Task<(Schedule Schedule, bool Created)> CreateIfMissingAsync(Schedule schedule, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.SchedulesTable, ct);
        try
        {
            var response = await table.AddEntityAsync(schedule.ToEntity(), ct);
            return (schedule with { ETag = response.Headers.ETag ?? default }, true);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return ((await GetAsync(schedule.Key, ct))!, false);
        }
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the current row, retrying on concurrent changes. The change returns null
    /// to leave the row as it is. Returns the row as written, or null if unchanged or absent.
    /// </summary>
    public async Task<Schedule?> UpdateAsync(SyncKey key, Func<Schedule, Schedule?> change, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.SchedulesTable, ct);
        while (true)
        {
            var current = await GetAsync(key, ct);
            if (current is null)
            {
                return null;
            }
            var next = change(current);
            if (next is null)
            {
                return null;
            }
            try
            {
                var response = await table.UpdateEntityAsync(next.ToEntity(), current.ETag, TableUpdateMode.Replace, ct);
                return next with { ETag = response.Headers.ETag ?? default };
            }
            catch (RequestFailedException e) when (e.Status is 412 or 404)
            {
                if (e.Status == 404)
                {
                    return null;
                }
            }
        }
    }

    public async Task DeleteAsync(SyncKey key, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.SchedulesTable, ct);
        await table.DeleteEntityAsync(StorageKeys.SchedulePartition(key), key.RowKey, ETag.All, ct);
    }
}
