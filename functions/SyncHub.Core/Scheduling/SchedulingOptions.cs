namespace SyncHub.Core.Scheduling;

/// <summary>Run timing (<c>SyncHub__Scheduling__*</c>). Defaults fit the Functions 10-minute timeout.</summary>
public sealed class SchedulingOptions
{
    public const string Section = "SyncHub:Scheduling";
    public const string RunQueueSetting = "SyncHubRunQueue";

    /// <summary>How long a run's lease lasts without a heartbeat; a crashed run is taken over after it.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>An invocation stops here, saves its checkpoint and continues in a new one (below functionTimeout).</summary>
    public TimeSpan RunBudget { get; set; } = TimeSpan.FromMinutes(8);

    /// <summary>
    /// The run queue (app setting <c>SyncHubRunQueue</c>, default <c>sync-runs</c>; the queue triggers read the same
    /// setting). It also names the due index's partition, so two deployments sharing a storage account, or tests
    /// sharing an Azurite, never run each other's syncs.
    /// </summary>
    public string RunQueue { get; set; } = Storage.StorageNames.SyncRunsQueue;

    /// <summary>At most this many due runs are enqueued per scheduler tick; the rest go on the next tick.</summary>
    public int MaxDuePerTick { get; set; } = 5000;
}
