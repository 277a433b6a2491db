using Azure.Storage.Queues;
using SyncHub.Core.Storage;

namespace SyncHub.Core.Scheduling;

/// <summary>Sends run messages on <c>sync-runs</c> (base64, the queue trigger's encoding; see host.json).</summary>
public sealed class SyncRunQueue(StorageClients storage, Microsoft.Extensions.Options.IOptions<SchedulingOptions> options)
{
    private readonly Lazy<Task<QueueClient>> _queue = new(async () =>
    {
        var queue = storage.Queue(options.Value.RunQueue);
        await queue.CreateIfNotExistsAsync();
        return queue;
    });

    public async Task SendAsync(SyncRunMessage message, CancellationToken ct, TimeSpan? delay = null)
    {
        var queue = await _queue.Value.WaitAsync(ct);
        await queue.SendMessageAsync(message.ToJson(), visibilityTimeout: delay, cancellationToken: ct);
    }
}
