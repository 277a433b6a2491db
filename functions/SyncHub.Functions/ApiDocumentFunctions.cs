using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using SyncHub.Core.Api;

namespace SyncHub.Functions;

/// <summary>The API's own description. Deliberately public: the one route that needs no secret key.</summary>
public sealed class ApiDocumentFunctions(ApiPipeline api)
{
    [Function("OpenApiDocument")]
    public Task<IResult> OpenApi([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.json")] HttpRequest request, CancellationToken ct)
        => api.RunPublicAsync(request, OpenApiDocument.GetAsync, ct);
}
