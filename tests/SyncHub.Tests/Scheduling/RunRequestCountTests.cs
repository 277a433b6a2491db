using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.Core.Model;
using SyncHub.Core.Scheduling;
using SyncHub.Core.Storage;
using SyncHub.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SyncHub.Tests.Scheduling;

/// <summary>
/// What a run costs in storage requests, counted on the storage clients' pipelines (exact counts, not timings).
/// </summary>
public sealed class RunRequestCountTests(ITestOutputHelper output)
{
    private static IEnumerable<System.Text.Json.Nodes.JsonObject> Issues(int count) =>
        Enumerable.Range(0, count).Select(i => FakeGithub.Issue(1000 + i, $"2026-01-01T00:{i / 60 % 60:D2}:{i % 60:D2}Z", $"Issue {i}"));

    private static async Task<(SyncEngine Engine, StorageRequestLog Log)> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var log = new StorageRequestLog();
        var engine = await SyncEngine.StartAsync(settings, configure: services => services.AddSingleton(log.Clients()));
        // Each fixed table is created once per process, on first use: not part of what a run costs.
        foreach (var table in StorageNames.FixedTables)
        {
            await engine.Get<FixedTables>().GetAsync(table, default);
        }
        return (engine, log);
    }

    private void Print(string what, IReadOnlyList<StorageRequest> requests)
    {
        output.WriteLine($"{what}: {requests.Count} requests");
        foreach (var request in requests)
        {
            output.WriteLine("  " + request);
        }
    }

    private static int On(IReadOnlyList<StorageRequest> requests, string table) => requests.Count(r => r.Table == table);

    [Fact]
    public async Task A_heartbeat_is_one_conditional_write()
    {
        var (engine, log) = await StartAsync(new Dictionary<string, string?> { ["SyncHub:Scheduling:LeaseDuration"] = "00:00:03" });
        await using var _ = engine;
        engine.Github.SetIssues("o/r", Issues(3));
        var connection = await engine.ImportAsync();
        var key = new SyncKey("github", connection, "issues", "base");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        engine.Github.Fail(async (HttpContext _) =>
        {
            entered.TrySetResult();
            await release.Task;
            return false;
        });

        log.Enabled = true;
        var run = engine.Get<SyncRunner>().RunAsync(new SyncRunMessage(key, SyncRunKind.Scheduled), default);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(60));
        // The run now waits on the provider: the only storage requests until it is released are its heartbeats.
        var held = await StorageRequestLog.Unlogged(() => engine.ScheduleAsync(connection, "issues"));
        var before = log.Count;
        await StorageRequestLog.Unlogged(() => Eventually.Value(() => engine.ScheduleAsync(connection, "issues"), s => s!.LeaseUntil != held!.LeaseUntil,
            "a heartbeat to renew the lease"));
        var heartbeat = log.Since(before);
        release.SetResult();
        await run;

        Print("one heartbeat", heartbeat);
        Assert.Equal("SUCCESS", (await engine.ScheduleAsync(connection, "issues"))!.LastStatus);
        // Was a read and a conditional write.
        Assert.Equal(["PUT if-match schedules"], heartbeat.Select(Kind));
    }

    [Fact]
    public async Task A_whole_incremental_run_with_two_checkpoints()
    {
        var (engine, log) = await StartAsync();
        await using var _ = engine;
        engine.Github.SetIssues("o/r", Issues(150));
        var connection = await engine.ImportAsync();

        log.Enabled = true;
        await engine.Get<SyncRunner>().RunAsync(new SyncRunMessage(new SyncKey("github", connection, "issues", "base"), SyncRunKind.Scheduled), default);
        var requests = log.Requests;

        Print("whole issues run (150 issues: 2 pages, 2 checkpoints)", requests);
        var schedule = await engine.ScheduleAsync(connection, "issues");
        Assert.Equal("SUCCESS", schedule!.LastStatus);
        Assert.Equal(150, schedule.LastResult["GithubIssue"].Added);
        // Claim (read + conditional write), 2 checkpoints, the end (1 conditional write): was 2 + 2 × 2 + 3.
        Assert.Equal(2 + 2 + 1, On(requests, "schedules"));
        // Connection and credentials from one read: was 2.
        Assert.Equal(1, On(requests, "connections"));
        // The next run's due entry, written before the row that names it.
        Assert.Equal(1, On(requests, "dueruns"));
        // No seen ids to clean up after an incremental run: was a query.
        Assert.Equal(0, On(requests, "runseen"));
        // The takeover check.
        Assert.Equal(1, On(requests, "queue"));
    }

    [Fact]
    public async Task A_whole_full_run_with_delete_detection()
    {
        var (engine, log) = await StartAsync();
        await using var _ = engine;
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug"), FakeGithub.Label(2, "docs")]);
        var connection = await engine.ImportAsync();

        log.Enabled = true;
        await engine.Get<SyncRunner>().RunAsync(new SyncRunMessage(new SyncKey("github", connection, "labels", "base"), SyncRunKind.Scheduled), default);
        var requests = log.Requests;

        Print("whole labels run (full, track_deletes, 2 labels)", requests);
        var schedule = await engine.ScheduleAsync(connection, "labels");
        Assert.Equal("SUCCESS", schedule!.LastStatus);
        // Claim (2), the lease confirmed before inferring deletions (1 heartbeat: was a read), the end (1): was 2 + 1 + 3.
        Assert.Equal(2 + 1 + 1, On(requests, "schedules"));
        Assert.Equal(1, On(requests, "connections"));
        Assert.Equal(1, On(requests, "dueruns"));
        Assert.Equal(0, On(requests, "runseen"));
        Assert.Equal(1, On(requests, "queue"));
    }

    [Fact]
    public async Task A_checkpoint_is_one_conditional_write_and_a_run_end_two_writes()
    {
        var (engine, log) = await StartAsync();
        await using var _ = engine;
        var connection = await engine.ImportAsync();
        var key = new SyncKey("github", connection, "issues", "base");
        using var lease = (await engine.Get<RunLeases>().ClaimAsync(new SyncRunMessage(key, SyncRunKind.Scheduled), default))!;
        Assert.NotNull(lease);

        log.Enabled = true;
        var before = log.Count;
        Assert.True(await lease.SaveCheckpointAsync("""{"updated_at":"2026-01-01T00:00:00Z"}""", new() { ["GithubIssue"] = new ModelCounts(3, 0, 0) }, default));
        var checkpoint = log.Since(before);
        before = log.Count;
        var ended = await lease.FinishAsync(new() { ["GithubIssue"] = new ModelCounts(3, 0, 0) }, error: null, default);
        var end = log.Since(before);
        log.Enabled = false;

        Print("one checkpoint", checkpoint);
        Print("run end", end);
        Assert.Equal(["PUT if-match schedules"], checkpoint.Select(Kind));
        // The next run's due entry, then the row (idle, outcome, next run) in one conditional write: was 5. Then the
        // run's history row, and the query of the sync's history keys that deletes those past the newest 50.
        Assert.Equal(["PUT dueruns", "PUT if-match schedules", "PUT runhistory", "GET runhistory"], end.Select(Kind));
        var schedule = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal(ended!.ETag, schedule.ETag);
        Assert.Equal((RunStates.Idle, "SUCCESS", 3, 1), (schedule.RunState, schedule.LastStatus, schedule.LastResult["GithubIssue"].Added, schedule.Successes));
        Assert.Equal("2026-01-01T00:00:00Z", schedule.CheckpointObject!["updated_at"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromMinutes(30).Ticks, schedule.NextRunAt - schedule.Anchor);
    }

    [Fact]
    public async Task A_write_that_meets_a_trigger_reads_the_row_again_and_keeps_the_trigger()
    {
        var (engine, log) = await StartAsync();
        await using var _ = engine;
        var connection = await engine.ImportAsync();
        var key = new SyncKey("github", connection, "issues", "base");
        using var lease = (await engine.Get<RunLeases>().ClaimAsync(new SyncRunMessage(key, SyncRunKind.Scheduled), default))!;
        await engine.Get<SyncSchedules>().TriggerAsync(key, reset: false, emptyCache: false, default);

        log.Enabled = true;
        var before = log.Count;
        Assert.True(await lease.HeartbeatAsync(default));
        var heartbeat = log.Since(before);
        before = log.Count;
        var ended = await lease.FinishAsync([], error: null, default);
        var end = log.Since(before);
        log.Enabled = false;

        Print("heartbeat after a trigger", heartbeat);
        Print("run end after it", end);
        // The conditional write fails (412), the row is read again and the heartbeat applied to it.
        Assert.Equal(["PUT if-match schedules", "GET schedules", "PUT if-match schedules"], heartbeat.Select(Kind));
        Assert.False(lease.IsLost);
        // The end is two writes again (and the history), and sends the run the trigger owes.
        Assert.Equal(["PUT dueruns", "PUT if-match schedules", "PUT runhistory", "GET runhistory", "POST queue"], end.Select(Kind));
        Assert.True(ended!.TriggerPending);
        Assert.Equal((RunStates.Idle, "SUCCESS"), (ended.RunState, ended.LastStatus));
    }

    [Fact]
    public async Task A_lease_taken_over_is_lost_and_its_end_writes_nothing()
    {
        var (engine, _) = await StartAsync();
        await using var __ = engine;
        var connection = await engine.ImportAsync();
        var key = new SyncKey("github", connection, "issues", "base");
        using var lease = (await engine.Get<RunLeases>().ClaimAsync(new SyncRunMessage(key, SyncRunKind.Scheduled), default))!;
        var taken = await engine.Get<ScheduleStore>().UpdateAsync(key, s => s with { LeaseId = "someone-else", DeletesUnsafe = true }, default);

        Assert.False(await lease.SaveCheckpointAsync("{}", [], default));
        Assert.True(lease.IsLost);
        Assert.True(lease.LostToken.IsCancellationRequested);
        Assert.Null(await lease.FinishAsync([], error: null, default));
        var schedule = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal(taken!.ETag, schedule.ETag);
        Assert.Equal(RunStates.Running, schedule.RunState);
    }

    private static string Kind(StorageRequest r) => $"{r.Method}{(r.Conditional ? " if-match" : "")} {r.Table}";
}
