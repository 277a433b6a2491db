using Microsoft.Extensions.Logging;
using SyncHub.Core.Configuration;
using SyncHub.Core.Records;
using SyncHub.Core.Model;

namespace SyncHub.Core.Scheduling;

/// <summary>
/// Creates, starts, pauses, triggers and removes schedules: what connection import/delete and the sync control API
/// do to them. Each change keeps the due index and the queue in step with the row.
/// </summary>
public sealed class SyncSchedules(
    ScheduleStore store, DueRuns due, SyncRunQueue queue, RecordSetStore sets, IntegrationCatalog catalog, TimeProvider clock, ILogger<SyncSchedules> logger,
    RunHistory history)
{
    /// <summary>Creates the schedule of a sync variant if missing: started and run at once if the sync auto-starts.</summary>
    public async Task<(Schedule Schedule, bool Created)> CreateAsync(SyncKey key, CancellationToken ct)
    {
        var sync = catalog.Find(key.Integration)?.FindSync(key.Sync) ?? throw new InvalidOperationException($"No sync {key} is configured.");
        // A variant (or connection) deleted before and created again: its records may be written again, from empty.
        foreach (var partition in Partitions(key, sync))
        {
            await sets.ReviveAsync(partition, ct);
        }
        var now = clock.GetUtcNow().UtcTicks;
        var schedule = new Schedule
        {
            Key = key,
            Id = Guid.NewGuid().ToString(),
            State = sync.AutoStart ? ScheduleStates.Started : ScheduleStates.Paused,
            Anchor = now,
            NextRunAt = sync.AutoStart ? now : 0,
        };
        if (sync.AutoStart)
        {
            await due.AddAsync(key, now, ct);
        }
        var (stored, created) = await store.CreateIfMissingAsync(schedule, ct);
        if (created && sync.AutoStart)
        {
            await queue.SendAsync(new SyncRunMessage(key, SyncRunKind.Scheduled), ct);
            logger.LogInformation("Sync {Sync} created and started", key);
        }
        return (stored, created);
    }

    public Frequency FrequencyOf(Schedule schedule)
    {
        if (schedule.FrequencyOverride is { } text && Frequency.TryParse(text, out var custom, out _))
        {
            return custom;
        }
        return catalog.Find(schedule.Key.Integration)?.FindSync(schedule.Key.Sync)?.Runs ?? Frequency.Parse("every day");
    }

    /// <summary>Resumes a paused schedule: it runs now and then on its frequency. Already started: nothing changes.</summary>
    public async Task StartAsync(SyncKey key, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcTicks;
        await due.AddAsync(key, now, ct);
        var started = await store.UpdateAsync(key, s => s.State == ScheduleStates.Started ? null : s with
        {
            State = ScheduleStates.Started,
            Anchor = now,
            NextRunAt = now,
        }, ct);
        if (started is not null)
        {
            await queue.SendAsync(new SyncRunMessage(key, SyncRunKind.Scheduled), ct);
        }
        else
        {
            await due.RemoveAsync(key, now, ct);
        }
    }

    /// <summary>Pauses: nothing runs until started again; a run in progress completes.</summary>
    public async Task PauseAsync(SyncKey key, CancellationToken ct)
    {
        var before = await store.GetAsync(key, ct);
        var paused = await store.UpdateAsync(key, s => s.State == ScheduleStates.Paused ? null : s with { State = ScheduleStates.Paused, NextRunAt = 0 }, ct);
        if (paused is not null && before is not null)
        {
            await due.RemoveAsync(key, before.NextRunAt, ct);
        }
    }

    /// <summary>
    /// Asks for one run now. When a run is in progress, exactly one follow-up run is owed (the pending flag
    /// coalesces further triggers); otherwise a message is sent (a duplicate finds the flag consumed and does nothing).
    /// <paramref name="reset"/> makes that run start without checkpoint or last sync date; with
    /// <paramref name="emptyCache"/> the sync's records are emptied first, at once (a new generation). A run in progress
    /// may write on into the new generation, so its follow-up empties them again before it starts.
    /// </summary>
    public async Task TriggerAsync(SyncKey key, bool reset, bool emptyCache, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcTicks;
        var empty = reset && emptyCache;
        if (empty && catalog.Find(key.Integration)?.FindSync(key.Sync) is { } sync)
        {
            foreach (var partition in Partitions(key, sync))
            {
                await sets.EmptyAsync(partition, ct);
            }
            logger.LogInformation("Sync {Sync}: records of {Models} emptied (reset with emptyCache)", key, string.Join(", ", sync.Models));
        }
        var updated = await store.UpdateAsync(key, s => s with
        {
            TriggerPending = true,
            ResetPending = s.ResetPending || reset,
            EmptyCachePending = s.EmptyCachePending || (empty && s.RunState != RunStates.Idle),
        }, ct);
        if (updated is not null && !updated.IsRunning(now))
        {
            await queue.SendAsync(new SyncRunMessage(key, SyncRunKind.Triggered), ct);
        }
    }

    /// <summary>Sets or clears (null) the connection's frequency and moves the next run onto the new grid at once.</summary>
    public async Task<Schedule?> SetFrequencyAsync(SyncKey key, Frequency? frequency, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcTicks;
        var before = await store.GetAsync(key, ct);
        if (before is null)
        {
            return null;
        }
        var interval = (frequency ?? catalog.Find(key.Integration)?.FindSync(key.Sync)?.Runs)?.Interval ?? TimeSpan.FromDays(1);
        var next = ScheduleGrid.NextAfter(now, interval, now);
        if (before.State == ScheduleStates.Started)
        {
            await due.AddAsync(key, next, ct);
        }
        var updated = await store.UpdateAsync(key, s => s with
        {
            FrequencyOverride = frequency?.Text,
            Anchor = now,
            NextRunAt = s.State == ScheduleStates.Started ? next : 0,
        }, ct);
        if (updated is not null && before.NextRunAt != next)
        {
            await due.RemoveAsync(key, before.NextRunAt, ct);
        }
        return updated;
    }

    private static IEnumerable<RecordPartition> Partitions(SyncKey key, SyncDefinition sync) =>
        sync.Models.Select(model => new RecordPartition(key.Integration, key.ConnectionId, model, key.Variant));

    public async Task DeleteAsync(Schedule schedule, CancellationToken ct)
    {
        await store.DeleteAsync(schedule.Key, ct);
        await due.RemoveAsync(schedule.Key, schedule.NextRunAt, ct);
        // A variant (or connection) created again later starts with no history.
        await history.DeleteAsync(schedule.Key, ct);
    }
}
