using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using SyncHub.Core.Api;
using SyncHub.Core.Connections;

namespace SyncHub.Functions;

public sealed class ConnectionFunctions(ApiPipeline api, ConnectionsEndpoints connections)
{
    [Function("ImportConnection")]
    public Task<IResult> Import([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "connections")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, connections.ImportAsync, ct);

    [Function("ListConnections")]
    public Task<IResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "connections")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, connections.ListAsync, ct);

    [Function("GetConnection")]
    public Task<IResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "connections/{connectionId}")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, connections.GetAsync, ct);

    [Function("DeleteConnection")]
    public Task<IResult> Delete([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "connections/{connectionId}")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, connections.DeleteAsync, ct);

    [Function("SetConnectionMetadata")]
    public Task<IResult> SetMetadata([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "connections/metadata")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, connections.SetMetadataAsync, ct);

    [Function("UpdateConnectionMetadata")]
    public Task<IResult> UpdateMetadata([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "connections/metadata")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, connections.MergeMetadataAsync, ct);
}
