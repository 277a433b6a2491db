using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using SyncHub.Core.Model;

namespace SyncHub.Core.Webhooks;

/// <summary>What a run did to one model, with the first and last cursor it wrote (0 when it wrote none).</summary>
public sealed record RunModelResult(string Model, int Added, int Updated, int Deleted, long FirstCursor, long LastCursor)
{
    public bool Changed => Added + Updated + Deleted > 0;
}

/// <summary>The end of a run (the last invocation of a continued run), as the webhooks need it.</summary>
public sealed record RunEnd(
    SyncKey Key,
    string RunId,
    string RunType,
    long StartedAt,
    long EndedAt,
    string? Error,
    IReadOnlyList<string> Models,
    IReadOnlyList<RunModelResult> Results);

/// <summary>
/// A webhook waiting to be delivered: stored in the schedule row's <c>Outbox</c> by the run's end, then moved to the
/// <c>webhooks</c> table. <see cref="Sequence"/> orders the deliveries of one stream (a sync, or a connection's auth
/// events); <see cref="DeliveryId"/> is deterministic, so moving an item twice is harmless.
/// </summary>
public sealed record OutboxItem(
    [property: JsonPropertyName("id")] string DeliveryId,
    [property: JsonPropertyName("seq")] string Sequence,
    [property: JsonPropertyName("body")] string Body);

[JsonSerializable(typeof(List<OutboxItem>))]
[JsonSerializable(typeof(WebhookMessage))]
internal sealed partial class WebhookJson : JsonSerializerContext;

/// <summary>
/// The bodies, exactly as Nango's <c>NangoSyncWebhookBodySuccess</c>, <c>NangoSyncWebhookBodyError</c> and
/// <c>NangoAuthWebhookBody</c>, serialized compact and escaping only what JSON needs, i.e. as JavaScript's
/// <c>JSON.stringify</c> prints the parsed object (so the legacy <c>X-Nango-Signature</c> verifies too).
/// </summary>
public static class WebhookBodies
{
    public const string AuthStream = "auth";

    public static string Serialize(JsonObject body) => body.ToJsonString(JsonOutput.Options);

    public static JsonObject SyncSuccess(RunEnd end, RunModelResult result) => new()
    {
        ["from"] = "nango",
        ["type"] = "sync",
        ["connectionId"] = end.Key.ConnectionId,
        ["providerConfigKey"] = end.Key.Integration,
        ["syncName"] = end.Key.Sync,
        ["syncVariant"] = end.Key.Variant,
        ["model"] = result.Model,
        ["syncType"] = end.RunType,
        ["success"] = true,
        ["modifiedAfter"] = ModifiedAfter(end, result),
        ["responseResults"] = new JsonObject { ["added"] = result.Added, ["updated"] = result.Updated, ["deleted"] = result.Deleted },
        ["queryTimeStamp"] = ModifiedAfter(end, result),
        ["checkpoints"] = null,
        // SyncHub's extension: page exactly this run's changes with GET /records?cursor=<from>, up to the record whose
        // _nango_metadata.cursor is <to>.
        ["cursorRange"] = result.FirstCursor > 0
            ? new JsonObject { ["from"] = new Cursor(result.FirstCursor - 1).Encode(), ["to"] = new Cursor(result.LastCursor).Encode() }
            : null,
    };

    public static JsonObject SyncError(RunEnd end) => new()
    {
        ["from"] = "nango",
        ["type"] = "sync",
        ["connectionId"] = end.Key.ConnectionId,
        ["providerConfigKey"] = end.Key.Integration,
        ["syncName"] = end.Key.Sync,
        ["syncVariant"] = end.Key.Variant,
        // As Nango: one error webhook per sync, naming its models.
        ["model"] = string.Join(',', end.Models),
        ["syncType"] = end.RunType,
        ["success"] = false,
        ["error"] = new JsonObject { ["type"] = "sync_error", ["description"] = end.Error },
        ["startedAt"] = Iso(end.StartedAt),
        ["failedAt"] = Iso(end.EndedAt),
        ["checkpoints"] = null,
    };

    public static JsonObject Auth(string integration, string connectionId, string provider, string authMode, bool created) =>
        Auth(integration, connectionId, provider, authMode, created ? "creation" : "override", error: null);

    /// <summary>Nango's <c>NangoAuthWebhookBody</c>; with an error, <c>success: false</c> and <c>error: { type, description }</c>.</summary>
    public static JsonObject Auth(string integration, string connectionId, string provider, string authMode, string operation, (string Type, string Description)? error)
    {
        var body = new JsonObject
        {
            ["from"] = "nango",
            ["type"] = "auth",
            ["operation"] = operation,
            ["connectionId"] = connectionId,
            ["authMode"] = authMode,
            ["providerConfigKey"] = integration,
            ["provider"] = provider,
            ["environment"] = "default",
            ["success"] = error is null,
        };
        if (error is { } e)
        {
            body["error"] = new JsonObject { ["type"] = e.Type, ["description"] = e.Description };
        }
        return body;
    }

    /// <summary>
    /// An inclusive <c>modified_after</c> that returns every record the run changed for the model: the time of the
    /// first cursor it wrote (cursors are last-modified ticks, strictly increasing per partition; the API's
    /// timestamps have the same 100 ns precision). A model without changes gets the run's start.
    /// </summary>
    public static string ModifiedAfter(RunEnd end, RunModelResult result) => Iso(result.FirstCursor > 0 ? result.FirstCursor : end.StartedAt);

    private static string Iso(long ticks) => RecordTimestamps.Format(ticks);

    /// <summary>A UUID (v4 layout) derived from the parts: the same run end always yields the same delivery ids.</summary>
    public static string DeliveryId(params string[] parts)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u0000', parts)), digest);
        var bytes = digest[..16].ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true).ToString();
    }

    internal static string ToJson(List<OutboxItem> items) => JsonSerializer.Serialize(items, WebhookJson.Default.ListOutboxItem);

    internal static List<OutboxItem> FromJson(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize(json, WebhookJson.Default.ListOutboxItem) ?? [];
}
