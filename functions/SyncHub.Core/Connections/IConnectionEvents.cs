namespace SyncHub.Core.Connections;

/// <summary>
/// What happens to a connection that others may want to hear about (the auth webhook:
/// <c>{ type: "auth", operation: "refresh", success: false, error }</c>). Called once per failure episode: when a
/// refresh fails on a connection that had no auth error; not again while the episode lasts (until a refresh succeeds
/// or the credentials are imported again). Implementations must not throw; a failure is logged and ignored.
/// </summary>
public interface IConnectionEvents
{
    /// <param name="authMode">The connection's credentials type (<c>OAUTH2</c>, <c>OAUTH2_CC</c>).</param>
    Task OnRefreshFailedAsync(Connection connection, string authMode, ConnectionAuthError error, CancellationToken ct);
}

/// <summary>The default: nobody listens.</summary>
public sealed class NoConnectionEvents : IConnectionEvents
{
    public Task OnRefreshFailedAsync(Connection connection, string authMode, ConnectionAuthError error, CancellationToken ct) => Task.CompletedTask;
}

/// <summary>
/// A connection's token could not be refreshed or fetched. The message is what the run's error and the connection's
/// auth error show (<c>OAuth refresh failed: invalid_grant</c>); it never holds a token or a secret.
/// </summary>
public sealed class OAuthRefreshException(string message) : Exception(message);
