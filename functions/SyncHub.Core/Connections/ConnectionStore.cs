using System.Globalization;
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
        var now = clock.GetUtcNow();
        var ciphertext = protector.Protect(Encoding.UTF8.GetBytes(credentials.Values.ToJsonString()), AssociatedData(providerConfigKey, StorageKeys.Escape(connectionId)));
        if (metadata is not null)
        {
            CheckMetadataSize(metadata);
        }
        var created = false;
        var written = await (await RowsAsync(ct)).UpdateAsync(providerConfigKey, StorageKeys.Escape(connectionId), existing =>
        {
            created = existing is null;
            var connection = existing?.Connection ?? new Connection(NewId(), providerConfigKey, connectionId, provider, [], [], now, now);
            // New credentials end an auth failure episode and any refresh in progress (its result is discarded).
            return new ConnectionRow(
                connection with
                {
                    Provider = provider,
                    UpdatedAt = now,
                    AuthError = null,
                    // An import without metadata keeps what was there; one with metadata replaces it.
                    Metadata = metadata?.DeepClone().AsObject() ?? connection.Metadata,
                    ConnectionConfig = connectionConfig?.DeepClone().AsObject() ?? connection.ConnectionConfig,
                },
                credentials.Type,
                ciphertext);
        }, ct);
        return (written!.Value.Value.Connection, created);
    }

    public async Task<Connection?> GetAsync(string providerConfigKey, string connectionId, CancellationToken ct) =>
        (await (await RowsAsync(ct)).GetAsync(providerConfigKey, StorageKeys.Escape(connectionId), ct))?.Value.Connection;

    public async Task<bool> ExistsAsync(string providerConfigKey, string connectionId, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.ConnectionsTable, ct);
        var entity = await table.GetEntityIfExistsAsync<TableEntity>(providerConfigKey, StorageKeys.Escape(connectionId), ["PartitionKey"], ct);
        return entity.HasValue;
    }

    public async Task<ConnectionCredentials?> GetCredentialsAsync(string providerConfigKey, string connectionId, CancellationToken ct) =>
        (await GetWithCredentialsAsync(providerConfigKey, connectionId, ct))?.Credentials;

    /// <summary>The connection and its decrypted credentials, from one read of its row (what a run needs). Null when no such connection.</summary>
    public async Task<(Connection Connection, ConnectionCredentials Credentials)?> GetWithCredentialsAsync(string providerConfigKey, string connectionId, CancellationToken ct)
    {
        var rowKey = StorageKeys.Escape(connectionId);
        if (await (await RowsAsync(ct)).GetAsync(providerConfigKey, rowKey, ct) is not { } row)
        {
            return null;
        }
        var plaintext = protector.Unprotect(row.Value.Credentials, AssociatedData(providerConfigKey, rowKey));
        return (row.Value.Connection, new ConnectionCredentials(row.Value.CredentialsType, JsonNode.Parse(plaintext)!.AsObject()));
    }

    /// <summary>
    /// One page of an integration's connections in key order, after <paramref name="afterConnectionId"/>: a request
    /// whatever the integration's size. <c>Next</c> is the last connection id of the page when more follow, else null.
    /// </summary>
    public async Task<(IReadOnlyList<Connection> Connections, string? Next)> PageAsync(string integration, string? afterConnectionId, int limit, CancellationToken ct)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {integration}");
        if (afterConnectionId is not null)
        {
            filter += " and " + TableClient.CreateQueryFilter($"RowKey gt {StorageKeys.Escape(afterConnectionId)}");
        }
        var page = new List<Connection>(limit + 1);
        await foreach (var row in (await RowsAsync(ct)).QueryAsync(filter, ct, ConnectionRows.ColumnsWithoutCredentials))
        {
            page.Add(row.Value.Connection);
            if (page.Count > limit)
            {
                break;
            }
        }
        return page.Count > limit ? (page.GetRange(0, limit), page[limit - 1].ConnectionId) : (page, null);
    }

    /// <summary>Lists connections, optionally of one connection id and/or a set of integrations.</summary>
    public async Task<IReadOnlyList<Connection>> ListAsync(string? connectionId, IReadOnlyCollection<string>? integrations, CancellationToken ct)
    {
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
        // Without the credentials columns: a listing never needs them.
        await foreach (var row in (await RowsAsync(ct)).QueryAsync(filters.Count == 0 ? null : string.Join(" and ", filters), ct, ConnectionRows.ColumnsWithoutCredentials))
        {
            if (integrations is null || integrations.Contains(row.Value.Connection.ProviderConfigKey))
            {
                result.Add(row.Value.Connection);
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
        var written = await (await RowsAsync(ct)).UpdateAsync(providerConfigKey, StorageKeys.Escape(connectionId), row =>
        {
            if (row is null)
            {
                return null;
            }
            // Applied to the row as read, so a concurrent change is merged onto, not overwritten.
            var next = merge ? row.Connection.Metadata.DeepClone().AsObject() : [];
            foreach (var (key, value) in metadata)
            {
                next[key] = value?.DeepClone();
            }
            CheckMetadataSize(next);
            return row with { Connection = row.Connection with { Metadata = next, UpdatedAt = clock.GetUtcNow() } };
        }, ct);
        return written?.Value.Connection;
    }

    /// <summary>The row with its ETag and its decrypted credentials (what a token refresh works on). Null when no such connection.</summary>
    public async Task<(Versioned<ConnectionRow> Row, ConnectionCredentials Credentials)?> GetRowAsync(string providerConfigKey, string connectionId, CancellationToken ct)
    {
        if (await (await RowsAsync(ct)).GetAsync(providerConfigKey, StorageKeys.Escape(connectionId), ct) is not { } row)
        {
            return null;
        }
        return (row, Decrypt(row.Value));
    }

    /// <summary>Replaces the row if it is still the version read; null when another writer changed or deleted it.</summary>
    public async Task<Versioned<ConnectionRow>?> TryReplaceRowAsync(ConnectionRow row, Azure.ETag ifMatch, CancellationToken ct) =>
        await (await RowsAsync(ct)).TryReplaceAsync(row, ifMatch, ct);

    /// <summary>The ETag read-modify-write loop on the row (<see cref="RowTable{T}.UpdateAsync(string, string, Func{T, T}, CancellationToken)"/>).</summary>
    public async Task<Versioned<ConnectionRow>?> UpdateRowAsync(string providerConfigKey, string connectionId, Func<ConnectionRow?, ConnectionRow?> change, CancellationToken ct) =>
        await (await RowsAsync(ct)).UpdateAsync(providerConfigKey, StorageKeys.Escape(connectionId), change, ct);

    /// <summary>The row with these credentials encrypted in place of its own.</summary>
    public ConnectionRow WithCredentials(ConnectionRow row, ConnectionCredentials credentials) => row with
    {
        CredentialsType = credentials.Type,
        Credentials = protector.Protect(
            Encoding.UTF8.GetBytes(credentials.Values.ToJsonString()),
            AssociatedData(row.Connection.ProviderConfigKey, StorageKeys.Escape(row.Connection.ConnectionId))),
    };

    /// <summary>The row's credentials, decrypted.</summary>
    public ConnectionCredentials Decrypt(ConnectionRow row)
    {
        var plaintext = protector.Unprotect(row.Credentials, AssociatedData(row.Connection.ProviderConfigKey, StorageKeys.Escape(row.Connection.ConnectionId)));
        return new ConnectionCredentials(row.CredentialsType, JsonNode.Parse(plaintext)!.AsObject());
    }

    private async Task<RowTable<ConnectionRow>> RowsAsync(CancellationToken ct) =>
        new(await tables.GetAsync(StorageNames.ConnectionsTable, ct), ConnectionRows.Codec);

    private static void CheckMetadataSize(JsonObject metadata)
    {
        var length = metadata.ToJsonString().Length;
        if (length > MaxMetadataChars)
        {
            throw new MetadataTooLargeException(length, MaxMetadataChars);
        }
    }

    private static string AssociatedData(string partitionKey, string rowKey) => $"connections\u0000{partitionKey}\u0000{rowKey}";

    /// <summary>Nango's connection ids are numbers; a random 52-bit one fits JavaScript's safe integers.</summary>
    private static long NewId() => RandomNumberGenerator.GetInt32(1, int.MaxValue) * 1048576L + RandomNumberGenerator.GetInt32(0, 1048576);
}

/// <summary>
/// A <c>connections</c> row: the connection and its credentials as AES-GCM ciphertext bound to the row, and the token
/// refresh lease (<see cref="RefreshLease"/>) while one host refreshes its token.
/// </summary>
public sealed record ConnectionRow(Connection Connection, string CredentialsType, byte[] Credentials, RefreshLease? Refresh = null);

/// <summary>Who is refreshing the connection's token (a random id per attempt) and until when others wait for it.</summary>
public sealed record RefreshLease(string Id, DateTimeOffset Until);

/// <summary>The columns of a <c>connections</c> row: PartitionKey = provider config key, RowKey = escaped connection id.</summary>
public sealed class ConnectionRows : IRowCodec<ConnectionRow>
{
    public static readonly ConnectionRows Codec = new();

    public static readonly string[] ColumnsWithoutCredentials =
        ["PartitionKey", "RowKey", "Id", "ConnectionId", "ProviderConfigKey", "Provider", "Metadata", "ConnectionConfig", "CreatedAt", "UpdatedAt", "AuthError"];

    public TableEntity Encode(ConnectionRow row) => new(row.Connection.ProviderConfigKey, StorageKeys.Escape(row.Connection.ConnectionId))
    {
        ["Id"] = row.Connection.Id,
        ["ConnectionId"] = row.Connection.ConnectionId,
        ["ProviderConfigKey"] = row.Connection.ProviderConfigKey,
        ["Provider"] = row.Connection.Provider,
        ["Metadata"] = row.Connection.Metadata.ToJsonString(),
        ["ConnectionConfig"] = row.Connection.ConnectionConfig.ToJsonString(),
        ["CreatedAt"] = row.Connection.CreatedAt,
        ["UpdatedAt"] = row.Connection.UpdatedAt,
        ["CredentialsType"] = row.CredentialsType,
        ["Credentials"] = row.Credentials,
        ["AuthError"] = row.Connection.AuthError is { } error
            ? new JsonObject { ["log_id"] = error.LogId, ["message"] = error.Message, ["at"] = error.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) }.ToJsonString()
            : null,
        ["RefreshLeaseId"] = row.Refresh?.Id,
        ["RefreshLeaseUntil"] = row.Refresh?.Until,
    };

    public ConnectionRow Decode(TableEntity e) => new(
        new Connection(
            e.GetInt64("Id") ?? 0,
            e.GetString("ProviderConfigKey"),
            e.GetString("ConnectionId"),
            e.GetString("Provider") ?? "",
            ParseObject(e.GetString("Metadata")),
            ParseObject(e.GetString("ConnectionConfig")),
            e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
            e.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue,
            ParseAuthError(e.GetString("AuthError"))),
        e.GetString("CredentialsType") ?? "",
        e.GetBinary("Credentials") ?? [],
        e.GetString("RefreshLeaseId") is { Length: > 0 } leaseId && e.GetDateTimeOffset("RefreshLeaseUntil") is { } until ? new RefreshLease(leaseId, until) : null);

    private static JsonObject ParseObject(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonNode.Parse(json) as JsonObject ?? [];

    private static ConnectionAuthError? ParseAuthError(string? json)
    {
        if (string.IsNullOrEmpty(json) || JsonNode.Parse(json) is not JsonObject o)
        {
            return null;
        }
        return new ConnectionAuthError(
            o["log_id"]?.GetValue<string>() ?? "",
            o["message"]?.GetValue<string>() ?? "",
            DateTimeOffset.TryParse(o["at"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : DateTimeOffset.MinValue);
    }
}
