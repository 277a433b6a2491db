using System.Text.Json.Serialization;

namespace SyncHub.Core.Model;

/// <summary>A sync named in a control request: <c>issues</c>, <c>issues::v1</c> or <c>{ name, variant }</c>.</summary>
public sealed record SyncSelector(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("variant")] string Variant);
