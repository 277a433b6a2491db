using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SyncHub.Core.Scheduling;

/// <summary>The timer's work: enqueue a run for each due entry of the due index, then drop those entries.</summary>
public sealed class Scheduler(DueRuns due, SyncRunQueue queue, TimeProvider clock, IOptions<SchedulingOptions> options, ILogger<Scheduler> logger)
{
    private const int ParallelSends = 16;

    public async Task<int> EnqueueDueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcTicks;
        var runs = await due.TakeDueAsync(now, options.Value.MaxDuePerTick, ct);
        if (runs.Count == 0)
        {
            return 0;
        }
        // Several entries can name one schedule (it was rescheduled); one message each is enough.
        var keys = runs.Select(r => r.Key).Distinct().ToList();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = ParallelSends, CancellationToken = ct },
            (key, token) => new ValueTask(queue.SendAsync(new SyncRunMessage(key, SyncRunKind.Scheduled), token)));
        await due.DeleteAsync(runs, ct);
        logger.LogInformation("Scheduler enqueued {Count} due sync runs", keys.Count);
        return keys.Count;
    }
}
