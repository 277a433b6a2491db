using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using SyncHub.Core.Storage;

namespace SyncHub.Tests.Infrastructure;

/// <summary>One storage request as sent: its method, the table it went to (<c>records</c> for a record table,
/// <c>$batch</c> for a transaction, <c>queue</c> for the queue service), whether it was conditional, and its path.</summary>
public sealed record StorageRequest(string Method, string Table, bool Conditional, string Path)
{
    public override string ToString() => $"{Method}{(Conditional ? " if-match" : "")} {Table} {Path}";
}

/// <summary>
/// Storage clients for the test Azurite that log every request they send (tables and queues) while
/// <see cref="Enabled"/>: request counts are exact, unlike timings. Reads a test makes to observe state can be left out
/// with <see cref="Unlogged{T}"/>.
/// </summary>
public sealed class StorageRequestLog
{
    private static readonly AsyncLocal<bool> Ignoring = new();
    private readonly ConcurrentQueue<StorageRequest> _requests = new();

    public volatile bool Enabled;

    public IReadOnlyList<StorageRequest> Requests => [.. _requests];

    public int Count => _requests.Count;

    public void Clear() => _requests.Clear();

    public StorageClients Clients()
    {
        var tableOptions = new TableClientOptions();
        tableOptions.AddPolicy(new Recorder(this, queue: false), HttpPipelinePosition.PerCall);
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        queueOptions.AddPolicy(new Recorder(this, queue: true), HttpPipelinePosition.PerCall);
        var connection = TestEnvironment.StorageConnectionString;
        return new StorageClients(new TableServiceClient(connection, tableOptions), new QueueServiceClient(connection, queueOptions));
    }

    /// <summary>Runs <paramref name="action"/> without logging its requests (a test observing state).</summary>
    public static async Task<T> Unlogged<T>(Func<Task<T>> action)
    {
        Ignoring.Value = true;
        return await action();
    }

    /// <summary>The requests logged since <paramref name="from"/> (a <see cref="Count"/> taken before).</summary>
    public IReadOnlyList<StorageRequest> Since(int from) => Requests.Skip(from).ToList();

    private void Log(HttpMessage message, bool queue)
    {
        if (!Enabled || Ignoring.Value)
        {
            return;
        }
        var request = message.Request;
        var path = Uri.UnescapeDataString(request.Uri.Path);
        var name = (path.Split('/', StringSplitOptions.RemoveEmptyEntries).Skip(1).FirstOrDefault() ?? "").Split('(')[0];
        var table = queue ? "queue"
            : name.Length == 33 && name[0] == 'r' && name.Skip(1).All(char.IsAsciiHexDigitLower) ? "records"
            : name;
        _requests.Enqueue(new StorageRequest(request.Method.ToString(), table, request.Headers.Contains("If-Match"), path));
    }

    private sealed class Recorder(StorageRequestLog log, bool queue) : HttpPipelinePolicy
    {
        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            log.Log(message, queue);
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            log.Log(message, queue);
            return ProcessNextAsync(message, pipeline);
        }
    }
}
