using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SyncHub.Core.Api;
using SyncHub.Core.Connections;
using SyncHub.Core.Hosting;
using SyncHub.Core.Model;
using SyncHub.Core.Records;
using SyncHub.Core.Scheduling;

namespace SyncHub.Benchmarks;

/// <summary>
/// Storage requests per API call, counted exactly: the endpoint's own code (the <see cref="ApiPipeline"/> and the
/// endpoint class the HTTP function calls in one line) on clients with a <see cref="StorageTraffic"/> policy, in this
/// process, since LocalHost's traffic cannot be counted from here. Rates stay with the HTTP cases.
/// </summary>
public static class ApiCostCases
{
    /// <summary>
    /// <c>GET /records?limit=100</c> pages through the stored set: the first (cold) page, then warm pages: requests per
    /// page (target 1.0 warm) and the records/s of the in-process calls.
    /// </summary>
    public static async Task PageAsync(IConfiguration configuration, StorageTraffic traffic, string storage, string connectionId, string model,
        int pages, Results results, CancellationToken ct)
    {
        await using var services = Counted(configuration, traffic, storage);
        var secretKey = configuration["SyncHub:SecretKeys"]!;
        var api = services.GetRequiredService<ApiPipeline>();
        var endpoints = services.GetRequiredService<RecordsEndpoints>();
        var headers = new Dictionary<string, string> { ["Connection-Id"] = connectionId, ["Provider-Config-Key"] = "github" };

        var before = traffic.Snapshot();
        var first = await CallAsync(services, secretKey, api, endpoints.ListAsync, $"model={model}&limit=100", headers, ct);
        var cold = traffic.Snapshot().Requests - before.Requests;
        var cursor = first["next_cursor"]?.GetValue<string>();

        before = traffic.Snapshot();
        var records = 0;
        var done = 0;
        var clock = Stopwatch.StartNew();
        for (; done < pages && cursor is not null; done++)
        {
            var page = await CallAsync(services, secretKey, api, endpoints.ListAsync, $"model={model}&limit=100&cursor={Uri.EscapeDataString(cursor)}", headers, ct);
            records += page["records"]!.AsArray().Count;
            cursor = page["next_cursor"]?.GetValue<string>();
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var warm = traffic.Snapshot();
        var perPage = (double)(warm.Requests - before.Requests) / done;
        results.Add(new Result("page", "GET /records?limit=100, warm: storage requests per page", perPage, "requests", null, null, "1.0", perPage <= 1.0,
            $"{done} pages after a cold first page of {cold} requests; {(warm.Read - before.Read) / (double)done:0} entities and " +
            $"{(warm.Received - before.Received) / 1024.0 / done:0.0} kB read per page; {records / seconds:N0} records/s in process"));
    }

    /// <summary>
    /// <c>GET /sync/status</c> for one connection of an integration with 10 syncs of 3 models each (every model holding
    /// records): requests of a cold and a warm call.
    /// </summary>
    public static async Task StatusAsync(Dictionary<string, string?> settings, string workDir, StorageTraffic traffic, string storage, Results results, CancellationToken ct)
    {
        var yaml = new StringBuilder("integrations:\n  bench-status:\n    provider: bench\n    syncs:\n");
        for (var s = 0; s < 10; s++)
        {
            yaml.Append($"      sync{s}:\n        runs: every hour\n        output: [Model{s}A, Model{s}B, Model{s}C]\n        sync_type: incremental\n");
        }
        var configPath = Path.Combine(workDir, "status-nango.yaml");
        await File.WriteAllTextAsync(configPath, yaml.ToString(), ct);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["SyncHub:ConfigPath"] = configPath })
            .Build();
        await using var services = Counted(configuration, traffic, storage);
        var connectionId = "bench-" + Guid.NewGuid().ToString("N")[..12];
        await services.GetRequiredService<ConnectionStore>().UpsertAsync("bench-status", connectionId, "bench",
            new ConnectionCredentials("API_KEY", new JsonObject { ["type"] = "API_KEY", ["apiKey"] = "bench" }), null, null, ct);
        var schedules = services.GetRequiredService<SyncSchedules>();
        var writer = services.GetRequiredService<RecordWriter>();
        for (var s = 0; s < 10; s++)
        {
            await schedules.CreateAsync(new SyncKey("bench-status", connectionId, $"sync{s}", SyncKey.BaseVariant), ct);
            foreach (var m in "ABC")
            {
                await writer.SaveAsync(new RecordPartition("bench-status", connectionId, $"Model{s}{m}"), Payloads.Batch(Enumerable.Range(0, 10), 0), ct);
            }
        }

        // A fresh provider: nothing cached, as after a cold start.
        await using var fresh = Counted(configuration, traffic, storage);
        var api = fresh.GetRequiredService<ApiPipeline>();
        var endpoints = fresh.GetRequiredService<SyncEndpoints>();
        var query = $"provider_config_key=bench-status&connection_id={connectionId}&syncs=*";
        var requests = new List<long>();
        JsonObject answer = null!;
        for (var call = 0; call < 2; call++)
        {
            var before = traffic.Snapshot().Requests;
            answer = await CallAsync(fresh, configuration["SyncHub:SecretKeys"]!, api, endpoints.StatusAsync, query, null, ct);
            requests.Add(traffic.Snapshot().Requests - before);
        }
        var syncs = answer["syncs"]!.AsArray();
        var counted = syncs.Sum(s => s!["recordCount"]!.AsObject().Sum(c => c.Value!.GetValue<long>()));
        if (syncs.Count != 10 || counted != 300)
        {
            throw new InvalidOperationException($"status answered {syncs.Count} syncs and {counted} records (expected 10 and 300)");
        }
        results.Add(new Result("status", "GET /sync/status, 10 syncs x 3 models: storage requests (warm)", requests[1], "requests", null, null, "report", null,
            $"cold {requests[0]}; sent at once: the connection check and schedule list, then every model's count together"));
    }

    private static ServiceProvider Counted(IConfiguration configuration, StorageTraffic traffic, string storage) =>
        new ServiceCollection()
            .AddLogging(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning))
            .AddSyncHub(configuration)
            .AddSingleton(traffic.Clients(storage))
            .BuildServiceProvider();

    /// <summary>What the HTTP function does: the pipeline around the endpoint, with a real <see cref="DefaultHttpContext"/>.</summary>
    private static async Task<JsonObject> CallAsync(IServiceProvider services, string secretKey, ApiPipeline api, ApiHandler handler, string query,
        Dictionary<string, string>? headers, CancellationToken ct)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = "GET";
        context.Request.QueryString = new QueryString("?" + query);
        context.Request.Headers.Authorization = "Bearer " + secretKey;
        foreach (var (name, value) in headers ?? [])
        {
            context.Request.Headers[name] = value;
        }
        var body = new MemoryStream();
        context.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));
        var result = await api.RunAsync(context.Request, handler, ct);
        await result.ExecuteAsync(context);
        await context.Response.BodyWriter.FlushAsync(ct);
        var text = Encoding.UTF8.GetString(body.ToArray());
        if (context.Response.StatusCode != 200)
        {
            throw new InvalidOperationException($"GET ?{query} answered {context.Response.StatusCode}: {text}");
        }
        return JsonNode.Parse(text)!.AsObject();
    }
}
