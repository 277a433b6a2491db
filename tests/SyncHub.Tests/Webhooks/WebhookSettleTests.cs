using System.Text.Json.Nodes;
using SyncHub.Core.Connections;
using SyncHub.Core.Storage;
using SyncHub.Core.Webhooks;
using SyncHub.Tests.Infrastructure;
using SyncHub.Tests.Scheduling;

namespace SyncHub.Tests.Webhooks;

/// <summary>
/// An attempt's outcome (the delivery row and the stream's summary) is written in one transaction: a status read never
/// sees one without the other, and an attempt that lost its delivery row meanwhile records nothing.
/// </summary>
public sealed class WebhookSettleTests
{
    private static async Task<(SyncEngine Engine, WebhookReceiver Receiver, string ConnectionId)> AuthWebhookQueuedAsync(string retryDelays)
    {
        var receiver = await WebhookReceiver.StartNewAsync();
        var engine = await SyncEngine.StartAsync(new Dictionary<string, string?>
        {
            ["SyncHub:Webhooks:PrimaryUrl"] = receiver.Url.ToString(),
            ["SyncHub:Webhooks:RetryDelays"] = retryDelays,
        });
        var connectionId = TestEnvironment.Unique("settle");
        var (connection, _) = await engine.Get<ConnectionStore>().UpsertAsync("github", connectionId, "github",
            new ConnectionCredentials("OAUTH2", new JsonObject { ["type"] = "OAUTH2", ["access_token"] = "a", ["refresh_token"] = "r" }), null, null, default);
        await engine.Get<IConnectionEvents>().OnRefreshFailedAsync(connection, "OAUTH2",
            new ConnectionAuthError("log-1", "OAuth refresh failed: invalid_grant", DateTimeOffset.UtcNow), default);
        return (engine, receiver, connectionId);
    }

    private static Task<List<WebhookRow>> StreamAsync(SyncEngine engine, string connectionId) =>
        engine.Get<WebhookStore>().StreamAsync(StorageKeys.SchedulePartition("github", connectionId), WebhookBodies.AuthStream, default);

    [Fact]
    public async Task An_attempt_whose_delivery_row_changed_while_it_was_sent_records_nothing()
    {
        var (engine, receiver, connectionId) = await AuthWebhookQueuedAsync("1m");
        await using var _ = engine;
        await using var __ = receiver;
        var store = engine.Get<WebhookStore>();
        // While the request is in flight, another host takes the row over (its lease ran out): the row changes.
        receiver.OnReceive = async _ =>
        {
            var row = Assert.Single(await StreamAsync(engine, connectionId));
            Assert.NotNull(await (await store.RowsAsync(default)).TryReplaceAsync(row with { LeaseUntil = row.LeaseUntil + 1 }, row.ETag, default));
        };
        receiver.Answer(500);

        await engine.Get<WebhookDelivery>().DeliverAsync(new WebhookMessage("github", connectionId, WebhookBodies.AuthStream), default);

        Assert.Single(receiver.Of(connectionId));
        var rows = await StreamAsync(engine, connectionId);
        // Neither the failed attempt on the row nor a RETRYING summary: the other host's version stands alone.
        var delivery = Assert.Single(rows);
        Assert.False(delivery.IsSummary);
        Assert.Equal(0, delivery.Attempts);
    }

    [Fact]
    public async Task A_failed_attempt_writes_the_row_and_its_summary_together()
    {
        var (engine, receiver, connectionId) = await AuthWebhookQueuedAsync("1m");
        await using var _ = engine;
        await using var __ = receiver;
        receiver.Answer(500);

        await engine.Get<WebhookDelivery>().DeliverAsync(new WebhookMessage("github", connectionId, WebhookBodies.AuthStream), default);

        var rows = await StreamAsync(engine, connectionId);
        Assert.Equal(2, rows.Count);
        var delivery = rows.Single(r => !r.IsSummary);
        var summary = rows.Single(r => r.IsSummary);
        Assert.Equal((1, false), (delivery.Attempts, delivery.Dead));
        Assert.Contains("500", delivery.LastError);
        Assert.Equal("RETRYING", summary.LastStatus);
    }

    [Fact]
    public async Task Deleting_the_connection_deletes_its_pending_deliveries_and_summaries()
    {
        var (engine, receiver, connectionId) = await AuthWebhookQueuedAsync("1m");
        await using var _ = engine;
        await using var __ = receiver;
        receiver.Answer(500);
        await engine.Get<WebhookDelivery>().DeliverAsync(new WebhookMessage("github", connectionId, WebhookBodies.AuthStream), default);
        Assert.Equal(2, (await StreamAsync(engine, connectionId)).Count);

        var functions = new SyncHub.Functions.ConnectionFunctions(engine.Get<SyncHub.Core.Api.ApiPipeline>(), engine.Get<SyncHub.Core.Api.ConnectionsEndpoints>());
        var deleted = await FunctionCall.SendAsync(engine.Services, functions.Delete, "DELETE", "provider_config_key=github",
            route: new Dictionary<string, string> { ["connectionId"] = connectionId });

        Assert.Equal(200, deleted.Status);
        Assert.Empty(await StreamAsync(engine, connectionId));
        // The delivery's queued retry finds nothing to send.
        await engine.Get<WebhookDelivery>().DeliverAsync(new WebhookMessage("github", connectionId, WebhookBodies.AuthStream), default);
        Assert.Single(receiver.Of(connectionId));
    }
}
