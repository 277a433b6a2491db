using System.Diagnostics;
using Azure.Data.Tables;
using SyncHub.Core.Records;
using SyncHub.Core.Model;

namespace SyncHub.Benchmarks;

/// <summary>
/// The raw floors and RecordWriter's rates. Others build and test on the same 2-core machine, so the load changes from
/// minute to minute: each SyncHub phase is interleaved with its raw floor in ten slices (raw slice, SyncHub slice, ...),
/// so both see the same conditions and their ratio holds even when the absolute figures move.
/// </summary>
public static class StoreCases
{
    public const int BatchSize = 1000;
    private const int Slices = 10;

    /// <param name="writer">null: only the raw floors.</param>
    public static async Task RunAsync(TableServiceClient service, RecordWriter? writer, RecordPartition partition, int n, int changedCount, Results results, CancellationToken ct)
    {
        var raw = new RawTable(service.GetTableClient("benchraw" + Guid.NewGuid().ToString("N")[..12]));
        await raw.Table.CreateAsync(ct);
        try
        {
            // New: raw 100-op inserts into a fresh table, the same records in the store's transaction shape (raw, into
            // another fresh table), and RecordWriter saving them into a fresh partition.
            var all = Enumerable.Range(0, n).ToArray();
            TimeSpan rawInsert = default, shapedInsert = default, save = default;
            var shaped = writer is null ? null : new RawTable(service.GetTableClient("benchshape" + Guid.NewGuid().ToString("N")[..12]));
            var session = writer is null ? null : await TimedOpenAsync(writer, partition, ct, t => save += t);
            var counts = new Counts();
            try
            {
                if (shaped is not null)
                {
                    await shaped.Table.CreateAsync(ct);
                }
                foreach (var slice in SlicesOf(all))
                {
                    rawInsert += await raw.InsertAsync(slice, ct);
                    if (shaped is not null && session is not null)
                    {
                        shapedInsert += await shaped.InsertShapedAsync(slice, ct);
                        save += await SaveAsync(session, slice, 0, counts, ct);
                    }
                }
            }
            finally
            {
                if (shaped is not null)
                {
                    await shaped.Table.DeleteAsync(CancellationToken.None);
                }
            }
            var rawInsertRate = n / rawInsert.TotalSeconds;
            results.Add(new Result("raw", "insert: sequential 100-op transactions, 1 KB entities", rawInsertRate, "entities/s", null, null, "-", null,
                $"{n:N0} in {rawInsert.TotalSeconds:0.0} s"));
            if (session is not null)
            {
                var shapedRate = n / shapedInsert.TotalSeconds;
                results.Add(new Result("raw", "insert in the store's shape: 49 x (record + index row) + meta", shapedRate, "records/s",
                    shapedRate / rawInsertRate, "raw insert", "-", null, $"{n:N0} in {shapedInsert.TotalSeconds:0.0} s; the two-row layout's floor"));
                Expect(counts.Added, n, "new records saved as ADDED");
                var rate = n / save.TotalSeconds;
                var ratio = rate / rawInsertRate;
                results.Add(new Result("write", "save new records (OpenAsync + SaveAsync, batches of 1,000)", rate, "records/s", ratio, "raw insert",
                    ">= 0.4x and >= 6,000/s", ratio >= 0.4 && rate >= 6000,
                    $"{n:N0} in {save.TotalSeconds:0.0} s; {rate / shapedRate:0.00}x the store-shaped raw insert"));
            }

            // Range reads of the raw rows, all properties.
            var rawRead = 0.0;
            foreach (var perPage in new[] { 1000, 500 })
            {
                var (count, time) = await RawTable.ReadAllAsync(raw.Table, perPage, null, ct);
                RawTable.Check(count, n, $"raw range read ({perPage})");
                rawRead = perPage == 1000 ? count / time.TotalSeconds : rawRead;
                results.Add(new Result("raw", $"range read: RowKey range, maxPerPage {perPage}", count / time.TotalSeconds, "entities/s", null, null, "-", null,
                    $"{time.TotalSeconds:0.0} s"));
            }

            // Unchanged: a new session re-saving every record as it is, in the order stored (it reads ahead in that order).
            if (writer is not null)
            {
                var elapsed = TimeSpan.Zero;
                var open = TimeSpan.Zero;
                var again = await TimedOpenAsync(writer, partition, ct, t => open = t);
                counts = new Counts();
                foreach (var chunk in all.Chunk(BatchSize))
                {
                    elapsed += await SaveAsync(again, chunk, 0, counts, ct);
                }
                Expect(counts.Unchanged, n, "unchanged records");
                var total = open + elapsed;
                results.Add(new Result("write", "re-save unchanged records (a new session, in stored order)", n / total.TotalSeconds, "records/s",
                    n / total.TotalSeconds / rawRead, "raw read 1000", ">= 20,000/s", n / total.TotalSeconds >= 20_000,
                    $"{n:N0} in {total.TotalSeconds:0.00} s, of which open {open.TotalSeconds:0.00} s"));
            }

            // Changed: a sample spread over the table (which keeps its size meanwhile, so the rate per record is that of
            // changing all of them; Azurite's deletes cost O(rows) each, so all 100,000 would take many minutes).
            await raw.AddIndexRowsAsync(n, ct);
            var sample = Payloads.Sample(n, changedCount);
            TimeSpan rawChange = default, change = default, changeOpen = default;
            var changing = writer is null ? null : await TimedOpenAsync(writer, partition, ct, t => changeOpen = t);
            counts = new Counts();
            foreach (var slice in SlicesOf(sample))
            {
                rawChange += await raw.ChangeAsync(slice, n, ct);
                if (changing is not null)
                {
                    change += await SaveAsync(changing, slice, 1, counts, ct);
                }
            }
            var rawChangeRate = changedCount / rawChange.TotalSeconds;
            results.Add(new Result("raw", "changed floor: 33 x (delete + insert + merge) per transaction", rawChangeRate, "records/s", null, null, "-", null,
                $"{changedCount:N0} of {n:N0} in {rawChange.TotalSeconds:0.0} s, table of {2 * n:N0} rows"));
            if (changing is not null)
            {
                Expect(counts.Updated, changedCount, "changed records saved as UPDATED");
                var rate = changedCount / change.TotalSeconds;
                results.Add(new Result("write", "save changed records (SaveAsync, a sample spread over the set)", rate, "records/s", rate / rawChangeRate, "raw changed floor",
                    "report", null, $"{changedCount:N0} of {n:N0} in {change.TotalSeconds:0.0} s; opening the session took {changeOpen.TotalSeconds:0.00} s more"));
            }
        }
        finally
        {
            // Keep Azurite small (and its memory bounded) for the cases that follow.
            await raw.Table.DeleteAsync(CancellationToken.None);
        }
    }

    /// <summary>Saves every record once, not measured: the data the read cases page through.</summary>
    public static async Task FillAsync(RecordWriter writer, RecordPartition partition, int n, CancellationToken ct)
    {
        var session = await writer.OpenAsync(partition, ct);
        var counts = new Counts();
        foreach (var chunk in Enumerable.Range(0, n).Chunk(BatchSize))
        {
            await SaveAsync(session, chunk, 0, counts, ct);
        }
    }

    private static IEnumerable<int[]> SlicesOf(int[] indices) => indices.Chunk(Math.Max(1, (indices.Length + Slices - 1) / Slices));

    private static async Task<RecordWriteSession> TimedOpenAsync(RecordWriter writer, RecordPartition partition, CancellationToken ct, Action<TimeSpan> took)
    {
        var watch = Stopwatch.StartNew();
        var session = await writer.OpenAsync(partition, ct);
        took(watch.Elapsed);
        return session;
    }

    /// <summary>Saves the records in batches of 1,000 (the SDK's BatchSaveAsync path). Building the JSON objects, which a
    /// sync does anyway, is not timed.</summary>
    private static async Task<TimeSpan> SaveAsync(RecordWriteSession session, int[] indices, int version, Counts counts, CancellationToken ct)
    {
        var watch = new Stopwatch();
        foreach (var chunk in indices.Chunk(BatchSize))
        {
            var batch = Payloads.Batch(chunk, version);
            watch.Start();
            var result = await session.SaveAsync(batch, ct);
            watch.Stop();
            if (result.Rejected.Count > 0)
            {
                throw new InvalidOperationException($"The writer rejected {result.Rejected.Count} records, e.g. {result.Rejected[0]}.");
            }
            counts.Added += result.Added;
            counts.Updated += result.Updated;
            counts.Unchanged += result.Unchanged;
        }
        return watch.Elapsed;
    }

    private sealed class Counts
    {
        public long Added { get; set; }
        public long Updated { get; set; }
        public long Unchanged { get; set; }
    }

    private static void Expect(long actual, long expected, string what) => RawTable.Check(actual, expected, what);
}
