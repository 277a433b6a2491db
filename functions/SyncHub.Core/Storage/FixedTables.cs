using System.Collections.Concurrent;
using Azure.Data.Tables;

namespace SyncHub.Core.Storage;

/// <summary>
/// Hands out the fixed tables, creating each once per process if missing. In Azure, infra has created them and the
/// call is a cheap 409; on a fresh Azurite it is what makes the first request work.
/// </summary>
public sealed class FixedTables(StorageClients storage)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<TableClient>>> _tables = new();

    public Task<TableClient> GetAsync(string name, CancellationToken ct) =>
        _tables.GetOrAdd(name, n => new Lazy<Task<TableClient>>(() => CreateAsync(n))).Value.WaitAsync(ct);

    private async Task<TableClient> CreateAsync(string name)
    {
        var table = storage.Table(name);
        try
        {
            await table.CreateIfNotExistsAsync();
        }
        catch
        {
            _tables.TryRemove(name, out _);
            throw;
        }
        return table;
    }
}
