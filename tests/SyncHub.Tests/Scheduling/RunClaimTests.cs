using SyncHub.Core.Scheduling;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Scheduling;

public sealed class RunClaimTests
{
    private static readonly SyncKey Key = new("github", "c", "issues", "base");
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);
    private const long Now = 1_000_000_000;

    private static Schedule Idle(bool started = true, long nextRunAt = Now, bool trigger = false) => new()
    {
        Key = Key, Id = "id", State = started ? ScheduleStates.Started : ScheduleStates.Paused, NextRunAt = nextRunAt, TriggerPending = trigger,
        Checkpoint = """{"page":3}""", LastSyncDate = 42,
    };

    private static Schedule? Claim(Schedule s, SyncRunKind kind, string? runId = null) =>
        RunClaim.Claim(s, new SyncRunMessage(Key, kind, runId), Now, Lease, out _);

    [Fact]
    public void A_due_started_schedule_is_claimed_with_a_fresh_run_and_a_lease()
    {
        var claimed = Claim(Idle(), SyncRunKind.Scheduled)!;
        Assert.Equal(RunStates.Running, claimed.RunState);
        Assert.NotNull(claimed.RunId);
        Assert.Equal(Now + Lease.Ticks, claimed.LeaseUntil);
        Assert.Equal(Now, claimed.RunStartedAt);
        Assert.Equal("""{"page":3}""", claimed.Checkpoint);
    }

    [Fact]
    public void Not_yet_due_paused_or_continuation_messages_are_refused_when_idle()
    {
        Assert.Null(Claim(Idle(nextRunAt: Now + 1), SyncRunKind.Scheduled));
        Assert.Null(Claim(Idle(started: false), SyncRunKind.Scheduled));
        Assert.Null(Claim(Idle(nextRunAt: 0), SyncRunKind.Scheduled));
        Assert.Null(Claim(Idle(), SyncRunKind.Continuation, "old-run"));
    }

    [Fact]
    public void A_pending_trigger_runs_even_a_paused_schedule_once_and_is_consumed()
    {
        var claimed = Claim(Idle(started: false, nextRunAt: 0, trigger: true) with { ResetPending = true, EmptyCachePending = true }, SyncRunKind.Triggered)!;
        Assert.False(claimed.TriggerPending);
        Assert.False(claimed.ResetPending);
        Assert.True(claimed.EmptyCacheDue);
        Assert.Null(claimed.Checkpoint);
        Assert.Equal(0, claimed.LastSyncDate);
        Assert.Null(Claim(claimed with { RunState = RunStates.Idle }, SyncRunKind.Triggered));
    }

    [Fact]
    public void A_running_sync_is_refused_until_its_lease_expires_then_taken_over_without_delete_detection()
    {
        var running = Idle() with { RunState = RunStates.Running, RunId = "r1", LeaseUntil = Now + 1 };
        Assert.Null(Claim(running, SyncRunKind.Scheduled));
        Assert.Null(Claim(running, SyncRunKind.Triggered));

        var taken = RunClaim.Claim(running with { LeaseUntil = Now }, new SyncRunMessage(Key, SyncRunKind.Scheduled), Now, Lease, out var resumed)!;
        Assert.True(resumed);
        Assert.Equal("r1", taken.RunId);
        Assert.True(taken.DeletesUnsafe);
    }

    [Fact]
    public void A_continuing_run_is_resumed_by_its_own_continuation_only()
    {
        var continuing = Idle() with { RunState = RunStates.Continuing, RunId = "r1", LeaseUntil = Now + Lease.Ticks };
        Assert.Null(Claim(continuing, SyncRunKind.Continuation, "r0"));
        Assert.Null(Claim(continuing, SyncRunKind.Scheduled));
        var resumed = Claim(continuing, SyncRunKind.Continuation, "r1")!;
        Assert.Equal((RunStates.Running, "r1", false), (resumed.RunState, resumed.RunId, resumed.DeletesUnsafe));
    }

    [Fact]
    public void Every_claim_resume_and_takeover_gets_a_new_lease_id_so_a_slow_former_holder_is_fenced_out()
    {
        var first = Claim(Idle(), SyncRunKind.Scheduled)!;
        Assert.NotNull(first.LeaseId);
        var takenOver = RunClaim.Claim(first with { LeaseUntil = Now }, new SyncRunMessage(Key, SyncRunKind.Scheduled), Now, Lease, out _)!;
        Assert.Equal(first.RunId, takenOver.RunId);
        Assert.NotEqual(first.LeaseId, takenOver.LeaseId);
        var continuing = takenOver with { RunState = RunStates.Continuing };
        var resumed = Claim(continuing, SyncRunKind.Continuation, first.RunId)!;
        Assert.NotEqual(takenOver.LeaseId, resumed.LeaseId);
    }
}
