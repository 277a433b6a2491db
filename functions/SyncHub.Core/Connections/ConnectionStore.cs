using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using SyncHub.Core.Storage;

namespace SyncHub.Core.Connections;

/// <summary>
/// Connections in the <c>connections</c> table: PartitionKey = provider config key, RowKey = escaped connection id.
/// Credentials are stored only as AES-GCM ciphertext bound to the row's identity.
/// </summary>
public sealed class ConnectionStore(FixedTables tables, CredentialProtector protector, TimeProvider clock)
{
    /// <summary>Metadata is stored as one string property: 64 KiB of UTF-16.</summary>
    public const int MaxMetadataChars = 32 * 1024;

    public async Task<(Connection Connection, bool Created)> UpsertAsync(
        string providerConfigKey, string connectionId, string provider, ConnectionCredentials credentials,
        JsonObject? metadata, JsonObject? connectionConfig, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.ConnectionsTable, ct);
        var rowKey = StorageKeys.Escape(connectionId);
        var now = clock.GetUtcNow();
        while (true)
        {
            var existing = await table.GetEntityIfExistsAsync<TableEntity>(providerConfigKey, rowKey, cancellationToken: ct);
            var entity = existing.HasValue ? existing.Value! : new TableEntity(providerConfigKey, rowKey)
            {
                ["Id"] = NewId(),
                ["ConnectionId"] = connectionId,
                ["ProviderConfigKey"] = providerConfigKey,
                ["CreatedAt"] = now,
            };
            entity["Provider"] = provider;
            entity["UpdatedAt"] = now;
            // An import without metadata keeps what was there; one with metadata replaces it.
            if (metadata is not null || !existing.HasValue)
            {
                entity["Metadata"] = SerializeMetadata(metadata ?? []);
            }
            if (connectionConfig is not null || !existing.HasValue)
            {
                entity["ConnectionConfig"] = (connectionConfig ?? []).ToJsonString();
            }
            entity["CredentialsType"] = credentials.Type;
            entity["Credentials"] = protector.Protect(Encoding.UTF8.GetBytes(credentials.Values.ToJsonString()), AssociatedData(providerConfigKey, rowKey));
            try
            {
                if (existing.HasValue)
                {
                    await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, ct);
                }
                else
                {
                    await table.AddEntityAsync(entity, ct);
                }
                return (ToConnection(entity), !existing.HasValue);
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // A concurrent import of the same connection won the race: re-read and apply ours on top.
            }
        }
    }

    public async Task<Connection?> GetAsync(string providerConfigKey, string connectionId, CancellationToken ct)
    {
        var entity = await GetEntityAsync(providerConfigKey, connectionId, ct);
        return entity is null ? null : ToConnection(entity);
    }

    public async Task<bool> ExistsAsync(string providerConfigKey, string connectionId, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.ConnectionsTable, ct);
        var entity = await table.GetEntityIfExistsAsync<TableEntity>(providerConfigKey, StorageKeys.Escape(connectionId), ["PartitionKey"], ct);
        return entity.HasValue;
    }

    public async Task<ConnectionCredentials?> GetCredentialsAsync(string providerConfigKey, string connectionId, CancellationToken ct)
    {
        var entity = await GetEntityAsync(providerConfigKey, connectionId, ct);
        if (entity is null)
        {
            return null;
        }
        var plaintext = protector.Unprotect(entity.GetBinary("Credentials"), AssociatedData(entity.PartitionKey, entity.RowKey));
        var values = JsonNode.Parse(plaintext)!.AsObject();
        return new ConnectionCredentials(entity.GetString("CredentialsType"), values);
    }

    /// <summary>Lists connections, optionally of one connection id and/or a set of integrations.</summary>
    public async Task<IReadOnlyList<Connection>> ListAsync(string? connectionId, IReadOnlyCollection<string>? integrations, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.ConnectionsTable, ct);
        var filters = new List<string>();
        if (connectionId is not null)
        {
            filters.Add(TableClient.CreateQueryFilter($"RowKey eq {StorageKeys.Escape(connectionId)}"));
        }
        if (integrations is { Count: 1 })
        {
            // One integration is one partition: ask for it rather than scanning every integration's connections.
            filters.Add(TableClient.CreateQueryFilter($"PartitionKey eq {integrations.First()}"));
        }
        var result = new List<Connection>();
        await foreach (var entity in table.QueryAsync<TableEntity>(filters.Count == 0 ? null : string.Join(" and ", filters),
                           select: ["PartitionKey", "RowKey", "Id", "ConnectionId", "ProviderConfigKey", "Provider", "Metadata", "ConnectionConfig", "CreatedAt", "UpdatedAt"],
                           cancellationToken: ct))
        {
            if (integrations is null || integrations.Contains(entity.PartitionKey))
            {
                result.Add(ToConnection(entity));
            }
        }
        return result.OrderBy(c => c.CreatedAt).ThenBy(c => c.ConnectionId, StringComparer.Ordinal).ToList();
    }

    public async Task<bool> DeleteAsync(string providerConfigKey, string connectionId, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.ConnectionsTable, ct);
        var response = await table.DeleteEntityAsync(providerConfigKey, StorageKeys.Escape(connectionId), ETag.All, ct);
        return response.Status != 404;
    }

    /// <summary>Replaces (<paramref name="merge"/> false) or shallow-merges the metadata. Null when no such connection.</summary>
    public async Task<Connection?> UpdateMetadataAsync(string providerConfigKey, string connectionId, JsonObject metadata, bool merge, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.ConnectionsTable, ct);
        while (true)
        {
            var entity = await GetEntityAsync(providerConfigKey, connectionId, ct);
            if (entity is null)
            {
                return null;
            }
            var next = merge ? ParseObject(entity.GetString("Metadata")) : [];
            foreach (var (key, value) in metadata)
            {
                next[key] = value?.DeepClone();
            }
            entity["Metadata"] = SerializeMetadata(next);
            entity["UpdatedAt"] = clock.GetUtcNow();
            try
            {
                await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Merge, ct);
                return ToConnection(entity);
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                // Someone changed the metadata since we read it: merge onto theirs.
            }
        }
    }

    private async Task<TableEntity?> GetEntityAsync(string providerConfigKey, string connectionId, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.ConnectionsTable, ct);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(providerConfigKey, StorageKeys.Escape(connectionId), cancellationToken: ct);
        return response.HasValue ? response.Value : null;
    }

    private static string SerializeMetadata(JsonObject metadata)
    {
        var json = metadata.ToJsonString();
        if (json.Length > MaxMetadataChars)
        {
            throw new MetadataTooLargeException(json.Length, MaxMetadataChars);
        }
        return json;
    }

    private static JsonObject ParseObject(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonNode.Parse(json) as JsonObject ?? [];

    private static string AssociatedData(string partitionKey, string rowKey) => $"connections\u0000{partitionKey}\u0000{rowKey}";

    /// <summary>Nango's connection ids are numbers; a random 52-bit one fits JavaScript's safe integers.</summary>
    private static long NewId() => RandomNumberGenerator.GetInt32(1, int.MaxValue) * 1048576L + RandomNumberGenerator.GetInt32(0, 1048576);

    private static Connection ToConnection(TableEntity e) => new(
        e.GetInt64("Id") ?? 0,
        e.GetString("ProviderConfigKey"),
        e.GetString("ConnectionId"),
        e.GetString("Provider") ?? "",
        ParseObject(e.GetString("Metadata")),
        ParseObject(e.GetString("ConnectionConfig")),
        e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        e.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue);
}
