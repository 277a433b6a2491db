using System.Text.Json.Nodes;
using Azure;
using SyncHub.Core.Model;

namespace SyncHub.Core.Scheduling;

public static class ScheduleStates
{
    public const string Started = "STARTED";
    public const string Paused = "PAUSED";
}

public static class RunTypes
{
    public const string Initial = "INITIAL";
    public const string Incremental = "INCREMENTAL";
}

public static class RunStates
{
    public const string Idle = "IDLE";
    public const string Running = "RUNNING";

    /// <summary>Between two invocations of one run: the time budget ran out and a continuation is queued.</summary>
    public const string Continuing = "CONTINUING";
}

/// <summary>
/// One row of the <c>schedules</c> table: a sync's state (started or paused), its timing, the run in progress (if any,
/// with its lease), a coalesced pending trigger, and the outcome of the last run. Every change is ETag-conditional.
/// </summary>
public sealed record Schedule
{
    public required SyncKey Key { get; init; }
    public required string Id { get; init; }
    public string State { get; init; } = ScheduleStates.Paused;

    /// <summary>The connection's own frequency (update-connection-frequency), or null for the config's.</summary>
    public string? FrequencyOverride { get; init; }

    /// <summary>The frequency grid's origin: runs fall on Anchor + k × interval.</summary>
    public long Anchor { get; init; }
    public long NextRunAt { get; init; }

    public string RunState { get; init; } = RunStates.Idle;
    public string? RunId { get; init; }

    /// <summary>
    /// Who holds the run now: new at every claim, resume and takeover. A run continues across invocations under one
    /// <see cref="RunId"/>, but only the holder of the current lease may heartbeat, checkpoint or end it, so an
    /// invocation whose lease was taken over (it was slow, not dead) is fenced out.
    /// </summary>
    public string? LeaseId { get; init; }
    public long LeaseUntil { get; init; }
    public long RunStartedAt { get; init; }
    public Dictionary<string, ModelCounts> RunCounts { get; init; } = [];

    /// <summary>The run was taken over after a crash: what it saw is unknown, so it must not infer deletions.</summary>
    public bool DeletesUnsafe { get; init; }

    /// <summary>The run must empty its models' records before it starts (reset + emptyCache).</summary>
    public bool EmptyCacheDue { get; init; }

    public bool TriggerPending { get; init; }
    public bool ResetPending { get; init; }
    public bool EmptyCachePending { get; init; }

    public string? Checkpoint { get; init; }
    public long LastSyncDate { get; init; }

    /// <summary>
    /// INITIAL or INCREMENTAL: the type of the latest run, fixed when it is claimed (INITIAL when it started with no
    /// last sync date: the first run, or the first after a reset). Null before any run.
    /// </summary>
    public string? RunType { get; init; }

    /// <summary>SUCCESS or ERROR of the last finished run; null before any.</summary>
    public string? LastStatus { get; init; }
    public string? LastError { get; init; }
    public long FinishedAt { get; init; }
    public Dictionary<string, ModelCounts> LastResult { get; init; } = [];
    public int Successes { get; init; }

    /// <summary>
    /// Webhooks the last run's end owes, stored by the same write that records the end (JSON; see
    /// <c>Webhooks/WebhookOutbox</c>) and moved to the <c>webhooks</c> table right after. Null when none are waiting.
    /// </summary>
    public string? Outbox { get; init; }

    public ETag ETag { get; init; }

    public bool IsRunning(long now) => RunState != RunStates.Idle && LeaseUntil > now;

    public JsonObject? CheckpointObject => Checkpoint is null ? null : JsonNode.Parse(Checkpoint) as JsonObject;
}
