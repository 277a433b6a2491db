using SyncHub.Core.Connections;

namespace SyncHub.Core.Webhooks;

/// <summary>
/// A deleted connection takes its webhook rows with it: deliveries still pending or dead-lettered (their bodies name
/// the connection, and nobody could redeliver them through its id any more) and the per-sync summaries.
/// </summary>
public sealed class WebhooksLifecycle(WebhookStore store) : IConnectionLifecycle
{
    public Task OnImportedAsync(Connection connection, bool created, CancellationToken ct) => Task.CompletedTask;

    public Task OnDeletingAsync(string providerConfigKey, string connectionId, CancellationToken ct) =>
        store.DeleteConnectionAsync(providerConfigKey, connectionId, ct);
}
