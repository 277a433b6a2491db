namespace SyncHub.Core.Connections;

/// <summary>
/// What other capabilities do when a connection appears or goes: scheduling creates its syncs' schedules, records
/// drop its record tables. Keeps the connection endpoints ignorant of both.
/// </summary>
public interface IConnectionLifecycle
{
    Task OnImportedAsync(Connection connection, bool created, CancellationToken ct);

    Task OnDeletingAsync(string providerConfigKey, string connectionId, CancellationToken ct);
}
