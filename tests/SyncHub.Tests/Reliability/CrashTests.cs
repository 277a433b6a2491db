using System.Diagnostics;
using SyncHub.Core.Scheduling;
using SyncHub.Tests.Infrastructure;
using SyncHub.Tests.Scheduling;
using Xunit.Abstractions;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Reliability;

/// <summary>
/// Hosts that die, messages that come twice, hosts that compete: LocalHost processes on one Azurite and one run queue
/// against a fake GitHub. The fake sees every request, so overlapping runs of one sync cannot hide.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class CrashTests(ITestOutputHelper output)
{
    private static Dictionary<string, string?> HostSettings(SyncEngine engine, string runQueue) => new()
    {
        ["SyncHub__ConfigPath"] = engine.ConfigPath,
        ["SyncHubRunQueue"] = runQueue,
        ["SyncHubSchedulerCron"] = "* * * * * *",
        ["SyncHub__Scheduling__LeaseDuration"] = "00:00:03",
    };

    private static int IssuePages(FakeGithub github) => github.Requests.Count(r => r.PathAndQuery.StartsWith("/repos/o/r/issues", StringComparison.Ordinal));

    [Fact]
    public async Task A_host_killed_mid_run_is_taken_over_by_a_new_host_and_the_records_are_exact()
    {
        var count = ReliabilityMode.Pick(5_000, 50_000);
        var runQueue = "rel-crash-" + Guid.NewGuid().ToString("N")[..12];
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?>
        {
            ["SyncHubRunQueue"] = runQueue, ["SyncHub:Scheduling:LeaseDuration"] = "00:00:03",
        });
        var source = Api.Issues(count).ToList();
        engine.Github.SetIssues("o/r", source);
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug")]);
        engine.Github.PageDelay = TimeSpan.FromMilliseconds(ReliabilityMode.Pick(20, 5));
        var connection = TestEnvironment.Unique("crash");
        var watch = Stopwatch.StartNew();

        var first = await LocalHostProcess.StartAsync(HostSettings(engine, runQueue));
        string firstOutput;
        await using (first)
        {
            await Api.ImportAsync(first.Client, connection);
            var pages = count / 100;
            await Eventually.Until(() => IssuePages(engine.Github) >= pages / 3, $"a third of the {pages} issue pages to be fetched",
                TimeSpan.FromSeconds(60), () => $"{IssuePages(engine.Github)} pages fetched; LocalHost said:\n{first.Output}");
            first.Kill();
            firstOutput = first.Output;
        }
        var atCrash = await engine.ScheduleAsync(connection, "issues");
        Assert.Equal(RunStates.Running, atCrash!.RunState);
        var crashedRun = atCrash.RunId;
        var pagesAtCrash = IssuePages(engine.Github);
        output.WriteLine($"killed after {pagesAtCrash} of {count / 100} pages ({watch.Elapsed.TotalSeconds:F1} s)");

        await using var second = await LocalHostProcess.StartAsync(HostSettings(engine, runQueue));
        var status = await Eventually.Value(() => Api.StatusAsync(second.Client, connection), s => s["status"]!.GetValue<string>() is "SUCCESS" or "ERROR",
            "the crashed run to be taken over and end", TimeSpan.FromSeconds(ReliabilityMode.Pick(60, 300)),
            s => $"status {s.ToJsonString()}; LocalHost said:\n{second.Output}", interval: TimeSpan.FromMilliseconds(200));
        output.WriteLine($"taken over and finished after {watch.Elapsed.TotalSeconds:F1} s; {IssuePages(engine.Github)} issue pages in all");

        Assert.Equal("SUCCESS", status["status"]!.GetValue<string>());
        var schedule = await engine.ScheduleAsync(connection, "issues");
        Assert.Equal(crashedRun, schedule!.RunId); // the same run, resumed: not a new one
        Assert.Equal(1, schedule.Successes);
        // The new host resumed from the checkpoint rather than starting over.
        Assert.True(IssuePages(engine.Github) < pagesAtCrash + count / 100, "the run started over instead of resuming from its checkpoint");
        var records = await Api.AllRecordsAsync(second.Client, connection);
        Api.AssertExact(Api.Expected(source), records, status);
        // Every record was added by this one run: the counts survive the crash, except at most the one batch the dead
        // host wrote after its last checkpoint (re-fetched by the new host, it is unchanged and not counted again).
        Assert.InRange(status["latestResult"]!["GithubIssue"]!["added"]!.GetValue<int>(), count - 100, count);
        Assert.Equal(1, engine.Github.MaxInFlight["/repos/o/r/issues"]);
        Assert.DoesNotContain("gho_reliability_token", firstOutput + second.Output);
    }

    [Fact]
    public async Task Duplicate_messages_and_two_competing_hosts_run_each_sync_once_at_a_time()
    {
        var count = ReliabilityMode.Pick(1_500, 10_000);
        var runQueue = "rel-dup-" + Guid.NewGuid().ToString("N")[..12];
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?>
        {
            ["SyncHubRunQueue"] = runQueue, ["SyncHub:Scheduling:LeaseDuration"] = "00:00:03",
        });
        var source = Api.Issues(count).ToList();
        engine.Github.SetIssues("o/r", source);
        engine.Github.SetLabels("o/r", Enumerable.Range(1, 250).Select(i => FakeGithub.Label(i, "l" + i)));
        engine.Github.PageDelay = TimeSpan.FromMilliseconds(30);
        var connection = TestEnvironment.Unique("dup");
        await using var a = await LocalHostProcess.StartAsync(HostSettings(engine, runQueue));
        await using var b = await LocalHostProcess.StartAsync(HostSettings(engine, runQueue));

        await Api.ImportAsync(a.Client, connection);
        // Both first runs must have been claimed: a trigger sent before that is (rightly) absorbed by the run it joins.
        await Eventually.Value(() => SchedulesAsync(engine, connection), schedules => schedules.All(s => s is not null && (s.RunState == RunStates.Running || s.Successes > 0)),
            "both first runs (issues, labels) to be claimed", TimeSpan.FromSeconds(30),
            schedules => $"{Describe(schedules)}; A said:\n{a.Output}\nB said:\n{b.Output}");
        // The same run message delivered again and again, to both hosts, while the first run goes on.
        var queue = engine.Get<SyncRunQueue>();
        foreach (var sync in new[] { "issues", "labels" })
        {
            var key = new SyncKey("github", connection, sync, "base");
            for (var i = 0; i < 6; i++)
            {
                await queue.SendAsync(new SyncRunMessage(key, SyncRunKind.Scheduled), default);
                await queue.SendAsync(new SyncRunMessage(key, SyncRunKind.Triggered), default);
            }
        }
        // Triggers while running coalesce into one more run each.
        for (var i = 0; i < 3; i++)
        {
            using var trigger = await b.Client.PostAsync("sync/trigger", JsonContent("""{"provider_config_key":"github","connection_id":"CONN","syncs":["issues","labels"]}""".Replace("CONN", connection)));
            Assert.Equal(200, (int)trigger.StatusCode);
        }

        // Wait until both syncs are idle with nothing owed, and every run message sent has been consumed: a stray
        // duplicate that would (wrongly) run has then had its chance, since no message is left to start it.
        await Eventually.Value(() => SchedulesAsync(engine, connection),
            schedules => schedules.All(s => s is not null && s.RunState == RunStates.Idle && !s.TriggerPending && s.Successes >= 2),
            "both syncs to be idle with nothing owed", TimeSpan.FromSeconds(ReliabilityMode.Pick(60, 240)),
            schedules => $"{Describe(schedules)}; A said:\n{a.Output}\nB said:\n{b.Output}");
        // The count includes messages not yet visible (takeover checks, looks again at a busy run's lease end).
        await Eventually.Value(async () => (await engine.Queue.GetPropertiesAsync()).Value.ApproximateMessagesCount, n => n == 0,
            "the run queue to drain (every duplicate and delayed check delivered and consumed)", TimeSpan.FromSeconds(ReliabilityMode.Pick(60, 240)),
            n => $"{n} messages left in {runQueue}", interval: TimeSpan.FromMilliseconds(200));

        Assert.Equal(1, engine.Github.MaxInFlight["/repos/o/r/issues"]);
        Assert.Equal(1, engine.Github.MaxInFlight["/repos/o/r/labels"]);
        foreach (var (sync, path) in new[] { ("issues", "/repos/o/r/issues"), ("labels", "/repos/o/r/labels") })
        {
            var schedule = (await engine.ScheduleAsync(connection, sync))!;
            // One first-page request per run: the runs recorded are the runs that happened.
            var firstPages = engine.Github.Requests.Count(r => r.PathAndQuery.StartsWith(path + "?", StringComparison.Ordinal) && !r.PathAndQuery.Contains("&page=", StringComparison.Ordinal));
            Assert.Equal(schedule.Successes, firstPages);
            Assert.InRange(schedule.Successes, 2, 3); // the first run + at most one coalesced trigger (+ one if it arrived after)
            Assert.Equal("SUCCESS", schedule.LastStatus);
        }
        var status = await Api.StatusAsync(a.Client, connection);
        Api.AssertExact(Api.Expected(source), await Api.AllRecordsAsync(b.Client, connection), status);
        var labels = await Api.AllRecordsAsync(a.Client, connection, "GithubLabel");
        Assert.Equal(250, labels.Select(l => l.Id).Distinct().Count());
        Assert.Equal(250, labels.Count);
    }

    private static async Task<Schedule?[]> SchedulesAsync(SyncEngine engine, string connection) =>
        [await engine.ScheduleAsync(connection, "issues"), await engine.ScheduleAsync(connection, "labels")];

    private static string Describe(Schedule?[] schedules) =>
        string.Join("; ", schedules.Select(s => s is null ? "no schedule" : $"{s.Key.Sync}: {s.RunState}, {s.Successes} successes, trigger pending {s.TriggerPending}"));

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
