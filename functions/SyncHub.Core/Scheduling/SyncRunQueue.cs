using Azure.Storage.Queues;
using SyncHub.Core.Storage;

namespace SyncHub.Core.Scheduling;

/// <summary>
/// Sends run messages on <c>sync-runs</c> (base64, the queue trigger's encoding; see host.json), each stamped with
/// <see cref="SyncRunMessage.EnqueuedAt"/>: when it becomes visible.
/// </summary>
public sealed class SyncRunQueue(StorageClients storage, Microsoft.Extensions.Options.IOptions<SchedulingOptions> options, TimeProvider clock)
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
        var visibleAt = clock.GetUtcNow() + (delay ?? TimeSpan.Zero);
        await queue.SendMessageAsync((message with { EnqueuedAt = visibleAt }).ToJson(), visibilityTimeout: delay, cancellationToken: ct);
    }
}
