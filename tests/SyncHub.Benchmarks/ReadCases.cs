using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Azure.Data.Tables;
using SyncHub.Core.Records;
using SyncHub.Core.Model;

namespace SyncHub.Benchmarks;

/// <summary>GET /records on LocalHost over HTTP, as a client of the Nango API does it.</summary>
public sealed class RecordsClient : IDisposable
{
    private readonly HttpClient _http;

    public RecordsClient(Uri baseAddress, string secretKey, string connectionId, string providerConfigKey)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = 1024,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        };
        _http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(5) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secretKey);
        _http.DefaultRequestHeaders.Add("Connection-Id", connectionId);
        _http.DefaultRequestHeaders.Add("Provider-Config-Key", providerConfigKey);
    }

    /// <summary>One page: how many records it held and its next_cursor.</summary>
    public async Task<(int Count, string? Next)> PageAsync(string model, int limit, string? cursor, CancellationToken ct)
    {
        var url = $"/records?model={model}&limit={limit}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
        using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        using var document = await JsonDocument.ParseAsync(body, cancellationToken: ct);
        var count = document.RootElement.GetProperty("records").GetArrayLength();
        var next = document.RootElement.GetProperty("next_cursor");
        return (count, next.ValueKind == JsonValueKind.String ? next.GetString() : null);
    }

    public void Dispose() => _http.Dispose();
}

public static class ReadCases
{
    public const string Model = "GithubIssue";

    /// <summary>Every record through GET /records?limit=500, against a raw read of the same rows of the same table.
    /// Two rounds (raw, HTTP, raw, HTTP); each figure is the better of its two rounds.</summary>
    public static async Task RunPagingAsync(TableClient recordTable, RecordsClient client, int n, List<long> keys, Results results, CancellationToken ct)
    {
        // Warm up both paths (JIT, connection pools) on one page each.
        await foreach (var _ in recordTable.QueryAsync<TableEntity>(RawTable.RangeFilter, 500, cancellationToken: ct).AsPages())
        {
            break;
        }
        await client.PageAsync(Model, 500, null, ct);

        double raw = 0, http = 0;
        TimeSpan rawTime = default, httpTime = default;
        for (var round = 0; round < 2; round++)
        {
            keys.Clear();
            var (rawCount, rawElapsed) = await RawTable.ReadAllAsync(recordTable, 500, keys, ct);
            RawTable.Check(rawCount, n, "raw read of the record table");
            if (rawCount / rawElapsed.TotalSeconds > raw)
            {
                (raw, rawTime) = (rawCount / rawElapsed.TotalSeconds, rawElapsed);
            }
            var (httpCount, httpElapsed, pages) = await PageAllAsync(client, 500, ct);
            RawTable.Check(httpCount, n, "GET /records paging");
            if (httpCount / httpElapsed.TotalSeconds > http)
            {
                (http, httpTime) = (httpCount / httpElapsed.TotalSeconds, httpElapsed);
            }
            Console.WriteLine($"    round {round + 1}: raw {rawCount / rawElapsed.TotalSeconds:#,0}/s ({rawElapsed.TotalSeconds:0.00} s), " +
                $"HTTP {httpCount / httpElapsed.TotalSeconds:#,0}/s ({httpElapsed.TotalSeconds:0.00} s, {pages} pages)");
        }
        results.Add(new Result("page", "raw range read of the record table, maxPerPage 500", raw, "records/s", null, null, "-", null,
            $"best of 2, {rawTime.TotalSeconds:0.00} s"));
        results.Add(new Result("page", "GET /records?limit=500 over HTTP, all records", http, "records/s", http / raw, "raw read of same rows",
            ">= 0.75", http / raw >= 0.75, $"best of 2, {httpTime.TotalSeconds:0.00} s"));
    }

    public static async Task<(long Count, TimeSpan Elapsed, int Pages)> PageAllAsync(RecordsClient client, int limit, CancellationToken ct)
    {
        long count = 0;
        var pages = 0;
        string? cursor = null;
        var watch = Stopwatch.StartNew();
        do
        {
            var (records, next) = await client.PageAsync(Model, limit, cursor, ct);
            count += records;
            pages++;
            cursor = next;
        }
        while (cursor is not null);
        return (count, watch.Elapsed, pages);
    }

    public sealed record WideRun(double PerSecond, double P50, double P99, long Records, int Pages, TimeSpan Elapsed);

    /// <summary>
    /// <paramref name="clients"/> clients, each paging with limit 100 from a random record's cursor for up to 10 pages,
    /// then from another random cursor, until the time is up; the raw side does the same range queries on the table.
    /// Both sides use the same sequence of start positions.
    /// </summary>
    public static async Task RunConcurrentAsync(TableClient recordTable, RecordsClient client, List<long> keys, int clients, TimeSpan duration, Results results, CancellationToken ct)
    {
        const int limit = 100;
        async Task<(int, long?)> RawPage(long after)
        {
            var filter = $"PartitionKey eq '{RecordRows.PartitionKey}' and RowKey gt '{new Cursor(after).RowKey}' and RowKey lt '{Cursor.RowKeyEnd}'";
            await foreach (var page in recordTable.QueryAsync<TableEntity>(filter, limit, cancellationToken: ct).AsPages())
            {
                var next = page.ContinuationToken is not null && page.Values.Count > 0 ? Cursor.FromRowKey(page.Values[^1].RowKey).Ticks : (long?)null;
                return (page.Values.Count, next);
            }
            return (0, null);
        }
        async Task<(int, long?)> HttpPage(long after)
        {
            var (count, next) = await client.PageAsync(Model, limit, new Cursor(after).Encode(), ct);
            return (count, next is not null && Cursor.TryDecode(next, out var c) ? c.Ticks : null);
        }

        // Warm up: a few concurrent requests on each side.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => RawPage(keys[i * keys.Count / 4])));
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => HttpPage(keys[i * keys.Count / 4])));

        var raw = await WideAsync(RawPage, keys, clients, duration, ct);
        results.Add(new Result("concurrent", $"raw range reads, {clients} concurrent, maxPerPage 100", raw.PerSecond, "records/s", null, null, "-", null,
            $"{raw.Pages:N0} pages in {raw.Elapsed.TotalSeconds:0.0} s"));
        results.Add(new Result("concurrent", "raw p50 per page", raw.P50, "ms", null, null, "-", null));
        results.Add(new Result("concurrent", "raw p99 per page", raw.P99, "ms", null, null, "-", null));

        var http = await WideAsync(HttpPage, keys, clients, duration, ct);
        results.Add(new Result("concurrent", $"GET /records?limit=100, {clients} concurrent clients", http.PerSecond, "records/s",
            http.PerSecond / raw.PerSecond, $"raw {clients}-wide", ">= 0.75", http.PerSecond / raw.PerSecond >= 0.75,
            $"{http.Pages:N0} pages in {http.Elapsed.TotalSeconds:0.0} s"));
        results.Add(new Result("concurrent", "HTTP p50 per page", http.P50, "ms", http.P50 / raw.P50, "raw p50", "report", null));
        results.Add(new Result("concurrent", "HTTP p99 per page", http.P99, "ms", http.P99 / raw.P99, "raw p99", "report", null));
    }

    private static async Task<WideRun> WideAsync(Func<long, Task<(int Count, long? Next)>> page, List<long> keys, int clients, TimeSpan duration, CancellationToken ct)
    {
        var latencies = new List<double>[clients];
        var counts = new long[clients];
        var watch = Stopwatch.StartNew();
        var deadline = duration;
        var workers = Enumerable.Range(0, clients).Select(async w =>
        {
            await Task.Yield();
            var random = new Random(1000 + w);
            var mine = latencies[w] = [];
            while (watch.Elapsed < deadline)
            {
                long? after = keys[random.Next(keys.Count)];
                for (var p = 0; p < 10 && after is { } position && watch.Elapsed < deadline; p++)
                {
                    var started = watch.Elapsed;
                    var (count, next) = await page(position);
                    mine.Add((watch.Elapsed - started).TotalMilliseconds);
                    counts[w] += count;
                    after = next;
                }
            }
        }).ToList();
        await Task.WhenAll(workers);
        watch.Stop();
        var all = latencies.SelectMany(l => l).Order().ToArray();
        double Percentile(double q) => all.Length == 0 ? 0 : all[(int)Math.Min(all.Length - 1, Math.Ceiling(q * all.Length) - 1)];
        var records = counts.Sum();
        return new WideRun(records / watch.Elapsed.TotalSeconds, Percentile(0.50), Percentile(0.99), records, all.Length, watch.Elapsed);
    }
}
