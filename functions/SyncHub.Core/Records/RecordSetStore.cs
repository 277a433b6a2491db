using Azure;
using Azure.Data.Tables;
using SyncHub.Core.Storage;

namespace SyncHub.Core.Records;

/// <summary>Where a partition's records live now: the generation's table, and the cursor floor it starts above.</summary>
public sealed record RecordSet(RecordPartition Partition, int Generation, string TableName, long Floor);

/// <summary>
/// The <c>recordsets</c> table: per connection (PartitionKey) and model/variant (RowKey), the current generation.
/// Emptying a partition (reset + emptyCache, variant or connection delete) moves it to a new generation, whose table
/// is new and empty, and deletes the old table: one call, whatever the record count. The new generation's cursors
/// start above the old high-water mark, so a client's old cursor still sees every re-added record.
/// </summary>
public sealed class RecordSetStore(FixedTables tables, StorageClients storage)
{
    public static string TableName(RecordPartition p, int generation) =>
        "r" + StorageKeys.HexHash(32, p.Integration, p.ConnectionId, p.Model, p.Variant, generation.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The current record set, or null when nothing was ever written (reads then see no records).</summary>
    public async Task<RecordSet?> FindAsync(RecordPartition partition, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.RecordSetsTable, ct);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(PartitionKey(partition), RowKey(partition), cancellationToken: ct);
        return row.HasValue ? ToRecordSet(partition, row.Value!) : null;
    }

    /// <summary>The current record set, registering generation 1 on first use.</summary>
    public async Task<RecordSet> GetOrCreateAsync(RecordPartition partition, CancellationToken ct)
    {
        var existing = await FindAsync(partition, ct);
        if (existing is not null)
        {
            return existing;
        }
        var table = await tables.GetAsync(StorageNames.RecordSetsTable, ct);
        var entity = NewRow(partition, 1, 0);
        try
        {
            await table.AddEntityAsync(entity, ct);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return (await FindAsync(partition, ct))!;
        }
        return ToRecordSet(partition, entity);
    }

    /// <summary>
    /// Empties the partition: the next generation takes over (its cursors start above <paramref name="highWater"/>)
    /// and the old generation's table is deleted.
    /// </summary>
    public async Task<RecordSet> StartNewGenerationAsync(RecordPartition partition, Func<RecordSet, Task<long>> readHighWater, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.RecordSetsTable, ct);
        while (true)
        {
            var row = await table.GetEntityIfExistsAsync<TableEntity>(PartitionKey(partition), RowKey(partition), cancellationToken: ct);
            if (!row.HasValue)
            {
                return await GetOrCreateAsync(partition, ct);
            }
            var current = ToRecordSet(partition, row.Value!);
            var floor = Math.Max(current.Floor, await readHighWater(current));
            var next = NewRow(partition, current.Generation + 1, floor);
            try
            {
                await table.UpdateEntityAsync(next, row.Value!.ETag, TableUpdateMode.Replace, ct);
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                continue;
            }
            await storage.Tables.DeleteTableAsync(current.TableName, ct);
            return ToRecordSet(partition, next);
        }
    }

    /// <summary>Every record set of a connection (all models and variants), e.g. to delete them with it.</summary>
    public async Task<IReadOnlyList<RecordSet>> ListAsync(string integration, string connectionId, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.RecordSetsTable, ct);
        var result = new List<RecordSet>();
        var pk = StorageKeys.Hash(integration, connectionId);
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pk}"), cancellationToken: ct))
        {
            var partition = new RecordPartition(integration, connectionId, row.GetString("Model"), row.GetString("Variant"));
            result.Add(ToRecordSet(partition, row));
        }
        return result;
    }

    /// <summary>Deletes the record set and its table: its records vanish at once.</summary>
    public async Task DeleteAsync(RecordSet set, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.RecordSetsTable, ct);
        await table.DeleteEntityAsync(PartitionKey(set.Partition), RowKey(set.Partition), ETag.All, ct);
        await storage.Tables.DeleteTableAsync(set.TableName, ct);
    }

    private static string PartitionKey(RecordPartition p) => StorageKeys.Hash(p.Integration, p.ConnectionId);

    private static string RowKey(RecordPartition p) => StorageKeys.Hash(p.Model, p.Variant);

    private static TableEntity NewRow(RecordPartition p, int generation, long floor) => new(PartitionKey(p), RowKey(p))
    {
        ["Integration"] = p.Integration,
        ["ConnectionId"] = p.ConnectionId,
        ["Model"] = p.Model,
        ["Variant"] = p.Variant,
        ["Generation"] = generation,
        ["Floor"] = floor,
    };

    private static RecordSet ToRecordSet(RecordPartition partition, TableEntity row)
    {
        var generation = row.GetInt32("Generation") ?? 1;
        return new RecordSet(partition, generation, TableName(partition, generation), row.GetInt64("Floor") ?? 0);
    }
}
