using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SyncHub.Core.Api;
using SyncHub.Core.Configuration;

namespace SyncHub.Core.Api;

/// <summary><c>GET /integrations</c> and <c>GET /environment-variables</c>: what the configuration declares.</summary>
public sealed class ConfigurationEndpoints(IntegrationCatalog catalog, Microsoft.Extensions.Options.IOptions<SyncHubOptions> options)
{
    public Task<IResult> ListIntegrationsAsync(ApiRequest request, CancellationToken ct)
    {
        var validation = Validation.Query();
        request.Query(validation);
        validation.ThrowIfInvalid();
        var data = new JsonArray();
        foreach (var integration in catalog.Integrations)
        {
            data.Add(new JsonObject
            {
                ["unique_key"] = integration.Key,
                ["provider"] = integration.Provider,
                ["display_name"] = integration.DisplayName,
                ["logo"] = "",
                ["forward_webhooks"] = false,
                ["syncs"] = new JsonArray(integration.Syncs.Select(s => (JsonNode?)new JsonObject
                {
                    ["name"] = s.Name,
                    ["models"] = new JsonArray(s.Models.Select(m => (JsonNode?)m).ToArray()),
                    ["sync_type"] = s.Type == SyncType.Full ? "full" : "incremental",
                    ["runs"] = s.Runs.Text,
                    ["auto_start"] = s.AutoStart,
                    ["track_deletes"] = s.TrackDeletes,
                }).ToArray()),
            });
        }
        return Task.FromResult(ApiResults.Json(new JsonObject { ["data"] = data }));
    }

    public Task<IResult> ListEnvironmentVariablesAsync(ApiRequest request, CancellationToken ct)
    {
        var validation = Validation.Query();
        request.Query(validation);
        validation.ThrowIfInvalid();
        var list = new JsonArray();
        foreach (var (name, value) in options.Value.EnvironmentVariables.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            list.Add(new JsonObject { ["name"] = name, ["value"] = value });
        }
        return Task.FromResult(ApiResults.Json(list));
    }
}
