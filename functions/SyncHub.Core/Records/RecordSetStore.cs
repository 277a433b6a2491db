using Azure;
using Azure.Data.Tables;
using SyncHub.Core.Storage;
using SyncHub.Core.Model;

namespace SyncHub.Core.Records;

/// <summary>
/// Where a partition's records live now: the generation's table, and the cursor floor it starts above. A deleted set
/// (its sync variant or connection was deleted) has no records and takes no writes until it is revived.
/// </summary>
public sealed record RecordSet(RecordPartition Partition, int Generation, string TableName, long Floor, bool Deleted = false);

/// <summary>The partition's sync variant (or connection) was deleted: a run still writing to it must stop.</summary>
public sealed class RecordSetDeletedException(RecordPartition partition)
    : Exception($"The records of {partition} were deleted with their sync variant or connection; nothing more is written to them.");

/// <summary>
/// The <c>recordsets</c> table: per connection (PartitionKey) and model/variant (RowKey), the current generation.
/// Emptying a partition (reset + emptyCache, variant or connection delete) moves it to a new generation, whose table
/// is new and empty, and deletes the old table: one call, whatever the record count. The new generation's cursors
/// start above the old high-water mark, so a client's old cursor still sees every re-added record.
/// Deleting (variant or connection delete) also marks the row deleted rather than removing it: readers see nothing,
/// a run still in flight cannot write the records back, and a variant or connection created again under the same
/// name continues with the next generation (a fresh table name: Azure refuses to re-create a table being deleted).
/// </summary>
public sealed class RecordSetStore(FixedTables tables, StorageClients storage)
{
    public static string TableName(RecordPartition p, int generation) =>
        "r" + StorageKeys.HexHash(32, p.Integration, p.ConnectionId, p.Model, p.Variant, generation.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The current record set, or null when nothing was ever written or it was deleted (reads then see no records).</summary>
    public async Task<RecordSet?> FindAsync(RecordPartition partition, CancellationToken ct)
    {
        var set = await FindRowAsync(partition, ct);
        return set is { Deleted: false } ? set : null;
    }

    private async Task<RecordSet?> FindRowAsync(RecordPartition partition, CancellationToken ct) =>
        (await (await RowsAsync(ct)).GetAsync(PartitionKey(partition), RowKey(partition), ct))?.Value;

    /// <summary>
    /// The current record set, registering generation 1 on first use; what writers call.
    /// Throws <see cref="RecordSetDeletedException"/> when the set was deleted (and not revived since).
    /// </summary>
    public async Task<RecordSet> GetOrCreateAsync(RecordPartition partition, CancellationToken ct)
    {
        var rows = await RowsAsync(ct);
        while (true)
        {
            var existing = (await rows.GetAsync(PartitionKey(partition), RowKey(partition), ct))?.Value;
            if (existing is { Deleted: true })
            {
                throw new RecordSetDeletedException(partition);
            }
            if (existing is not null)
            {
                return existing;
            }
            if (await rows.TryAddAsync(New(partition, 1, 0), ct) is { } added)
            {
                return added.Value;
            }
            // Another writer registered it first: use theirs.
        }
    }

    /// <summary>
    /// Empties the partition (reset + emptyCache): its records vanish at once, the next generation takes over with
    /// cursors above every cursor of the old one, and the old generation's table is deleted.
    /// </summary>
    public Task<RecordSet> EmptyAsync(RecordPartition partition, CancellationToken ct) =>
        StartNewGenerationAsync(partition, set => ReadHighWaterAsync(set, ct), ct);

    /// <summary>
    /// Deletes the partition's records (variant or connection delete): empties it like <see cref="EmptyAsync"/> and
    /// marks it deleted, so that nothing is read from it or written to it until <see cref="ReviveAsync"/>.
    /// </summary>
    public async Task DeleteAsync(RecordPartition partition, CancellationToken ct)
    {
        // Nothing written yet: a deleted row all the same, so that a run starting its first write cannot create one.
        if (await (await RowsAsync(ct)).TryAddAsync(New(partition, 1, 0, deleted: true), ct) is null)
        {
            await StartNewGenerationAsync(partition, set => ReadHighWaterAsync(set, ct), ct, deleted: true);
        }
    }

    /// <summary>A sync variant or connection is created (again): its deleted record sets take writes again, in a new generation.</summary>
    public async Task ReviveAsync(RecordPartition partition, CancellationToken ct) =>
        await (await RowsAsync(ct)).UpdateAsync(PartitionKey(partition), RowKey(partition),
            set => set is { Deleted: true } ? set with { Deleted = false } : null, ct);

    /// <summary>
    /// Empties the partition: the next generation takes over (its cursors start above <paramref name="readHighWater"/>)
    /// and the old generation's table is deleted.
    /// </summary>
    public async Task<RecordSet> StartNewGenerationAsync(RecordPartition partition, Func<RecordSet, Task<long>> readHighWater, CancellationToken ct, bool deleted = false)
    {
        RecordSet? replaced = null;
        RecordSet? unchanged = null;
        var written = await (await RowsAsync(ct)).UpdateAsync(PartitionKey(partition), RowKey(partition), async current =>
        {
            (replaced, unchanged) = (null, null);
            if (current is null)
            {
                return deleted ? throw new InvalidOperationException($"No record set of {partition} to delete.") : null;
            }
            if (current.Deleted)
            {
                // Deleted, hence empty already: deleting or emptying it again changes nothing (only ReviveAsync does).
                unchanged = current;
                return null;
            }
            replaced = current;
            return New(partition, current.Generation + 1, Math.Max(current.Floor, await readHighWater(current)), deleted);
        }, ct);
        if (written is { } next)
        {
            await storage.Tables.DeleteTableAsync(replaced!.TableName, ct);
            return next.Value;
        }
        return unchanged ?? await GetOrCreateAsync(partition, ct);
    }

    /// <summary>Every record set of a connection (all models and variants), e.g. to delete them with it.</summary>
    public async Task<IReadOnlyList<RecordSet>> ListAsync(string integration, string connectionId, CancellationToken ct)
    {
        var result = new List<RecordSet>();
        var pk = StorageKeys.Hash(integration, connectionId);
        await foreach (var row in (await RowsAsync(ct)).QueryAsync(TableClient.CreateQueryFilter($"PartitionKey eq {pk}"), ct))
        {
            result.Add(row.Value);
        }
        return result;
    }

    /// <summary>The high-water cursor of a generation's table (0 when it has none): the next generation's floor.</summary>
    private async Task<long> ReadHighWaterAsync(RecordSet set, CancellationToken ct)
    {
        try
        {
            var meta = await RecordRows.MetaRows(storage.Table(set.TableName)).GetAsync(RecordRows.PartitionKey, RecordRows.MetaRowKey, ct, [RecordMetaRows.HighWaterColumn]);
            return meta?.Value.HighWater ?? 0;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return 0;
        }
    }

    private async Task<RowTable<RecordSet>> RowsAsync(CancellationToken ct) =>
        new(await tables.GetAsync(StorageNames.RecordSetsTable, ct), RecordSetRows.Codec);

    internal static string PartitionKey(RecordPartition p) => StorageKeys.Hash(p.Integration, p.ConnectionId);

    internal static string RowKey(RecordPartition p) => StorageKeys.Hash(p.Model, p.Variant);

    private static RecordSet New(RecordPartition p, int generation, long floor, bool deleted = false) =>
        new(p, generation, TableName(p, generation), floor, deleted);
}

/// <summary>The columns of a <c>recordsets</c> row: PartitionKey = hash of (integration, connection), RowKey = hash of (model, variant).</summary>
public sealed class RecordSetRows : IRowCodec<RecordSet>
{
    public static readonly RecordSetRows Codec = new();

    public TableEntity Encode(RecordSet set) => new(RecordSetStore.PartitionKey(set.Partition), RecordSetStore.RowKey(set.Partition))
    {
        ["Deleted"] = set.Deleted,
        ["Integration"] = set.Partition.Integration,
        ["ConnectionId"] = set.Partition.ConnectionId,
        ["Model"] = set.Partition.Model,
        ["Variant"] = set.Partition.Variant,
        ["Generation"] = set.Generation,
        ["Floor"] = set.Floor,
    };

    public RecordSet Decode(TableEntity row)
    {
        var partition = new RecordPartition(row.GetString("Integration"), row.GetString("ConnectionId"), row.GetString("Model"), row.GetString("Variant"));
        var generation = row.GetInt32("Generation") ?? 1;
        return new RecordSet(partition, generation, RecordSetStore.TableName(partition, generation), row.GetInt64("Floor") ?? 0, row.GetBoolean("Deleted") ?? false);
    }
}
