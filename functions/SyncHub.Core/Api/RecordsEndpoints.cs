using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SyncHub.Core.Api;
using SyncHub.Core.Configuration;
using SyncHub.Core.Connections;
using SyncHub.Core.Model;
using SyncHub.Core.Records;

namespace SyncHub.Core.Api;

/// <summary><c>GET /records</c> and <c>PATCH /records/prune</c>, validated in API.md's order: query or body, headers, connection.</summary>
public sealed class RecordsEndpoints(ConnectionStore connections, IntegrationCatalog catalog, RecordReader reader, RecordPruner pruner)
{
    public const int MaxLimit = 500;
    public const int MaxIds = 100;
    public const int MaxPruneLimit = 10_000;

    private static readonly string[] Actions = ["ADDED", "UPDATED", "DELETED"];

    public async Task<IResult> ListAsync(ApiRequest request, CancellationToken ct)
    {
        var validation = Validation.Query();
        var query = request.Query(validation, "model", "variant", "modified_after", "filter", "cursor", "limit", "ids");
        var model = query.Name("model", Names.Model(), "model", required: true);
        var variant = query.Name("variant", Names.SyncName(), "variant", required: false) ?? RecordPartition.BaseVariant;
        long? modifiedAfter = null;
        if (query.Single("modified_after") is { } since)
        {
            if (RecordTimestamps.TryParse(since, out var ticks, out var problem))
            {
                modifiedAfter = ticks;
            }
            else
            {
                validation.Add("invalid_date", problem, "modified_after");
            }
        }
        var actions = ParseFilter(query.Single("filter"), validation);
        Cursor? after = null;
        if (query.Single("cursor") is { } cursorText)
        {
            if (Cursor.TryDecode(cursorText, out var cursor))
            {
                after = cursor;
            }
            else
            {
                validation.Add("invalid_string", "is not a cursor this API issued (use a next_cursor or a record's _nango_metadata.cursor)", "cursor");
            }
        }
        var limit = query.Integer("limit", 1, MaxLimit) ?? 100;
        var ids = query.Repeated("ids");
        if (ids.Count > MaxIds)
        {
            validation.Add("too_big", $"at most {MaxIds} ids per request", "ids");
        }
        for (var i = 0; i < ids.Count && i < MaxIds; i++)
        {
            if (ids[i].Length is 0 or > Records.RecordPayload.MaxIdLength)
            {
                validation.Add("invalid_string", $"each id must be 1 to {Records.RecordPayload.MaxIdLength} characters", "ids", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        validation.ThrowIfInvalid();

        var partition = Resolve(request, model!, variant, () => Validation.Query());
        // The connection check runs with the read (and not at all once the record set is cached: see RecordSetCache).
        var page = await reader.ReadAsync(partition, new RecordQuery(after, modifiedAfter, actions, ids.Count > 0 ? ids : null, limit),
            token => connections.ExistsAsync(partition.Integration, partition.ConnectionId, token), ct)
            ?? throw ApiException.UnknownConnection();
        return new RecordsPageResult(page);
    }

    public async Task<IResult> PruneAsync(ApiRequest request, CancellationToken ct)
    {
        var body = await request.JsonObjectAsync(ct);
        var validation = Validation.Body();
        var input = new BodyInput(body, validation, ["model", "until_cursor", "variant", "limit"]);
        var model = input.Name("model", Names.Model(), "model", required: true);
        var variant = input.Name("variant", Names.SyncName(), "variant", required: false) ?? RecordPartition.BaseVariant;
        var untilText = input.String("until_cursor", required: true, maxLength: 64);
        var limit = input.Integer("limit", 1, MaxPruneLimit);
        Cursor until = default;
        if (untilText is not null && !Cursor.TryDecode(untilText, out until))
        {
            validation.Add("invalid_string", "is not a cursor this API issued (use a record's _nango_metadata.cursor)", "until_cursor");
        }
        validation.ThrowIfInvalid();

        var partition = Resolve(request, model!, variant, Validation.Body);
        if (!await connections.ExistsAsync(partition.Integration, partition.ConnectionId, ct))
        {
            throw ApiException.UnknownConnection();
        }
        var (count, hasMore) = await pruner.PruneAsync(partition, until, (int?)limit, ct);
        return ApiResults.Json(new JsonObject { ["count"] = count, ["has_more"] = hasMore });
    }

    /// <summary>
    /// Headers, then the integration, then whether its syncs write that model at all (a query error, so it comes before
    /// the connection in API.md's order). The caller checks the connection.
    /// </summary>
    private RecordPartition Resolve(ApiRequest request, string model, string variant, Func<Validation> modelErrors)
    {
        var headers = Validation.Headers();
        var connectionId = headers.Name(request.Header("Connection-Id") ?? Missing(headers, "Connection-Id"), Names.ConnectionId(), "connection id", "Connection-Id");
        var providerConfigKey = headers.Name(request.Header("Provider-Config-Key") ?? Missing(headers, "Provider-Config-Key"), Names.ProviderConfigKey(), "provider config key", "Provider-Config-Key");
        headers.ThrowIfInvalid();

        var integration = catalog.Find(providerConfigKey!) ?? throw ApiException.UnknownConnection();
        if (!integration.WritesModel(model))
        {
            var errors = modelErrors();
            errors.Add("invalid_enum_value", $"no sync of integration '{integration.Key}' writes model '{model}'; its models are: {string.Join(", ", integration.Syncs.SelectMany(s => s.Models).Distinct())}", "model");
            errors.ThrowIfInvalid();
        }
        return new RecordPartition(providerConfigKey!, connectionId!, model, variant);
    }

    private static string? Missing(Validation headers, string name)
    {
        headers.Add("invalid_type", "is required", name);
        return null;
    }

    private static IReadOnlyCollection<string>? ParseFilter(string? filter, Validation validation)
    {
        if (filter is null)
        {
            return null;
        }
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in filter.Split(',', StringSplitOptions.TrimEntries))
        {
            var action = part.ToUpperInvariant();
            if (!Actions.Contains(action))
            {
                validation.Add("invalid_enum_value", "must be added, updated, deleted, or a comma-separated list of them", "filter");
                return null;
            }
            result.Add(action);
        }
        return result;
    }
}
