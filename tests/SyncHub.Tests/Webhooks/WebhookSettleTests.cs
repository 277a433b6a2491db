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

    [Fact]
    public async Task A_run_abandoned_through_the_poison_queue_sends_an_error_webhook_of_its_own()
    {
        await using var receiver = await WebhookReceiver.StartNewAsync();
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?> { ["SyncHub:Webhooks:PrimaryUrl"] = receiver.Url.ToString() });
        engine.Github.SetIssues("o/r", [FakeGithub.Issue(1000, "2026-01-01T00:00:00Z"), FakeGithub.Issue(1001, "2026-01-01T00:00:01Z")]);
        var connection = await engine.ImportAsync();
        await engine.PumpAsync();
        var delivery = engine.Get<WebhookDelivery>();
        var stream = new WebhookMessage("github", connection, "issues:base");
        await delivery.DeliverAsync(stream, default);
        var success = Assert.Single(receiver.Of(connection), r => r.Json["syncName"]?.GetValue<string>() == "issues");
        Assert.True(success.Json["success"]!.GetValue<bool>());

        // Twice: each abandonment is a failure of its own, neither taken for the earlier run's webhook nor for the other.
        var runner = engine.Get<Core.Scheduling.SyncRunner>();
        var message = new Core.Scheduling.SyncRunMessage(new Core.Model.SyncKey("github", connection, "issues", "base"), Core.Scheduling.SyncRunKind.Scheduled);
        await runner.RecordPoisonedAsync(message, default);
        await runner.RecordPoisonedAsync(message, default);
        await delivery.DeliverAsync(stream, default);

        var errors = receiver.Of(connection).Where(r => r.Json["syncName"]?.GetValue<string>() == "issues" && !r.Json["success"]!.GetValue<bool>()).ToList();
        Assert.Equal(2, errors.Count);
        Assert.Equal(2, errors.Select(e => e.DeliveryId).Distinct().Count());
        Assert.DoesNotContain(errors, e => e.DeliveryId == success.DeliveryId);
        Assert.All(errors, e => Assert.Contains("maximum delivery count", e.Json["error"]!["description"]!.GetValue<string>()));
        Assert.Equal("ERROR", (await engine.ScheduleAsync(connection, "issues"))!.LastStatus);
    }
}
