using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SyncHub.Core.Configuration;
using SyncHub.Core.Connections;
using SyncHub.Core.Records;
using SyncHub.Core.Sdk;
using SyncHub.Core.Storage;
using SyncHub.Core.Model;

namespace SyncHub.Core.Scheduling;

/// <summary>
/// Runs one message from <c>sync-runs</c>. The run lease on the schedule row (ETag-claimed, heartbeated) makes a sync
/// single-run however many messages or hosts there are. A run stops at its time budget, keeps its checkpoint and
/// continues in a new invocation; a crashed run is taken over when its lease expires; success and failure are
/// recorded on the row, with the next run placed on the frequency grid.
/// </summary>
public sealed class SyncRunner(
    ScheduleStore store,
    SyncSchedules schedules,
    DueRuns due,
    SyncRunQueue queue,
    RunSeenStore seenStore,
    IntegrationCatalog catalog,
    SyncCatalog syncs,
    ConnectionStore connections,
    RecordWriter writer,
    RecordSetStore sets,
    SyncProxyFactory proxies,
    IOptions<SyncHubOptions> hubOptions,
    IOptions<SchedulingOptions> options,
    TimeProvider clock,
    IServiceProvider services,
    ILoggerFactory loggers,
    RunWebhooks webhooks)
{
    private const int MaxErrorLength = 2000;
    private readonly ILogger _logger = loggers.CreateLogger<SyncRunner>();

    public async Task RunAsync(SyncRunMessage message, CancellationToken ct)
    {
        if (message.FanOut is { Count: > 0 } others)
        {
            // The scheduler's batch: give every other due sync its own message first (a retry of this message only
            // re-sends duplicates, which the lease refuses), then run this one.
            await Parallel.ForEachAsync(others, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
                (key, token) => new ValueTask(queue.SendAsync(new SyncRunMessage(key, SyncRunKind.Scheduled), token)));
            message = message with { FanOut = null };
        }
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
                _logger.LogDebug("Sync {Sync} is running elsewhere; checking again in {Wait}", message.Key, wait);
            }
            else
            {
                _logger.LogDebug("Nothing to run for {Sync} ({Kind} message)", message.Key, message.Kind);
            }
            return;
        }
        _logger.LogInformation("Sync {Sync} run {RunId} {How}", message.Key, claimed.RunId, resumed ? "resumed" : "started");
        await SendWatchdogAsync(message.Key, ct);
        await ExecuteAsync(claimed, ct);
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
            _logger.LogWarning("Sync {Sync}: could not queue the takeover check ({Error}); a crash would be noticed later", key, e.Message);
        }
    }

    /// <summary>Records ERROR for a message that crashed the runner on every delivery (it reached the poison queue).</summary>
    public async Task RecordPoisonedAsync(SyncRunMessage message, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcTicks;
        _logger.LogError("Sync {Sync}: a run message failed on every delivery and was moved to the poison queue", message.Key);
        await EndRunAsync(message.Key, null, s =>
            s.RunState != RunStates.Idle && s.LeaseUntil > now ? null : s with
            {
                RunState = RunStates.Idle,
                LeaseUntil = 0,
                RunCounts = [],
                LastStatus = "ERROR",
                LastError = "The run failed repeatedly before the sync could start (see the logs); it was abandoned after the queue's maximum delivery count.",
                FinishedAt = now,
            }, ct);
    }

    private async Task ExecuteAsync(Schedule schedule, CancellationToken hostToken)
    {
        var key = schedule.Key;
        using var leaseLost = new CancellationTokenSource();
        using var budget = new CancellationTokenSource(options.Value.RunBudget, clock);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(hostToken, leaseLost.Token, budget.Token);
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = HeartbeatAsync(schedule, leaseLost, heartbeatStop.Token);
        RunOutput? output = null;
        try
        {
            var integration = catalog.Find(key.Integration) ?? throw new SyncConfigurationException($"Integration '{key.Integration}' is no longer configured.");
            var definition = integration.FindSync(key.Sync) ?? throw new SyncConfigurationException($"Sync '{key.Sync}' is no longer configured for '{key.Integration}'.");
            var connection = await connections.GetAsync(key.Integration, key.ConnectionId, run.Token);
            var credentials = await connections.GetCredentialsAsync(key.Integration, key.ConnectionId, run.Token);
            if (connection is null || credentials is null)
            {
                _logger.LogInformation("Sync {Sync}: the connection was deleted; the run is dropped", key);
                await store.UpdateAsync(key, s => s.LeaseId == schedule.LeaseId ? s with { RunState = RunStates.Idle, LeaseUntil = 0 } : null, CancellationToken.None);
                return;
            }
            if (schedule.EmptyCacheDue)
            {
                await EmptyCacheAsync(schedule, definition, run.Token);
            }
            var trackDeletes = definition is { Type: SyncType.Full, TrackDeletes: true };
            output = new RunOutput(schedule, definition.Models, trackDeletes, writer, store, _logger);
            if (trackDeletes && schedule.RunCounts.Count > 0 && !schedule.DeletesUnsafe)
            {
                foreach (var (model, ids) in await seenStore.LoadAsync(schedule.RunId!, run.Token))
                {
                    output.Seen[model] = ids;
                }
            }
            using var proxy = proxies.Create(integration.BaseUrl ?? new Uri("http://invalid.invalid/"), credentials);
            var context = new SyncContext(key.Integration, key.ConnectionId, key.Sync, key.Variant, proxy,
                connection.Metadata, hubOptions.Value.EnvironmentVariables,
                schedule.LastSyncDate > 0 ? new DateTimeOffset(schedule.LastSyncDate, TimeSpan.Zero) : null,
                schedule.CheckpointObject, output, loggers.CreateLogger($"SyncHub.Syncs.{key.Integration}.{key.Sync}"));

            await syncs.Create(services, key.Integration, key.Sync).ExecuteAsync(context, run.Token);

            if (trackDeletes)
            {
                await DeleteUnseenAsync(schedule, definition, output, run.Token);
            }
            await FinishAsync(schedule, output.Counts, error: null);
        }
        catch (Exception e) when (e is OperationCanceledException && leaseLost.IsCancellationRequested)
        {
            _logger.LogWarning("Sync {Sync} run {RunId} lost its lease to another invocation and stopped", key, schedule.RunId);
        }
        catch (Exception e) when (e is OperationCanceledException && (budget.IsCancellationRequested || hostToken.IsCancellationRequested))
        {
            await ContinueLaterAsync(schedule, output);
        }
        catch (RecordSetDeletedException e)
        {
            // The variant (or connection) was deleted during the run: its records must not come back. Its schedule is
            // normally gone too, and then there is nothing to record.
            _logger.LogInformation("Sync {Sync} run {RunId} stopped: its records were deleted", key, schedule.RunId);
            await FinishAsync(schedule, output?.Counts ?? schedule.RunCounts, Describe(e));
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Sync {Sync} run {RunId} failed", key, schedule.RunId);
            await FinishAsync(schedule, output?.Counts ?? schedule.RunCounts, Describe(e));
        }
        finally
        {
            heartbeatStop.Cancel();
            await heartbeat;
        }
    }

    /// <summary>Renews the lease at a third of its length; cancels the run if the lease was taken over.</summary>
    private async Task HeartbeatAsync(Schedule schedule, CancellationTokenSource leaseLost, CancellationToken stop)
    {
        var period = options.Value.LeaseDuration / 3;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, clock, stop);
                var now = clock.GetUtcNow().UtcTicks;
                var renewed = await store.UpdateAsync(schedule.Key, s => s.LeaseId == schedule.LeaseId && s.RunState == RunStates.Running
                    ? s with { LeaseUntil = now + options.Value.LeaseDuration.Ticks }
                    : null, stop);
                if (renewed is null)
                {
                    leaseLost.Cancel();
                    return;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A storage hiccup: keep trying until the lease would have run out.
                _logger.LogWarning("Heartbeat of {Sync} failed: {Error}", schedule.Key, e.Message);
            }
        }
    }

    private async Task EmptyCacheAsync(Schedule schedule, SyncDefinition definition, CancellationToken ct)
    {
        foreach (var model in definition.Models)
        {
            await sets.EmptyAsync(new RecordPartition(schedule.Key.Integration, schedule.Key.ConnectionId, model, schedule.Key.Variant), ct);
        }
        await store.UpdateAsync(schedule.Key, s => s.LeaseId == schedule.LeaseId ? s with { EmptyCacheDue = false } : null, ct);
        _logger.LogInformation("Sync {Sync}: records of {Models} emptied before the run", schedule.Key, string.Join(", ", definition.Models));
    }

    /// <summary>A complete, successful full run: every stored record it did not see was deleted at the provider.</summary>
    private async Task DeleteUnseenAsync(Schedule schedule, SyncDefinition definition, RunOutput output, CancellationToken ct)
    {
        var current = await store.GetAsync(schedule.Key, ct);
        if (current?.DeletesUnsafe ?? true)
        {
            _logger.LogWarning("Sync {Sync} run {RunId} was taken over after a crash: deletions are not inferred this time", schedule.Key, schedule.RunId);
            return;
        }
        foreach (var model in definition.Models)
        {
            var session = await output.SessionAsync(model, ct);
            var seen = output.Seen.GetValueOrDefault(model) ?? [];
            var unseen = session.LiveIds().Where(id => !seen.Contains(id)).ToList();
            if (unseen.Count > 0)
            {
                var result = await session.DeleteAsync(unseen, ct);
                output.Add(model, new ModelCounts(0, 0, result.Deleted, result.FirstCursor, result.LastCursor));
            }
        }
    }

    private async Task ContinueLaterAsync(Schedule schedule, RunOutput? output)
    {
        var ct = CancellationToken.None;
        try
        {
            if (output is { Seen.Count: > 0 })
            {
                await seenStore.SaveAsync(schedule.RunId!, output.Seen, ct);
            }
            var now = clock.GetUtcNow().UtcTicks;
            var continuing = await store.UpdateAsync(schedule.Key, s => s.LeaseId == schedule.LeaseId && s.RunState == RunStates.Running ? s with
            {
                RunState = RunStates.Continuing,
                LeaseUntil = now + 2 * options.Value.LeaseDuration.Ticks,
                RunCounts = output?.Counts ?? s.RunCounts,
            } : null, ct);
            if (continuing is not null)
            {
                await queue.SendAsync(new SyncRunMessage(schedule.Key, SyncRunKind.Continuation, schedule.RunId), ct);
                _logger.LogInformation("Sync {Sync} run {RunId} reached its time budget; continuing from its checkpoint", schedule.Key, schedule.RunId);
            }
        }
        catch (Exception e)
        {
            // The lease will expire and the run be taken over from its last checkpoint.
            _logger.LogWarning("Sync {Sync} run {RunId} could not hand over to a continuation: {Error}", schedule.Key, schedule.RunId, e.Message);
        }
    }

    private async Task FinishAsync(Schedule schedule, Dictionary<string, ModelCounts> counts, string? error)
    {
        var ct = CancellationToken.None;
        var now = clock.GetUtcNow().UtcTicks;
        var outbox = webhooks.ForRunEnd(schedule, counts, error, now);
        await webhooks.ArmAsync(schedule.Key, outbox);
        var finished = await EndRunAsync(schedule.Key, schedule, s => s.LeaseId != schedule.LeaseId ? null : s with
        {
            Outbox = RunWebhooks.Append(s.Outbox, outbox),
            RunState = RunStates.Idle,
            LeaseUntil = 0,
            RunCounts = [],
            LastStatus = error is null ? "SUCCESS" : "ERROR",
            LastError = error,
            FinishedAt = now,
            LastResult = counts,
            LastSyncDate = error is null ? s.RunStartedAt : s.LastSyncDate,
            Successes = s.Successes + (error is null ? 1 : 0),
        }, ct);
        if (finished is null)
        {
            return;
        }
        _logger.LogInformation("Sync {Sync} run {RunId} finished: {Status}", schedule.Key, schedule.RunId, finished.LastStatus);
        await webhooks.FlushAsync(schedule.Key);
        if (schedule.RunId is { } runId && counts.Count > 0)
        {
            await seenStore.DeleteAsync(runId, ct);
        }
    }

    /// <summary>
    /// Ends a run: <paramref name="end"/> gives the row the run leaves (null: the row is not this run's any more), and
    /// the same write places the next run on the frequency grid (missed slots skipped; its due-index entry is written
    /// first), so that no reader sees a finished run whose next run has passed. A start or a frequency change made
    /// while the run was going (the grid moved since <paramref name="claimed"/>) has placed the next run itself: it is
    /// kept. Then what is owed now is sent: the follow-up of a trigger, or the run of a start made during the run.
    /// </summary>
    private async Task<Schedule?> EndRunAsync(SyncKey key, Schedule? claimed, Func<Schedule, Schedule?> end, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcTicks;
        var current = await store.GetAsync(key, ct);
        if (current is null)
        {
            return null;
        }
        var grid = claimed ?? current;
        bool OnGrid(Schedule s) => s.State == ScheduleStates.Started && s.Anchor == grid.Anchor && s.FrequencyOverride == grid.FrequencyOverride;
        var next = OnGrid(current) ? ScheduleGrid.NextAfter(current.Anchor, schedules.FrequencyOf(current).Interval, now) : 0;
        if (next > 0)
        {
            await due.AddAsync(key, next, ct);
        }
        var ended = await store.UpdateAsync(key, s => end(s) is not { } done ? null : done with
        {
            NextRunAt = next > 0 && OnGrid(s) ? next : s.NextRunAt,
        }, ct);
        if (ended is { RunState: RunStates.Idle } && (ended.TriggerPending || (ended.State == ScheduleStates.Started && ended.NextRunAt > 0 && ended.NextRunAt <= now)))
        {
            await queue.SendAsync(new SyncRunMessage(key, ended.TriggerPending ? SyncRunKind.Triggered : SyncRunKind.Scheduled), ct);
        }
        return ended;
    }

    /// <summary>The run's error as GET /sync/status shows it: what failed, in a sentence; never credentials or payloads.</summary>
    internal static string Describe(Exception e)
    {
        var message = e switch
        {
            SyncConfigurationException or ProviderRequestException or ProviderResponseException or RecordSetDeletedException => e.Message,
            // Table/queue storage, not the provider: the Azure SDK throws RequestFailedException, or an
            // AggregateException once its own retries are spent (connection refused, timeouts).
            Azure.RequestFailedException storage =>
                $"SyncHub's storage answered {storage.Status}{(storage.ErrorCode is { } code ? $" ({code})" : "")}; the run stopped and keeps its checkpoint.",
            AggregateException aggregate when aggregate.InnerExceptions.Any(i => i is Azure.RequestFailedException or HttpRequestException) =>
                "SyncHub's storage could not be reached; the run stopped and keeps its checkpoint (the next run resumes from it).",
            HttpRequestException http => $"The provider could not be reached: {http.Message}",
            TimeoutException => "The provider did not answer in time.",
            _ => $"{e.GetType().Name}: {e.Message}",
        };
        return message.Length <= MaxErrorLength ? message : message[..MaxErrorLength] + "...";
    }
}
