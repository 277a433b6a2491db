using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.Core.Storage;

namespace SyncHub.Tests.Infrastructure;

/// <summary>
/// Counts the requests the app's storage clients send (a pipeline policy on the table and on the queue client): exact
/// numbers that say what an operation costs, where timings on a shared machine would not.
/// </summary>
public sealed class StorageRequestCounter
{
    public RequestCount Table { get; } = new();
    public RequestCount Queue { get; } = new();

    public void Reset()
    {
        Table.Reset();
        Queue.Reset();
    }

    /// <summary>Replaces the graph's storage clients with ones that report to this counter.</summary>
    public void Attach(IServiceCollection services)
    {
        var connection = TestEnvironment.StorageConnectionString;
        var tableOptions = new TableClientOptions();
        tableOptions.AddPolicy(Table, HttpPipelinePosition.PerRetry);
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        queueOptions.AddPolicy(Queue, HttpPipelinePosition.PerRetry);
        services.AddSingleton(new StorageClients(new TableServiceClient(connection, tableOptions), new QueueServiceClient(connection, queueOptions)));
    }

    /// <summary>Requests sent through one client, retries included.</summary>
    public sealed class RequestCount : HttpPipelinePolicy
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Reset() => Interlocked.Exchange(ref _count, 0);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Interlocked.Increment(ref _count);
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Interlocked.Increment(ref _count);
            return ProcessNextAsync(message, pipeline);
        }
    }
}
