using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues.Models;
using SyncHub.Core.Api;
using SyncHub.Core.Connections;
using SyncHub.Core.Model;
using SyncHub.Core.Scheduling;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Scheduling;

/// <summary>
/// trigger/start/pause and status without a connection id, for an integration with more connections than one page:
/// the API call does one page's work and queues the rest; status pages through the connections.
/// </summary>
public sealed class BulkControlTests
{
    private const int Connections = BulkControl.ConnectionsPerPage + 30;

    /// <summary>An engine on the bulk integration with <see cref="Connections"/> connections whose issues syncs are started.</summary>
    private static async Task<(SyncEngine Engine, SyncControl Api, List<string> Ids)> StartAsync()
    {
        var engine = await SyncEngine.StartAsync(integration: IsolatedGithub.BulkKey, issuesAutoStart: false);
        var api = new SyncControl(engine);
        await DeleteAllAsync(engine);
        var store = engine.Get<ConnectionStore>();
        var schedules = engine.Get<SyncSchedules>();
        var prefix = Guid.NewGuid().ToString("N")[..8];
        var ids = Enumerable.Range(0, Connections).Select(i => $"bulk-{prefix}-{i:D3}").ToList();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, ct) =>
        {
            await store.UpsertAsync(api.Integration, id, "github", new ConnectionCredentials("API_KEY", new JsonObject { ["type"] = "API_KEY", ["apiKey"] = "k" }), null, null, ct);
            var key = api.Key(id, "issues");
            await schedules.CreateAsync(key, ct);
            // Started, but not due for a day: pausing and starting are what this test looks at, not runs.
            await engine.Get<ScheduleStore>().UpdateAsync(key, s => s with { State = ScheduleStates.Started, NextRunAt = DateTimeOffset.UtcNow.AddDays(1).UtcTicks }, ct);
        });
        return (engine, api, ids);
    }

    /// <summary>The bulk integration belongs to this class: leave none of an earlier run's connections in it.</summary>
    private static async Task DeleteAllAsync(SyncEngine engine)
    {
        var functions = new SyncHub.Functions.ConnectionFunctions(engine.Get<ApiPipeline>(), engine.Get<ConnectionsEndpoints>());
        foreach (var connection in await engine.Get<ConnectionStore>().ListAsync(null, [IsolatedGithub.BulkKey], default))
        {
            await FunctionCall.SendAsync(engine.Services, functions.Delete, "DELETE", $"provider_config_key={IsolatedGithub.BulkKey}",
                route: new Dictionary<string, string> { ["connectionId"] = connection.ConnectionId });
        }
    }

    private static async Task<List<string>> StatesAsync(SyncEngine engine, SyncControl api, List<string> ids) =>
        [.. await Task.WhenAll(ids.Select(async id => (await engine.ScheduleAsync(id, "issues"))!.State))];

    [Fact]
    public async Task Pause_without_a_connection_id_does_one_page_at_once_and_the_rest_through_the_queue()
    {
        var (engine, api, ids) = await StartAsync();
        await using var _ = engine;
        try
        {
            var answer = await api.PauseAsync(null, "[]");
            Assert.Equal(200, answer.Status);

            // One page of connections (in id order) is paused before the answer; the others wait for the queue.
            var states = await StatesAsync(engine, api, ids);
            Assert.Equal(Enumerable.Repeat(ScheduleStates.Paused, BulkControl.ConnectionsPerPage), states.Take(BulkControl.ConnectionsPerPage));
            Assert.Equal(Enumerable.Repeat(ScheduleStates.Started, Connections - BulkControl.ConnectionsPerPage), states.Skip(BulkControl.ConnectionsPerPage));
            PeekedMessage[] queued = (await engine.Queue.PeekMessagesAsync(32)).Value;
            var control = Assert.Single(queued.Select(m => JsonSerializer.Deserialize<SyncRunMessage>(m.Body.ToString(), new JsonSerializerOptions(JsonSerializerDefaults.Web))!), m => m.Control is not null);
            Assert.Equal((ControlAction.Pause, ids[BulkControl.ConnectionsPerPage - 1]), (control.Control!.Action, control.Control.After));

            // The run function continues the sweep.
            await engine.PumpAsync();
            Assert.All(await StatesAsync(engine, api, ids), s => Assert.Equal(ScheduleStates.Paused, s));

            // Start the same way (the next page run here directly: pumping would also run the syncs start queued).
            Assert.Equal(200, (await api.StartAsync(null, """["issues"]""")).Status);
            await engine.Get<SyncRunner>().RunAsync(control with { Control = control.Control with { Action = ControlAction.Start } }, default);
            Assert.All(await StatesAsync(engine, api, ids), s => Assert.Equal(ScheduleStates.Started, s));
        }
        finally
        {
            await DeleteAllAsync(engine);
        }
    }

    [Fact]
    public async Task Status_without_a_connection_id_pages_through_the_connections()
    {
        var (engine, api, ids) = await StartAsync();
        await using var _ = engine;
        try
        {
            var seen = new List<string>();
            string? cursor = null;
            var pages = 0;
            do
            {
                var response = await api.StatusAsync($"provider_config_key={api.Integration}&syncs=issues&limit=50" + (cursor is null ? "" : $"&cursor={cursor}"));
                Assert.Equal(200, response.Status);
                var syncs = response.Json!["syncs"]!.AsArray();
                Assert.InRange(syncs.Count, 1, 50);
                seen.AddRange(syncs.Select(s => s!["connection_id"]!.GetValue<string>()));
                cursor = response.Json["next_cursor"]?.GetValue<string>();
                pages++;
            }
            while (cursor is not null);
            Assert.Equal(3, pages);
            Assert.Equal(ids, seen);

            var bad = await api.StatusAsync($"provider_config_key={api.Integration}&syncs=*&cursor=%25%25");
            Assert.True(bad.Status == 400 && bad.ErrorCode == "invalid_query_params", bad.Body);
            // With a connection id there is nothing to page: no next_cursor.
            var one = await api.StatusAsync(ids[0], "*");
            Assert.False(one.Json!.AsObject().ContainsKey("next_cursor"));
        }
        finally
        {
            await DeleteAllAsync(engine);
        }
    }
}
