using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using SyncHub.Core.Api;
using SyncHub.Core.Scheduling;

namespace SyncHub.Functions;

public sealed class SyncFunctions(ApiPipeline api, SyncEndpoints syncs)
{
    [Function("TriggerSync")]
    public Task<IResult> Trigger([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "sync/trigger")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, syncs.TriggerAsync, ct);

    [Function("StartSync")]
    public Task<IResult> Start([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "sync/start")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, syncs.StartAsync, ct);

    [Function("PauseSync")]
    public Task<IResult> Pause([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "sync/pause")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, syncs.PauseAsync, ct);

    [Function("SyncStatus")]
    public Task<IResult> Status([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "sync/status")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, syncs.StatusAsync, ct);

    [Function("SyncRuns")]
    public Task<IResult> Runs([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "sync/runs")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, syncs.RunsAsync, ct);

    [Function("UpdateSyncFrequency")]
    public Task<IResult> UpdateFrequency([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "sync/update-connection-frequency")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, syncs.UpdateFrequencyAsync, ct);

    [Function("CreateSyncVariant")]
    public Task<IResult> CreateVariant([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "sync/{name}/variant/{variant}")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, syncs.CreateVariantAsync, ct);

    [Function("DeleteSyncVariant")]
    public Task<IResult> DeleteVariant([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "sync/{name}/variant/{variant}")] HttpRequest request, CancellationToken ct)
        => api.RunAsync(request, syncs.DeleteVariantAsync, ct);
}
