using System.Diagnostics;
using SyncHub.Core.Telemetry;

namespace SyncHub.Core.Sdk;

/// <summary>
/// Counts each attempt of the Proxy client (<c>synchub.provider.requests</c>, by status: the HTTP status, or
/// <c>error</c> when no response came, <c>canceled</c> when an attempt timeout or the run stopped it). It sits inside
/// the retry strategy, so every retry is an attempt of its own; the run's <c>integration</c> and <c>sync</c> come with
/// the request (<see cref="ProxyRetryRules.MetricTags"/>, set by the Proxy client).
/// </summary>
internal sealed class ProviderRequestMetrics : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var status = "error";
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            status = SyncHubTelemetry.Status((int)response.StatusCode);
            return response;
        }
        catch (OperationCanceledException)
        {
            status = "canceled";
            throw;
        }
        finally
        {
            SyncHubTelemetry.ProviderRequests.Add(1, ProxyRetryRules.TagsOf(request, status));
        }
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var status = "error";
        try
        {
            var response = base.Send(request, cancellationToken);
            status = SyncHubTelemetry.Status((int)response.StatusCode);
            return response;
        }
        finally
        {
            SyncHubTelemetry.ProviderRequests.Add(1, ProxyRetryRules.TagsOf(request, status));
        }
    }
}
