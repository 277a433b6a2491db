using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using SyncHub.Core.Storage;

namespace SyncHub.Tests.Infrastructure;

/// <summary>
/// Storage clients for the test Azurite whose writes to one table take <see cref="Delay"/> longer while
/// <see cref="Enabled"/>: widens the gap between two storage writes so that what readers may see in between is
/// observable on purpose rather than by luck.
/// </summary>
public sealed class SlowTableWrites(string table, TimeSpan delay) : HttpPipelinePolicy
{
    public volatile bool Enabled;

    public TimeSpan Delay { get; } = delay;

    public StorageClients Clients()
    {
        var tableOptions = new TableClientOptions();
        tableOptions.AddPolicy(this, HttpPipelinePosition.PerCall);
        var connection = TestEnvironment.StorageConnectionString;
        return new StorageClients(new TableServiceClient(connection, tableOptions),
            new QueueServiceClient(connection, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }));
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (Applies(message))
        {
            // The fake's slowness itself (a slow storage write), not synchronisation.
            Thread.Sleep(Delay);
        }
        ProcessNext(message, pipeline);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (Applies(message))
        {
            // The fake's slowness itself (a slow storage write), not synchronisation.
            await Task.Delay(Delay);
        }
        await ProcessNextAsync(message, pipeline);
    }

    private bool Applies(HttpMessage message) =>
        Enabled && message.Request.Method != RequestMethod.Get && message.Request.Uri.Path.Contains($"/{table}(", StringComparison.Ordinal);
}
