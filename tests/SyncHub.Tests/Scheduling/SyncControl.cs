using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SyncHub.Core.Api;
using SyncHub.Core.Records;
using SyncHub.Core.Scheduling;
using SyncHub.Functions;
using SyncHub.Tests.Infrastructure;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Scheduling;

/// <summary>
/// The sync control API of a <see cref="SyncEngine"/>, called through the real function classes (SyncFunctions,
/// RecordFunctions) with a <see cref="Microsoft.AspNetCore.Http.DefaultHttpContext"/>, the way the worker calls them.
/// </summary>
public sealed class SyncControl(SyncEngine engine)
{
    private SyncFunctions Syncs => new(engine.Get<ApiPipeline>(), engine.Get<SyncEndpoints>());
    private RecordFunctions Records => new(engine.Get<ApiPipeline>(), engine.Get<RecordsEndpoints>());

    public string Integration => engine.Integration;

    /// <summary>A control body: provider_config_key, connection_id (omitted when null) and syncs (a JSON array).</summary>
    public string Body(string? connectionId, string syncs = "[]", string? extra = null)
    {
        var body = new JsonObject { ["provider_config_key"] = Integration };
        if (connectionId is not null)
        {
            body["connection_id"] = connectionId;
        }
        body["syncs"] = JsonNode.Parse(syncs);
        var json = body.ToJsonString();
        return extra is null ? json : json[..^1] + "," + extra + "}";
    }

    public Task<FunctionCall.Response> TriggerAsync(string body) => Call(Syncs.Trigger, "POST", body: body);
    public Task<FunctionCall.Response> StartAsync(string body) => Call(Syncs.Start, "POST", body: body);
    public Task<FunctionCall.Response> PauseAsync(string body) => Call(Syncs.Pause, "POST", body: body);

    public Task<FunctionCall.Response> TriggerAsync(string? connectionId, string syncs, string? extra = null) => TriggerAsync(Body(connectionId, syncs, extra));
    public Task<FunctionCall.Response> StartAsync(string? connectionId, string syncs) => StartAsync(Body(connectionId, syncs));
    public Task<FunctionCall.Response> PauseAsync(string? connectionId, string syncs) => PauseAsync(Body(connectionId, syncs));

    public Task<FunctionCall.Response> StatusAsync(string query) => Call(Syncs.Status, "GET", query);

    public Task<FunctionCall.Response> StatusAsync(string? connectionId, string syncs) =>
        StatusAsync($"provider_config_key={Uri.EscapeDataString(Integration)}&syncs={Uri.EscapeDataString(syncs)}"
            + (connectionId is null ? "" : "&connection_id=" + Uri.EscapeDataString(connectionId)));

    /// <summary>The status objects of one connection, by <c>name::variant</c>.</summary>
    public async Task<Dictionary<string, JsonObject>> StatusByKeyAsync(string connectionId, string syncs = "*")
    {
        var response = await StatusAsync(connectionId, syncs);
        Assert.Equal(200, response.Status);
        return response.Json!["syncs"]!.AsArray().Select(s => s!.AsObject())
            .ToDictionary(s => $"{s["name"]!.GetValue<string>()}::{s["variant"]!.GetValue<string>()}");
    }

    public Task<FunctionCall.Response> FrequencyAsync(string body) => Call(Syncs.UpdateFrequency, "PUT", body: body);

    public Task<FunctionCall.Response> FrequencyAsync(string connectionId, string sync, string frequencyJson, string? variant = null) =>
        FrequencyAsync(new JsonObject
        {
            ["provider_config_key"] = Integration,
            ["connection_id"] = connectionId,
            ["sync_name"] = sync,
            ["frequency"] = JsonNode.Parse(frequencyJson),
        }.ToJsonString()[..^1] + (variant is null ? "" : $",\"sync_variant\":\"{variant}\"") + "}");

    public Task<FunctionCall.Response> CreateVariantAsync(string connectionId, string sync, string variant, string? body = null) =>
        Call(Syncs.CreateVariant, "POST", body: body ?? VariantBody(connectionId), route: Route(sync, variant));

    public Task<FunctionCall.Response> DeleteVariantAsync(string connectionId, string sync, string variant, string? body = null) =>
        Call(Syncs.DeleteVariant, "DELETE", body: body ?? VariantBody(connectionId), route: Route(sync, variant));

    public string VariantBody(string connectionId) =>
        new JsonObject { ["provider_config_key"] = Integration, ["connection_id"] = connectionId }.ToJsonString();

    /// <summary>GET /records (all pages), as a client sees them.</summary>
    public async Task<List<JsonObject>> RecordsAsync(string connectionId, string model, string? variant = null, string? cursor = null)
    {
        var all = new List<JsonObject>();
        while (true)
        {
            var query = $"model={model}&limit=500" + (variant is null ? "" : $"&variant={variant}") + (cursor is null ? "" : $"&cursor={cursor}");
            var response = await FunctionCall.SendAsync(engine.Services, Records.List, "GET", query,
                new Dictionary<string, string> { ["Connection-Id"] = connectionId, ["Provider-Config-Key"] = Integration });
            Assert.Equal(200, response.Status);
            all.AddRange(response.Json!["records"]!.AsArray().Select(r => r!.AsObject()));
            cursor = response.Json["next_cursor"]?.GetValue<string>();
            if (cursor is null)
            {
                return all;
            }
        }
    }

    public Task<FunctionCall.Response> PruneAsync(string connectionId, string model, string untilCursor, string? variant = null) =>
        FunctionCall.SendAsync(engine.Services, Records.Prune, "PATCH", "",
            new Dictionary<string, string> { ["Connection-Id"] = connectionId, ["Provider-Config-Key"] = Integration },
            new JsonObject { ["model"] = model, ["until_cursor"] = untilCursor, ["variant"] = variant ?? "base" }.ToJsonString());

    /// <summary>How many runs each schedule of the connection has completed successfully, by <c>name::variant</c>.</summary>
    public async Task<Dictionary<string, int>> SuccessesAsync(string connectionId) =>
        (await engine.Get<ScheduleStore>().ListAsync(Integration, connectionId, default)).ToDictionary(s => $"{s.Key.Sync}::{s.Key.Variant}", s => s.Successes);

    public SyncKey Key(string connectionId, string sync, string variant = SyncKey.BaseVariant) => new(Integration, connectionId, sync, variant);

    /// <summary>
    /// The future entries of one schedule in the due index: the times a scheduler tick would enqueue it. (Entries in
    /// the past are write-ahead entries of runs already sent; the next tick drops them and the runner ignores them.)
    /// </summary>
    public async Task<List<long>> DueTimesAsync(SyncKey key)
    {
        var now = engine.Get<TimeProvider>().GetUtcNow().UtcTicks;
        return (await engine.Get<DueRuns>().TakeDueAsync(DateTime.MaxValue.Ticks - 1, 100_000, default)).Where(d => d.Key == key && d.At > now).Select(d => d.At).ToList();
    }

    /// <summary>Waits until the schedule's run is in progress (a run started elsewhere, e.g. by a background pump).</summary>
    public async Task WaitUntilRunningAsync(SyncKey key, TimeSpan? timeout = null) =>
        await Eventually.Value(() => engine.Get<ScheduleStore>().GetAsync(key, default), s => s?.RunState == RunStates.Running,
            $"{key} to be running", timeout, s => s is null ? "no schedule" : $"run state {s.RunState}, {s.Successes} successes, last status {s.LastStatus}");

    private static Dictionary<string, string> Route(string sync, string variant) => new() { ["name"] = sync, ["variant"] = variant };

    private Task<FunctionCall.Response> Call(
        Func<HttpRequest, CancellationToken, Task<IResult>> function, string method, string query = "", string? body = null, IDictionary<string, string>? route = null) =>
        FunctionCall.SendAsync(engine.Services, function, method, query, body: body, route: route);
}
