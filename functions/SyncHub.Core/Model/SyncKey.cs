using System.Text.Json.Serialization;

namespace SyncHub.Core.Model;

/// <summary>Identifies a sync: (integration, connection, sync name, variant). One schedule per key.</summary>
public sealed record SyncKey(
    [property: JsonPropertyName("integration")] string Integration,
    [property: JsonPropertyName("connection_id")] string ConnectionId,
    [property: JsonPropertyName("sync")] string Sync,
    [property: JsonPropertyName("variant")] string Variant)
{
    public const string BaseVariant = "base";

    /// <summary>Sync names and variants match <c>[a-zA-Z0-9_-]+</c>, so they are safe in a key as they are.</summary>
    [JsonIgnore]
    public string RowKey => $"{Sync}:{Variant}";

    public override string ToString() => $"{Integration}/{Sync}::{Variant}";
}
