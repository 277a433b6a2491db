using System.Diagnostics;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using SyncHub.Core.Model;
using SyncHub.Core.Records;
using SyncHub.Core.Storage;

namespace SyncHub.Benchmarks;

/// <summary>
/// Storage traffic, counted exactly on the table and queue clients: requests, bytes sent and received, entities read
/// (entities in response bodies) and written (operations of transactions, bodies of single writes).
/// </summary>
public sealed class StorageTraffic : HttpPipelinePolicy
{
    private long _requests, _sent, _received, _read, _written;

    public (long Requests, long Sent, long Received, long Read, long Written) Snapshot() =>
        (Interlocked.Read(ref _requests), Interlocked.Read(ref _sent), Interlocked.Read(ref _received), Interlocked.Read(ref _read), Interlocked.Read(ref _written));

    public StorageClients Clients(string connection)
    {
        var tableOptions = new TableClientOptions();
        tableOptions.AddPolicy(this, HttpPipelinePosition.PerRetry);
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        queueOptions.AddPolicy(this, HttpPipelinePosition.PerRetry);
        return new StorageClients(new TableServiceClient(connection, tableOptions), new QueueServiceClient(connection, queueOptions));
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Before(message);
        ProcessNext(message, pipeline);
        After(message);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Before(message);
        await ProcessNextAsync(message, pipeline);
        After(message);
    }

    private static int Count(ReadOnlySpan<byte> text, ReadOnlySpan<byte> what)
    {
        var n = 0;
        for (int i; (i = text.IndexOf(what)) >= 0; text = text[(i + what.Length)..])
        {
            n++;
        }
        return n;
    }

    private void Before(HttpMessage message)
    {
        Interlocked.Increment(ref _requests);
        if (message.Request.Content is { } content)
        {
            using var buffer = new MemoryStream();
            content.WriteTo(buffer, default);
            Interlocked.Add(ref _sent, buffer.Length);
            var body = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
            var method = message.Request.Method;
            if (message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal))
            {
                Interlocked.Add(ref _written, Count(body, "Content-Type: application/http"u8));
            }
            else if (method == RequestMethod.Post || method == RequestMethod.Put || method == RequestMethod.Patch || method.Method == "MERGE")
            {
                Interlocked.Increment(ref _written);
            }
        }
        else if (message.Request.Method == RequestMethod.Delete)
        {
            Interlocked.Increment(ref _written);
        }
    }

    private void After(HttpMessage message)
    {
        if (message.Response.ContentStream is MemoryStream stream)
        {
            Interlocked.Add(ref _received, stream.Length);
            if (message.Request.Method == RequestMethod.Get)
            {
                Interlocked.Add(ref _read, Count(stream.GetBuffer().AsSpan(0, (int)stream.Length), "\"odata.etag\""u8));
            }
        }
    }
}

/// <summary>
/// What an incremental run costs as the set grows: a set of N stored records (N/10 and N), then a run (a new writer
/// session: open + save of 10 fetched records) with 0 and with 10 of them changed. Requests, kB read and written,
/// entities, and the managed memory the run allocated and its peak heap growth; the large set's figures against the
/// small one's (target ≤ 1.2×). Also entities written per record for new, changed and incremental saves, and a full
/// sync saving every record again unchanged (requests, entities read, records/s).
/// </summary>
public static class IncrementalCase
{
    /// <param name="traffic">The policy on the clients <paramref name="writer"/> uses.</param>
    public static async Task RunAsync(StorageTraffic traffic, RecordWriter writer, string connectionId, int n, Results results, CancellationToken ct)
    {
        var sizes = new[] { n / 10, n };
        var figures = new Dictionary<(int Size, int Changes), Figures>();
        var retained = new Dictionary<int, long>();
        foreach (var size in sizes)
        {
            var partition = new RecordPartition("github", connectionId, "GithubIssue", "incr" + size);
            // Fill (new records), measured for entities per record.
            var before = traffic.Snapshot();
            var clock = Stopwatch.StartNew();
            var session = await writer.OpenAsync(partition, ct);
            for (var from = 0; from < size; from += StoreCases.BatchSize)
            {
                await session.SaveAsync(Payloads.Batch(Enumerable.Range(from, Math.Min(StoreCases.BatchSize, size - from)), 0), ct);
            }
            var fill = Diff(traffic.Snapshot(), before);
            results.Add(new Result("incremental", $"fill {size:N0} new records: entities written per record", (double)fill.Written / size, "entities/record",
                null, null, "<= 1.25", (double)fill.Written / size <= 1.25,
                $"{fill.Requests:N0} requests, {fill.Read:N0} entities read, {fill.Sent / 1024.0:N0} kB written, {size / clock.Elapsed.TotalSeconds:N0} records/s"));

            // A full sync saving every record again, unchanged (a new session, batches as the fill), in the order stored.
            var unchanged = 0;
            var resave = await MeasureAsync(traffic, async () =>
            {
                var again = await writer.OpenAsync(partition, ct);
                for (var from = 0; from < size; from += StoreCases.BatchSize)
                {
                    unchanged += (await again.SaveAsync(Payloads.Batch(Enumerable.Range(from, Math.Min(StoreCases.BatchSize, size - from)), 0), ct)).Unchanged;
                }
            });
            if (unchanged != size)
            {
                throw new InvalidOperationException($"re-save: {unchanged} of {size} unchanged");
            }
            results.Add(new Result("incremental", $"re-save {size:N0} unchanged records: records/s", size / resave.Seconds, "records/s",
                null, null, size >= 100_000 ? ">= 9,100 (seed, idle)" : "-", size >= 100_000 ? size / resave.Seconds >= 9_100 : null,
                $"{resave.Traffic.Requests:N0} requests, {resave.Traffic.Read:N0} entities read, {resave.Traffic.Received / 1024.0:N0} kB read, " +
                $"{resave.Traffic.Written:N0} entities written, {resave.Allocated / 1024.0 / 1024.0:N0} MB allocated"));
            // Its memory: the heap left after a full collection, every 10 batches of a second (untimed) re-save.
            retained[size] = await RetainedAsync(writer, partition, size, ct);

            foreach (var changes in new[] { 0, 10 })
            {
                var ids = Payloads.Sample(size, 10);
                var f = await MeasureAsync(traffic, async () =>
                {
                    var run = await writer.OpenAsync(partition, ct);
                    var result = await run.SaveAsync(Payloads.Batch(ids, changes == 0 ? 0 : 1), ct);
                    if (result.Updated != changes || result.Unchanged != 10 - changes)
                    {
                        throw new InvalidOperationException($"incremental run: {result.Updated} updated, {result.Unchanged} unchanged");
                    }
                });
                figures[(size, changes)] = f;
                results.Add(new Result("incremental", $"{size:N0} stored, run with {changes} changes: requests", f.Traffic.Requests, "requests", null, null, "-", null,
                    $"{f.Traffic.Received / 1024.0:0.0} kB read, {f.Traffic.Sent / 1024.0:0.0} kB written, {f.Traffic.Read} entities read, " +
                    $"{f.Traffic.Written} written{(changes > 0 ? $" ({(double)f.Traffic.Written / changes:0.00}/changed record)" : "")}, " +
                    $"{f.Allocated / 1024.0:N0} kB allocated, peak heap +{f.PeakHeap / 1024.0:N0} kB, {f.Seconds * 1000:0} ms"));
            }

            // A run that deletes 10 records (track_deletes, or a sync's BatchDelete): entities written per record.
            var deleted = Payloads.Sample(size, 10).Select(Payloads.Id).ToList();
            var d = await MeasureAsync(traffic, async () =>
            {
                var run = await writer.OpenAsync(partition, ct);
                var result = await run.DeleteAsync(deleted, ct);
                if (result.Deleted != 10)
                {
                    throw new InvalidOperationException($"delete run: {result.Deleted} deleted");
                }
            });
            results.Add(new Result("incremental", $"{size:N0} stored, run deleting 10 records: entities written per record", d.Traffic.Written / 10.0,
                "entities/record", null, null, "report", null, $"{d.Traffic.Requests} requests, {d.Traffic.Read} entities read (incl. meta)"));
        }
        var heapRatio = (double)retained[sizes[1]] / Math.Max(1, retained[sizes[0]]);
        results.Add(new Result("incremental", $"re-save: heap kept (after full GC), {sizes[1]:N0} vs {sizes[0]:N0} stored", heapRatio, "x", null, null, "<= 1.2", heapRatio <= 1.2,
            $"{retained[sizes[0]] / 1024.0 / 1024.0:N1} MB -> {retained[sizes[1]] / 1024.0 / 1024.0:N1} MB"));
        foreach (var changes in new[] { 0, 10 })
        {
            var (small, large) = (figures[(sizes[0], changes)], figures[(sizes[1], changes)]);
            foreach (var (name, a, b) in new (string, double, double)[]
            {
                ("requests", small.Traffic.Requests, large.Traffic.Requests),
                ("kB read", small.Traffic.Received, large.Traffic.Received),
                ("kB written", small.Traffic.Sent, large.Traffic.Sent),
                ("entities read", small.Traffic.Read, large.Traffic.Read),
                ("entities written", small.Traffic.Written, large.Traffic.Written),
                ("managed allocated", small.Allocated, large.Allocated),
            })
            {
                var ratio = a == 0 ? (b == 0 ? 1 : double.PositiveInfinity) : b / a;
                results.Add(new Result("incremental", $"{changes} changes: {name}, {sizes[1]:N0} vs {sizes[0]:N0} stored", ratio, "x", null, null, "<= 1.2", ratio <= 1.2,
                    $"{a:N0} -> {b:N0}"));
            }
        }
    }

    /// <summary>The most heap a re-save keeps (measured after a full collection every 10 batches), over what was there before it.</summary>
    private static async Task<long> RetainedAsync(RecordWriter writer, RecordPartition partition, int size, CancellationToken ct)
    {
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var most = 0L;
        var session = await writer.OpenAsync(partition, ct);
        for (var (from, batch) = (0, 0); from < size; from += StoreCases.BatchSize, batch++)
        {
            await session.SaveAsync(Payloads.Batch(Enumerable.Range(from, Math.Min(StoreCases.BatchSize, size - from)), 0), ct);
            if (batch % 10 == 0 || from + StoreCases.BatchSize >= size)
            {
                most = Math.Max(most, GC.GetTotalMemory(forceFullCollection: true) - baseline);
            }
        }
        GC.KeepAlive(session);
        return most;
    }

    private sealed record Figures((long Requests, long Sent, long Received, long Read, long Written) Traffic, long Allocated, long PeakHeap, double Seconds);

    private static (long Requests, long Sent, long Received, long Read, long Written) Diff(
        (long Requests, long Sent, long Received, long Read, long Written) a, (long Requests, long Sent, long Received, long Read, long Written) b) =>
        (a.Requests - b.Requests, a.Sent - b.Sent, a.Received - b.Received, a.Read - b.Read, a.Written - b.Written);

    private static async Task<Figures> MeasureAsync(StorageTraffic traffic, Func<Task> run)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var heap = GC.GetTotalMemory(false);
        var peak = heap;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(false));
                await Task.Delay(2);
            }
        });
        var before = traffic.Snapshot();
        var allocated = GC.GetTotalAllocatedBytes(true);
        var clock = Stopwatch.StartNew();
        await run();
        var seconds = clock.Elapsed.TotalSeconds;
        allocated = GC.GetTotalAllocatedBytes(true) - allocated;
        var used = Diff(traffic.Snapshot(), before);
        peak = Math.Max(peak, GC.GetTotalMemory(false));
        await stop.CancelAsync();
        await sampler;
        return new Figures(used, allocated, peak - heap, seconds);
    }
}
