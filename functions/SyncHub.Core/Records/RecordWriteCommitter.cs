using Azure;
using Azure.Data.Tables;

namespace SyncHub.Core.Records;

/// <summary>
/// The writing half of a record write: submits a plan's transactions to one record table, each ending with the update
/// of the <c>meta</c> row on condition of the ETag this writer last read or wrote (an insert when the table has no meta
/// row yet). A concurrent writer makes the transaction fail whole: <see cref="StaleViewException"/>, after which the
/// session reloads and re-plans what was not yet committed.
/// </summary>
internal sealed class RecordWriteCommitter(TableClient table, ETag? metaETag)
{
    /// <summary>The meta row's ETag as this writer last read or wrote it; null when it has none yet.</summary>
    public ETag? MetaETag { get; private set; } = metaETag;

    /// <summary>
    /// Commits the transactions in order; after each one, <paramref name="committed"/> is told (so the caller's view
    /// follows what is stored). Stops at the first conflict with <see cref="StaleViewException"/>; the transactions
    /// before it stay committed.
    /// </summary>
    public async Task CommitAsync(RecordWritePlan plan, Action<PlannedTransaction> committed, CancellationToken ct)
    {
        foreach (var transaction in plan.Transactions)
        {
            var actions = new List<TableTransactionAction>(transaction.OperationCount);
            actions.AddRange(transaction.Operations);
            // Merge, not replace: meta always carries all its properties, so the two are the same here, and Azurite
            // carries out a replace as delete + insert, whose delete costs O(rows in the table).
            var meta = RecordMetaRows.Codec.Encode(transaction.Meta);
            actions.Add(MetaETag is { } etag
                ? new TableTransactionAction(TableTransactionActionType.UpdateMerge, meta, etag)
                : new TableTransactionAction(TableTransactionActionType.Add, meta));
            try
            {
                var response = await table.SubmitTransactionAsync(actions, ct);
                MetaETag = response.Value[^1].Headers.ETag ?? throw new InvalidOperationException("The store returned no ETag for the meta row.");
            }
            catch (TableTransactionFailedException e) when (e.Status is 404 or 409 or 412)
            {
                throw new StaleViewException($"{e.Status} {e.ErrorCode} on operation {e.FailedTransactionActionIndex}");
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                throw new StaleViewException("the record table is gone (the partition was emptied)");
            }
            committed(transaction);
        }
    }

    /// <summary>A batch that wrote nothing was judged on the view; make sure nobody wrote since.</summary>
    public async Task ConfirmUnchangedAsync(CancellationToken ct)
    {
        var meta = await table.GetEntityIfExistsAsync<TableEntity>(RecordRows.PartitionKey, RecordRows.MetaRowKey, ["PartitionKey"], ct);
        var current = meta.HasValue ? meta.Value!.ETag : (ETag?)null;
        if (current != MetaETag)
        {
            throw new StaleViewException("meta changed since it was read");
        }
    }
}

/// <summary>The writer's view of a record table is out of date: another writer committed since it was read.</summary>
internal sealed class StaleViewException(string message) : Exception(message);
