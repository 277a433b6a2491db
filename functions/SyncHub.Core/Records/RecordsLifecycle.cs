using SyncHub.Core.Connections;

namespace SyncHub.Core.Records;

/// <summary>
/// A deleted connection takes all its records with it: every record set is deleted (its table dropped, the set marked
/// deleted so a run still in flight cannot write records back). Importing the connection again revives them, empty.
/// </summary>
public sealed class RecordsLifecycle(RecordSetStore sets) : IConnectionLifecycle
{
    public Task OnImportedAsync(Connection connection, bool created, CancellationToken ct) => Task.CompletedTask;

    public async Task OnDeletingAsync(string providerConfigKey, string connectionId, CancellationToken ct)
    {
        foreach (var set in await sets.ListAsync(providerConfigKey, connectionId, ct))
        {
            await sets.DeleteAsync(set.Partition, ct);
        }
    }
}
