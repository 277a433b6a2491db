using Microsoft.Azure.Functions.Worker;
using SyncHub.Core.Scheduling;

namespace SyncHub.Functions;

public sealed class SyncRunFunctions(Scheduler scheduler, SyncRunner runner)
{
    /// <summary>Every 30 s by default; the CRON is the app setting SyncHubSchedulerCron.</summary>
    [Function("EnqueueDueSyncs")]
    public Task Tick([TimerTrigger("%SyncHubSchedulerCron%")] TimerInfo timer, CancellationToken ct)
        => scheduler.EnqueueDueAsync(ct);

    [Function("RunSync")]
    public Task Run([QueueTrigger("%SyncHubRunQueue%", Connection = "SyncHubStorage")] SyncRunMessage message, CancellationToken ct)
        => runner.RunAsync(message, ct);

    [Function("RecordPoisonedSyncRun")]
    public Task Poisoned([QueueTrigger("%SyncHubRunQueue%-poison", Connection = "SyncHubStorage")] SyncRunMessage message, CancellationToken ct)
        => runner.RecordPoisonedAsync(message, ct);
}
