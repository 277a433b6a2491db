using System.Text.Json.Nodes;
using SyncHub.Core.Connections;
using SyncHub.Core.Webhooks;
using SyncHub.Tests.Infrastructure;
using SyncHub.Tests.Scheduling;

namespace SyncHub.Tests.Webhooks;

/// <summary>A failed token refresh is told to the application as Nango's auth webhook, signed like every other.</summary>
public sealed class RefreshFailureWebhookTests
{
    [Fact]
    public async Task A_failed_refresh_sends_an_auth_webhook_with_operation_refresh_and_the_error()
    {
        await using var receiver = await WebhookReceiver.StartNewAsync();
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?> { ["SyncHub:Webhooks:PrimaryUrl"] = receiver.Url.ToString() });
        var connectionId = TestEnvironment.Unique("refresh");
        var (connection, _) = await engine.Get<ConnectionStore>().UpsertAsync("github", connectionId, "github",
            new ConnectionCredentials("OAUTH2", new JsonObject { ["type"] = "OAUTH2", ["access_token"] = "gho_old", ["refresh_token"] = "rt-secret" }), null, null, default);

        // What ConnectionTokens calls once per failure episode.
        var events = engine.Get<IConnectionEvents>();
        Assert.IsType<WebhookConnectionEvents>(events);
        await events.OnRefreshFailedAsync(connection, "OAUTH2", new ConnectionAuthError("log-1", "OAuth refresh failed: invalid_grant", DateTimeOffset.UtcNow), default);

        // Deliver what was queued, as the DeliverWebhook function does.
        var delivery = engine.Get<WebhookDelivery>();
        var queue = engine.Get<SyncHub.Core.Storage.StorageClients>().Queue(engine.Get<Microsoft.Extensions.Options.IOptions<WebhookOptions>>().Value.Queue);
        var messages = (await queue.ReceiveMessagesAsync(32)).Value;
        var message = Assert.Single(messages);
        await delivery.DeliverAsync(System.Text.Json.JsonSerializer.Deserialize<WebhookMessage>(message.Body.ToString())!, default);

        var received = Assert.Single(receiver.Of(connectionId));
        var body = received.Json;
        Assert.Equal(("auth", "refresh", false), (body["type"]!.GetValue<string>(), body["operation"]!.GetValue<string>(), body["success"]!.GetValue<bool>()));
        Assert.Equal("OAUTH2", body["authMode"]!.GetValue<string>());
        Assert.Equal("OAuth refresh failed: invalid_grant", body["error"]!["description"]!.GetValue<string>());
        Assert.DoesNotContain("rt-secret", received.Body);
        Assert.DoesNotContain("gho_old", received.Body);
        Assert.NotEmpty(received.Header("X-Nango-Hmac-Sha256"));
    }
}
