using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;
using SyncHub.Core.Storage;

namespace SyncHub.Core.Webhooks;

/// <summary>A message on the <c>webhooks</c> queue: "deliver what is pending for this stream" (a sync, or <c>auth</c>).</summary>
public sealed record WebhookMessage(
    [property: JsonPropertyName("integration")] string Integration,
    [property: JsonPropertyName("connection_id")] string ConnectionId,
    [property: JsonPropertyName("stream")] string Stream)
{
    public string ToJson() => JsonSerializer.Serialize(this, WebhookJson.Default.WebhookMessage);
}

/// <summary>
/// A row of the <c>webhooks</c> table. PartitionKey = the schedule partition (hash of integration, connection);
/// a delivery's RowKey is <c>&lt;stream&gt;|&lt;sequence&gt;</c> (stream = <c>sync:variant</c> or <c>auth</c>), so one
/// range query lists a stream's deliveries in order; the stream's summary is <c>&lt;stream&gt;~summary</c>.
/// </summary>
public sealed record WebhookRow
{
    public required string PartitionKey { get; init; }
    public required string RowKey { get; init; }
    public string Integration { get; init; } = "";
    public string ConnectionId { get; init; } = "";
    public string Stream { get; init; } = "";

    // A delivery
    public string? DeliveryId { get; init; }
    public string? Body { get; init; }
    public int Attempts { get; init; }
    public string? LastError { get; init; }
    public long CreatedAt { get; init; }
    public long NextAttemptAt { get; init; }
    public long LeaseUntil { get; init; }
    public bool Dead { get; init; }

    /// <summary>Indexes (in <see cref="WebhookOptions.Urls"/>) of the URLs that acknowledged it, comma-separated.</summary>
    public string Acked { get; init; } = "";

    // A summary
    public long LastDeliveryAt { get; init; }
    public string? LastStatus { get; init; }

    public ETag ETag { get; init; }

    public bool IsSummary => RowKey.EndsWith(SummarySuffix, StringComparison.Ordinal);

    public const string SummarySuffix = "~summary";

    public static string DeliveryKey(string stream, string sequence) => $"{stream}|{sequence}";

    public static string SummaryKey(string stream) => stream + SummarySuffix;
}

public sealed class WebhookRowCodec : IRowCodec<WebhookRow>
{
    public static readonly WebhookRowCodec Codec = new();

    public TableEntity Encode(WebhookRow r) => new(r.PartitionKey, r.RowKey)
    {
        ["Integration"] = r.Integration,
        ["ConnectionId"] = r.ConnectionId,
        ["Stream"] = r.Stream,
        ["DeliveryId"] = r.DeliveryId,
        ["Body"] = r.Body,
        ["Attempts"] = r.Attempts,
        ["LastError"] = r.LastError,
        ["CreatedAt"] = r.CreatedAt,
        ["NextAttemptAt"] = r.NextAttemptAt,
        ["LeaseUntil"] = r.LeaseUntil,
        ["Dead"] = r.Dead,
        ["Acked"] = r.Acked,
        ["LastDeliveryAt"] = r.LastDeliveryAt,
        ["LastStatus"] = r.LastStatus,
    };

    public WebhookRow Decode(TableEntity e) => new()
    {
        PartitionKey = e.PartitionKey,
        RowKey = e.RowKey,
        Integration = e.GetString("Integration") ?? "",
        ConnectionId = e.GetString("ConnectionId") ?? "",
        Stream = e.GetString("Stream") ?? "",
        DeliveryId = e.GetString("DeliveryId"),
        Body = e.GetString("Body"),
        Attempts = e.GetInt32("Attempts") ?? 0,
        LastError = e.GetString("LastError"),
        CreatedAt = e.GetInt64("CreatedAt") ?? 0,
        NextAttemptAt = e.GetInt64("NextAttemptAt") ?? 0,
        LeaseUntil = e.GetInt64("LeaseUntil") ?? 0,
        Dead = e.GetBoolean("Dead") ?? false,
        Acked = e.GetString("Acked") ?? "",
        LastDeliveryAt = e.GetInt64("LastDeliveryAt") ?? 0,
        LastStatus = e.GetString("LastStatus"),
        ETag = e.ETag,
    };
}
