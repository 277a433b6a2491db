using System.Text.Json.Nodes;

namespace SyncHub.Core.Connections;

/// <summary>
/// A customer's connection to an integration, as the API shows it (never with credentials). <see cref="AuthError"/>:
/// its OAuth token could not be refreshed (shown as <c>errors: [{ type: "auth" }]</c>) until a refresh succeeds or
/// the credentials are imported again.
/// </summary>
public sealed record Connection(
    long Id,
    string ProviderConfigKey,
    string ConnectionId,
    string Provider,
    JsonObject Metadata,
    JsonObject ConnectionConfig,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    ConnectionAuthError? AuthError = null);

/// <summary>
/// A failure episode of a connection's token refresh: <see cref="LogId"/> names the episode (kept while it lasts),
/// <see cref="Message"/> says what failed (<c>OAuth refresh failed: invalid_grant</c>; never a token), <see cref="At"/>
/// when the last attempt failed.
/// </summary>
public sealed record ConnectionAuthError(string LogId, string Message, DateTimeOffset At);

/// <summary>
/// The credentials of a connection, decrypted only for a sync run. <see cref="Values"/> holds the credential object
/// as it was imported (<c>type</c> plus <c>apiKey</c>, <c>username</c>/<c>password</c> or <c>access_token</c>...),
/// with what a refresh changed (<c>access_token</c>, <c>refresh_token</c>, <c>expires_at</c>, <c>raw</c>).
/// </summary>
public sealed record ConnectionCredentials(string Type, JsonObject Values)
{
    public string? Get(string key) => Values.TryGetPropertyValue(key, out var node) && node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>Never print credentials, even by accident in a log template.</summary>
    public override string ToString() => $"{Type} credentials";
}
