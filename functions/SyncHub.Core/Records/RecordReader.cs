using Azure;
using Azure.Data.Tables;
using SyncHub.Core.Storage;
using SyncHub.Core.Model;

namespace SyncHub.Core.Records;

/// <summary>A record as read back: its metadata and its stored JSON, spliced into responses as-is.</summary>
public sealed record StoredRecord(Cursor Cursor, string Id, string Action, long FirstSeen, long DeletedAt, long PrunedAt, byte[] Payload);

/// <summary>What to read. <c>After</c> is exclusive, <c>ModifiedAfter</c> inclusive; <c>Actions</c> null means all.</summary>
public sealed record RecordQuery(Cursor? After, long? ModifiedAfter, IReadOnlyCollection<string>? Actions, IReadOnlyList<string>? Ids, int Limit);

/// <summary>A page in cursor order; <c>Next</c> is null exactly when no matching record follows it.</summary>
public sealed record RecordPage(IReadOnlyList<StoredRecord> Records, Cursor? Next);

/// <summary>
/// Reads pages of a partition: one RowKey range query on the <c>r:</c> rows (cursor order is key order), asking for
/// one record more than the page to know, exactly, whether another follows.
/// </summary>
public sealed class RecordReader(RecordSetStore sets, StorageClients storage, RecordSetCache cache)
{
    private const int ParallelReads = 16;

    /// <summary>The columns a page needs: everything of a record row but its payload hash.</summary>
    private static readonly string[] PageColumns = ["RowKey", "Id", "Action", "FirstSeen", "DeletedAt", "PrunedAt", "N", .. RecordRows.ChunkNames];

    /// <summary>A page of a partition whose connection is known to exist (the sync engine's own reads).</summary>
    public async Task<RecordPage> ReadAsync(RecordPartition partition, RecordQuery query, CancellationToken ct) =>
        (await ReadAsync(partition, query, static _ => Task.FromResult(true), ct))!;

    /// <summary>
    /// A page, or null when <paramref name="connectionExists"/> says the partition's connection does not exist. Warm
    /// (the set is cached), a page is one range query; a cached set whose table is gone (emptied, deleted) is looked up
    /// again, with the connection, so a deleted connection or set is never served from the cache.
    /// </summary>
    public async Task<RecordPage?> ReadAsync(RecordPartition partition, RecordQuery query, Func<CancellationToken, Task<bool>> connectionExists, CancellationToken ct)
    {
        if (cache.Find(partition) is { } cached)
        {
            try
            {
                return await ReadSetAsync(cached, query, ct);
            }
            catch (RequestFailedException e) when (e.Status is 404 or 409)
            {
                cache.Forget(partition);
            }
        }
        for (var attempt = 0; ; attempt++)
        {
            // Cold: the connection check and the set lookup are independent; ask both at once.
            var exists = connectionExists(ct);
            var find = sets.FindAsync(partition, ct);
            if (!await exists)
            {
                return null;
            }
            if (await find is not { } set)
            {
                return new RecordPage([], null);
            }
            try
            {
                var page = await ReadSetAsync(set, query, ct);
                cache.Remember(set);
                return page;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 409)
            {
                // The generation moved on (emptied) while we read, or nothing was ever written: read the new one once.
                if (attempt > 0)
                {
                    return new RecordPage([], null);
                }
            }
        }
    }

    private Task<RecordPage> ReadSetAsync(RecordSet set, RecordQuery query, CancellationToken ct)
    {
        var table = storage.Table(set.TableName);
        return query.Ids is { Count: > 0 } ? ReadByIdsAsync(table, query, ct) : ReadRangeAsync(table, query, ct);
    }

    /// <summary>The exact number of non-deleted records (the meta row's counter).</summary>
    public async Task<long> CountAsync(RecordPartition partition, CancellationToken ct)
    {
        var cached = cache.Find(partition);
        var set = cached ?? await sets.FindAsync(partition, ct);
        while (set is not null)
        {
            try
            {
                var meta = await RecordRows.MetaRows(storage.Table(set.TableName)).GetAsync(RecordRows.PartitionKey, RecordRows.MetaRowKey, ct, [RecordMetaRows.LiveColumn]);
                cache.Remember(set);
                return meta?.Value.Live ?? 0;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 409)
            {
                // No table: nothing written yet (0), or a cached set that was emptied or deleted since (ask again, once).
                cache.Forget(partition);
                set = cached is not null ? await sets.FindAsync(partition, ct) : null;
                cached = null;
            }
        }
        return 0;
    }

    public static string RangeFilter(Cursor? after, long? modifiedAfter, Cursor? until = null)
    {
        var lower = after is { } a ? $"RowKey gt '{a.RowKey}'" : $"RowKey gt '{Cursor.RowKeyPrefix}'";
        var filter = $"PartitionKey eq '{RecordRows.PartitionKey}' and {lower}";
        if (modifiedAfter is { } ticks)
        {
            filter += $" and RowKey ge '{new Cursor(ticks).RowKey}'";
        }
        filter += until is { } u ? $" and RowKey le '{u.RowKey}'" : $" and RowKey lt '{Cursor.RowKeyEnd}'";
        return filter;
    }

    private static async Task<RecordPage> ReadRangeAsync(TableClient table, RecordQuery query, CancellationToken ct)
    {
        var filter = RangeFilter(query.After, query.ModifiedAfter);
        if (query.Actions is { Count: > 0 and < 3 } actions)
        {
            filter += " and (" + string.Join(" or ", actions.Select(a => $"Action eq '{a}'")) + ")";
        }
        var records = new List<StoredRecord>(query.Limit + 1);
        await foreach (var page in table.QueryAsync<TableEntity>(filter, maxPerPage: query.Limit + 1, select: PageColumns, cancellationToken: ct).AsPages())
        {
            foreach (var entity in page.Values)
            {
                records.Add(ToRecord(entity));
                if (records.Count > query.Limit)
                {
                    return Page(records, query.Limit);
                }
            }
        }
        return Page(records, query.Limit);
    }

    /// <summary>
    /// <c>ids</c>: a table filter may hold only 15 comparisons, so find each id's row through its index row
    /// (parallel point reads, at most 100), then apply the other conditions in memory.
    /// </summary>
    private static async Task<RecordPage> ReadByIdsAsync(TableClient table, RecordQuery query, CancellationToken ct)
    {
        using var gate = new SemaphoreSlim(ParallelReads);
        var reads = query.Ids!.Distinct(StringComparer.Ordinal).Select(async id =>
        {
            await gate.WaitAsync(ct);
            try
            {
                // A record row can move between the two reads (a writer updated it): follow it.
                for (var attempt = 0; attempt < 5; attempt++)
                {
                    var index = await RecordRows.IndexRows(table).GetAsync(RecordRows.PartitionKey, RecordRows.IndexRowKey(id), ct, [IndexEntryRows.CursorColumn]);
                    if (index is null)
                    {
                        return null;
                    }
                    var row = await table.GetEntityIfExistsAsync<TableEntity>(RecordRows.PartitionKey, new Cursor(index.Value.Value.Cursor).RowKey, cancellationToken: ct);
                    if (row.HasValue)
                    {
                        return ToRecord(row.Value!);
                    }
                }
                return null;
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        var found = (await Task.WhenAll(reads))
            .Where(r => r is not null
                && (query.After is not { } after || r.Cursor > after)
                && (query.ModifiedAfter is not { } since || r.Cursor.Ticks >= since)
                && (query.Actions is not { Count: > 0 } actions || actions.Contains(r.Action)))
            .Select(r => r!)
            .OrderBy(r => r.Cursor)
            .ToList();
        return Page(found, query.Limit);
    }

    private static RecordPage Page(List<StoredRecord> records, int limit) =>
        records.Count > limit ? new RecordPage(records.GetRange(0, limit), records[limit - 1].Cursor) : new RecordPage(records, null);

    public static StoredRecord ToRecord(TableEntity e) => new(
        Cursor.FromRowKey(e.RowKey),
        e.GetString("Id"),
        e.GetString("Action") ?? "ADDED",
        e.GetInt64("FirstSeen") ?? 0,
        e.GetInt64("DeletedAt") ?? 0,
        e.GetInt64("PrunedAt") ?? 0,
        RecordRows.GetPayload(e));
}
