using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using SyncHub.Core.Api;
using SyncHub.Core.Configuration;

namespace SyncHub.Functions;

public sealed class ConfigurationFunctions(ApiPipeline api, ConfigurationEndpoints configuration)
{
    [Function("ListIntegrations")]
    public Task<IResult> Integrations([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "integrations")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, configuration.ListIntegrationsAsync, ct);

    [Function("ListEnvironmentVariables")]
    public Task<IResult> EnvironmentVariables([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "environment-variables")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, configuration.ListEnvironmentVariablesAsync, ct);
}
