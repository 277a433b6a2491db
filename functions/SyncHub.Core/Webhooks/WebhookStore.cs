using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using SyncHub.Core.Model;
using SyncHub.Core.Storage;

namespace SyncHub.Core.Webhooks;

/// <summary>What GET /sync/status shows of a sync's webhooks.</summary>
public sealed record WebhookStatus(long LastDeliveryAt, string? LastStatus, int Failing, int Pending);

/// <summary>The <c>webhooks</c> table (see <see cref="WebhookRow"/>) and the <c>webhooks</c> queue.</summary>
public sealed class WebhookStore(FixedTables tables, StorageClients storage, IOptions<WebhookOptions> options)
{
    private readonly Lazy<Task<Azure.Storage.Queues.QueueClient>> _queue = new(async () =>
    {
        var queue = storage.Queue(options.Value.Queue);
        await queue.CreateIfNotExistsAsync();
        return queue;
    });

    public async Task SendAsync(WebhookMessage message, CancellationToken ct, TimeSpan? delay = null)
    {
        var queue = await _queue.Value.WaitAsync(ct);
        await queue.SendMessageAsync(message.ToJson(), visibilityTimeout: delay, cancellationToken: ct);
    }

    public async Task<RowTable<WebhookRow>> RowsAsync(CancellationToken ct) =>
        new(await tables.GetAsync(StorageNames.WebhooksTable, ct), WebhookRowCodec.Codec);

    /// <summary>Adds a delivery unless it is there already (a repeated flush).</summary>
    public async Task AddAsync(WebhookRow row, CancellationToken ct) => await (await RowsAsync(ct)).TryAddAsync(row, ct);

    /// <summary>The stream's deliveries in order (dead ones included), then its summary row if any.</summary>
    public async Task<List<WebhookRow>> StreamAsync(string partitionKey, string stream, CancellationToken ct)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ge {stream + "|"} and RowKey le {WebhookRow.SummaryKey(stream)}");
        var rows = new List<WebhookRow>();
        await foreach (var row in (await RowsAsync(ct)).QueryAsync(filter, ct))
        {
            rows.Add(row.Value with { ETag = row.ETag });
        }
        return rows;
    }

    public async Task<WebhookStatus> StatusAsync(SyncKey key, CancellationToken ct)
    {
        var rows = await StreamAsync(StorageKeys.SchedulePartition(key), key.RowKey, ct);
        var summary = rows.FirstOrDefault(r => r.IsSummary);
        var deliveries = rows.Where(r => !r.IsSummary).ToList();
        return new WebhookStatus(summary?.LastDeliveryAt ?? 0, summary?.LastStatus, deliveries.Count(r => r.Dead), deliveries.Count(r => !r.Dead));
    }

    /// <summary>Dead-lettered deliveries: one (by id), or all of a connection.</summary>
    public async Task<List<WebhookRow>> DeadAsync(string? deliveryId, string? integration, string? connectionId, CancellationToken ct)
    {
        var filter = deliveryId is not null
            ? TableClient.CreateQueryFilter($"DeliveryId eq {deliveryId} and Dead eq true")
            : TableClient.CreateQueryFilter($"PartitionKey eq {StorageKeys.SchedulePartition(integration!, connectionId!)} and Dead eq true");
        var rows = new List<WebhookRow>();
        await foreach (var row in (await RowsAsync(ct)).QueryAsync(filter, ct))
        {
            if (deliveryId is not null || (row.Value.Integration == integration && row.Value.ConnectionId == connectionId))
            {
                rows.Add(row.Value with { ETag = row.ETag });
            }
        }
        return rows;
    }

    /// <summary>Every row of a connection (deleted with it).</summary>
    public async Task DeleteConnectionAsync(string integration, string connectionId, CancellationToken ct)
    {
        var table = await RowsAsync(ct);
        var pk = StorageKeys.SchedulePartition(integration, connectionId);
        await foreach (var row in table.QueryAsync(TableClient.CreateQueryFilter($"PartitionKey eq {pk}"), ct, ["PartitionKey", "RowKey"]))
        {
            await table.DeleteAsync(pk, row.Value.RowKey, ct);
        }
    }
}
