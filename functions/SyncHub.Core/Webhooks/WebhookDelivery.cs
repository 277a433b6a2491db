using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SyncHub.Core.Model;
using SyncHub.Core.Storage;
using SyncHub.Core.Telemetry;

namespace SyncHub.Core.Webhooks;

/// <summary>
/// Runs one message of the <c>webhooks</c> queue: delivers a stream's pending webhooks oldest first, one at a time
/// (a short ETag-claimed lease on the row keeps two instances from sending one concurrently), so a later run's
/// webhook is never delivered before an earlier one's; streams never wait on each other. A failed attempt is
/// retried after the backoff through the queue's visibility (no sleeping function); after the last one the delivery
/// is dead-lettered (kept, shown in status, re-sendable) and the stream goes on.
/// </summary>
public sealed class WebhookDelivery(
    WebhookOutbox outbox, WebhookStore store, WebhookSender sender, IOptions<WebhookOptions> options, TimeProvider clock, ILogger<WebhookDelivery> logger)
{
    /// <summary>At most this many deliveries per message (the rest get a message of their own).</summary>
    private const int MaxPerMessage = 50;

    public async Task DeliverAsync(WebhookMessage message, CancellationToken ct)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            return;
        }
        if (message.Stream != WebhookBodies.AuthStream && message.Stream.Split(':') is [var sync, var variant])
        {
            // Also the delayed safety net: whatever a crashed run end left in the schedule row's outbox.
            await outbox.FlushAsync(new SyncKey(message.Integration, message.ConnectionId, sync, variant), ct, queueDelivery: false);
        }
        var urls = o.Urls();
        var delays = o.Delays();
        var pk = StorageKeys.SchedulePartition(message.Integration, message.ConnectionId);
        var table = await store.RowsAsync(ct);
        for (var sent = 0; sent < MaxPerMessage; sent++)
        {
            var rows = await store.StreamAsync(pk, message.Stream, ct);
            var next = rows.FirstOrDefault(r => !r.IsSummary && !r.Dead);
            if (next is null)
            {
                return;
            }
            var now = clock.GetUtcNow().UtcTicks;
            var waitUntil = Math.Max(next.LeaseUntil, next.NextAttemptAt);
            if (waitUntil > now)
            {
                // Being sent elsewhere, or waiting for its next attempt: look again then.
                await store.SendAsync(message, ct, Visibility(waitUntil - now + TimeSpan.FromMilliseconds(50).Ticks));
                return;
            }
            var lease = o.Timeout * Math.Max(1, urls.Count) + TimeSpan.FromSeconds(30);
            var claimed = await table.TryReplaceAsync(next with { LeaseUntil = now + lease.Ticks }, next.ETag, ct);
            if (claimed is null)
            {
                continue;
            }
            var row = claimed.Value.Value with { ETag = claimed.Value.ETag };
            var acked = row.Acked.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
            var errors = new List<string>();
            var lastStatus = 0;
            for (var i = 0; i < urls.Count; i++)
            {
                var index = i.ToString(CultureInfo.InvariantCulture);
                if (acked.Contains(index))
                {
                    continue;
                }
                var result = await sender.SendAsync(urls[i], row.DeliveryId!, row.Body!, ct);
                lastStatus = result.Status;
                if (result.Delivered)
                {
                    acked.Add(index);
                }
                else
                {
                    errors.Add($"{(i == 0 ? "primary" : "secondary")} URL {result.Error}");
                }
            }
            now = clock.GetUtcNow().UtcTicks;
            var attempt = row.Attempts + 1;
            if (errors.Count == 0)
            {
                await SettleAsync(table, row, null, s => s with { LastDeliveryAt = now, LastStatus = "DELIVERED" }, ct);
                SyncHubTelemetry.WebhooksDelivered.Add(1, Tags(row));
                logger.LogInformation("Webhook {DeliveryId} of {Stream} delivered (attempt {Attempt}, status {Status})", row.DeliveryId, row.Stream, attempt, lastStatus);
                continue;
            }
            var error = string.Join("; ", errors);
            if (attempt > delays.Count)
            {
                await SettleAsync(table, row, row with { Attempts = attempt, LastError = error, Acked = string.Join(',', acked), Dead = true, LeaseUntil = 0, NextAttemptAt = 0 },
                    s => s with { LastStatus = "FAILED" }, ct);
                SyncHubTelemetry.WebhooksFailed.Add(1, Tags(row, "dead_lettered"));
                logger.LogWarning("Webhook {DeliveryId} of {Stream} failed on its last attempt ({Attempt}): {Error}; it is dead-lettered", row.DeliveryId, row.Stream, attempt, error);
                continue;
            }
            var delay = Jitter(delays[attempt - 1]);
            await SettleAsync(table, row, row with { Attempts = attempt, LastError = error, Acked = string.Join(',', acked), LeaseUntil = 0, NextAttemptAt = now + delay.Ticks },
                s => s with { LastStatus = "RETRYING" }, ct);
            SyncHubTelemetry.WebhooksFailed.Add(1, Tags(row, "retrying"));
            await store.SendAsync(message, ct, Visibility(delay.Ticks));
            logger.LogWarning("Webhook {DeliveryId} of {Stream} failed (attempt {Attempt}): {Error}; next attempt in {Delay}", row.DeliveryId, row.Stream, attempt, error, delay);
            return;
        }
        await store.SendAsync(message, ct);
    }

    /// <summary>
    /// Makes dead-lettered deliveries pending again (attempts reset) and queues their streams. Returns how many.
    /// </summary>
    public async Task<int> RedeliverAsync(IReadOnlyList<WebhookRow> dead, CancellationToken ct)
    {
        var table = await store.RowsAsync(ct);
        var streams = new HashSet<WebhookMessage>();
        var count = 0;
        foreach (var row in dead)
        {
            var revived = await table.UpdateAsync(row.PartitionKey, row.RowKey, r => r is { Dead: true }
                ? r with { Dead = false, Attempts = 0, NextAttemptAt = 0, LeaseUntil = 0, Acked = "" }
                : null, ct);
            if (revived is not null)
            {
                count++;
                streams.Add(new WebhookMessage(row.Integration, row.ConnectionId, row.Stream));
            }
        }
        foreach (var stream in streams)
        {
            await store.SendAsync(stream, ct);
        }
        return count;
    }

    /// <summary>
    /// An attempt's outcome: the delivery row deleted (delivered, <paramref name="replacement"/> null) or rewritten, and
    /// the stream's summary row changed, in one transaction, so a status read never sees one without the other. When
    /// the delivery row changed since it was claimed (its lease expired and another host took it), nothing is written.
    /// </summary>
    private async Task SettleAsync(RowTable<WebhookRow> table, WebhookRow delivery, WebhookRow? replacement, Func<WebhookRow, WebhookRow> change, CancellationToken ct)
    {
        var settled = await table.TryWriteWithAsync(delivery.PartitionKey, delivery.RowKey, delivery.ETag, replacement, WebhookRow.SummaryKey(delivery.Stream),
            s => change(s ?? new WebhookRow
            {
                PartitionKey = delivery.PartitionKey,
                RowKey = WebhookRow.SummaryKey(delivery.Stream),
                Integration = delivery.Integration,
                ConnectionId = delivery.ConnectionId,
                Stream = delivery.Stream,
            }), ct);
        if (!settled)
        {
            logger.LogWarning("Webhook {DeliveryId} of {Stream}: its row changed while it was being sent (its lease ran out); the attempt's outcome is not recorded",
                delivery.DeliveryId, delivery.Stream);
        }
    }

    /// <summary>Metric tags of a delivery: its integration and sync (<c>auth</c> for connection webhooks), and a status.</summary>
    private static System.Diagnostics.TagList Tags(WebhookRow row, string? status = null)
    {
        var sync = row.Stream == WebhookBodies.AuthStream ? "auth" : row.Stream.Split(':')[0];
        var tags = SyncHubTelemetry.Tags(row.Integration, sync);
        if (status is not null)
        {
            tags.Add(SyncHubTelemetry.StatusTag, status);
        }
        return tags;
    }

    /// <summary>The delay, plus up to 20 % at random (so many failing deliveries do not retry in step).</summary>
    private static TimeSpan Jitter(TimeSpan delay) => delay + TimeSpan.FromTicks((long)(delay.Ticks * 0.2 * Random.Shared.NextDouble()));

    private static TimeSpan Visibility(long ticks) => TimeSpan.FromTicks(Math.Clamp(ticks, 0, TimeSpan.FromDays(6).Ticks));
}
