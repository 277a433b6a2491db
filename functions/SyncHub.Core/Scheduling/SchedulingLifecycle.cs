using SyncHub.Core.Configuration;
using SyncHub.Core.Connections;
using SyncHub.Core.Model;

namespace SyncHub.Core.Scheduling;

/// <summary>An imported connection gets one schedule per sync of its integration (base variant); a deleted one loses them all.</summary>
public sealed class SchedulingLifecycle(SyncSchedules schedules, ScheduleStore store, IntegrationCatalog catalog) : IConnectionLifecycle
{
    public async Task OnImportedAsync(Connection connection, bool created, CancellationToken ct)
    {
        foreach (var sync in catalog.Find(connection.ProviderConfigKey)?.Syncs ?? [])
        {
            await schedules.CreateAsync(new SyncKey(connection.ProviderConfigKey, connection.ConnectionId, sync.Name, SyncKey.BaseVariant), ct);
        }
    }

    public async Task OnDeletingAsync(string providerConfigKey, string connectionId, CancellationToken ct)
    {
        foreach (var schedule in await store.ListAsync(providerConfigKey, connectionId, ct))
        {
            await schedules.DeleteAsync(schedule, ct);
        }
    }
}
