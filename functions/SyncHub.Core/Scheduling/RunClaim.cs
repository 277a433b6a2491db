namespace SyncHub.Core.Scheduling;

/// <summary>
/// The run lease rule, in one place: which message may run a sync now. An idle schedule runs when it is due (and
/// started) or owed a trigger; a busy one only for its own continuation or once its lease has expired (takeover).
/// Everything else (duplicates, stale messages) is told no.
/// </summary>
public static class RunClaim
{
    /// <summary>Whether this message may take the run now, and the row that claims it.</summary>
    public static Schedule? Claim(Schedule s, SyncRunMessage message, long now, TimeSpan leaseDuration, out bool resumed)
    {
        resumed = false;
        var lease = now + leaseDuration.Ticks;
        if (s.RunState != RunStates.Idle)
        {
            var expired = s.LeaseUntil <= now;
            var continuation = message.Kind == SyncRunKind.Continuation && message.RunId == s.RunId && s.RunState == RunStates.Continuing;
            if (!expired && !continuation)
            {
                return null;
            }
            resumed = true;
            // A run that was RUNNING when its lease expired crashed: what it had seen is lost, so no delete detection.
            return s with { RunState = RunStates.Running, LeaseId = NewLeaseId(), LeaseUntil = lease, DeletesUnsafe = s.DeletesUnsafe || s.RunState == RunStates.Running };
        }
        var due = s.State == ScheduleStates.Started && s.NextRunAt > 0 && s.NextRunAt <= now;
        if (message.Kind == SyncRunKind.Continuation || !(s.TriggerPending || due))
        {
            return null;
        }
        var reset = s.TriggerPending && s.ResetPending;
        var lastSyncDate = reset ? 0 : s.LastSyncDate;
        return s with
        {
            RunState = RunStates.Running,
            RunId = Guid.NewGuid().ToString("N"),
            LeaseId = NewLeaseId(),
            LeaseUntil = lease,
            RunStartedAt = now,
            RunCounts = [],
            DeletesUnsafe = false,
            EmptyCacheDue = s.TriggerPending && s.EmptyCachePending,
            TriggerPending = false,
            ResetPending = false,
            EmptyCachePending = false,
            Checkpoint = reset ? null : s.Checkpoint,
            LastSyncDate = lastSyncDate,
            RunType = lastSyncDate == 0 ? RunTypes.Initial : RunTypes.Incremental,
        };
    }


    private static string NewLeaseId() => Guid.NewGuid().ToString("N");
}
