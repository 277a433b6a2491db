using System.Text.Json.Nodes;
using SyncHub.Core.Api;
using SyncHub.Core.Model;
using SyncHub.Core.Scheduling;
using SyncHub.Functions;
using SyncHub.Integrations.Github;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Scheduling;

/// <summary>The run history of a sync (table <c>runhistory</c>): written at a run's end, trimmed to the newest 50, read by <c>GET /sync/runs</c>.</summary>
public sealed class RunHistoryTests
{
    private static IEnumerable<JsonObject> Issues(int count, int from = 0) =>
        Enumerable.Range(from, count).Select(i => FakeGithub.Issue(1000 + i, $"2026-01-01T00:00:{i:D2}Z", $"Issue {i}"));

    private static Task<FunctionCall.Response> RunsAsync(SyncEngine engine, string query) =>
        FunctionCall.SendAsync(engine.Services, new SyncFunctions(engine.Get<ApiPipeline>(), engine.Get<SyncEndpoints>()).Runs, "GET", query);

    [Fact]
    public async Task Finished_runs_are_recorded_newest_first_and_only_the_newest_50_are_kept()
    {
        await using var engine = await SyncEngine.StartAsync();
        engine.Github.SetIssues("o/r", Issues(3));
        var connection = await engine.ImportAsync();
        await engine.PumpAsync();
        var key = new SyncKey("github", connection, "issues", "base");
        var first = (await engine.ScheduleAsync(connection, "issues"))!;

        // 50 older runs, straight into the store: with the real one, 51 rows, so the oldest of these goes at once.
        var history = engine.Get<RunHistory>();
        var old = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;
        for (var i = 0; i < 50; i++)
        {
            var finished = old + TimeSpan.FromMinutes(i).Ticks;
            await history.AddAsync(new RunHistoryEntry(key, $"old-{i}", RunTypes.Incremental, finished - TimeSpan.FromSeconds(2).Ticks, finished,
                i % 10 == 0 ? "ERROR" : "SUCCESS", i % 10 == 0 ? "boom" : null, new() { ["GithubIssue"] = new ModelCounts(i, 1, 0) }), default);
        }
        Assert.Equal(RunHistory.MaxPerSync, (await history.ListAsync(key, 1000, default)).Count);

        // A real run through the runner: the 52nd, recorded by RunLease.FinishAsync.
        engine.Github.SetIssues("o/r", [.. Issues(3), FakeGithub.Issue(2000, "2030-01-01T00:00:00Z", "new")]);
        await engine.Get<SyncSchedules>().TriggerAsync(key, reset: false, emptyCache: false, default);
        await engine.PumpAsync();
        var second = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal("SUCCESS", second.LastStatus);

        var kept = await history.ListAsync(key, 1000, default);
        Assert.Equal(50, kept.Count);
        Assert.Equal([second.RunId!, first.RunId!, .. Enumerable.Range(2, 48).Reverse().Select(i => $"old-{i}")], kept.Select(r => r.RunId));
        Assert.Equal((RunTypes.Incremental, "SUCCESS", 1, second.FinishedAt), (kept[0].Type, kept[0].Status, kept[0].Counts["GithubIssue"].Added, kept[0].FinishedAt));
        Assert.Equal(second.RunStartedAt, kept[0].StartedAt);
        Assert.Equal((RunTypes.Initial, 3), (kept[1].Type, kept[1].Counts["GithubIssue"].Added));
        // The other sync of the connection has its own history (its one run), untouched by this trim.
        Assert.Single(await history.ListAsync(key with { Sync = "labels" }, 1000, default));

        // GET /sync/runs: newest first, limit, the API's shape.
        var all = await RunsAsync(engine, $"provider_config_key=github&connection_id={connection}&sync=issues");
        Assert.Equal(200, all.Status);
        var runs = all.Json!["runs"]!.AsArray();
        Assert.Equal(50, runs.Count);
        Assert.Equal(second.RunId, runs[0]!["id"]!.GetValue<string>());
        Assert.Equal("INCREMENTAL", runs[0]!["type"]!.GetValue<string>());
        Assert.Equal(1, runs[0]!["results"]!["GithubIssue"]!["added"]!.GetValue<int>());
        Assert.Equal((second.FinishedAt - second.RunStartedAt) / TimeSpan.TicksPerMillisecond, runs[0]!["durationMs"]!.GetValue<long>());
        Assert.Null(runs[0]!["error"]);
        var failed = runs.Single(r => r!["id"]!.GetValue<string>() == "old-40")!;
        Assert.Equal(("ERROR", "boom", 2000L), (failed["status"]!.GetValue<string>(), failed["error"]!.GetValue<string>(), failed["durationMs"]!.GetValue<long>()));
        var two = await RunsAsync(engine, $"provider_config_key=github&connection_id={connection}&sync=issues&variant=base&limit=2");
        Assert.Equal([second.RunId, first.RunId], two.Json!["runs"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()));

        Assert.Equal(400, (await RunsAsync(engine, $"provider_config_key=github&connection_id={connection}&sync=issues&limit=51")).Status);
        Assert.Equal("unknown_sync", (await RunsAsync(engine, $"provider_config_key=github&connection_id={connection}&sync=nope")).ErrorCode);
        Assert.Equal(404, (await RunsAsync(engine, $"provider_config_key=github&connection_id={connection}-missing&sync=issues")).Status);
        Assert.Empty((await RunsAsync(engine, $"provider_config_key=github&connection_id={connection}&sync=issues&variant=v9")).Json!["runs"]!.AsArray());
        Assert.Equal(GithubIssues.Model, kept[0].Counts.Keys.Single());
    }
}
