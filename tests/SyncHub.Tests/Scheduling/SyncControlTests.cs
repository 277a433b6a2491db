using System.Globalization;
using System.Text.Json.Nodes;
using SyncHub.Core.Records;
using SyncHub.Core.Scheduling;
using SyncHub.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.Integrations.Github;
using SyncHub.Tests.Infrastructure;
using SyncHub.Core.Api;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Scheduling;

/// <summary>
/// API.md "Sync execution" and "Sync variants", rule by rule: the real functions, service graph and runner on Azurite,
/// the GitHub syncs against a fake GitHub (see <see cref="SyncEngine"/>).
/// </summary>
public sealed class SyncControlTests
{
    private static IEnumerable<JsonObject> Issues(int count, int from = 0, long idBase = 1000, string title = "Issue") =>
        Enumerable.Range(from, count).Select(i => FakeGithub.Issue(idBase + i, $"2026-01-01T{i / 3600 % 24:D2}:{i / 60 % 60:D2}:{i % 60:D2}Z", $"{title} {i}"));

    /// <summary>Base variant reads repo o/r; variant v1 reads o/r2 (GithubRepository).</summary>
    private static JsonObject Metadata() => new() { ["repo"] = "o/r", ["repos"] = new JsonObject { ["v1"] = "o/r2", ["v2"] = "o/r3" } };

    /// <summary>The ids of records (strings) or of GitHub items (numbers), sorted.</summary>
    private static List<string> Ids(IEnumerable<JsonObject> items) =>
        items.Select(r => r["id"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : r["id"]!.ToJsonString()).Order(StringComparer.Ordinal).ToList();

    private static string Action(JsonObject record) => record["_nango_metadata"]!["last_action"]!.GetValue<string>();

    private static bool IsDeleted(JsonObject record) => record["_nango_metadata"]!["deleted_at"] is not null;

    private static void AssertEmptyOk(FunctionCall.Response response)
    {
        Assert.True(response.Status == 200, $"{response.Status} {response.Body}");
        Assert.Equal("", response.Body);
    }

    private static void AssertError(FunctionCall.Response response, int status, string code)
    {
        Assert.True(response.Status == status && response.ErrorCode == code, $"expected {status} {code}, got {response.Status} {response.Body}");
        Assert.False(string.IsNullOrWhiteSpace(response.Json!["error"]!["message"]!.GetValue<string>()));
    }

    private static int IssueRuns(FakeGithub github, string repo = "o/r") =>
        github.Requests.Count(r => r.PathAndQuery.StartsWith($"/repos/{repo}/issues?", StringComparison.Ordinal) && !r.PathAndQuery.Contains("&page=", StringComparison.Ordinal));

    private static int LabelRuns(FakeGithub github, string repo = "o/r") =>
        github.Requests.Count(r => r.PathAndQuery.StartsWith($"/repos/{repo}/labels?", StringComparison.Ordinal) && !r.PathAndQuery.Contains("&page=", StringComparison.Ordinal));

    private static async Task<(SyncEngine Engine, SyncControl Api, string Connection)> StartedAsync(
        int issues = 3, int variantIssues = 0, ShiftedClock? clock = null, IDictionary<string, string?>? settings = null)
    {
        var engine = await SyncEngine.StartAsync(settings, clock: clock);
        engine.Github.SetIssues("o/r", Issues(issues));
        engine.Github.SetIssues("o/r2", Issues(variantIssues, idBase: 5000, title: "Other"));
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug", "Something is wrong"), FakeGithub.Label(2, "docs")]);
        var connection = await engine.ImportAsync(metadata: Metadata());
        await engine.PumpAsync();
        return (engine, new SyncControl(engine), connection);
    }

    // ---- POST /sync/trigger -------------------------------------------------------------------------------------

    [Fact]
    public async Task Trigger_runs_the_syncs_named_in_every_form_once_and_answers_200_with_an_empty_body()
    {
        var (engine, api, connection) = await StartedAsync(variantIssues: 2);
        await using var disposeEngine = engine;
        Assert.Equal(200, (await api.CreateVariantAsync(connection, "issues", "v1")).Status);
        await engine.PumpAsync();

        async Task<string[]> RunsAfterAsync(string syncs, bool omitSyncs = false)
        {
            var before = await api.SuccessesAsync(connection);
            var body = omitSyncs ? $"{{\"provider_config_key\":\"github\",\"connection_id\":\"{connection}\"}}" : api.Body(connection, syncs);
            AssertEmptyOk(await api.TriggerAsync(body));
            await engine.PumpAsync();
            var after = await api.SuccessesAsync(connection);
            Assert.All(after, p => Assert.InRange(p.Value - before[p.Key], 0, 1));
            return after.Where(p => p.Value > before[p.Key]).Select(p => p.Key).Order(StringComparer.Ordinal).ToArray();
        }

        Assert.Equal(["issues::base"], await RunsAfterAsync("""["issues"]"""));
        Assert.Equal(["issues::v1"], await RunsAfterAsync("""["issues::v1"]"""));
        Assert.Equal(["labels::base"], await RunsAfterAsync("""[{"name":"labels"}]"""));
        Assert.Equal(["issues::v1"], await RunsAfterAsync("""[{"name":"issues","variant":"v1"}]"""));
        Assert.Equal(["issues::base"], await RunsAfterAsync("""["issues::base", {"name":"issues","variant":"base"}, "issues"]"""));
        Assert.Equal(["issues::base", "issues::v1"], await RunsAfterAsync("""["issues", {"name":"issues","variant":"v1"}]"""));
        Assert.Equal(["issues::base", "issues::v1", "labels::base"], await RunsAfterAsync("[]"));
        Assert.Equal(["issues::base", "issues::v1", "labels::base"], await RunsAfterAsync("", omitSyncs: true));

        // The variant ran against its own repository.
        Assert.Equal(Ids(Issues(2, idBase: 5000)), Ids(await api.RecordsAsync(connection, GithubIssues.Model, "v1")));
    }

    [Fact]
    public async Task Without_a_connection_id_trigger_start_pause_and_status_act_on_every_connection_of_the_integration()
    {
        await using var engine = await SyncEngine.StartAsync(integration: SyncEngine.IsolatedIntegration);
        var api = new SyncControl(engine);
        engine.Github.SetIssues("o/r", Issues(2));
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug")]);
        var connections = new[] { await engine.ImportAsync(), await engine.ImportAsync() };
        try
        {
            await engine.PumpAsync();
            Assert.Equal(2, IssueRuns(engine.Github));

            AssertEmptyOk(await api.TriggerAsync(null, """["issues"]"""));
            await engine.PumpAsync();
            foreach (var connection in connections)
            {
                Assert.Equal(new Dictionary<string, int> { ["issues::base"] = 2, ["labels::base"] = 1 }, await api.SuccessesAsync(connection));
            }

            AssertEmptyOk(await api.PauseAsync(null, "[]"));
            var store = engine.Get<ScheduleStore>();
            foreach (var connection in connections)
            {
                Assert.All(await store.ListAsync(api.Integration, connection, default), s => Assert.Equal(ScheduleStates.Paused, s.State));
            }

            AssertEmptyOk(await api.StartAsync(null, """[{"name":"labels"}]"""));
            await engine.PumpAsync();
            foreach (var connection in connections)
            {
                Assert.Equal(new Dictionary<string, int> { ["issues::base"] = 2, ["labels::base"] = 2 }, await api.SuccessesAsync(connection));
                Assert.Equal(ScheduleStates.Paused, (await engine.ScheduleAsync(connection, "issues"))!.State);
                Assert.Equal(ScheduleStates.Started, (await engine.ScheduleAsync(connection, "labels"))!.State);
            }

            var status = await api.StatusAsync(null, "issues,labels");
            Assert.Equal(200, status.Status);
            var mine = status.Json!["syncs"]!.AsArray().Select(s => s!.AsObject())
                .Where(s => connections.Contains(s["connection_id"]!.GetValue<string>()))
                .Select(s => $"{s["connection_id"]}:{s["name"]}:{s["status"]}").Order(StringComparer.Ordinal).ToList();
            Assert.Equal(connections.SelectMany(c => new[] { $"{c}:issues:PAUSED", $"{c}:labels:SUCCESS" }).Order(StringComparer.Ordinal), mine);
        }
        finally
        {
            // Leave nothing for the next run of this test to trigger.
            var functions = new SyncHub.Functions.ConnectionFunctions(engine.Get<SyncHub.Core.Api.ApiPipeline>(), engine.Get<SyncHub.Core.Api.ConnectionsEndpoints>());
            foreach (var connection in connections)
            {
                await FunctionCall.SendAsync(engine.Services, functions.Delete, "DELETE", $"provider_config_key={api.Integration}",
                    route: new Dictionary<string, string> { ["connectionId"] = connection });
            }
        }
    }

    [Fact]
    public async Task Reset_clears_the_checkpoint_and_the_last_sync_date_so_the_run_fetches_everything()
    {
        var (engine, api, connection) = await StartedAsync(issues: 5);
        await using var disposeEngine = engine;
        var before = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.NotNull(before.CheckpointObject);
        Assert.True(before.LastSyncDate > 0);

        // A plain trigger is incremental: it asks for what changed since the last sync date.
        engine.Github.Requests.Clear();
        AssertEmptyOk(await api.TriggerAsync(connection, """["issues"]"""));
        await engine.PumpAsync();
        Assert.Contains("since=", Assert.Single(engine.Github.Requests).PathAndQuery);

        engine.Github.Requests.Clear();
        AssertEmptyOk(await api.TriggerAsync(connection, """["issues"]""", """ "opts": { "reset": true } """));
        var pending = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.True(pending.TriggerPending);
        await engine.PumpAsync();

        var request = Assert.Single(engine.Github.Requests);
        Assert.DoesNotContain("since=", request.PathAndQuery);
        var after = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal("SUCCESS", after.LastStatus);
        Assert.True(after.LastSyncDate > before.LastSyncDate);
        Assert.Equal(new ModelCounts(0, 0, 0), after.LastResult[GithubIssues.Model]);
        Assert.Equal(5, (await api.RecordsAsync(connection, GithubIssues.Model)).Count);

        // The legacy form of the Node client (sync_mode full_refresh) is a reset too.
        engine.Github.Requests.Clear();
        AssertEmptyOk(await api.TriggerAsync(connection, """["issues"]""", """ "sync_mode": "full_refresh" """));
        await engine.PumpAsync();
        Assert.DoesNotContain("since=", Assert.Single(engine.Github.Requests).PathAndQuery);
    }

    [Fact]
    public async Task Reset_with_emptyCache_empties_the_records_at_once_then_refetches_them_into_a_new_generation()
    {
        var (engine, api, connection) = await StartedAsync(issues: 5);
        await using var disposeEngine = engine;
        var old = await api.RecordsAsync(connection, GithubIssues.Model);
        Assert.Equal(5, old.Count);
        var clientCursor = old[^1]["_nango_metadata"]!["cursor"]!.GetValue<string>();
        var partition = new RecordPartition("github", connection, GithubIssues.Model);
        var sets = engine.Get<RecordSetStore>();
        var oldSet = (await sets.FindAsync(partition, default))!;
        var labelsBefore = await api.RecordsAsync(connection, GithubLabels.Model);

        // Issues 0 and 1 are gone at the source; 5 is new.
        engine.Github.SetIssues("o/r", Issues(4, from: 2));
        AssertEmptyOk(await api.TriggerAsync(connection, """["issues"]""", """ "opts": { "reset": true, "emptyCache": true } """));

        // At once, before any run: no records, no count, the old generation's table is gone.
        Assert.Empty(await api.RecordsAsync(connection, GithubIssues.Model));
        Assert.Empty(await api.RecordsAsync(connection, GithubIssues.Model, cursor: clientCursor));
        Assert.Equal(0, (await api.StatusByKeyAsync(connection, "issues"))["issues::base"]["recordCount"]![GithubIssues.Model]!.GetValue<long>());
        Assert.False(await TableExistsAsync(engine, oldSet.TableName));
        // Other models are untouched.
        Assert.Equal(Ids(labelsBefore), Ids(await api.RecordsAsync(connection, GithubLabels.Model)));

        await engine.PumpAsync();
        var records = await api.RecordsAsync(connection, GithubIssues.Model);
        Assert.Equal(["1002", "1003", "1004", "1005"], Ids(records));
        Assert.All(records, r => Assert.Equal("ADDED", Action(r)));
        var oldFirstSeen = old.Max(r => DateTimeOffset.Parse(r["_nango_metadata"]!["first_seen_at"]!.GetValue<string>(), CultureInfo.InvariantCulture));
        Assert.All(records, r => Assert.True(DateTimeOffset.Parse(r["_nango_metadata"]!["first_seen_at"]!.GetValue<string>(), CultureInfo.InvariantCulture) > oldFirstSeen));
        Assert.True((await sets.FindAsync(partition, default))!.Generation > oldSet.Generation);

        // A client paging on from a cursor it held before sees every re-added record.
        Assert.Equal(["1002", "1003", "1004", "1005"], Ids(await api.RecordsAsync(connection, GithubIssues.Model, cursor: clientCursor)));
        var status = (await api.StatusByKeyAsync(connection, "issues"))["issues::base"];
        Assert.Equal(4, status["recordCount"]![GithubIssues.Model]!.GetValue<long>());
        Assert.Equal(4, status["latestResult"]![GithubIssues.Model]!["added"]!.GetValue<int>());
    }

    [Fact]
    public async Task EmptyCache_without_reset_is_400_invalid_body_and_runs_nothing()
    {
        var (engine, api, connection) = await StartedAsync();
        await using var disposeEngine = engine;
        foreach (var opts in new[] { """{ "emptyCache": true }""", """{ "emptyCache": true, "reset": false }""" })
        {
            var response = await api.TriggerAsync(connection, """["issues"]""", $"\"opts\": {opts}");
            AssertError(response, 400, "invalid_body");
            Assert.Contains(response.Json!["error"]!["errors"]!.AsArray(), e => e!["path"]!.AsArray().Select(p => p!.GetValue<string>()).SequenceEqual(["opts", "emptyCache"]));
        }
        Assert.False((await engine.ScheduleAsync(connection, "issues"))!.TriggerPending);
        Assert.Equal(3, (await api.RecordsAsync(connection, GithubIssues.Model)).Count);
    }

    [Fact]
    public async Task Triggers_during_a_run_queue_exactly_one_follow_up_run()
    {
        var (engine, api, connection) = await StartedAsync(issues: 500);
        await using var disposeEngine = engine;
        var key = api.Key(connection, "issues");
        engine.Github.Requests.Clear();
        engine.Github.PageDelay = TimeSpan.FromMilliseconds(250);

        // A reset run reads all 5 pages: long enough to trigger during it.
        AssertEmptyOk(await api.TriggerAsync(connection, """["issues"]""", """ "opts": { "reset": true } """));
        var pump = engine.PumpAsync(TimeSpan.FromMilliseconds(800));
        await api.WaitUntilRunningAsync(key);
        for (var i = 0; i < 3; i++)
        {
            AssertEmptyOk(await api.TriggerAsync(connection, """["issues"]""", i == 1 ? """ "opts": { "reset": true } """ : null));
        }
        var during = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal(RunStates.Running, during.RunState);
        Assert.True(during.TriggerPending);
        await pump;

        // The run in progress and one follow-up (a reset one: it asked for everything), never two at once.
        Assert.Equal(2, IssueRuns(engine.Github));
        var schedule = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal(3, schedule.Successes);
        Assert.False(schedule.TriggerPending);
        Assert.Equal(RunStates.Idle, schedule.RunState);
        var firstPages = engine.Github.Requests.Where(r => r.PathAndQuery.StartsWith("/repos/o/r/issues?", StringComparison.Ordinal) && !r.PathAndQuery.Contains("&page=", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain("since=", firstPages[^1].PathAndQuery);
    }

    // ---- POST /sync/start and /sync/pause -----------------------------------------------------------------------

    [Fact]
    public async Task Paused_syncs_do_not_run_on_due_ticks_and_start_runs_them_at_once_then_on_the_frequency()
    {
        var clock = new ShiftedClock();
        var (engine, api, connection) = await StartedAsync(clock: clock);
        await using var disposeEngine = engine;
        var key = api.Key(connection, "issues");
        var scheduler = engine.Get<Scheduler>();

        AssertEmptyOk(await api.PauseAsync(connection, """["issues"]"""));
        var paused = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal(ScheduleStates.Paused, paused.State);
        var status = (await api.StatusByKeyAsync(connection))["issues::base"];
        Assert.Equal("PAUSED", status["status"]!.GetValue<string>());
        Assert.True(status.ContainsKey("nextScheduledSyncAt"));
        Assert.Null(status["nextScheduledSyncAt"]);
        Assert.Empty(await api.DueTimesAsync(key));

        // Two hours later: labels (every hour) run on the tick, the paused issues do not, even with a stale due entry.
        engine.Github.Requests.Clear();
        clock.Advance(TimeSpan.FromHours(2));
        await engine.Get<DueRuns>().AddAsync(key, clock.GetUtcNow().UtcTicks - 1, default);
        Assert.True(await scheduler.EnqueueDueAsync(default) >= 1);
        await engine.PumpAsync();
        Assert.Equal(1, LabelRuns(engine.Github));
        Assert.Equal(0, IssueRuns(engine.Github));
        Assert.Equal(1, (await engine.ScheduleAsync(connection, "issues"))!.Successes);

        // A trigger runs a paused sync once; it stays paused.
        AssertEmptyOk(await api.TriggerAsync(connection, """["issues"]"""));
        await engine.PumpAsync();
        Assert.Equal(1, IssueRuns(engine.Github));
        var triggered = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal((ScheduleStates.Paused, 2, 0L), (triggered.State, triggered.Successes, triggered.NextRunAt));
        Assert.Empty(await api.DueTimesAsync(key));
        engine.Github.Requests.Clear();

        // Start: runs at once, then every 30 minutes from now.
        var startedAt = clock.GetUtcNow().UtcTicks;
        AssertEmptyOk(await api.StartAsync(connection, """["issues"]"""));
        await engine.PumpAsync();
        Assert.Equal(1, IssueRuns(engine.Github));
        var started = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal(ScheduleStates.Started, started.State);
        Assert.Equal(3, started.Successes);
        Assert.InRange(started.NextRunAt - startedAt, TimeSpan.FromMinutes(30).Ticks, TimeSpan.FromMinutes(30).Ticks + TimeSpan.FromSeconds(5).Ticks);
        status = (await api.StatusByKeyAsync(connection))["issues::base"];
        Assert.Equal("SUCCESS", status["status"]!.GetValue<string>());
        Assert.Equal(started.NextRunAt, DateTimeOffset.Parse(status["nextScheduledSyncAt"]!.GetValue<string>(), CultureInfo.InvariantCulture).UtcTicks);

        // Started already: no effect (no run, same next run).
        AssertEmptyOk(await api.StartAsync(connection, """["issues"]"""));
        await engine.PumpAsync();
        Assert.Equal(1, IssueRuns(engine.Github));
        Assert.Equal(started.NextRunAt, (await engine.ScheduleAsync(connection, "issues"))!.NextRunAt);

        // Not due yet after 20 minutes; due after 31.
        clock.Advance(TimeSpan.FromMinutes(20));
        await scheduler.EnqueueDueAsync(default);
        await engine.PumpAsync();
        Assert.Equal(1, IssueRuns(engine.Github));
        clock.Advance(TimeSpan.FromMinutes(11));
        await scheduler.EnqueueDueAsync(default);
        await engine.PumpAsync();
        Assert.Equal(2, IssueRuns(engine.Github));
        Assert.Equal(4, (await engine.ScheduleAsync(connection, "issues"))!.Successes);
    }

    [Fact]
    public async Task Pausing_during_a_run_lets_the_run_complete_and_nothing_runs_afterwards()
    {
        var clock = new ShiftedClock();
        var (engine, api, connection) = await StartedAsync(issues: 300, clock: clock);
        await using var disposeEngine = engine;
        var key = api.Key(connection, "issues");
        engine.Github.SetIssues("o/r", Issues(301));
        engine.Github.PageDelay = TimeSpan.FromMilliseconds(250);

        AssertEmptyOk(await api.TriggerAsync(connection, """["issues"]""", """ "opts": { "reset": true } """));
        var pump = engine.PumpAsync();
        await api.WaitUntilRunningAsync(key);
        AssertEmptyOk(await api.PauseAsync(connection, """["issues"]"""));
        Assert.Equal("RUNNING", (await api.StatusByKeyAsync(connection))["issues::base"]["status"]!.GetValue<string>());
        await pump;

        var schedule = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal("SUCCESS", schedule.LastStatus);
        Assert.Equal(2, schedule.Successes);
        Assert.Equal(ScheduleStates.Paused, schedule.State);
        Assert.Equal(0, schedule.NextRunAt);
        Assert.Equal(301, (await api.RecordsAsync(connection, GithubIssues.Model)).Count);
        var status = (await api.StatusByKeyAsync(connection))["issues::base"];
        Assert.Equal("PAUSED", status["status"]!.GetValue<string>());
        Assert.Null(status["nextScheduledSyncAt"]);
        Assert.Empty(await api.DueTimesAsync(key));

        engine.Github.PageDelay = TimeSpan.Zero;
        engine.Github.Requests.Clear();
        clock.Advance(TimeSpan.FromHours(3));
        await engine.Get<Scheduler>().EnqueueDueAsync(default);
        await engine.PumpAsync();
        Assert.Equal(0, IssueRuns(engine.Github));
    }

    [Fact]
    public async Task Starting_a_sync_paused_during_its_run_runs_it_again_right_after_that_run()
    {
        var (engine, api, connection) = await StartedAsync(issues: 500);
        await using var disposeEngine = engine;
        var key = api.Key(connection, "issues");
        engine.Github.PageDelay = TimeSpan.FromMilliseconds(250);
        engine.Github.Requests.Clear();

        AssertEmptyOk(await api.TriggerAsync(connection, """["issues"]""", """ "opts": { "reset": true } """));
        var pump = engine.PumpAsync(TimeSpan.FromMilliseconds(800));
        await api.WaitUntilRunningAsync(key);
        AssertEmptyOk(await api.PauseAsync(connection, """["issues"]"""));
        AssertEmptyOk(await api.StartAsync(connection, """["issues"]"""));
        await pump;

        // No scheduler tick: the start's own run follows the run that was in progress, then the frequency takes over.
        Assert.Equal(2, IssueRuns(engine.Github));
        var schedule = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal(3, schedule.Successes);
        Assert.Equal(ScheduleStates.Started, schedule.State);
        Assert.Equal(TimeSpan.FromMinutes(30).Ticks, schedule.NextRunAt - schedule.Anchor);
        Assert.Equal([schedule.NextRunAt], await api.DueTimesAsync(key));
    }

    [Fact]
    public async Task A_frequency_changed_during_a_run_places_the_next_run_on_the_new_grid()
    {
        var (engine, api, connection) = await StartedAsync(issues: 500);
        await using var disposeEngine = engine;
        var key = api.Key(connection, "issues");
        engine.Github.PageDelay = TimeSpan.FromMilliseconds(200);

        AssertEmptyOk(await api.TriggerAsync(connection, """["issues"]""", """ "opts": { "reset": true } """));
        var pump = engine.PumpAsync();
        await api.WaitUntilRunningAsync(key);
        Assert.Equal(200, (await api.FrequencyAsync(connection, "issues", "\"every 3 hours\"")).Status);
        var changed = (await engine.ScheduleAsync(connection, "issues"))!;
        await pump;

        var schedule = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal(2, schedule.Successes);
        Assert.Equal(changed.Anchor, schedule.Anchor);
        Assert.Equal(changed.Anchor + TimeSpan.FromHours(3).Ticks, schedule.NextRunAt);
        Assert.Equal([schedule.NextRunAt], await api.DueTimesAsync(key));
    }

    [Fact]
    public async Task Status_never_shows_a_finished_run_whose_next_run_has_passed()
    {
        // Writes to the due index are slowed down: a reader polling while a run ends sees whatever the runner has
        // written before its due-index write, for a good while.
        var slow = new SlowTableWrites(StorageNames.DueRunsTable, TimeSpan.FromMilliseconds(400));
        await using var engine = await SyncEngine.StartAsync(configure: services => services.AddSingleton(slow.Clients()));
        var api = new SyncControl(engine);
        engine.Github.SetIssues("o/r", Issues(3));
        var connection = await engine.ImportAsync();
        await engine.PumpAsync();
        var before = (await engine.ScheduleAsync(connection, "issues"))!;

        // A start makes the sync due now: the run it starts ends with its next run still at the start time.
        AssertEmptyOk(await api.PauseAsync(connection, """["issues"]"""));
        slow.Enabled = true;
        AssertEmptyOk(await api.StartAsync(connection, """["issues"]"""));
        var pump = engine.PumpAsync(TimeSpan.FromMilliseconds(100));
        var seen = new List<JsonObject>();
        while (!pump.IsCompleted)
        {
            seen.Add((await api.StatusByKeyAsync(connection, "issues"))["issues::base"]);
        }
        await pump;

        var finished = seen.Where(s => s["status"]!.GetValue<string>() != "RUNNING"
            && DateTimeOffset.Parse(s["finishedAt"]!.GetValue<string>(), CultureInfo.InvariantCulture).UtcTicks > before.FinishedAt).ToList();
        Assert.NotEmpty(finished);
        Assert.All(finished, s => Assert.True(
            DateTimeOffset.Parse(s["nextScheduledSyncAt"]!.GetValue<string>(), CultureInfo.InvariantCulture) > DateTimeOffset.Parse(s["finishedAt"]!.GetValue<string>(), CultureInfo.InvariantCulture),
            s.ToJsonString()));
        Assert.Equal(2, (await engine.ScheduleAsync(connection, "issues"))!.Successes);
    }

    [Fact]
    public async Task Start_and_pause_name_syncs_in_every_form_including_variants()
    {
        var (engine, api, connection) = await StartedAsync(variantIssues: 1);
        await using var disposeEngine = engine;
        Assert.Equal(200, (await api.CreateVariantAsync(connection, "issues", "v1")).Status);
        await engine.PumpAsync();

        async Task<string[]> PausedAsync() =>
            (await engine.Get<ScheduleStore>().ListAsync("github", connection, default)).Where(s => s.State == ScheduleStates.Paused)
                .Select(s => $"{s.Key.Sync}::{s.Key.Variant}").Order(StringComparer.Ordinal).ToArray();

        AssertEmptyOk(await api.PauseAsync(connection, """["issues::v1"]"""));
        Assert.Equal(["issues::v1"], await PausedAsync());
        AssertEmptyOk(await api.PauseAsync(connection, """[{"name":"labels"}, "issues"]"""));
        Assert.Equal(["issues::base", "issues::v1", "labels::base"], await PausedAsync());
        AssertEmptyOk(await api.StartAsync(connection, """[{"name":"issues","variant":"v1"}]"""));
        Assert.Equal(["issues::base", "labels::base"], await PausedAsync());
        AssertEmptyOk(await api.StartAsync(connection, "[]"));
        Assert.Empty(await PausedAsync());
        await engine.PumpAsync();
        Assert.Equal(new Dictionary<string, int> { ["issues::base"] = 2, ["issues::v1"] = 2, ["labels::base"] = 2 }, await api.SuccessesAsync(connection));
    }

    // ---- GET /sync/status ---------------------------------------------------------------------------------------

    [Fact]
    public async Task Status_reports_every_field_and_recordCount_equals_the_non_deleted_records_the_api_returns()
    {
        var (engine, api, connection) = await StartedAsync(issues: 3);
        await using var disposeEngine = engine;
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug", "Something is wrong")]);
        AssertEmptyOk(await api.TriggerAsync(connection, """["labels"]"""));
        await engine.PumpAsync();

        var response = await api.StatusAsync(connection, "*");
        Assert.Equal(200, response.Status);
        Assert.Equal(["syncs"], response.Json!.AsObject().Select(p => p.Key));
        var syncs = response.Json["syncs"]!.AsArray().Select(s => s!.AsObject()).ToList();
        Assert.Equal(["issues", "labels"], syncs.Select(s => s["name"]!.GetValue<string>()));

        var issues = syncs[0];
        var schedule = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal(["id", "connection_id", "name", "variant", "status", "type", "frequency", "finishedAt", "nextScheduledSyncAt", "latestResult", "recordCount", "checkpoint"],
            issues.Select(p => p.Key));
        Assert.Equal(schedule.Id, issues["id"]!.GetValue<string>());
        Assert.True(Guid.TryParse(schedule.Id, out _));
        Assert.Equal(connection, issues["connection_id"]!.GetValue<string>());
        Assert.Equal("base", issues["variant"]!.GetValue<string>());
        Assert.Equal("SUCCESS", issues["status"]!.GetValue<string>());
        // One run so far, which started with no last sync date.
        Assert.Equal("INITIAL", issues["type"]!.GetValue<string>());
        Assert.Equal("every 30 minutes", issues["frequency"]!.GetValue<string>());
        var finishedAt = issues["finishedAt"]!.GetValue<string>();
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3,}(Z|\+00:00)$", finishedAt);
        Assert.Equal(schedule.FinishedAt, DateTimeOffset.Parse(finishedAt, CultureInfo.InvariantCulture).UtcTicks);
        Assert.Equal(schedule.NextRunAt, DateTimeOffset.Parse(issues["nextScheduledSyncAt"]!.GetValue<string>(), CultureInfo.InvariantCulture).UtcTicks);
        Assert.True(schedule.NextRunAt > schedule.FinishedAt);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "GithubIssue": { "added": 3, "updated": 0, "deleted": 0 } }"""), issues["latestResult"]), issues["latestResult"]!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "GithubIssue": 3 }"""), issues["recordCount"]), issues["recordCount"]!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "updated_at": "2026-01-01T00:00:02Z" }"""), issues["checkpoint"]), issues["checkpoint"]?.ToJsonString());

        var labels = syncs[1];
        Assert.Equal("every hour", labels["frequency"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "GithubLabel": { "added": 0, "updated": 0, "deleted": 1 } }"""), labels["latestResult"]), labels["latestResult"]!.ToJsonString());
        Assert.True(labels.ContainsKey("checkpoint"));
        Assert.Null(labels["checkpoint"]);
        var labelRecords = await api.RecordsAsync(connection, GithubLabels.Model);
        Assert.Equal(2, labelRecords.Count);
        Assert.Equal(labelRecords.Count(r => !IsDeleted(r)), labels["recordCount"]![GithubLabels.Model]!.GetValue<long>());
        Assert.Equal(1, labels["recordCount"]![GithubLabels.Model]!.GetValue<long>());

        // Pruning keeps the records (payloads only go): the count does not change.
        var prune = await api.PruneAsync(connection, GithubLabels.Model, labelRecords[^1]["_nango_metadata"]!["cursor"]!.GetValue<string>());
        Assert.Equal(200, prune.Status);
        Assert.Equal(1, (await api.StatusByKeyAsync(connection))["labels::base"]["recordCount"]![GithubLabels.Model]!.GetValue<long>());
    }

    [Fact]
    public async Task Status_before_the_first_run_during_a_run_and_after_an_error()
    {
        await using var engine = await SyncEngine.StartAsync();
        var api = new SyncControl(engine);
        engine.Github.SetIssues("o/r", Issues(300));
        engine.Github.PageDelay = TimeSpan.FromMilliseconds(200);
        var connection = await engine.ImportAsync();

        var queued = (await api.StatusByKeyAsync(connection))["issues::base"];
        Assert.Equal("INITIAL", queued["type"]!.GetValue<string>());
        Assert.False(queued.ContainsKey("finishedAt"));
        Assert.False(queued.ContainsKey("error"));
        Assert.NotNull(queued["nextScheduledSyncAt"]);
        Assert.True(JsonNode.DeepEquals(new JsonObject(), queued["latestResult"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "GithubIssue": 0 }"""), queued["recordCount"]));
        Assert.Null(queued["checkpoint"]);

        var pump = engine.PumpAsync();
        await api.WaitUntilRunningAsync(api.Key(connection, "issues"));
        var running = (await api.StatusByKeyAsync(connection))["issues::base"];
        Assert.Equal("RUNNING", running["status"]!.GetValue<string>());
        Assert.Equal("INITIAL", running["type"]!.GetValue<string>());
        // The slot that started the run has passed: the next one is the following slot, 30 minutes on.
        var nextDuringRun = DateTimeOffset.Parse(running["nextScheduledSyncAt"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.InRange(nextDuringRun - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(30));
        await pump;

        // A connection whose metadata names no repository: ERROR, with the message.
        engine.Github.PageDelay = TimeSpan.Zero;
        var broken = await engine.ImportAsync(metadata: new JsonObject());
        await engine.PumpAsync();
        var error = (await api.StatusByKeyAsync(broken))["issues::base"];
        Assert.Equal("ERROR", error["status"]!.GetValue<string>());
        Assert.Equal("INITIAL", error["type"]!.GetValue<string>());
        Assert.Contains("'repo'", error["error"]!.GetValue<string>());
        Assert.True(error.ContainsKey("finishedAt"));
        Assert.NotNull(error["nextScheduledSyncAt"]);
    }

    [Fact]
    public async Task Status_of_a_variant_counts_the_records_of_that_variant_and_unknown_names_are_skipped()
    {
        var (engine, api, connection) = await StartedAsync(issues: 3, variantIssues: 7);
        await using var disposeEngine = engine;
        Assert.Equal(200, (await api.CreateVariantAsync(connection, "issues", "v1")).Status);
        await engine.PumpAsync();

        var v1 = Assert.Single((await api.StatusAsync(connection, "issues::v1")).Json!["syncs"]!.AsArray())!.AsObject();
        Assert.Equal("v1", v1["variant"]!.GetValue<string>());
        Assert.Equal(7, v1["recordCount"]![GithubIssues.Model]!.GetValue<long>());
        var variantRecords = await api.RecordsAsync(connection, GithubIssues.Model, "v1");
        Assert.Equal(7, variantRecords.Count(r => !IsDeleted(r)));
        Assert.Equal(Ids(Issues(7, idBase: 5000)), Ids(variantRecords));

        var listed = await api.StatusByKeyAsync(connection, "issues,issues::v1,nope,issues::zzz,labels::v1");
        Assert.Equal(["issues::base", "issues::v1"], listed.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(3, listed["issues::base"]["recordCount"]![GithubIssues.Model]!.GetValue<long>());
        Assert.Equal(3, (await api.RecordsAsync(connection, GithubIssues.Model)).Count);

        var all = (await api.StatusAsync(connection, "*")).Json!["syncs"]!.AsArray().Select(s => $"{s!["name"]}::{s["variant"]}");
        Assert.Equal(["issues::base", "issues::v1", "labels::base"], all);
        Assert.Empty((await api.StatusAsync(connection, "nope")).Json!["syncs"]!.AsArray());
    }

    // ---- PUT /sync/update-connection-frequency ------------------------------------------------------------------

    [Fact]
    public async Task Update_frequency_accepts_the_grammar_and_answers_the_canonical_text()
    {
        var (engine, api, connection) = await StartedAsync();
        await using var disposeEngine = engine;
        (string Input, string Canonical, TimeSpan Interval)[] forms =
        [
            ("every 30 minutes", "every 30 minutes", TimeSpan.FromMinutes(30)),
            ("30m", "every 30 minutes", TimeSpan.FromMinutes(30)),
            ("1h", "every hour", TimeSpan.FromHours(1)),
            ("every 2 hours", "every 2 hours", TimeSpan.FromHours(2)),
            ("every day", "every day", TimeSpan.FromDays(1)),
            ("2 days", "every 2 days", TimeSpan.FromDays(2)),
            ("every half hour", "every 30 minutes", TimeSpan.FromMinutes(30)),
            ("every quarter hour", "every 15 minutes", TimeSpan.FromMinutes(15)),
            ("every half day", "every 12 hours", TimeSpan.FromHours(12)),
            ("every week", "every 7 days", TimeSpan.FromDays(7)),
            ("every month", "every 30 days", TimeSpan.FromDays(30)),
            ("30s", "every 30 seconds", TimeSpan.FromSeconds(30)),
            ("every 90 seconds", "every 90 seconds", TimeSpan.FromSeconds(90)),
            ("every 120 secs", "every 2 minutes", TimeSpan.FromMinutes(2)),
            ("every 1 minute", "every minute", TimeSpan.FromMinutes(1)),
            ("every 5 mins", "every 5 minutes", TimeSpan.FromMinutes(5)),
            ("every 3 hrs", "every 3 hours", TimeSpan.FromHours(3)),
            ("every 24h", "every day", TimeSpan.FromDays(1)),
        ];
        foreach (var (input, canonical, interval) in forms)
        {
            var response = await api.FrequencyAsync(connection, "issues", JsonValue.Create(input)!.ToJsonString());
            Assert.True(response.Status == 200, $"{input}: {response.Body}");
            Assert.True(JsonNode.DeepEquals(new JsonObject { ["frequency"] = canonical }, response.Json), $"{input}: {response.Body}");
            Assert.Equal(canonical, (await api.StatusByKeyAsync(connection, "issues"))["issues::base"]["frequency"]!.GetValue<string>());
            var schedule = (await engine.ScheduleAsync(connection, "issues"))!;
            Assert.Equal(interval.Ticks, schedule.NextRunAt - schedule.Anchor);
        }
    }

    [Fact]
    public async Task Update_frequency_recomputes_the_next_run_at_once_and_null_reverts_to_the_config()
    {
        var clock = new ShiftedClock();
        var (engine, api, connection) = await StartedAsync(clock: clock);
        await using var disposeEngine = engine;
        var key = api.Key(connection, "issues");
        var before = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal([before.NextRunAt], await api.DueTimesAsync(key));

        var now = clock.GetUtcNow().UtcTicks;
        var response = await api.FrequencyAsync(connection, "issues", "\"every 2 hours\"");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "frequency": "every 2 hours" }"""), response.Json), response.Body);
        var updated = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.InRange(updated.NextRunAt - now, TimeSpan.FromHours(2).Ticks, TimeSpan.FromHours(2).Ticks + TimeSpan.FromSeconds(5).Ticks);
        Assert.Equal("every 2 hours", updated.FrequencyOverride);
        Assert.Equal([updated.NextRunAt], await api.DueTimesAsync(key));
        var status = (await api.StatusByKeyAsync(connection))["issues::base"];
        Assert.Equal(updated.NextRunAt, DateTimeOffset.Parse(status["nextScheduledSyncAt"]!.GetValue<string>(), CultureInfo.InvariantCulture).UtcTicks);

        // The old 30-minute slot no longer runs it; the 2-hour one does.
        engine.Github.Requests.Clear();
        clock.Advance(TimeSpan.FromMinutes(31));
        await engine.Get<Scheduler>().EnqueueDueAsync(default);
        await engine.PumpAsync();
        Assert.Equal(0, IssueRuns(engine.Github));
        clock.Advance(TimeSpan.FromMinutes(90));
        await engine.Get<Scheduler>().EnqueueDueAsync(default);
        await engine.PumpAsync();
        Assert.Equal(1, IssueRuns(engine.Github));
        var ran = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal(TimeSpan.FromHours(4).Ticks, ran.NextRunAt - ran.Anchor);

        // null: back to the config's every 30 minutes, from now.
        now = clock.GetUtcNow().UtcTicks;
        response = await api.FrequencyAsync(connection, "issues", "null");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "frequency": "every 30 minutes" }"""), response.Json), response.Body);
        var reverted = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Null(reverted.FrequencyOverride);
        Assert.InRange(reverted.NextRunAt - now, TimeSpan.FromMinutes(30).Ticks, TimeSpan.FromMinutes(30).Ticks + TimeSpan.FromSeconds(5).Ticks);
        Assert.Equal([reverted.NextRunAt], await api.DueTimesAsync(key));

        // Paused: the frequency is kept for when it starts; there is no next run.
        AssertEmptyOk(await api.PauseAsync(connection, """["issues"]"""));
        response = await api.FrequencyAsync(connection, "issues", "\"1h\"");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "frequency": "every hour" }"""), response.Json), response.Body);
        Assert.Equal(0, (await engine.ScheduleAsync(connection, "issues"))!.NextRunAt);
        Assert.Empty(await api.DueTimesAsync(key));
        Assert.Null((await api.StatusByKeyAsync(connection))["issues::base"]["nextScheduledSyncAt"]);
        now = clock.GetUtcNow().UtcTicks;
        AssertEmptyOk(await api.StartAsync(connection, """["issues"]"""));
        await engine.PumpAsync();
        var restarted = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.InRange(restarted.NextRunAt - now, TimeSpan.FromHours(1).Ticks, TimeSpan.FromHours(1).Ticks + TimeSpan.FromSeconds(5).Ticks);
    }

    [Fact]
    public async Task Update_frequency_of_a_variant_changes_that_variant_only()
    {
        var (engine, api, connection) = await StartedAsync(variantIssues: 1);
        await using var disposeEngine = engine;
        Assert.Equal(200, (await api.CreateVariantAsync(connection, "issues", "v1")).Status);
        await engine.PumpAsync();

        var response = await api.FrequencyAsync(connection, "issues", "\"every 4 hours\"", variant: "v1");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "frequency": "every 4 hours" }"""), response.Json), response.Body);
        var status = await api.StatusByKeyAsync(connection);
        Assert.Equal("every 4 hours", status["issues::v1"]["frequency"]!.GetValue<string>());
        Assert.Equal("every 30 minutes", status["issues::base"]["frequency"]!.GetValue<string>());

        response = await api.FrequencyAsync(connection, "issues", "\"every 5 hours\"", variant: "base");
        Assert.Equal(200, response.Status);
        Assert.Equal("every 5 hours", (await api.StatusByKeyAsync(connection))["issues::base"]["frequency"]!.GetValue<string>());

        AssertError(await api.FrequencyAsync(connection, "issues", "\"1h\"", variant: "nope"), 404, "not_found");
    }

    [Fact]
    public async Task Update_frequency_refuses_what_is_not_a_frequency_of_30_seconds_or_more()
    {
        var (engine, api, connection) = await StartedAsync(issues: 0);
        await using var disposeEngine = engine;
        string[] refused =
        [
            "\"29 seconds\"", "\"every 10s\"", "\"0m\"", "\"every 0 days\"", "\"sometimes\"", "\"every 2 weeks\"", "\"\"", "\"every\"",
            "\"every 99999999999999999999 days\"", "\"every 5000 days\"", "\"1 h 30 m\"", "30", "true", "{}", "[\"1h\"]",
        ];
        foreach (var frequency in refused)
        {
            var response = await api.FrequencyAsync(connection, "issues", frequency);
            Assert.True(response.Status == 400 && response.ErrorCode == "invalid_body", $"{frequency}: {response.Status} {response.Body}");
        }
        Assert.Null((await engine.ScheduleAsync(connection, "issues"))!.FrequencyOverride);
    }

    [Fact]
    public async Task Update_frequency_checks_its_body_integration_sync_and_connection()
    {
        var (engine, api, connection) = await StartedAsync(issues: 0);
        await using var disposeEngine = engine;
        AssertError(await api.FrequencyAsync($$"""{"provider_config_key":"github","connection_id":"{{connection}}","sync_name":"issues"}"""), 400, "invalid_body");
        AssertError(await api.FrequencyAsync($$"""{"provider_config_key":"github","connection_id":"{{connection}}","frequency":"1h"}"""), 400, "invalid_body");
        AssertError(await api.FrequencyAsync($$"""{"provider_config_key":"github","sync_name":"issues","frequency":"1h"}"""), 400, "invalid_body");
        AssertError(await api.FrequencyAsync($$"""{"connection_id":"{{connection}}","sync_name":"issues","frequency":"1h"}"""), 400, "invalid_body");
        AssertError(await api.FrequencyAsync($$"""{"provider_config_key":"github","connection_id":"{{connection}}","sync_name":"issues","frequency":"1h","extra":1}"""), 400, "invalid_body");
        AssertError(await api.FrequencyAsync($$"""{"provider_config_key":"github","connection_id":"{{connection}}","sync_name":"issues","sync_variant":"a.b","frequency":"1h"}"""), 400, "invalid_body");
        AssertError(await api.FrequencyAsync($$"""{"provider_config_key":"gitlab","connection_id":"{{connection}}","sync_name":"issues","frequency":"1h"}"""), 400, "unknown_provider_config");
        AssertError(await api.FrequencyAsync($$"""{"provider_config_key":"github","connection_id":"{{connection}}","sync_name":"nope","frequency":"1h"}"""), 400, "unknown_sync");
        AssertError(await api.FrequencyAsync("""{"provider_config_key":"github","connection_id":"nobody","sync_name":"issues","frequency":"1h"}"""), 404, "unknown_connection");
    }

    // ---- POST / DELETE /sync/{name}/variant/{variant} -----------------------------------------------------------

    [Fact]
    public async Task A_created_variant_is_scheduled_like_the_base_sync_runs_at_once_and_has_its_own_records()
    {
        var (engine, api, connection) = await StartedAsync(issues: 3, variantIssues: 4);
        await using var disposeEngine = engine;

        var response = await api.CreateVariantAsync(connection, "issues", "v1");
        Assert.Equal(200, response.Status);
        var body = response.Json!.AsObject();
        Assert.Equal(["id", "name", "variant"], body.Select(p => p.Key));
        Assert.True(Guid.TryParse(body["id"]!.GetValue<string>(), out _));
        Assert.Equal("issues", body["name"]!.GetValue<string>());
        Assert.Equal("v1", body["variant"]!.GetValue<string>());
        var schedule = (await engine.ScheduleAsync(connection, "issues", "v1"))!;
        Assert.Equal(body["id"]!.GetValue<string>(), schedule.Id);
        Assert.Equal(ScheduleStates.Started, schedule.State);

        await engine.PumpAsync();
        Assert.Equal(Ids(Issues(4, idBase: 5000)), Ids(await api.RecordsAsync(connection, GithubIssues.Model, "v1")));
        Assert.Equal(Ids(Issues(3)), Ids(await api.RecordsAsync(connection, GithubIssues.Model)));
        var status = (await api.StatusByKeyAsync(connection))["issues::v1"];
        Assert.Equal("SUCCESS", status["status"]!.GetValue<string>());
        Assert.Equal(body["id"]!.GetValue<string>(), status["id"]!.GetValue<string>());
        Assert.Equal("every 30 minutes", status["frequency"]!.GetValue<string>());
        Assert.NotNull(status["nextScheduledSyncAt"]);

        // Variants of the same name for another sync are separate.
        Assert.Equal(200, (await api.CreateVariantAsync(connection, "labels", "v1")).Status);
        AssertError(await api.CreateVariantAsync(connection, "issues", "v1"), 400, "sync_variant_already_exists");
        AssertError(await api.CreateVariantAsync(connection, "issues", "base"), 400, "invalid_variant");
    }

    [Fact]
    public async Task A_variant_of_a_sync_that_does_not_auto_start_is_created_paused()
    {
        await using var engine = await SyncEngine.StartAsync(issuesAutoStart: false);
        var api = new SyncControl(engine);
        engine.Github.SetIssues("o/r2", Issues(2, idBase: 5000));
        var connection = await engine.ImportAsync(metadata: Metadata());
        await engine.PumpAsync();
        Assert.Equal(200, (await api.CreateVariantAsync(connection, "issues", "v1")).Status);
        await engine.PumpAsync();
        var schedule = (await engine.ScheduleAsync(connection, "issues", "v1"))!;
        Assert.Equal(ScheduleStates.Paused, schedule.State);
        Assert.Equal(0, schedule.Successes);
        Assert.Equal("PAUSED", (await api.StatusByKeyAsync(connection))["issues::v1"]["status"]!.GetValue<string>());
        AssertEmptyOk(await api.StartAsync(connection, """["issues::v1"]"""));
        await engine.PumpAsync();
        Assert.Equal(2, (await api.RecordsAsync(connection, GithubIssues.Model, "v1")).Count);
    }

    [Fact]
    public async Task At_most_100_variants_per_sync_per_connection()
    {
        var (engine, api, connection) = await StartedAsync(issues: 0);
        await using var disposeEngine = engine;
        var store = engine.Get<ScheduleStore>();
        for (var i = 1; i < 100; i++)
        {
            await store.CreateIfMissingAsync(new Schedule { Key = api.Key(connection, "issues", $"x{i}"), Id = Guid.NewGuid().ToString() }, default);
        }
        Assert.Equal(200, (await api.CreateVariantAsync(connection, "issues", "x100")).Status);
        AssertError(await api.CreateVariantAsync(connection, "issues", "x101"), 400, "resource_capped");
        Assert.Null(await engine.ScheduleAsync(connection, "issues", "x101"));
        // The cap is per sync: labels may still have variants.
        Assert.Equal(200, (await api.CreateVariantAsync(connection, "labels", "x101")).Status);
        // Deleting one makes room again.
        AssertEmptyOk(await api.DeleteVariantAsync(connection, "issues", "x7"));
        Assert.Equal(200, (await api.CreateVariantAsync(connection, "issues", "x101")).Status);
    }

    [Fact]
    public async Task Deleting_a_variant_removes_its_schedule_and_its_records_at_once()
    {
        var (engine, api, connection) = await StartedAsync(issues: 3, variantIssues: 4);
        await using var disposeEngine = engine;
        Assert.Equal(200, (await api.CreateVariantAsync(connection, "issues", "v1")).Status);
        await engine.PumpAsync();
        Assert.Equal(4, (await api.RecordsAsync(connection, GithubIssues.Model, "v1")).Count);
        var key = api.Key(connection, "issues", "v1");
        var oldSet = (await engine.Get<RecordSetStore>().FindAsync(new RecordPartition("github", connection, GithubIssues.Model, "v1"), default))!;

        AssertEmptyOk(await api.DeleteVariantAsync(connection, "issues", "v1"));

        Assert.Empty(await api.RecordsAsync(connection, GithubIssues.Model, "v1"));
        Assert.Null(await engine.ScheduleAsync(connection, "issues", "v1"));
        Assert.Empty(await api.DueTimesAsync(key));
        Assert.False(await TableExistsAsync(engine, oldSet.TableName));
        Assert.Equal(["issues::base", "labels::base"], (await api.StatusByKeyAsync(connection)).Keys.Order(StringComparer.Ordinal));
        Assert.Empty((await api.StatusAsync(connection, "issues::v1")).Json!["syncs"]!.AsArray());
        Assert.Equal(3, (await api.RecordsAsync(connection, GithubIssues.Model)).Count);
        AssertError(await api.TriggerAsync(connection, """["issues::v1"]"""), 400, "no_syncs_found");
        AssertError(await api.DeleteVariantAsync(connection, "issues", "v1"), 404, "not_found");
        AssertError(await api.DeleteVariantAsync(connection, "issues", "never"), 404, "not_found");
        AssertError(await api.DeleteVariantAsync(connection, "issues", "base"), 400, "invalid_variant");

        // Created again, it starts from nothing and syncs again.
        await engine.PumpAsync();
        Assert.Equal(200, (await api.CreateVariantAsync(connection, "issues", "v1")).Status);
        await engine.PumpAsync();
        var records = await api.RecordsAsync(connection, GithubIssues.Model, "v1");
        Assert.Equal(4, records.Count);
        Assert.All(records, r => Assert.Equal("ADDED", Action(r)));
        Assert.Equal(1, (await engine.ScheduleAsync(connection, "issues", "v1"))!.Successes);
    }

    [Fact]
    public async Task Deleting_a_variant_during_its_run_leaves_no_records_behind()
    {
        var (engine, api, connection) = await StartedAsync(issues: 1, variantIssues: 0);
        await using var disposeEngine = engine;
        engine.Github.SetIssues("o/r2", Issues(500, idBase: 5000));
        engine.Github.PageDelay = TimeSpan.FromMilliseconds(200);
        Assert.Equal(200, (await api.CreateVariantAsync(connection, "issues", "v1")).Status);
        var pump = engine.PumpAsync();
        await api.WaitUntilRunningAsync(api.Key(connection, "issues", "v1"));
        // Deleted mid-run: once the run has written records of its own (so there is something to leave behind).
        await Eventually.Value(() => api.RecordsAsync(connection, GithubIssues.Model, "v1"), r => r.Count > 0,
            "the v1 run to write its first records", describe: r => $"{r.Count} records, {IssueRuns(engine.Github, "o/r2")} runs on o/r2");

        AssertEmptyOk(await api.DeleteVariantAsync(connection, "issues", "v1"));
        Assert.Empty(await api.RecordsAsync(connection, GithubIssues.Model, "v1"));
        await pump;

        Assert.Empty(await api.RecordsAsync(connection, GithubIssues.Model, "v1"));
        Assert.Null(await engine.ScheduleAsync(connection, "issues", "v1"));
        Assert.True(IssueRuns(engine.Github, "o/r2") == 1);
        Assert.True(engine.Github.Requests.Count(r => r.PathAndQuery.StartsWith("/repos/o/r2/", StringComparison.Ordinal)) < 5, "the run stopped soon after its variant was deleted");
    }

    [Fact]
    public async Task Variant_requests_check_the_path_body_integration_sync_and_connection()
    {
        var (engine, api, connection) = await StartedAsync(issues: 0);
        await using var disposeEngine = engine;
        foreach (var call in new Func<string, string, string?, Task<FunctionCall.Response>>[]
                 {
                     (sync, variant, body) => api.CreateVariantAsync(connection, sync, variant, body),
                     (sync, variant, body) => api.DeleteVariantAsync(connection, sync, variant, body),
                 })
        {
            AssertError(await call("issues", "a.b", null), 400, "invalid_uri_params");
            AssertError(await call("is sues", "v1", null), 400, "invalid_uri_params");
            AssertError(await call("issues", new string('v', 256), null), 400, "invalid_uri_params");
            AssertError(await call("issues", "v1", "{}"), 400, "invalid_body");
            AssertError(await call("issues", "v1", "[]"), 400, "invalid_body");
            AssertError(await call("issues", "v1", "{"), 400, "invalid_json");
            AssertError(await call("issues", "v1", $$"""{"provider_config_key":"github"}"""), 400, "invalid_body");
            AssertError(await call("issues", "v1", $$"""{"provider_config_key":"github","connection_id":"{{connection}}","x":1}"""), 400, "invalid_body");
            AssertError(await call("issues", "v1", $$"""{"provider_config_key":"gitlab","connection_id":"{{connection}}"}"""), 400, "unknown_provider_config");
            AssertError(await call("nope", "v1", null), 400, "unknown_sync");
            AssertError(await call("issues", "v1", """{"provider_config_key":"github","connection_id":"nobody"}"""), 404, "unknown_connection");
        }
        // Percent-encoded path values (as a client may send them) are decoded.
        Assert.Equal(200, (await api.CreateVariantAsync(connection, "issues", "v%2D1")).Status);
        Assert.NotNull(await engine.ScheduleAsync(connection, "issues", "v-1"));
    }

    // ---- errors common to trigger, start, pause and status ------------------------------------------------------

    [Fact]
    public async Task Unknown_integration_sync_or_connection_get_the_codes_of_the_api()
    {
        var (engine, api, connection) = await StartedAsync(issues: 0);
        await using var disposeEngine = engine;
        foreach (var call in new Func<string, Task<FunctionCall.Response>>[] { api.TriggerAsync, api.StartAsync, api.PauseAsync })
        {
            AssertError(await call($$"""{"provider_config_key":"gitlab","connection_id":"{{connection}}","syncs":["issues"]}"""), 400, "unknown_provider_config");
            AssertError(await call($$"""{"provider_config_key":"github","connection_id":"{{connection}}","syncs":["nope"]}"""), 400, "unknown_sync");
            AssertError(await call($$"""{"provider_config_key":"github","connection_id":"{{connection}}","syncs":["issues","nope"]}"""), 400, "unknown_sync");
            AssertError(await call($$"""{"provider_config_key":"github","connection_id":"{{connection}}","syncs":[{"name":"nope","variant":"v1"}]}"""), 400, "unknown_sync");
            AssertError(await call("""{"provider_config_key":"github","connection_id":"nobody","syncs":["issues"]}"""), 404, "unknown_connection");
            AssertError(await call("""{"provider_config_key":"github","connection_id":"nobody","syncs":[]}"""), 404, "unknown_connection");
            AssertError(await call($$"""{"provider_config_key":"github","connection_id":"{{connection}}","syncs":["issues::nope"]}"""), 400, "no_syncs_found");
        }
        AssertError(await api.StatusAsync("provider_config_key=gitlab&syncs=*"), 400, "unknown_provider_config");
        AssertError(await api.StatusAsync("provider_config_key=github&syncs=*&connection_id=nobody"), 404, "unknown_connection");
    }

    private static readonly (string Endpoint, string Body)[] BadControlBodies =
    [
        ("trigger", ""),
        ("trigger", "[]"),
        ("trigger", "\"issues\""),
        ("trigger", "{"),
        ("trigger", "{}"),
        ("trigger", """{"provider_config_key":5,"syncs":[]}"""),
        ("trigger", """{"provider_config_key":"","syncs":[]}"""),
        ("trigger", """{"provider_config_key":"git/hub","syncs":[]}"""),
        ("trigger", """{"provider_config_key":"github","syncs":"issues"}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[null]}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[5]}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[["issues"]]}"""),
        ("trigger", """{"provider_config_key":"github","syncs":["is sues"]}"""),
        ("trigger", """{"provider_config_key":"github","syncs":["issues::"]}"""),
        ("trigger", """{"provider_config_key":"github","syncs":["::v1"]}"""),
        ("trigger", """{"provider_config_key":"github","syncs":["issues::v1::v2"]}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[{"variant":"v1"}]}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[{"name":5}]}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[{"name":"issues","variant":""}]}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[{"name":"issues","other":1}]}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[],"connection_id":5}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[],"connection_id":"a#b"}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[],"opts":[]}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[],"opts":{"reset":"yes"}}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[],"opts":{"reset":true,"later":true}}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[],"sync_mode":"sometimes"}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[],"sync_mode":true}"""),
        ("trigger", """{"provider_config_key":"github","syncs":[],"syncz":[]}"""),
        ("start", "{}"),
        ("start", """{"provider_config_key":"github","syncs":[{}]}"""),
        ("start", """{"provider_config_key":"github","syncs":[],"opts":{"reset":true}}"""),
        ("pause", """{"provider_config_key":"github","syncs":{"name":"issues"}}"""),
        ("pause", """{"provider_config_key":["github"],"syncs":[]}"""),
    ];

    [Fact]
    public async Task Bad_control_bodies_and_status_queries_are_400_with_the_envelope_never_500()
    {
        await using var engine = await SyncEngine.StartAsync();
        var api = new SyncControl(engine);
        foreach (var (endpoint, body) in BadControlBodies)
        {
            var response = endpoint switch
            {
                "trigger" => await api.TriggerAsync(body),
                "start" => await api.StartAsync(body),
                _ => await api.PauseAsync(body),
            };
            Assert.True(response.Status == 400 && response.ErrorCode is "invalid_body" or "invalid_json", $"{endpoint} {body}: {response.Status} {response.Body}");
            Assert.DoesNotContain("   at ", response.Body);
        }
        string[] queries =
        [
            "", "provider_config_key=github", "syncs=*", "provider_config_key=github&syncs=", "provider_config_key=github&syncs=,",
            "provider_config_key=github&syncs=is%20sues", "provider_config_key=github&syncs=issues::", "provider_config_key=github&syncs=issues::a::b",
            "provider_config_key=github&syncs=*&connection_id=", "provider_config_key=github&syncs=*&connection_id=a%23b",
            "provider_config_key=github&syncs=*&connectionId=c", "provider_config_key=github&syncs=*&syncs=issues", "provider_config_key=git%2Fhub&syncs=*",
            "provider_config_key=github&syncs=" + new string('a', 256),
        ];
        foreach (var query in queries)
        {
            var response = await api.StatusAsync(query);
            Assert.True(response.Status == 400 && response.ErrorCode == "invalid_query_params", $"{query}: {response.Status} {response.Body}");
        }
    }

    private static async Task<bool> TableExistsAsync(SyncEngine engine, string name)
    {
        await foreach (var _ in engine.Get<StorageClients>().Tables.QueryAsync(t => t.Name == name))
        {
            return true;
        }
        return false;
    }
}
