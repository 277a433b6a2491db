using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using SyncHub.Core.Api;
using SyncHub.Core.Records;

namespace SyncHub.Functions;

public sealed class RecordFunctions(ApiPipeline api, RecordsEndpoints records)
{
    [Function("ListRecords")]
    public Task<IResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "records")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, records.ListAsync, ct);

    [Function("PruneRecords")]
    public Task<IResult> Prune([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "records/prune")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, records.PruneAsync, ct);
}
