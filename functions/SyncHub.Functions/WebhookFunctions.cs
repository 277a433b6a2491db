using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using SyncHub.Core.Api;
using SyncHub.Core.Webhooks;

namespace SyncHub.Functions;

public sealed class WebhookFunctions(ApiPipeline api, WebhooksEndpoints webhooks, WebhookDelivery delivery)
{
    [Function("DeliverWebhook")]
    public Task Deliver([QueueTrigger("%SyncHubWebhookQueue%", Connection = "SyncHubStorage")] WebhookMessage message, CancellationToken ct)
        => delivery.DeliverAsync(message, ct);

    [Function("RedeliverWebhooks")]
    public Task<IResult> Redeliver([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks/redeliver")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, webhooks.RedeliverAsync, ct);
}
