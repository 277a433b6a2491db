using System.Text.Json.Nodes;

namespace SyncHub.LocalHost;

/// <summary>The parts of host.json that LocalHost honours, with the Functions host's defaults.</summary>
public sealed record HostJson(
    string RoutePrefix,
    TimeSpan QueueMaxPollingInterval,
    TimeSpan QueueVisibilityTimeout,
    int QueueBatchSize,
    int QueueMaxDequeueCount,
    bool QueueBase64)
{
    public static HostJson Load(string path)
    {
        var root = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject : null;
        var http = root?["extensions"]?["http"];
        var queues = root?["extensions"]?["queues"];
        return new HostJson(
            RoutePrefix: http?["routePrefix"]?.GetValue<string>() ?? "api",
            QueueMaxPollingInterval: TimeSpan.Parse(queues?["maxPollingInterval"]?.GetValue<string>() ?? "00:01:00"),
            QueueVisibilityTimeout: TimeSpan.Parse(queues?["visibilityTimeout"]?.GetValue<string>() ?? "00:00:00"),
            QueueBatchSize: queues?["batchSize"]?.GetValue<int>() ?? 16,
            QueueMaxDequeueCount: queues?["maxDequeueCount"]?.GetValue<int>() ?? 5,
            QueueBase64: !string.Equals(queues?["messageEncoding"]?.GetValue<string>(), "none", StringComparison.OrdinalIgnoreCase));
    }
}
