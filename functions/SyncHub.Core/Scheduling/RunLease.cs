using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SyncHub.Core.Model;
using SyncHub.Core.Telemetry;

namespace SyncHub.Core.Scheduling;

/// <summary>
/// Takes run leases (<see cref="ClaimAsync"/>, by the rules of <see cref="RunClaim"/>) and ends runs that no lease
/// holder will end (<see cref="RecordPoisonedAsync"/>). What a run's end writes, and what it sends afterwards, is
/// decided here for both.
/// </summary>
public sealed class RunLeases(
    ScheduleStore store,
    SyncSchedules schedules,
    DueRuns due,
    SyncRunQueue queue,
    IOptions<SchedulingOptions> options,
    TimeProvider clock,
    RunWebhooks webhooks,
    ILogger<RunLeases> logger,
    RunHistory history)
{
    internal ScheduleStore Store => store;
    internal RunWebhooks Webhooks => webhooks;
    internal DueRuns Due => due;
    internal SyncRunQueue Queue => queue;
    internal SchedulingOptions Options => options.Value;
    internal TimeProvider Clock => clock;
    internal ILogger Logger => logger;
    internal RunHistory History => history;

    /// <summary>
    /// Takes the run lease for <paramref name="message"/> (one ETag-conditional read-modify-write of the schedule row),
    /// or returns null when the message may not run now. A message refused because the sync runs elsewhere looks
    /// again when that lease ends; a claimed run leaves a takeover check just past its lease.
    /// </summary>
    public async Task<RunLease?> ClaimAsync(SyncRunMessage message, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcTicks;
        var resumed = false;
        Schedule? busy = null;
        var claimed = await store.UpdateAsync(message.Key, s =>
        {
            busy = null;
            var claim = RunClaim.Claim(s, message, now, options.Value.LeaseDuration, out resumed);
            if (claim is null && s.RunState != RunStates.Idle && s.LeaseUntil > now)
            {
                busy = s;
            }
            return claim;
        }, ct);
        if (claimed is null)
        {
            if (busy is not null)
            {
                // Running elsewhere. If that run has crashed, only a message can notice: look again when its lease ends.
                var wait = TimeSpan.FromTicks(busy.LeaseUntil - now) + TimeSpan.FromSeconds(2);
                await queue.SendAsync(message with { Kind = SyncRunKind.Scheduled, RunId = null }, ct, wait > TimeSpan.FromDays(6) ? TimeSpan.FromDays(6) : wait);
                logger.LogDebug("Sync {Sync} is running elsewhere; checking again in {Wait}", message.Key, wait);
            }
            else
            {
                logger.LogDebug("Nothing to run for {Sync} ({Kind} message)", message.Key, message.Kind);
            }
            return null;
        }
        logger.LogInformation("Sync {Sync} run {RunId} {How}", message.Key, claimed.RunId, resumed ? "resumed" : "started");
        if (!resumed)
        {
            SyncHubTelemetry.RunsStarted.Add(1, SyncHubTelemetry.Tags(message.Key.Integration, message.Key.Sync));
        }
        await SendWatchdogAsync(message.Key, ct);
        return new RunLease(this, claimed, resumed);
    }

    /// <summary>
    /// If this invocation dies, its own message only comes back after the queue's visibility timeout (up to minutes).
    /// A delayed check just past the lease makes the takeover prompt instead: while the run lives, each check finds it
    /// busy and looks again at the lease's end; once it is over, the check finds nothing to do.
    /// </summary>
    private async Task SendWatchdogAsync(SyncKey key, CancellationToken ct)
    {
        try
        {
            await queue.SendAsync(new SyncRunMessage(key, SyncRunKind.Scheduled), ct, options.Value.LeaseDuration + TimeSpan.FromSeconds(2));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Sync {Sync}: could not queue the takeover check ({Error}); a crash would be noticed later", key, e.Message);
        }
    }

    /// <summary>
    /// Records ERROR for a message that crashed the runner on every delivery (it reached the poison queue). Nobody
    /// holds a lease here, so the row is read first; a live lease elsewhere is left alone.
    /// </summary>
    public async Task RecordPoisonedAsync(SyncKey key, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcTicks;
        var current = await store.GetAsync(key, ct);
        if (current is null)
        {
            return;
        }
        var next = NextRunAt(current, current, now);
        if (next > 0)
        {
            await due.AddAsync(key, next, ct);
        }
        const string error = "The run failed repeatedly before the sync could start (see the logs); it was abandoned after the queue's maximum delivery count.";
        // The application is told like for any failed run (an error webhook in the same write as the ERROR). A run the
        // message had claimed ends under its own id; otherwise the failure gets an id of its own, so it is never taken
        // for the earlier run's webhook.
        var claimed = current.RunState != RunStates.Idle && current.RunId is not null;
        var abandoned = claimed ? current : current with { RunId = $"abandoned-{now}", RunStartedAt = now };
        var hooks = webhooks.ForRunEnd(abandoned, [], error, now);
        await webhooks.ArmAsync(key, hooks);
        var ended = await store.UpdateAsync(key, s => s.RunState != RunStates.Idle && s.LeaseUntil > now ? null : s with
        {
            RunState = RunStates.Idle,
            LeaseUntil = 0,
            RunCounts = [],
            LastStatus = "ERROR",
            LastError = error,
            FinishedAt = now,
            NextRunAt = next > 0 && OnGrid(s, current) ? next : s.NextRunAt,
            Outbox = RunWebhooks.Append(s.Outbox, hooks),
        }, ct);
        if (ended is not null)
        {
            // No duration: the row's start may be an earlier run's (the poisoned message may never have claimed one).
            SyncHubTelemetry.RunsFailed.Add(1, SyncHubTelemetry.Tags(key.Integration, key.Sync));
            await SendOwedAsync(ended, now, ct);
            if (hooks.Count > 0)
            {
                await FlushWebhooksAsync(key);
            }
        }
    }

    /// <summary>Moves a run end's webhooks from the row's outbox to delivery; if this fails, the armed flush does it later.</summary>
    internal async Task FlushWebhooksAsync(SyncKey key)
    {
        try
        {
            await webhooks.FlushAsync(key);
        }
        catch (Exception e)
        {
            logger.LogWarning("Sync {Sync}: webhooks stay in the outbox until the delayed flush: {Error}", key, e.Message);
        }
    }

    /// <summary>A run's end in the metrics: succeeded or failed, and its duration from its start (across continuations).</summary>
    internal static void RecordEnd(SyncKey key, Schedule ended, long now)
    {
        var tags = SyncHubTelemetry.Tags(key.Integration, key.Sync);
        (ended.LastStatus == "SUCCESS" ? SyncHubTelemetry.RunsSucceeded : SyncHubTelemetry.RunsFailed).Add(1, tags);
        if (ended.RunStartedAt > 0)
        {
            tags.Add(SyncHubTelemetry.StatusTag, ended.LastStatus);
            SyncHubTelemetry.RunDuration.Record(SyncHubTelemetry.Seconds(ended.RunStartedAt, now), tags);
        }
    }

    /// <summary>
    /// The next run on the frequency grid (<c>anchor + k × interval</c>, missed slots skipped) for a run claimed on
    /// <paramref name="grid"/>'s grid, or 0 when <paramref name="current"/> is off that grid (paused, or started or
    /// given a frequency during the run: that change has placed the next run itself).
    /// </summary>
    internal long NextRunAt(Schedule current, Schedule grid, long now) =>
        OnGrid(current, grid) ? ScheduleGrid.NextAfter(current.Anchor, schedules.FrequencyOf(current).Interval, now) : 0;

    private static bool OnGrid(Schedule s, Schedule grid) =>
        s.State == ScheduleStates.Started && s.Anchor == grid.Anchor && s.FrequencyOverride == grid.FrequencyOverride;

    /// <summary>
    /// The row a run leaves: idle, its outcome recorded, and (in the same write) the next run placed on the grid when
    /// the row is still on the grid the run was claimed on (<paramref name="next"/>'s due entry is written first).
    /// </summary>
    internal static Schedule Ended(Schedule s, Schedule grid, long next, long now, Dictionary<string, ModelCounts> counts, string? error = null) => s with
    {
        RunState = RunStates.Idle,
        LeaseUntil = 0,
        RunCounts = [],
        LastStatus = error is null ? "SUCCESS" : "ERROR",
        LastError = error,
        FinishedAt = now,
        LastResult = counts,
        LastSyncDate = error is null ? s.RunStartedAt : s.LastSyncDate,
        Successes = s.Successes + (error is null ? 1 : 0),
        NextRunAt = next > 0 && OnGrid(s, grid) ? next : s.NextRunAt,
    };

    /// <summary>What is owed once a run has ended: the follow-up of a trigger, or the run of a start made during the run.</summary>
    internal async Task SendOwedAsync(Schedule ended, long now, CancellationToken ct)
    {
        if (ended.RunState == RunStates.Idle && (ended.TriggerPending || (ended.State == ScheduleStates.Started && ended.NextRunAt > 0 && ended.NextRunAt <= now)))
        {
            await queue.SendAsync(new SyncRunMessage(ended.Key, ended.TriggerPending ? SyncRunKind.Triggered : SyncRunKind.Scheduled), ct);
        }
    }
}

/// <summary>
/// A run lease held by this invocation: the schedule row as last written by it, with its ETag, so that each heartbeat,
/// checkpoint, continuation and finish is one conditional write of the row. When someone else wrote the row since (a
/// trigger, a pause, a frequency change, a takeover: the write gets 412), the row is read again and, while the lease
/// id is still this one, the change is applied to it; otherwise the lease is lost (<see cref="LostToken"/> is
/// cancelled and the write reports false/null): the run is fenced out. One write at a time per lease.
/// </summary>
public sealed class RunLease : IDisposable
{
    private readonly RunLeases _leases;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly CancellationTokenSource _lost = new();
    private Schedule _current;

    internal RunLease(RunLeases leases, Schedule claimed, bool resumed)
    {
        _leases = leases;
        _current = claimed;
        Claimed = claimed;
        Resumed = resumed;
    }

    /// <summary>The row as this claim wrote it (its grid, checkpoint, counts so far, flags).</summary>
    public Schedule Claimed { get; }

    public bool Resumed { get; }
    public SyncKey Key => Claimed.Key;
    public string RunId => Claimed.RunId!;

    /// <summary>The row as last written (or, after a conflict, read) by this lease.</summary>
    public Schedule Current => Volatile.Read(ref _current);

    /// <summary>Cancelled once the lease is found lost: another invocation holds the run now, or the schedule is gone.</summary>
    public CancellationToken LostToken => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    private long Now => _leases.Clock.GetUtcNow().UtcTicks;

    private bool Holds(Schedule s) => s.LeaseId == Claimed.LeaseId;

    private bool Running(Schedule s) => Holds(s) && s.RunState == RunStates.Running;

    /// <summary>Renews the lease for its full length. False: the lease is lost.</summary>
    public async Task<bool> HeartbeatAsync(CancellationToken ct)
    {
        var until = Now + _leases.Options.LeaseDuration.Ticks;
        return await WriteAsync(s => Running(s) ? s with { LeaseUntil = until } : null, ct) is not null;
    }

    /// <summary>Saves the checkpoint with the counts so far (a run taken over resumes from both). False: the lease is lost.</summary>
    public async Task<bool> SaveCheckpointAsync(string? checkpoint, Dictionary<string, ModelCounts> counts, CancellationToken ct) =>
        await WriteAsync(s => Running(s) ? s with { Checkpoint = checkpoint, RunCounts = counts } : null, ct) is not null;

    /// <summary>The models were emptied before the run (reset + emptyCache): not again on a continuation.</summary>
    public async Task<bool> EmptyCacheDoneAsync(CancellationToken ct) =>
        await WriteAsync(s => Holds(s) ? s with { EmptyCacheDue = false } : null, ct) is not null;

    /// <summary>Gives the run up without an outcome (its connection was deleted).</summary>
    public async Task<bool> ReleaseAsync(CancellationToken ct) =>
        await WriteAsync(s => Holds(s) ? s with { RunState = RunStates.Idle, LeaseUntil = 0 } : null, ct) is not null;

    /// <summary>
    /// The time budget ran out: the run becomes CONTINUING with its counts (its checkpoint is already saved), and a
    /// continuation message is sent. False: the lease was lost, nothing is sent.
    /// </summary>
    public async Task<bool> ContinueAsync(Dictionary<string, ModelCounts> counts, CancellationToken ct)
    {
        var until = Now + 2 * _leases.Options.LeaseDuration.Ticks;
        if (await WriteAsync(s => Running(s) ? s with { RunState = RunStates.Continuing, LeaseUntil = until, RunCounts = counts } : null, ct) is null)
        {
            return false;
        }
        await _leases.Queue.SendAsync(new SyncRunMessage(Key, SyncRunKind.Continuation, RunId), ct);
        return true;
    }

    /// <summary>
    /// Ends the run: the one place a run's outcome is recorded. Writes the next run's due-index entry, then the row in
    /// one conditional write (idle, outcome, counts, last sync date, and the next run on the frequency grid, so no
    /// reader sees a finished run whose next run has passed), then sends what is owed now (a trigger that arrived
    /// during the run, or the run of a start made during it). Null when the lease was lost: nothing is recorded.
    /// </summary>
    public async Task<Schedule?> FinishAsync(Dictionary<string, ModelCounts> counts, string? error, CancellationToken ct)
    {
        var now = Now;
        await _writer.WaitAsync(ct);
        try
        {
            var next = _leases.NextRunAt(_current, Claimed, now);
            if (next > 0)
            {
                await _leases.Due.AddAsync(Key, next, ct);
            }
            // The run's webhooks go into the same write as its end (an outbox on the row), so a crash can neither lose
            // them nor send them for a run that did not end; a delayed flush is queued first, in case none follows.
            var webhooks = _leases.Webhooks.ForRunEnd(_current, counts, error, now);
            await _leases.Webhooks.ArmAsync(Key, webhooks);
            var ended = await WriteHeldAsync(s => Holds(s)
                ? RunLeases.Ended(s, Claimed, next, now, counts, error) with { Outbox = RunWebhooks.Append(s.Outbox, webhooks) }
                : null, ct);
            if (ended is null)
            {
                return null;
            }
            RunLeases.RecordEnd(Key, ended, now);
            await _leases.History.RecordAsync(ended, counts, error, now, ct);
            await _leases.SendOwedAsync(ended, now, ct);
            if (webhooks.Count > 0)
            {
                await _leases.FlushWebhooksAsync(Key);
            }
            return ended;
        }
        finally
        {
            _writer.Release();
        }
    }



    /// <summary>Heartbeats at a third of the lease's length until <paramref name="stop"/>; cancels <see cref="LostToken"/> if the lease is lost.</summary>
    public async Task KeepAliveAsync(CancellationToken stop)
    {
        var period = _leases.Options.LeaseDuration / 3;
        while (!stop.IsCancellationRequested && !IsLost)
        {
            try
            {
                await Task.Delay(period, _leases.Clock, stop);
                await HeartbeatAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A storage hiccup: keep trying until the lease would have run out.
                _leases.Logger.LogWarning("Heartbeat of {Sync} failed: {Error}", Key, e.Message);
            }
        }
    }

    private async Task<Schedule?> WriteAsync(Func<Schedule, Schedule?> change, CancellationToken ct)
    {
        await _writer.WaitAsync(ct);
        try
        {
            return await WriteHeldAsync(change, ct);
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>
    /// One conditional write of <paramref name="change"/> applied to the row held; on a conflict, the row is read
    /// again and the change applied to it (the change returns null when the lease is not this one any more). The
    /// caller holds the writer gate.
    /// </summary>
    private async Task<Schedule?> WriteHeldAsync(Func<Schedule, Schedule?> change, CancellationToken ct)
    {
        var current = _current;
        while (true)
        {
            if (change(current) is not { } next)
            {
                _lost.Cancel();
                return null;
            }
            if (await _leases.Store.TryReplaceAsync(current, next, ct) is { } written)
            {
                Volatile.Write(ref _current, written);
                return written;
            }
            // Someone else wrote the row since (or deleted it): read theirs; the change decides if the lease is still ours.
            if (await _leases.Store.GetAsync(Key, ct) is not { } fresh)
            {
                _lost.Cancel();
                return null;
            }
            current = fresh;
        }
    }

    public void Dispose()
    {
        _writer.Dispose();
        _lost.Dispose();
    }
}
