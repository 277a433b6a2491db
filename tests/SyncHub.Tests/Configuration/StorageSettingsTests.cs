using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.Core.Storage;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Configuration;

/// <summary>The <c>SyncHubStorage</c> setting, in both its forms, as AddSyncHub turns it into storage clients.</summary>
public sealed class StorageSettingsTests
{
    [Fact]
    public void The_identity_based_form_uses_the_table_and_queue_service_uris()
    {
        using var services = TestEnvironment.Services(new Dictionary<string, string?>
        {
            ["SyncHubStorage"] = null,
            ["SyncHubStorage:tableServiceUri"] = "https://account.table.core.windows.net/",
            ["SyncHubStorage:queueServiceUri"] = "https://account.queue.core.windows.net/",
            ["SyncHubStorage:credential"] = "managedidentity",
            ["SyncHubStorage:clientId"] = "00000000-0000-0000-0000-000000000001",
        });
        var storage = services.GetRequiredService<StorageClients>();
        Assert.Equal(new Uri("https://account.table.core.windows.net/"), storage.Tables.Uri);
        Assert.Equal(new Uri("https://account.queue.core.windows.net/"), storage.Queues.Uri);
        Assert.Equal("account", storage.Tables.AccountName);
    }

    [Fact]
    public void A_missing_setting_is_named_with_both_forms()
    {
        using var services = TestEnvironment.Services(new Dictionary<string, string?> { ["SyncHubStorage"] = null });
        var error = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<StorageClients>());
        Assert.Contains("'SyncHubStorage' is missing", error.Message);
        Assert.Contains("connection string", error.Message);
        Assert.Contains("SyncHubStorage__tableServiceUri", error.Message);
        Assert.Contains("SyncHubStorage__queueServiceUri", error.Message);
    }

    [Fact]
    public async Task Queue_messages_are_sent_in_base64()
    {
        using var services = TestEnvironment.Services();
        var queue = services.GetRequiredService<StorageClients>().Queue(TestEnvironment.Unique("enc"));
        await queue.CreateIfNotExistsAsync();
        try
        {
            await queue.SendMessageAsync("{\"a\":1}");
            var raw = new QueueClient(TestEnvironment.StorageConnectionString, queue.Name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
            var message = (await raw.ReceiveMessageAsync()).Value;
            Assert.Equal(Convert.ToBase64String("{\"a\":1}"u8), message.Body.ToString());
        }
        finally
        {
            await queue.DeleteIfExistsAsync();
        }
    }
}
