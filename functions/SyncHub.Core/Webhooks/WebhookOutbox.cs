using System.Text.Json.Nodes;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SyncHub.Core.Model;
using SyncHub.Core.Storage;

namespace SyncHub.Core.Webhooks;

/// <summary>
/// Where a sync's outbox lives until it is flushed: the <c>Outbox</c> column of its schedule row, written in the same
/// ETag-conditional write that records the run's end. Implemented by Scheduling (which owns that row).
/// </summary>
public interface IWebhookOutboxHolder
{
    Task<IReadOnlyList<OutboxItem>> PendingAsync(SyncKey key, CancellationToken ct);

    /// <summary>Removes these items (by delivery id) from the row, leaving any others.</summary>
    Task RemoveAsync(SyncKey key, IReadOnlyCollection<string> deliveryIds, CancellationToken ct);
}

/// <summary>
/// The transactional outbox of run-end webhooks. <see cref="ForRunEnd"/> gives the items the run's end stores on its
/// schedule row (same write: no webhook lost in a crash, none for a run that did not end); <see cref="FlushAsync"/>
/// then moves them to the <c>webhooks</c> table and queues their delivery. <see cref="ArmAsync"/>, before the run-end
/// write, queues a delayed flush, the safety net for a crash between the two.
/// </summary>
public sealed class WebhookOutbox(
    IWebhookOutboxHolder holder, WebhookStore store, IOptions<WebhookOptions> options, TimeProvider clock, ILogger<WebhookOutbox> logger)
{
    /// <summary>How long after a run's end its delayed flush looks for an outbox left behind.</summary>
    public static readonly TimeSpan SafetyNetDelay = TimeSpan.FromSeconds(60);

    public bool Enabled => options.Value.Enabled;

    /// <summary>The webhooks a run's end owes (none when no URL is configured).</summary>
    public IReadOnlyList<OutboxItem> ForRunEnd(RunEnd end)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            return [];
        }
        var sequence = end.EndedAt.ToString("D19", CultureInfo.InvariantCulture);
        if (end.Error is not null)
        {
            return o.OnSyncError
                ? [new OutboxItem(WebhookBodies.DeliveryId(end.Key.ToString(), end.RunId, "error"), sequence + ".000", WebhookBodies.Serialize(WebhookBodies.SyncError(end)))]
                : [];
        }
        var items = new List<OutboxItem>();
        var byModel = end.Results.ToDictionary(r => r.Model, StringComparer.Ordinal);
        foreach (var model in end.Models)
        {
            var result = byModel.GetValueOrDefault(model) ?? new RunModelResult(model, 0, 0, 0, 0, 0);
            if (result.Changed || o.OnSyncCompletionAlways)
            {
                items.Add(new OutboxItem(WebhookBodies.DeliveryId(end.Key.ToString(), end.RunId, "success", model),
                    $"{sequence}.{items.Count:D3}", WebhookBodies.Serialize(WebhookBodies.SyncSuccess(end, result))));
            }
        }
        return items;
    }

    /// <summary>Adds <paramref name="items"/> to an outbox column (JSON); null when it ends up empty.</summary>
    public static string? Append(string? outbox, IReadOnlyList<OutboxItem> items)
    {
        if (items.Count == 0)
        {
            return outbox;
        }
        var list = WebhookBodies.FromJson(outbox);
        list.AddRange(items.Where(i => !list.Any(x => x.DeliveryId == i.DeliveryId)));
        return WebhookBodies.ToJson(list);
    }

    public static IReadOnlyList<OutboxItem> Parse(string? outbox) => WebhookBodies.FromJson(outbox);

    public static string? Without(string? outbox, IReadOnlyCollection<string> deliveryIds)
    {
        var rest = WebhookBodies.FromJson(outbox).Where(i => !deliveryIds.Contains(i.DeliveryId)).ToList();
        return rest.Count == 0 ? null : WebhookBodies.ToJson(rest);
    }

    /// <summary>Before the run-end write that stores <paramref name="items"/>: a delayed flush in case this process dies right after it.</summary>
    public async Task ArmAsync(SyncKey key, IReadOnlyList<OutboxItem> items, CancellationToken ct)
    {
        if (items.Count == 0)
        {
            return;
        }
        try
        {
            await store.SendAsync(new WebhookMessage(key.Integration, key.ConnectionId, key.RowKey), ct, SafetyNetDelay);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The run's end is recorded anyway; its outbox then waits for the next flush (the sync's next run end).
            logger.LogWarning("Sync {Sync}: could not queue the webhook safety net ({Error})", key, e.Message);
        }
    }

    /// <summary>
    /// Moves the sync's outbox to the <c>webhooks</c> table (idempotent: delivery ids and sequences are
    /// deterministic, an existing row is left alone), clears it from the schedule row, and queues the delivery.
    /// A failure is logged: the armed safety net (or the next run's end) flushes again.
    /// </summary>
    public async Task FlushAsync(SyncKey key, CancellationToken ct, bool queueDelivery = true)
    {
        if (!Enabled)
        {
            return;
        }
        try
        {
            var items = await holder.PendingAsync(key, ct);
            if (items.Count == 0)
            {
                return;
            }
            var now = clock.GetUtcNow().UtcTicks;
            var pk = StorageKeys.SchedulePartition(key);
            foreach (var item in items)
            {
                await store.AddAsync(new WebhookRow
                {
                    PartitionKey = pk,
                    RowKey = WebhookRow.DeliveryKey(key.RowKey, item.Sequence),
                    Integration = key.Integration,
                    ConnectionId = key.ConnectionId,
                    Stream = key.RowKey,
                    DeliveryId = item.DeliveryId,
                    Body = item.Body,
                    CreatedAt = now,
                }, ct);
            }
            await holder.RemoveAsync(key, items.Select(i => i.DeliveryId).ToArray(), ct);
            if (queueDelivery)
            {
                await store.SendAsync(new WebhookMessage(key.Integration, key.ConnectionId, key.RowKey), ct);
            }
            logger.LogDebug("Sync {Sync}: {Count} webhooks queued for delivery", key, items.Count);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Sync {Sync}: moving its webhooks to the delivery table failed ({Error}); the delayed flush retries", key, e.Message);
        }
    }

    /// <summary>An auth webhook for a connection created or overwritten through POST /connections (when OnAuthCreation).</summary>
    public async Task AuthAsync(string integration, string connectionId, string provider, string authMode, bool created, CancellationToken ct)
    {
        if (options.Value.OnAuthCreation)
        {
            await AuthAsync(integration, connectionId, WebhookBodies.Auth(integration, connectionId, provider, authMode, created), ct);
        }
    }

    /// <summary>An auth webhook <c>operation: "refresh", success: false</c>: once per failure episode of a connection's token refresh.</summary>
    public Task RefreshFailedAsync(string integration, string connectionId, string provider, string authMode, string description, CancellationToken ct) =>
        AuthAsync(integration, connectionId, WebhookBodies.Auth(integration, connectionId, provider, authMode, "refresh", ("refresh_failed", description)), ct);

    private async Task AuthAsync(string integration, string connectionId, JsonObject body, CancellationToken ct)
    {
        if (!options.Value.Enabled)
        {
            return;
        }
        var now = clock.GetUtcNow().UtcTicks;
        var sequence = now.ToString("D19", CultureInfo.InvariantCulture) + "." + Guid.NewGuid().ToString("N")[..8];
        await store.AddAsync(new WebhookRow
        {
            PartitionKey = StorageKeys.SchedulePartition(integration, connectionId),
            RowKey = WebhookRow.DeliveryKey(WebhookBodies.AuthStream, sequence),
            Integration = integration,
            ConnectionId = connectionId,
            Stream = WebhookBodies.AuthStream,
            DeliveryId = Guid.NewGuid().ToString(),
            Body = WebhookBodies.Serialize(body),
            CreatedAt = now,
        }, ct);
        await store.SendAsync(new WebhookMessage(integration, connectionId, WebhookBodies.AuthStream), ct);
    }
}
