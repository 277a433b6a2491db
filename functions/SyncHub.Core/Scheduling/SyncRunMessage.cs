using System.Text.Json;
using System.Text.Json.Serialization;
using SyncHub.Core.Model;

namespace SyncHub.Core.Scheduling;

/// <summary>Why a run message was sent. The runner decides from the schedule row whether it still applies.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SyncRunKind>))]
public enum SyncRunKind
{
    /// <summary>The scheduler found the schedule due.</summary>
    Scheduled,

    /// <summary>trigger/start asked for a run now (the schedule's pending-trigger flag says it is still owed).</summary>
    Triggered,

    /// <summary>A run that reached its time budget continues where its checkpoint left off.</summary>
    Continuation,
}

/// <summary>A message on the <c>sync-runs</c> queue. Duplicates are harmless: the run lease admits one.</summary>
/// <remarks>
/// A scheduler message may also carry <see cref="FanOut"/>: more due syncs, which the receiving function re-sends as
/// messages of their own before running <see cref="Key"/>. The tick then sends one message per 32 due syncs, so its cost
/// stays small, and the fan-out runs in parallel on the queue's instances.
/// <see cref="EnqueuedAt"/> is set by <see cref="SyncRunQueue.SendAsync"/>: when the message becomes visible (sent, plus
/// its delay), for the queue pickup latency metric (the queue trigger does not see the message's insertion time).
/// </remarks>
public sealed record SyncRunMessage(
    [property: JsonPropertyName("key")] SyncKey Key,
    [property: JsonPropertyName("kind")] SyncRunKind Kind,
    [property: JsonPropertyName("run_id")] string? RunId = null,
    [property: JsonPropertyName("fan_out")] IReadOnlyList<SyncKey>? FanOut = null,
    [property: JsonPropertyName("control")] ControlRequest? Control = null,
    [property: JsonPropertyName("enqueued_at")] DateTimeOffset? EnqueuedAt = null)
{
    /// <summary>A bulk control call's next page (<see cref="BulkControl"/>); its key only names the integration.</summary>
    public static SyncRunMessage ForControl(ControlRequest request) =>
        new(new SyncKey(request.Integration, "", "", ""), SyncRunKind.Triggered, Control: request);

    /// <summary>Due syncs per scheduler message: 32 keys stay far below the 64 KiB message limit.</summary>
    public const int MaxFanOut = 31;

    public string ToJson() => JsonSerializer.Serialize(this, SchedulingJson.Default.SyncRunMessage);
}

[JsonSerializable(typeof(SyncRunMessage))]
[JsonSerializable(typeof(Dictionary<string, ModelCounts>))]
internal sealed partial class SchedulingJson : JsonSerializerContext;

/// <summary>What a run did to one model, and the first and last cursor (ticks) it wrote (0: none; for webhooks).</summary>
public sealed record ModelCounts(
    [property: JsonPropertyName("added")] int Added,
    [property: JsonPropertyName("updated")] int Updated,
    [property: JsonPropertyName("deleted")] int Deleted,
    [property: JsonPropertyName("from")] long FirstCursor = 0,
    [property: JsonPropertyName("to")] long LastCursor = 0)
{
    public ModelCounts Plus(ModelCounts other) => new(Added + other.Added, Updated + other.Updated, Deleted + other.Deleted,
        FirstCursor == 0 ? other.FirstCursor : other.FirstCursor == 0 ? FirstCursor : Math.Min(FirstCursor, other.FirstCursor),
        Math.Max(LastCursor, other.LastCursor));
}
