using System.Diagnostics;
using Azure;
using Azure.Data.Tables;
using SyncHub.Core.Records;
using SyncHub.Core.Model;

namespace SyncHub.Benchmarks;

/// <summary>Raw Azurite operations on rows shaped like the record store's, with no SyncHub code in between: the floor.</summary>
public sealed class RawTable(TableClient table)
{
    public const string RangeFilter = "PartitionKey eq 'p' and RowKey gt 'r:' and RowKey lt 'r;'";

    /// <summary>Cursor-like keys, as the store uses (19 digits of ticks).</summary>
    public const long BaseKey = 638_400_000_000_000_000;

    public TableClient Table { get; } = table;

    /// <summary>Sequential 100-operation insert transactions of 1 KB record rows; returns the time in transactions.</summary>
    public async Task<TimeSpan> InsertAsync(IEnumerable<int> indices, CancellationToken ct)
    {
        var watch = new Stopwatch();
        foreach (var chunk in indices.Chunk(100))
        {
            var actions = chunk.Select(i => new TableTransactionAction(TableTransactionActionType.Add, Payloads.RawRecordRow(BaseKey + i, i, 0))).ToList();
            watch.Start();
            await Table.SubmitTransactionAsync(actions, ct);
            watch.Stop();
        }
        return watch.Elapsed;
    }

    private ETag? _metaETag;
    private long _transactions;

    /// <summary>
    /// New records in the record store's own transaction shape, without SyncHub's code: 49 x (1 KB record row + index
    /// row keyed by a hash of the id) + the ETag-conditional meta update. The floor of the two-row layout.
    /// </summary>
    public async Task<TimeSpan> InsertShapedAsync(IEnumerable<int> indices, CancellationToken ct)
    {
        var watch = new Stopwatch();
        foreach (var chunk in indices.Chunk(49))
        {
            var actions = new List<TableTransactionAction>(99);
            foreach (var i in chunk)
            {
                actions.Add(new TableTransactionAction(TableTransactionActionType.Add, Payloads.RawRecordRow(BaseKey + i, i, 0)));
                actions.Add(new TableTransactionAction(TableTransactionActionType.Add, Payloads.RawIndexRow(BaseKey + i, i)));
            }
            var meta = new TableEntity(RecordRows.PartitionKey, RecordRows.MetaRowKey) { ["Hw"] = ++_transactions, ["Live"] = 0L, ["Total"] = 0L, ["Bytes"] = 0L };
            actions.Add(_metaETag is { } etag
                ? new TableTransactionAction(TableTransactionActionType.UpdateMerge, meta, etag)
                : new TableTransactionAction(TableTransactionActionType.Add, meta));
            watch.Start();
            var response = await Table.SubmitTransactionAsync(actions, ct);
            watch.Stop();
            _metaETag = response.Value[^1].Headers.ETag;
        }
        return watch.Elapsed;
    }

    /// <summary>Index-shaped rows, so the table has 2 rows per record like a record table (setup, not timed).</summary>
    public async Task AddIndexRowsAsync(int n, CancellationToken ct)
    {
        foreach (var chunk in Enumerable.Range(0, n).Chunk(100))
        {
            await Table.SubmitTransactionAsync(chunk.Select(i => new TableTransactionAction(TableTransactionActionType.Add, Payloads.RawIndexRow(BaseKey + i, i))), ct);
        }
    }

    /// <summary>Per record: delete its row, insert it at a new key, merge its index row; 33 records per transaction.</summary>
    public async Task<TimeSpan> ChangeAsync(IEnumerable<int> indices, int n, CancellationToken ct)
    {
        var watch = new Stopwatch();
        foreach (var chunk in indices.Chunk(33))
        {
            var actions = new List<TableTransactionAction>(99);
            foreach (var i in chunk)
            {
                var row = Payloads.RawRecordRow(BaseKey + n + i, i, 1);
                actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(RecordRows.PartitionKey, new Cursor(BaseKey + i).RowKey), ETag.All));
                actions.Add(new TableTransactionAction(TableTransactionActionType.Add, row));
                actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateMerge, new TableEntity(RecordRows.PartitionKey, RecordRows.IndexRowKey(Payloads.Id(i)))
                {
                    ["Cursor"] = BaseKey + n + i,
                    ["Hash"] = row["Hash"],
                    ["Size"] = row["Size"],
                }, ETag.All));
            }
            watch.Start();
            await Table.SubmitTransactionAsync(actions, ct);
            watch.Stop();
        }
        return watch.Elapsed;
    }

    /// <summary>Pages through every record row with the SDK's continuation; collects the keys' ticks when asked.</summary>
    public static async Task<(long Count, TimeSpan Elapsed)> ReadAllAsync(TableClient table, int maxPerPage, List<long>? keys, CancellationToken ct)
    {
        long count = 0;
        var watch = Stopwatch.StartNew();
        await foreach (var page in table.QueryAsync<TableEntity>(RangeFilter, maxPerPage, cancellationToken: ct).AsPages())
        {
            count += page.Values.Count;
            if (keys is not null)
            {
                foreach (var entity in page.Values)
                {
                    keys.Add(Cursor.FromRowKey(entity.RowKey).Ticks);
                }
            }
        }
        watch.Stop();
        return (count, watch.Elapsed);
    }

    public static void Check(long actual, long expected, string what)
    {
        if (actual != expected)
        {
            throw new InvalidOperationException($"{what}: expected {expected:N0}, got {actual:N0}.");
        }
    }
}
