using SyncHub.Core.Configuration;
using SyncHub.Core.Model;
using SyncHub.Core.Webhooks;

namespace SyncHub.Core.Scheduling;

/// <summary>
/// The runner's side of the webhook outbox, kept out of <see cref="SyncRunner"/> so that the run's end needs only:
/// <c>ForRunEnd</c> (the items), <c>ArmAsync</c> before the end write, <c>Outbox = Append(...)</c> in that write,
/// and <c>FlushAsync</c> after it.
/// </summary>
public sealed class RunWebhooks(WebhookOutbox outbox, IntegrationCatalog catalog)
{
    /// <summary>The webhooks the end of <paramref name="schedule"/>'s run owes (none when webhooks are off).</summary>
    public IReadOnlyList<OutboxItem> ForRunEnd(Schedule schedule, Dictionary<string, ModelCounts> counts, string? error, long endedAt)
    {
        if (!outbox.Enabled || schedule.RunId is null)
        {
            return [];
        }
        var key = schedule.Key;
        var models = catalog.Find(key.Integration)?.FindSync(key.Sync)?.Models ?? [.. counts.Keys];
        return outbox.ForRunEnd(new RunEnd(key, schedule.RunId, schedule.RunType ?? RunTypes.Incremental, schedule.RunStartedAt, endedAt, error, models,
            [.. counts.Select(c => new RunModelResult(c.Key, c.Value.Added, c.Value.Updated, c.Value.Deleted, c.Value.FirstCursor, c.Value.LastCursor))]));
    }

    public Task ArmAsync(SyncKey key, IReadOnlyList<OutboxItem> items) => outbox.ArmAsync(key, items, CancellationToken.None);

    public static string? Append(string? current, IReadOnlyList<OutboxItem> items) => WebhookOutbox.Append(current, items);

    public Task FlushAsync(SyncKey key) => outbox.FlushAsync(key, CancellationToken.None);
}

/// <summary>The schedule row's <c>Outbox</c> column, for <see cref="WebhookOutbox.FlushAsync"/>.</summary>
public sealed class ScheduleOutbox(ScheduleStore store) : IWebhookOutboxHolder
{
    public async Task<IReadOnlyList<OutboxItem>> PendingAsync(SyncKey key, CancellationToken ct) =>
        WebhookOutbox.Parse((await store.GetAsync(key, ct))?.Outbox);

    public async Task RemoveAsync(SyncKey key, IReadOnlyCollection<string> deliveryIds, CancellationToken ct) =>
        await store.UpdateAsync(key, s => s.Outbox is null ? null : s with { Outbox = WebhookOutbox.Without(s.Outbox, deliveryIds) }, ct);
}
