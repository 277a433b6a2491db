using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using SyncHub.Core.Api;

namespace SyncHub.Functions;

/// <summary>The API's own description and the dashboard page. Deliberately public: static content, no secret key.</summary>
public sealed class ApiDocumentFunctions(ApiPipeline api)
{
    [Function("OpenApiDocument")]
    public Task<IResult> OpenApi([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.json")] HttpRequest request, CancellationToken ct)
        => api.RunPublicAsync(request, OpenApiDocument.GetAsync, ct);

    [Function("Dashboard")]
    public Task<IResult> Dashboard([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "dashboard")] HttpRequest request, CancellationToken ct)
        => api.RunPublicAsync(request, DashboardPage.GetAsync, ct);
}
