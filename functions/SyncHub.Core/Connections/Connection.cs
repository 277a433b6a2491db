using System.Text.Json.Nodes;

namespace SyncHub.Core.Connections;

/// <summary>A customer's connection to an integration, as the API shows it (never with credentials).</summary>
public sealed record Connection(
    long Id,
    string ProviderConfigKey,
    string ConnectionId,
    string Provider,
    JsonObject Metadata,
    JsonObject ConnectionConfig,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>
/// The credentials of a connection, decrypted only for a sync run. <see cref="Values"/> holds the credential object
/// as it was imported (<c>type</c> plus <c>apiKey</c>, <c>username</c>/<c>password</c> or <c>access_token</c>...).
/// </summary>
public sealed record ConnectionCredentials(string Type, JsonObject Values)
{
    public string? Get(string key) => Values.TryGetPropertyValue(key, out var node) && node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>Never print credentials, even by accident in a log template.</summary>
    public override string ToString() => $"{Type} credentials";
}
