using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SyncHub.Core.Records;
using SyncHub.Tests.Infrastructure;
using SyncHub.Tests.Scheduling;
using Xunit.Abstractions;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Reliability;

/// <summary>
/// 32 concurrent readers paging <c>GET /records?limit=100</c> over HTTP while a writer inserts and updates records in
/// the same partition. Zero errors; each reader, continuing from its last cursor like an incremental consumer, sees
/// cursors strictly increase and, once the writer stops and it pages to the end, holds every record in its final
/// state (API.md's guarantee). Throughput and p99 are reported, never asserted.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class LoadTests(ITestOutputHelper output)
{
    private const int Readers = 32;

    [Fact]
    public async Task Readers_paging_while_a_sync_writes_see_every_final_state_in_cursor_order()
    {
        var initial = ReliabilityMode.Pick(2_000, 20_000);
        var writeFor = ReliabilityMode.Pick(TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(60));
        var runQueue = "rel-load-" + Guid.NewGuid().ToString("N")[..12];
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?> { ["SyncHubRunQueue"] = runQueue });
        await using var host = await LocalHostProcess.StartAsync(new Dictionary<string, string?>
        {
            ["SyncHub__ConfigPath"] = engine.ConfigPath,
            ["SyncHubRunQueue"] = runQueue,
        });
        var connection = TestEnvironment.Unique("load");
        await Api.ImportAsync(host.Client, connection);
        var session = await engine.Get<RecordWriter>().OpenAsync(new RecordPartition("github", connection, "GithubIssue", "base"), default);

        var final = new Dictionary<string, int>();
        static JsonObject Record(string id, int version) => new() { ["id"] = id, ["title"] = "t" + id, ["version"] = version };
        for (var start = 0; start < initial; start += 100)
        {
            var batch = Enumerable.Range(start, Math.Min(100, initial - start)).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
            await session.SaveAsync(batch.Select(id => Record(id, 0)).ToList(), default);
            batch.ForEach(id => final[id] = 0);
        }

        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Readers }) { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestEnvironment.SecretKey);
        var latencies = new ConcurrentBag<double>();
        var errors = new ConcurrentQueue<string>();
        var writerDone = new TaskCompletionSource();
        long recordsRead = 0;

        // The writer: batches of 100, about 70 updates of random records and 30 new ones, for writeFor.
        var writes = 0;
        var writer = Task.Run(async () =>
        {
            try
            {
                var random = new Random(7);
                var next = initial;
                var watch = Stopwatch.StartNew();
                while (watch.Elapsed < writeFor)
                {
                    var batch = new Dictionary<string, int>();
                    while (batch.Count < 100)
                    {
                        var id = random.Next(10) < 7 ? random.Next(next).ToString(CultureInfo.InvariantCulture) : (next++).ToString(CultureInfo.InvariantCulture);
                        batch[id] = final.GetValueOrDefault(id, -1) + 1;
                    }
                    await session.SaveAsync(batch.Select(p => Record(p.Key, p.Value)).ToList(), default);
                    foreach (var (id, version) in batch)
                    {
                        final[id] = version;
                    }
                    Volatile.Write(ref writes, writes + batch.Count);
                }
            }
            finally
            {
                writerDone.SetResult();
            }
        });

        var phase = Stopwatch.StartNew();
        var readers = Enumerable.Range(0, Readers).Select(reader => Task.Run(async () =>
        {
            var seen = new Dictionary<string, int>();
            Cursor? last = null;
            var finalPass = false;
            while (true)
            {
                var passAfterWriter = writerDone.Task.IsCompleted;
                var writesBefore = Volatile.Read(ref writes);
                string? next;
                do
                {
                    var watch = Stopwatch.StartNew();
                    JsonObject page;
                    try
                    {
                        page = await Api.PageAsync(client, connection, "GithubIssue", last?.Encode(), 100);
                    }
                    catch (Exception e)
                    {
                        errors.Enqueue($"reader {reader}: {e.Message}");
                        return seen;
                    }
                    latencies.Add(watch.Elapsed.TotalMilliseconds);
                    foreach (var node in page["records"]!.AsArray())
                    {
                        var record = Api.Parse(node);
                        if (last is { } previous && record.Cursor <= previous)
                        {
                            errors.Enqueue($"reader {reader}: cursor of {record.Id} ({record.Cursor.Ticks}) not after {previous.Ticks}");
                        }
                        last = record.Cursor;
                        seen[record.Id] = record.Json["version"]!.GetValue<int>();
                        Interlocked.Increment(ref recordsRead);
                    }
                    next = page["next_cursor"]?.GetValue<string>();
                }
                while (next is not null);
                if (finalPass)
                {
                    return seen;
                }
                finalPass = passAfterWriter;
                if (!finalPass)
                {
                    // The next pass once there is something new to read: the writer committed another batch, or stopped.
                    await Eventually.Until(() => Volatile.Read(ref writes) != writesBefore || writerDone.Task.IsCompleted,
                        $"reader {reader}: the writer to commit a batch after {writesBefore} writes, or to stop", interval: TimeSpan.FromMilliseconds(20));
                }
            }
        })).ToList();

        await writer;
        var seenByReader = await Task.WhenAll(readers);
        phase.Stop();

        var sorted = latencies.Order().ToArray();
        double Percentile(double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
        output.WriteLine($"mode {(ReliabilityMode.Long ? "long" : "short")}: {initial} records then {writes} writes over {writeFor.TotalSeconds} s; {Readers} readers, limit 100");
        output.WriteLine($"{sorted.Length} pages, {recordsRead} records in {phase.Elapsed.TotalSeconds:F1} s: {recordsRead / phase.Elapsed.TotalSeconds:F0} records/s, " +
            $"{sorted.Length / phase.Elapsed.TotalSeconds:F0} pages/s; page latency p50 {Percentile(0.5):F1} ms, p99 {Percentile(0.99):F1} ms, max {sorted.LastOrDefault():F1} ms");

        Assert.True(errors.IsEmpty, string.Join("\n", errors.Take(10)));
        Assert.True(writes > 0);
        foreach (var seen in seenByReader)
        {
            var wrong = final.Where(p => seen.GetValueOrDefault(p.Key, -1) != p.Value).Take(5).Select(p => $"{p.Key}: saw {seen.GetValueOrDefault(p.Key, -1)}, final {p.Value}").ToList();
            Assert.True(wrong.Count == 0, "a reader missed final states: " + string.Join("; ", wrong));
            Assert.Equal(final.Count, seen.Count);
        }
        Assert.Equal(final.Count, (await Api.StatusAsync(host.Client, connection))["recordCount"]!["GithubIssue"]!.GetValue<int>());
    }
}
