using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using SyncHub.Core.Storage;
using SyncHub.Core.Model;

namespace SyncHub.Core.Records;

/// <summary>
/// Prune: empties the payload of records at or before a cursor, oldest first, keeping id, metadata and cursor.
/// Each transaction (up to 49 records: record row + index row each, plus the fenced meta update) is atomic,
/// so a concurrent writer either sees a record whole or pruned, never half.
/// </summary>
public sealed class RecordPruner(RecordSetStore sets, StorageClients storage, TimeProvider clock, ILogger<RecordPruner> logger)
{
    private const int RecordsPerTransaction = (RecordRows.MaxTransactionOperations - 1) / 2;
    private const int MaxConflicts = 8;

    public async Task<(int Count, bool HasMore)> PruneAsync(RecordPartition partition, Cursor until, int? limit, CancellationToken ct)
    {
        var set = await sets.FindAsync(partition, ct);
        if (set is null)
        {
            return (0, false);
        }
        var table = storage.Table(set.TableName);
        var pruned = 0;
        var conflicts = 0;
        try
        {
            while (limit is null || pruned < limit)
            {
                var meta = await RecordRows.MetaRows(table).GetAsync(RecordRows.PartitionKey, RecordRows.MetaRowKey, ct);
                if (meta is null)
                {
                    return (pruned, false);
                }
                var take = Math.Min(RecordsPerTransaction, (limit ?? int.MaxValue) - pruned);
                var rows = await UnprunedAsync(table, until, take, ct);
                if (rows.Count == 0)
                {
                    return (pruned, false);
                }
                try
                {
                    await PruneRowsAsync(table, meta.Value, rows, ct);
                    pruned += rows.Count;
                }
                catch (TableTransactionFailedException e) when (e.Status is 404 or 409 or 412)
                {
                    // A writer committed between our read and our transaction: nothing of ours was applied; re-read.
                    if (++conflicts > MaxConflicts)
                    {
                        throw new RecordWriteConflictException($"Gave up pruning {partition}: it kept changing under the pruner.");
                    }
                    logger.LogInformation("Prune of {Partition} met a concurrent write; retrying", partition);
                }
            }
            return (pruned, (await UnprunedAsync(table, until, 1, ct)).Count > 0);
        }
        catch (RequestFailedException e) when (e.Status == 404 && e is not TableTransactionFailedException)
        {
            // The partition was emptied meanwhile: nothing is left to prune.
            return (pruned, false);
        }
    }

    private static async Task<List<TableEntity>> UnprunedAsync(TableClient table, Cursor until, int take, CancellationToken ct)
    {
        var filter = RecordReader.RangeFilter(null, null, until) + " and Pruned eq false";
        var rows = new List<TableEntity>(take);
        await foreach (var page in table.QueryAsync<TableEntity>(filter, maxPerPage: take,
                           select: ["RowKey", "Id", "Action", "FirstSeen", "DeletedAt", "Hash", "Size"], cancellationToken: ct).AsPages())
        {
            rows.AddRange(page.Values.Take(take - rows.Count));
            if (rows.Count >= take)
            {
                break;
            }
        }
        return rows;
    }

    private async Task PruneRowsAsync(TableClient table, Versioned<RecordMeta> meta, List<TableEntity> rows, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcTicks;
        var actions = new List<TableTransactionAction>(rows.Count * 2 + 1);
        long bytes = 0;
        foreach (var row in rows)
        {
            var id = row.GetString("Id");
            var idOnly = RecordPayload.IdOnly(id);
            var pruned = new TableEntity(RecordRows.PartitionKey, row.RowKey)
            {
                ["Id"] = id,
                ["Action"] = row.GetString("Action"),
                ["FirstSeen"] = row.GetInt64("FirstSeen") ?? 0,
                ["Hash"] = row.GetString("Hash"),
                ["Size"] = idOnly.Length,
                ["Pruned"] = true,
                ["PrunedAt"] = now,
            };
            if (row.GetInt64("DeletedAt") is { } deletedAt)
            {
                pruned["DeletedAt"] = deletedAt;
            }
            RecordRows.SetPayload(pruned, idOnly);
            bytes += idOnly.Length - (row.GetInt32("Size") ?? 0);
            // The row's own ETag: if a writer moved it since we read it, the whole transaction fails.
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateReplace, pruned, row.ETag));
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertMerge, IndexEntryRows.EncodePruned(id, now, idOnly.Length)));
        }
        var nextMeta = meta.Value with { Bytes = meta.Value.Bytes + bytes };
        actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateReplace, RecordMetaRows.Codec.Encode(nextMeta), meta.ETag));
        await table.SubmitTransactionAsync(actions, ct);
    }
}
