using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SyncHub.Core.Telemetry;

namespace SyncHub.Core.Scheduling;

/// <summary>
/// The timer's work: enqueue a run for each due entry of the due index, then drop those entries. Due syncs go 32 to a
/// message (<see cref="SyncRunMessage.FanOut"/>), so a tick with 1,000 due sends 32 messages. Each enqueued sync records
/// its lag (<c>synchub.scheduler.lag</c>: now minus its due time).
/// </summary>
public sealed class Scheduler(DueRuns due, SyncRunQueue queue, TimeProvider clock, IOptions<SchedulingOptions> options, ILogger<Scheduler> logger)
{
    private const int ParallelSends = 16;

    public async Task<int> EnqueueDueAsync(CancellationToken ct)
    {
        using var activity = SyncHubTelemetry.Source.StartActivity(SyncHubTelemetry.SchedulerActivity);
        var now = clock.GetUtcNow().UtcTicks;
        var runs = await due.TakeDueAsync(now, options.Value.MaxDuePerTick, ct);
        activity?.SetTag("synchub.due", runs.Count);
        if (runs.Count == 0)
        {
            return 0;
        }
        // Several entries can name one schedule (it was rescheduled); one message each is enough.
        var keys = runs.Select(r => r.Key).Distinct().ToList();
        var messages = keys.Chunk(SyncRunMessage.MaxFanOut + 1)
            .Select(chunk => new SyncRunMessage(chunk[0], SyncRunKind.Scheduled, FanOut: chunk.Length > 1 ? chunk[1..] : null));
        await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = ParallelSends, CancellationToken = ct },
            (message, token) => new ValueTask(queue.SendAsync(message, token)));
        await due.DeleteAsync(runs, ct);
        // One lag per sync: its latest due entry (an older one was superseded when the schedule was placed again).
        foreach (var run in runs.GroupBy(r => r.Key).Select(g => g.MaxBy(r => r.At)!))
        {
            SyncHubTelemetry.SchedulerLag.Record(SyncHubTelemetry.Seconds(run.At, now), SyncHubTelemetry.Tags(run.Key.Integration, run.Key.Sync));
        }
        logger.LogInformation("Scheduler enqueued {Count} due sync runs", keys.Count);
        return keys.Count;
    }
}
