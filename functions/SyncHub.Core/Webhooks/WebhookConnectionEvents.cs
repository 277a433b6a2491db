using Microsoft.Extensions.Logging;
using SyncHub.Core.Connections;

namespace SyncHub.Core.Webhooks;

/// <summary>A failed token refresh (once per failure episode) becomes an auth webhook, when webhooks are configured.</summary>
public sealed class WebhookConnectionEvents(WebhookOutbox outbox, ILogger<WebhookConnectionEvents> logger) : IConnectionEvents
{
    public async Task OnRefreshFailedAsync(Connection connection, string authMode, ConnectionAuthError error, CancellationToken ct)
    {
        try
        {
            await outbox.RefreshFailedAsync(connection.ProviderConfigKey, connection.ConnectionId, connection.Provider, authMode, error.Message, ct);
        }
        catch (Exception e)
        {
            // The connection's error is recorded either way; the webhook is a notice of it.
            logger.LogWarning("The auth webhook of a failed refresh could not be queued: {Error}", e.Message);
        }
    }
}
