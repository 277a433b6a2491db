using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SyncHub.Core.Api;
using SyncHub.Core.Configuration;
using SyncHub.Core.Connections;
using SyncHub.Core.Model;
using SyncHub.Core.Webhooks;

namespace SyncHub.Core.Api;

/// <summary><c>/connections</c>: import, list, get, delete and metadata, in Nango's shapes, never with credentials.</summary>
public sealed class ConnectionsEndpoints(
    ConnectionStore store, IntegrationCatalog catalog, IEnumerable<IConnectionLifecycle> lifecycle, WebhookOutbox webhooks, ConnectionTokens tokens)
{
    public async Task<IResult> ImportAsync(ApiRequest request, CancellationToken ct)
    {
        var body = await request.JsonObjectAsync(ct);
        var validation = Validation.Body();
        var input = new BodyInput(body, validation, ["provider_config_key", "connection_id", "credentials", "metadata", "connection_config"]);
        var providerConfigKey = input.Name("provider_config_key", Names.ProviderConfigKey(), "provider_config_key", required: true);
        var connectionId = input.Name("connection_id", Names.ConnectionId(), "connection_id", required: true);
        var metadata = input.Object("metadata", required: false);
        var connectionConfig = input.Object("connection_config", required: false);
        var credentialsNode = input.Object("credentials", required: true);
        var credentials = credentialsNode is null ? null : ReadCredentials(credentialsNode, validation);
        validation.ThrowIfInvalid();

        var integration = catalog.Find(providerConfigKey!) ?? throw ApiException.UnknownProviderConfig(providerConfigKey!);
        var (connection, created) = await store.UpsertAsync(providerConfigKey!, connectionId!, integration.Provider, credentials!, metadata, connectionConfig, ct);
        foreach (var hook in lifecycle)
        {
            await hook.OnImportedAsync(connection, created, ct);
        }
        await webhooks.AuthAsync(providerConfigKey!, connectionId!, integration.Provider, credentials!.Type, created, ct);
        return ApiResults.Json(Full(connection));
    }

    public async Task<IResult> ListAsync(ApiRequest request, CancellationToken ct)
    {
        var validation = Validation.Query();
        var query = request.Query(validation, "connectionId", "integrationId", "search", "endUserId", "endUserOrganizationId", "limit", "page");
        var connectionId = query.Single("connectionId");
        var integrationIds = query.Single("integrationId")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var search = query.Single("search");
        var limit = query.Integer("limit", 1, 10_000);
        var page = query.Integer("page", 0, 1_000_000);
        query.Single("endUserId");
        query.Single("endUserOrganizationId");
        validation.ThrowIfInvalid();

        IEnumerable<Connection> connections = await store.ListAsync(connectionId, integrationIds, ct);
        if (!string.IsNullOrEmpty(search))
        {
            connections = connections.Where(c => c.ConnectionId.Contains(search, StringComparison.OrdinalIgnoreCase));
        }
        if (limit is { } pageSize)
        {
            connections = connections.Skip((page ?? 0) * pageSize).Take(pageSize);
        }
        var list = new JsonArray();
        foreach (var connection in connections)
        {
            list.Add(Summary(connection));
        }
        return ApiResults.Json(new JsonObject { ["connections"] = list });
    }

    public async Task<IResult> GetAsync(ApiRequest request, CancellationToken ct)
    {
        var (providerConfigKey, connectionId, forceRefresh) = ReadPathAndKey(request, ["provider_config_key", "force_refresh", "refresh_token", "refresh_github_app_jwt_token"]);
        var connection = await store.GetAsync(providerConfigKey, connectionId, ct) ?? throw UnknownConnection(providerConfigKey);
        if (forceRefresh)
        {
            try
            {
                // Refreshes now (one at a time per connection); a failure is recorded on the connection and shown in its errors.
                await tokens.ForceRefreshAsync(providerConfigKey, connectionId, ct);
            }
            catch (OAuthRefreshException)
            {
            }
            connection = await store.GetAsync(providerConfigKey, connectionId, ct) ?? throw UnknownConnection(providerConfigKey);
        }
        return ApiResults.Json(Full(connection));
    }

    public async Task<IResult> DeleteAsync(ApiRequest request, CancellationToken ct)
    {
        var (providerConfigKey, connectionId, _) = ReadPathAndKey(request, ["provider_config_key"]);
        if (!await store.ExistsAsync(providerConfigKey, connectionId, ct))
        {
            throw UnknownConnection(providerConfigKey);
        }
        foreach (var hook in lifecycle)
        {
            await hook.OnDeletingAsync(providerConfigKey, connectionId, ct);
        }
        await store.DeleteAsync(providerConfigKey, connectionId, ct);
        return ApiResults.Json(new JsonObject { ["success"] = true });
    }

    public Task<IResult> SetMetadataAsync(ApiRequest request, CancellationToken ct) => UpdateMetadataAsync(request, merge: false, ct);

    public Task<IResult> MergeMetadataAsync(ApiRequest request, CancellationToken ct) => UpdateMetadataAsync(request, merge: true, ct);

    private async Task<IResult> UpdateMetadataAsync(ApiRequest request, bool merge, CancellationToken ct)
    {
        var body = await request.JsonObjectAsync(ct);
        var validation = Validation.Body();
        var input = new BodyInput(body, validation, ["connection_id", "provider_config_key", "metadata"]);
        var providerConfigKey = input.Name("provider_config_key", Names.ProviderConfigKey(), "provider_config_key", required: true);
        var metadata = input.Object("metadata", required: true);
        // Nango accepts one connection id or a list of them.
        var ids = new List<string>();
        switch (input.Node("connection_id"))
        {
            case JsonArray array when array.Count is > 0 and <= 100:
                for (var i = 0; i < array.Count; i++)
                {
                    var id = array[i] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
                    if (validation.Name(id ?? "", Names.ConnectionId(), "connection_id", "connection_id", i.ToString(CultureInfo.InvariantCulture)) is { } valid)
                    {
                        ids.Add(valid);
                    }
                }
                break;
            case JsonArray:
                validation.Add("invalid_type", "must be a connection id or a list of 1 to 100 connection ids", "connection_id");
                break;
            default:
                if (input.Name("connection_id", Names.ConnectionId(), "connection_id", required: true) is { } single)
                {
                    ids.Add(single);
                }
                break;
        }
        validation.ThrowIfInvalid();
        _ = catalog.Find(providerConfigKey!) ?? throw ApiException.UnknownProviderConfig(providerConfigKey!);

        foreach (var id in ids)
        {
            if (!await store.ExistsAsync(providerConfigKey!, id, ct))
            {
                throw UnknownConnection(providerConfigKey!);
            }
        }
        foreach (var id in ids)
        {
            _ = await store.UpdateMetadataAsync(providerConfigKey!, id, metadata!, merge, ct) ?? throw UnknownConnection(providerConfigKey!);
        }
        var echo = new JsonObject
        {
            ["connection_id"] = ids.Count == 1 ? ids[0] : new JsonArray(ids.Select(i => (JsonNode?)i).ToArray()),
            ["provider_config_key"] = providerConfigKey,
            ["metadata"] = metadata!.DeepClone(),
        };
        return ApiResults.Json(echo);
    }

    /// <returns>The key, the connection id and whether <c>force_refresh=true</c> was asked.</returns>
    private (string ProviderConfigKey, string ConnectionId, bool ForceRefresh) ReadPathAndKey(ApiRequest request, string[] allowedQuery)
    {
        var uri = Validation.Uri();
        var connectionId = uri.Name(request.Route("connectionId"), Names.ConnectionId(), "connectionId", "connectionId");
        uri.ThrowIfInvalid();
        var validation = Validation.Query();
        var query = request.Query(validation, allowedQuery);
        var providerConfigKey = query.Name("provider_config_key", Names.ProviderConfigKey(), "provider_config_key", required: true);
        var forceRefresh = false;
        foreach (var flag in allowedQuery.Skip(1))
        {
            if (query.Boolean(flag) is true && flag == "force_refresh")
            {
                forceRefresh = true;
            }
        }
        validation.ThrowIfInvalid();
        _ = catalog.Find(providerConfigKey!) ?? throw ApiException.UnknownProviderConfig(providerConfigKey!);
        return (providerConfigKey!, connectionId!, forceRefresh);
    }

    private static ApiException UnknownConnection(string providerConfigKey) =>
        new(404, "unknown_connection", $"No connection with that id exists for integration '{providerConfigKey}'.");

    private static ConnectionCredentials? ReadCredentials(JsonObject node, Validation validation)
    {
        var type = node["type"] is JsonValue v && v.TryGetValue<string>(out var t) ? t : null;
        string[] keys = type switch
        {
            "API_KEY" => ["type", "apiKey"],
            "BASIC" => ["type", "username", "password"],
            "OAUTH2" => ["type", "access_token", "refresh_token", "expires_at"],
            "OAUTH2_CC" => ["type", "client_id", "client_secret", "token_url", "scopes"],
            _ => [],
        };
        if (keys.Length == 0)
        {
            validation.Add("invalid_enum_value", "credentials.type must be one of API_KEY, BASIC, OAUTH2, OAUTH2_CC", "credentials", "type");
            return null;
        }
        var input = new BodyInput(node, validation, keys, "credentials");
        switch (type)
        {
            case "API_KEY":
                NonEmpty(input, "apiKey");
                break;
            case "BASIC":
                NonEmpty(input, "username");
                input.String("password", required: true);
                break;
            case "OAUTH2_CC":
                NonEmpty(input, "client_id");
                NonEmpty(input, "client_secret");
                if (input.String("token_url", required: true) is { } tokenUrl
                    && (!Uri.TryCreate(tokenUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")))
                {
                    validation.Add("invalid_url", "must be an absolute http(s) URL", "credentials", "token_url");
                }
                input.String("scopes", required: false);
                break;
            default:
                NonEmpty(input, "access_token");
                input.String("refresh_token", required: false);
                if (input.String("expires_at", required: false) is { } expires && !DateTimeOffset.TryParse(expires, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
                {
                    validation.Add("invalid_date", "must be an ISO 8601 timestamp", "credentials", "expires_at");
                }
                break;
        }
        return new ConnectionCredentials(type!, (JsonObject)node.DeepClone());
    }

    private static void NonEmpty(BodyInput input, string key)
    {
        if (input.String(key, required: true) is "")
        {
            input.Validation.Add("too_small", "must not be empty", input.Path(key));
        }
    }

    private static string Timestamp(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Nango's connection errors: <c>[{ type: "auth", log_id }]</c> while its token cannot be refreshed (plus SyncHub's message).</summary>
    private static JsonArray Errors(Connection c) => c.AuthError is { } error
        ? [new JsonObject { ["type"] = "auth", ["log_id"] = error.LogId, ["message"] = error.Message }]
        : [];

    private static JsonObject Summary(Connection c) => new()
    {
        ["id"] = c.Id,
        ["connection_id"] = c.ConnectionId,
        ["provider"] = c.Provider,
        ["provider_config_key"] = c.ProviderConfigKey,
        ["created"] = Timestamp(c.CreatedAt),
        ["metadata"] = c.Metadata.DeepClone(),
        ["errors"] = Errors(c),
        ["end_user"] = null,
        ["tags"] = new JsonObject(),
    };

    private static JsonObject Full(Connection c) => new()
    {
        ["id"] = c.Id,
        ["connection_id"] = c.ConnectionId,
        ["provider_config_key"] = c.ProviderConfigKey,
        ["provider"] = c.Provider,
        ["errors"] = Errors(c),
        ["end_user"] = null,
        ["tags"] = new JsonObject(),
        ["metadata"] = c.Metadata.DeepClone(),
        ["connection_config"] = c.ConnectionConfig.DeepClone(),
        ["created_at"] = Timestamp(c.CreatedAt),
        ["updated_at"] = Timestamp(c.UpdatedAt),
        ["last_fetched_at"] = null,
    };
}
