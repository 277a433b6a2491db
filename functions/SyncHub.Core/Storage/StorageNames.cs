namespace SyncHub.Core.Storage;

/// <summary>
/// Every fixed table and queue SyncHub uses. Infra creates exactly these (a test checks the Bicep against this list);
/// record tables are per partition and created on first write.
/// </summary>
public static class StorageNames
{
    public const string ConnectionsTable = "connections";
    public const string RecordSetsTable = "recordsets";
    public const string SchedulesTable = "schedules";
    public const string DueRunsTable = "dueruns";
    public const string RunSeenTable = "runseen";
    public const string WebhooksTable = "webhooks";
    public const string RunHistoryTable = "runhistory";

    public const string SyncRunsQueue = "sync-runs";
    public const string WebhooksQueue = "webhooks";

    public static IReadOnlyList<string> FixedTables { get; } = [ConnectionsTable, RecordSetsTable, SchedulesTable, DueRunsTable, RunSeenTable, WebhooksTable, RunHistoryTable];
    public static IReadOnlyList<string> Queues { get; } = [SyncRunsQueue, SyncRunsQueue + "-poison", WebhooksQueue, WebhooksQueue + "-poison"];
}
