using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SyncHub.Core.Configuration;
using SyncHub.Core.Model;
using SyncHub.Core.Webhooks;

namespace SyncHub.Core.Api;

/// <summary>
/// <c>POST /webhooks/redeliver</c>: sends dead-lettered webhooks again, one (<c>delivery_id</c>) or all of a
/// connection (<c>provider_config_key</c> + <c>connection_id</c>). Their attempts start over.
/// </summary>
public sealed class WebhooksEndpoints(IntegrationCatalog catalog, WebhookStore store, WebhookDelivery delivery)
{
    public async Task<IResult> RedeliverAsync(ApiRequest request, CancellationToken ct)
    {
        var body = await request.JsonObjectAsync(ct);
        var validation = Validation.Body();
        var input = new BodyInput(body, validation, ["delivery_id", "provider_config_key", "connection_id"]);
        var deliveryId = input.String("delivery_id", required: false, maxLength: 36);
        var byConnection = input.Has("provider_config_key") || input.Has("connection_id");
        string? integration = null, connectionId = null;
        if (deliveryId is not null && !Guid.TryParseExact(deliveryId, "D", out _))
        {
            validation.Add("invalid_string", "must be a delivery id (a UUID, as in the X-SyncHub-Delivery header)", "delivery_id");
        }
        if (deliveryId is not null && byConnection)
        {
            validation.Add("invalid_type", "give either delivery_id, or provider_config_key and connection_id, not both", "delivery_id");
        }
        else if (deliveryId is null)
        {
            integration = input.Name("provider_config_key", Names.ProviderConfigKey(), "provider config key", required: true);
            connectionId = input.Name("connection_id", Names.ConnectionId(), "connection id", required: true);
        }
        validation.ThrowIfInvalid();
        if (integration is not null)
        {
            _ = catalog.Find(integration) ?? throw ApiException.UnknownProviderConfig(integration);
        }
        var dead = await store.DeadAsync(deliveryId?.ToLowerInvariant(), integration, connectionId, ct);
        if (deliveryId is not null && dead.Count == 0)
        {
            throw ApiException.NotFound("not_found", "No failed webhook delivery has this id (it was delivered, is still being retried, or never existed).");
        }
        var count = await delivery.RedeliverAsync(dead, ct);
        return ApiResults.Json(new JsonObject { ["redelivered"] = count });
    }
}
