using System.Text.Json;
using Azure.Data.Tables;
using SyncHub.Core.Model;
using SyncHub.Core.Storage;

namespace SyncHub.Core.Scheduling;

/// <summary>The columns of a <c>schedules</c> row: PartitionKey = hash of (integration, connection), RowKey = <c>sync:variant</c>.</summary>
public sealed class ScheduleRows : IRowCodec<Schedule>
{
    public static readonly ScheduleRows Codec = new();

    public TableEntity Encode(Schedule s) => new(StorageKeys.SchedulePartition(s.Key), s.Key.RowKey)
    {
        ["Id"] = s.Id,
        ["Integration"] = s.Key.Integration,
        ["ConnectionId"] = s.Key.ConnectionId,
        ["Sync"] = s.Key.Sync,
        ["Variant"] = s.Key.Variant,
        ["State"] = s.State,
        ["FrequencyOverride"] = s.FrequencyOverride,
        ["Anchor"] = s.Anchor,
        ["NextRunAt"] = s.NextRunAt,
        ["RunState"] = s.RunState,
        ["RunId"] = s.RunId,
        ["LeaseId"] = s.LeaseId,
        ["LeaseUntil"] = s.LeaseUntil,
        ["RunStartedAt"] = s.RunStartedAt,
        ["RunCounts"] = JsonSerializer.Serialize(s.RunCounts, SchedulingJson.Default.DictionaryStringModelCounts),
        ["DeletesUnsafe"] = s.DeletesUnsafe,
        ["EmptyCacheDue"] = s.EmptyCacheDue,
        ["TriggerPending"] = s.TriggerPending,
        ["ResetPending"] = s.ResetPending,
        ["EmptyCachePending"] = s.EmptyCachePending,
        ["Checkpoint"] = s.Checkpoint,
        ["LastSyncDate"] = s.LastSyncDate,
        ["RunType"] = s.RunType,
        ["LastStatus"] = s.LastStatus,
        ["LastError"] = s.LastError,
        ["FinishedAt"] = s.FinishedAt,
        ["LastResult"] = JsonSerializer.Serialize(s.LastResult, SchedulingJson.Default.DictionaryStringModelCounts),
        ["Successes"] = s.Successes,
        ["Outbox"] = s.Outbox,
    };

    public Schedule Decode(TableEntity e) => new()
    {
        Key = new SyncKey(e.GetString("Integration"), e.GetString("ConnectionId"), e.GetString("Sync"), e.GetString("Variant")),
        Id = e.GetString("Id"),
        State = e.GetString("State") ?? ScheduleStates.Paused,
        FrequencyOverride = e.GetString("FrequencyOverride"),
        Anchor = e.GetInt64("Anchor") ?? 0,
        NextRunAt = e.GetInt64("NextRunAt") ?? 0,
        RunState = e.GetString("RunState") ?? RunStates.Idle,
        RunId = e.GetString("RunId"),
        LeaseId = e.GetString("LeaseId"),
        LeaseUntil = e.GetInt64("LeaseUntil") ?? 0,
        RunStartedAt = e.GetInt64("RunStartedAt") ?? 0,
        RunCounts = Counts(e.GetString("RunCounts")),
        DeletesUnsafe = e.GetBoolean("DeletesUnsafe") ?? false,
        EmptyCacheDue = e.GetBoolean("EmptyCacheDue") ?? false,
        TriggerPending = e.GetBoolean("TriggerPending") ?? false,
        ResetPending = e.GetBoolean("ResetPending") ?? false,
        EmptyCachePending = e.GetBoolean("EmptyCachePending") ?? false,
        Checkpoint = e.GetString("Checkpoint"),
        LastSyncDate = e.GetInt64("LastSyncDate") ?? 0,
        RunType = e.GetString("RunType"),
        LastStatus = e.GetString("LastStatus"),
        LastError = e.GetString("LastError"),
        FinishedAt = e.GetInt64("FinishedAt") ?? 0,
        LastResult = Counts(e.GetString("LastResult")),
        Successes = e.GetInt32("Successes") ?? 0,
        Outbox = e.GetString("Outbox"),
        ETag = e.ETag,
    };

    private static Dictionary<string, ModelCounts> Counts(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize(json, SchedulingJson.Default.DictionaryStringModelCounts) ?? [];
}
