using System.Text.Json.Nodes;
using SyncHub.Core.Scheduling;
using SyncHub.Integrations.Github;
using SyncHub.Tests.Infrastructure;
using SyncHub.Core.Api;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Scheduling;

public sealed class SyncEngineTests
{
    private static IEnumerable<JsonObject> Issues(int count, int from = 0, string title = "Issue") =>
        Enumerable.Range(from, count).Select(i => FakeGithub.Issue(1000 + i, $"2026-01-01T00:{i / 60 % 60:D2}:{i % 60:D2}Z", $"{title} {i}"));

    [Fact]
    public async Task Importing_a_connection_makes_the_repository_appear_as_records_without_another_call()
    {
        await using var engine = await SyncEngine.StartAsync();
        engine.Github.SetIssues("o/r", [.. Issues(150), FakeGithub.Issue(9999, "2026-01-01T01:00:00Z", "a pull request", pullRequest: true)]);
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug", "Something is wrong"), FakeGithub.Label(2, "docs")]);

        var connection = await engine.ImportAsync();
        await engine.PumpAsync();

        var issues = await engine.RecordsAsync(connection, GithubIssues.Model);
        Assert.Equal(150, issues.Count);
        Assert.DoesNotContain(issues, r => r.Id == "9999");
        var first = SyncEngine.Json(issues.Single(r => r.Id == "1000"));
        Assert.Equal(["id", "number", "title", "state", "author", "labels", "created_at", "updated_at", "closed_at", "html_url"], first.Select(p => p.Key));
        Assert.Equal("octocat", first["author"]!.GetValue<string>());
        Assert.Equal("Issue 0", first["title"]!.GetValue<string>());
        var labels = await engine.RecordsAsync(connection, GithubLabels.Model);
        Assert.Equal(["1", "2"], labels.Select(l => l.Id).Order());
        Assert.Equal("Something is wrong", SyncEngine.Json(labels.Single(l => l.Id == "1"))["description"]!.GetValue<string>());

        // GitHub's paging (per_page=100, Link rel=next), credentials and media type, no `since` on the first run.
        var requests = engine.Github.Requests.Where(r => r.PathAndQuery.StartsWith("/repos/o/r/issues")).ToList();
        Assert.Equal(2, requests.Count);
        Assert.StartsWith("/repos/o/r/issues?state=all&sort=updated&direction=asc&per_page=100", requests[0].PathAndQuery);
        Assert.DoesNotContain("since=", requests[0].PathAndQuery);
        Assert.All(engine.Github.Requests, r => Assert.Equal("Bearer gho_test_token", r.Authorization));
        Assert.All(engine.Github.Requests, r => Assert.Equal("application/vnd.github+json", r.Accept));

        var schedule = await engine.ScheduleAsync(connection, "issues");
        Assert.Equal("SUCCESS", schedule!.LastStatus);
        Assert.Equal(150, schedule.LastResult[GithubIssues.Model].Added);
        Assert.Equal(schedule.RunStartedAt, schedule.LastSyncDate);
        Assert.Equal(ScheduleStates.Started, schedule.State);
        Assert.True(schedule.NextRunAt > schedule.FinishedAt);
        Assert.Equal(TimeSpan.FromMinutes(30).Ticks, schedule.NextRunAt - schedule.Anchor);
    }

    [Fact]
    public async Task The_second_run_asks_only_for_what_changed_since_the_last_sync_date()
    {
        await using var engine = await SyncEngine.StartAsync();
        engine.Github.SetIssues("o/r", Issues(5));
        var connection = await engine.ImportAsync();
        await engine.PumpAsync();
        var lastSyncDate = (await engine.ScheduleAsync(connection, "issues"))!.LastSyncDate;
        engine.Github.Requests.Clear();

        engine.Github.SetIssues("o/r", [.. Issues(5), FakeGithub.Issue(2000, "2030-01-01T00:00:00Z", "new")]);
        await engine.Get<SyncSchedules>().TriggerAsync(new SyncKey("github", connection, "issues", "base"), reset: false, emptyCache: false, default);
        await engine.PumpAsync();

        var request = Assert.Single(engine.Github.Requests, r => r.PathAndQuery.Contains("/issues"));
        var expected = new DateTimeOffset(lastSyncDate, TimeSpan.Zero).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
        Assert.Contains("&since=" + Uri.EscapeDataString(expected), request.PathAndQuery);
        var schedule = await engine.ScheduleAsync(connection, "issues");
        Assert.Equal(1, schedule!.LastResult[GithubIssues.Model].Added);
        Assert.Equal(6, (await engine.RecordsAsync(connection, GithubIssues.Model)).Count);
    }

    [Fact]
    public async Task A_full_sync_with_track_deletes_marks_labels_gone_from_the_source_deleted()
    {
        await using var engine = await SyncEngine.StartAsync();
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug"), FakeGithub.Label(2, "docs"), FakeGithub.Label(3, "wontfix")]);
        var connection = await engine.ImportAsync();
        await engine.PumpAsync();

        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug"), FakeGithub.Label(3, "wontfix", "changed")]);
        await engine.Get<SyncSchedules>().TriggerAsync(new SyncKey("github", connection, "labels", "base"), false, false, default);
        await engine.PumpAsync();

        var labels = (await engine.RecordsAsync(connection, GithubLabels.Model)).ToDictionary(r => r.Id);
        Assert.Equal("DELETED", labels["2"].Action);
        Assert.Equal("docs", SyncEngine.Json(labels["2"])["name"]!.GetValue<string>());
        Assert.Equal("UPDATED", labels["3"].Action);
        Assert.Equal("ADDED", labels["1"].Action);
        var result = (await engine.ScheduleAsync(connection, "labels"))!.LastResult[GithubLabels.Model];
        Assert.Equal((0, 1, 1), (result.Added, result.Updated, result.Deleted));
    }

    [Fact]
    public async Task A_failing_provider_gives_ERROR_with_its_message_and_keeps_the_records_and_the_schedule()
    {
        await using var engine = await SyncEngine.StartAsync();
        engine.Github.SetIssues("o/r", Issues(3));
        var connection = await engine.ImportAsync();
        await engine.PumpAsync();

        engine.Github.Fail(Enumerable.Range(0, 20).Select(_ => FakeGithub.Status(401)).ToArray());
        await engine.Get<SyncSchedules>().TriggerAsync(new SyncKey("github", connection, "issues", "base"), false, false, default);
        await engine.PumpAsync();

        var schedule = await engine.ScheduleAsync(connection, "issues");
        Assert.Equal("ERROR", schedule!.LastStatus);
        Assert.Contains("401", schedule.LastError);
        Assert.DoesNotContain("gho_test_token", schedule.LastError);
        Assert.Equal(ScheduleStates.Started, schedule.State);
        Assert.True(schedule.NextRunAt > 0);
        Assert.Equal(3, (await engine.RecordsAsync(connection, GithubIssues.Model)).Count);
    }

    [Fact]
    public async Task Missing_repository_metadata_is_an_ERROR_that_says_what_to_set()
    {
        await using var engine = await SyncEngine.StartAsync();
        var connection = await engine.ImportAsync(metadata: new JsonObject());
        await engine.PumpAsync();
        var schedule = await engine.ScheduleAsync(connection, "issues");
        Assert.Equal("ERROR", schedule!.LastStatus);
        Assert.Contains("'repo'", schedule.LastError);
    }

    [Fact]
    public async Task Duplicate_messages_give_one_run()
    {
        await using var engine = await SyncEngine.StartAsync();
        engine.Github.SetIssues("o/r", Issues(10));
        engine.Github.PageDelay = TimeSpan.FromMilliseconds(200);
        var connection = await engine.ImportAsync();
        var key = new SyncKey("github", connection, "issues", "base");
        var queue = engine.Get<SyncRunQueue>();
        for (var i = 0; i < 4; i++)
        {
            await queue.SendAsync(new SyncRunMessage(key, SyncRunKind.Scheduled), default);
        }
        var runner = engine.Get<SyncRunner>();
        // Two "hosts" deliver the same messages concurrently.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => runner.RunAsync(new SyncRunMessage(key, SyncRunKind.Scheduled), default)));
        await engine.PumpAsync();

        Assert.Single(engine.Github.Requests, r => r.PathAndQuery.StartsWith("/repos/o/r/issues"));
        Assert.Equal(1, (await engine.ScheduleAsync(connection, "issues"))!.Successes);
    }

    [Fact]
    public async Task A_run_over_its_time_budget_continues_from_its_checkpoint_with_nothing_lost_or_duplicated()
    {
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?> { ["SyncHub:Scheduling:RunBudget"] = "00:00:00.700" });
        engine.Github.SetIssues("o/r", Issues(1000));
        engine.Github.PageDelay = TimeSpan.FromMilliseconds(250);
        var connection = await engine.ImportAsync();

        await engine.PumpUntilAsync(async () => (await engine.ScheduleAsync(connection, "issues"))?.LastStatus is "SUCCESS" or "ERROR",
            "the issues run (continued over its budget) to end");

        var requests = engine.Github.Requests.Where(r => r.PathAndQuery.StartsWith("/repos/o/r/issues")).Select(r => r.PathAndQuery).ToList();
        Assert.Contains(requests, r => r.Contains("since="));
        var records = await engine.RecordsAsync(connection, GithubIssues.Model);
        Assert.Equal(1000, records.Count);
        Assert.Equal(1000, records.Select(r => r.Id).Distinct().Count());
        var schedule = await engine.ScheduleAsync(connection, "issues");
        Assert.Equal("SUCCESS", schedule!.LastStatus);
        Assert.Equal(1000, schedule.LastResult[GithubIssues.Model].Added);
        Assert.Equal(1, schedule.Successes);
        Assert.Equal("2026-01-01T00:16:39Z", schedule.CheckpointObject!["updated_at"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_crashed_run_is_taken_over_once_its_lease_expires()
    {
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?> { ["SyncHub:Scheduling:LeaseDuration"] = "00:00:01" });
        engine.Github.SetIssues("o/r", Issues(250));
        var connection = await engine.ImportAsync();
        var key = new SyncKey("github", connection, "issues", "base");
        // A run claims the lease, saves a checkpoint half way, then its host dies (nothing more happens).
        var store = engine.Get<ScheduleStore>();
        var crashed = await store.UpdateAsync(key, s => s with
        {
            RunState = RunStates.Running, RunId = "crashed", LeaseUntil = DateTime.UtcNow.AddSeconds(1).Ticks, RunStartedAt = DateTime.UtcNow.Ticks,
            Checkpoint = new JsonObject { ["updated_at"] = "2026-01-01T00:01:40Z" }.ToJsonString(),
        }, default);
        Assert.NotNull(crashed);

        // The takeover check is a delayed message (visible just past the lease): pump until the run has ended.
        await engine.PumpUntilAsync(async () => (await engine.ScheduleAsync(connection, "issues"))?.LastStatus is "SUCCESS" or "ERROR",
            "the crashed run to be taken over and end");

        var schedule = await engine.ScheduleAsync(connection, "issues");
        Assert.Equal("SUCCESS", schedule!.LastStatus);
        Assert.Equal(RunStates.Idle, schedule.RunState);
        var first = engine.Github.Requests.First(r => r.PathAndQuery.StartsWith("/repos/o/r/issues"));
        Assert.Contains("since=" + Uri.EscapeDataString("2026-01-01T00:01:40Z"), first.PathAndQuery);
        Assert.Equal(150, (await engine.RecordsAsync(connection, GithubIssues.Model)).Count);
    }

    [Fact]
    public async Task Deleting_the_connection_deletes_its_schedules_and_records()
    {
        await using var engine = await SyncEngine.StartAsync();
        engine.Github.SetIssues("o/r", Issues(3));
        var connection = await engine.ImportAsync();
        await engine.PumpAsync();
        var functions = new SyncHub.Functions.ConnectionFunctions(engine.Get<SyncHub.Core.Api.ApiPipeline>(), engine.Get<SyncHub.Core.Api.ConnectionsEndpoints>());

        var response = await FunctionCall.SendAsync(engine.Services, functions.Delete, "DELETE", "provider_config_key=github",
            route: new Dictionary<string, string> { ["connectionId"] = connection });

        Assert.Equal(200, response.Status);
        Assert.Null(await engine.ScheduleAsync(connection, "issues"));
        Assert.Empty(await engine.RecordsAsync(connection, GithubIssues.Model));
    }

    [Fact]
    public async Task Rate_limits_and_server_errors_are_retried_and_the_run_succeeds()
    {
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?>
        {
            ["SyncHub:Proxy:BaseDelay"] = "00:00:00.050",
            ["SyncHub:Proxy:MaxDelay"] = "00:00:00.200",
        });
        engine.Github.SetIssues("o/r", Issues(120));
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug")]);
        engine.Github.Fail(
            FakeGithub.Status(502),
            FakeGithub.Status(429, new Dictionary<string, string> { ["Retry-After"] = "1" }),
            FakeGithub.Status(503));

        var connection = await engine.ImportAsync();
        await engine.PumpAsync();

        // Retry-After: 1 — the fake heard nothing for a second after its 429 (50 ms for clock granularity).
        var (limited, next, gap) = engine.Github.NextRequestAfter(429);
        Assert.True(gap >= TimeSpan.FromMilliseconds(950), $"the Retry-After wait was not honoured: {next} came {gap.TotalMilliseconds:F0} ms after {limited}");
        Assert.Equal("SUCCESS", (await engine.ScheduleAsync(connection, "issues"))!.LastStatus);
        Assert.Equal("SUCCESS", (await engine.ScheduleAsync(connection, "labels"))!.LastStatus);
        Assert.Equal(120, (await engine.RecordsAsync(connection, GithubIssues.Model)).Count);
        Assert.Single(await engine.RecordsAsync(connection, GithubLabels.Model));
        Assert.True(engine.Github.Requests.Count >= 3 + 3, "every fault was answered by a retry");
    }

    [Fact]
    public async Task A_message_that_reached_the_poison_queue_is_recorded_as_ERROR()
    {
        await using var engine = await SyncEngine.StartAsync();
        engine.Github.SetIssues("o/r", Issues(2));
        var connection = await engine.ImportAsync();
        await engine.PumpAsync();

        await engine.Get<SyncRunner>().RecordPoisonedAsync(new SyncRunMessage(new SyncKey("github", connection, "issues", "base"), SyncRunKind.Scheduled), default);

        var schedule = await engine.ScheduleAsync(connection, "issues");
        Assert.Equal("ERROR", schedule!.LastStatus);
        Assert.Contains("maximum delivery count", schedule.LastError);
        Assert.Equal(RunStates.Idle, schedule.RunState);
        Assert.Equal(2, (await engine.RecordsAsync(connection, GithubIssues.Model)).Count);
    }

    [Fact]
    public async Task A_connection_deleted_during_a_run_keeps_no_records_and_imported_again_syncs_from_empty()
    {
        await using var engine = await SyncEngine.StartAsync();
        engine.Github.SetIssues("o/r", Issues(500));
        engine.Github.PageDelay = TimeSpan.FromMilliseconds(150);
        var connection = await engine.ImportAsync();
        var functions = new SyncHub.Functions.ConnectionFunctions(engine.Get<SyncHub.Core.Api.ApiPipeline>(), engine.Get<SyncHub.Core.Api.ConnectionsEndpoints>());
        var pump = engine.PumpAsync();
        await Eventually.Value(() => engine.RecordsAsync(connection, GithubIssues.Model), r => r.Count > 0,
            "the first run to write records", describe: r => $"{r.Count} records, pump {(pump.IsCompleted ? "ended" : "running")}");

        var response = await FunctionCall.SendAsync(engine.Services, functions.Delete, "DELETE", "provider_config_key=github",
            route: new Dictionary<string, string> { ["connectionId"] = connection });
        Assert.Equal(200, response.Status);
        Assert.Empty(await engine.RecordsAsync(connection, GithubIssues.Model));
        await pump;
        Assert.Empty(await engine.RecordsAsync(connection, GithubIssues.Model));

        // Imported again under the same id: synced again from empty, every record new.
        engine.Github.PageDelay = TimeSpan.Zero;
        engine.Github.SetIssues("o/r", Issues(3));
        await engine.ImportAsync(connectionId: connection);
        await engine.PumpAsync();
        var records = await engine.RecordsAsync(connection, GithubIssues.Model);
        Assert.Equal(3, records.Count);
        Assert.All(records, r => Assert.Equal("ADDED", r.Action));
        Assert.Equal(3, (await engine.ScheduleAsync(connection, "issues"))!.LastResult[GithubIssues.Model].Added);
    }

    [Fact]
    public async Task Every_claimed_run_leaves_a_takeover_check_just_past_its_lease_which_is_harmless_once_the_run_is_over()
    {
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?> { ["SyncHub:Scheduling:LeaseDuration"] = "00:00:01" });
        engine.Github.SetIssues("o/r", Issues(3));
        var connection = await engine.ImportAsync();
        await engine.PumpAsync(TimeSpan.FromMilliseconds(200));
        Assert.Equal(1, (await engine.ScheduleAsync(connection, "issues"))!.Successes);

        // The checks become visible 3 s after each claim (lease 1 s + 2 s): one per claimed run (issues, labels).
        await Eventually.Value(async () => (await engine.Queue.PeekMessagesAsync(32)).Value, checks => checks.Length >= 2,
            "a visible takeover check per claimed run (issues, labels)", describe: checks => $"{checks.Length} visible messages");
        await engine.PumpAsync();

        Assert.Equal(1, (await engine.ScheduleAsync(connection, "issues"))!.Successes);
        Assert.Equal(1, (await engine.ScheduleAsync(connection, "labels"))!.Successes);
    }
}
