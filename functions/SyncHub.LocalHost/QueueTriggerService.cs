using System.Reflection;
using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using SyncHub.Core.Storage;

namespace SyncHub.LocalHost;

/// <summary>
/// Polls each <c>[QueueTrigger]</c> queue with the Functions host's semantics: base64 messages (per host.json), up to
/// <c>batchSize</c> in parallel, visibility renewed while a function runs, a failed message made visible again after
/// <c>visibilityTimeout</c>, and after <c>maxDequeueCount</c> attempts moved to <c>&lt;queue&gt;-poison</c>.
/// Polling backs off to <c>maxPollingInterval</c> while the queue is empty.
/// </summary>
public sealed class QueueTriggerService(
    FunctionCatalog catalog, FunctionInvoker invoker, IConfiguration configuration, HostJson host,
    IServiceProvider services, ILogger<QueueTriggerService> logger)
    : BackgroundService
{
    /// <summary>The name of the storage clients (registered by Program.cs) that poll the queues of <paramref name="connection"/>.</summary>
    public static string ClientName(string connection) => $"LocalHost.QueueTrigger.{connection}";

    private static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(60);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(catalog.Queues.Select(queue => PollAsync(queue, stoppingToken)));

    private async Task PollAsync(QueueFunction function, CancellationToken ct)
    {
        var clients = StorageClients.Create(services, configuration, function.Connection, ClientName(function.Connection));
        var queue = clients.Queue(LocalSettings.Resolve(configuration, function.Queue));
        var poison = clients.Queue(queue.Name + "-poison");
        var delay = TimeSpan.FromMilliseconds(100);
        var running = new List<Task>();
        logger.LogInformation("Queue trigger {Function} polling '{Queue}'", function.Name, queue.Name);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                running.RemoveAll(t => t.IsCompleted);
                var free = host.QueueBatchSize - running.Count;
                QueueMessage[] messages = [];
                if (free > 0)
                {
                    await queue.CreateIfNotExistsAsync(cancellationToken: ct);
                    messages = (await queue.ReceiveMessagesAsync(Math.Min(free, 32), LeaseTime, ct)).Value;
                }
                foreach (var message in messages)
                {
                    running.Add(ProcessAsync(function, queue, poison, message, ct));
                }
                delay = messages.Length > 0 ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, host.QueueMaxPollingInterval.Ticks));
                if (messages.Length == 0 || free <= 0)
                {
                    await Task.WhenAny(Task.Delay(delay, ct), running.Count > 0 ? Task.WhenAny(running) : Task.Delay(Timeout.Infinite, ct));
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning("Polling queue '{Queue}' failed: {Error}", queue.Name, e.Message);
                await Task.Delay(host.QueueMaxPollingInterval, ct).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
        await Task.WhenAll(running).ContinueWith(_ => { }, CancellationToken.None);
    }

    private async Task ProcessAsync(QueueFunction function, QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken ct)
    {
        var receipt = message.PopReceipt;
        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var renewing = Task.Run(async () =>
        {
            // Keep the message invisible while the function runs, as the host does.
            while (!renewal.IsCancellationRequested)
            {
                await Task.Delay(LeaseTime / 3, renewal.Token);
                var updated = await queue.UpdateMessageAsync(message.MessageId, receipt, visibilityTimeout: LeaseTime, cancellationToken: renewal.Token);
                receipt = updated.Value.PopReceipt;
            }
        }, renewal.Token);
        Exception? failure = null;
        try
        {
            await invoker.InvokeAsync(function.Method, p => Bind(p, message), ct);
        }
        catch (Exception e)
        {
            failure = e;
        }
        renewal.Cancel();
        await renewing.ContinueWith(_ => { }, CancellationToken.None);
        try
        {
            if (failure is null)
            {
                await queue.DeleteMessageAsync(message.MessageId, receipt, CancellationToken.None);
            }
            else if (message.DequeueCount >= host.QueueMaxDequeueCount)
            {
                logger.LogError(failure, "Function {Function} failed on message {MessageId} (attempt {Attempt}); moving it to '{Poison}'",
                    function.Name, message.MessageId, message.DequeueCount, poison.Name);
                await poison.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);
                await poison.SendMessageAsync(message.Body, cancellationToken: CancellationToken.None);
                await queue.DeleteMessageAsync(message.MessageId, receipt, CancellationToken.None);
            }
            else
            {
                logger.LogWarning(failure, "Function {Function} failed on message {MessageId} (attempt {Attempt} of {Max}); it will be retried",
                    function.Name, message.MessageId, message.DequeueCount, host.QueueMaxDequeueCount);
                await queue.UpdateMessageAsync(message.MessageId, receipt, visibilityTimeout: host.QueueVisibilityTimeout, cancellationToken: CancellationToken.None);
            }
        }
        catch (Exception e)
        {
            logger.LogWarning("Settling message {MessageId} on '{Queue}' failed: {Error}", message.MessageId, queue.Name, e.Message);
        }
    }

    private static (bool, object?) Bind(ParameterInfo parameter, QueueMessage message)
    {
        var type = parameter.ParameterType;
        if (parameter.GetCustomAttribute<Microsoft.Azure.Functions.Worker.QueueTriggerAttribute>() is not null)
        {
            if (type == typeof(string))
            {
                return (true, message.Body.ToString());
            }
            if (type == typeof(BinaryData))
            {
                return (true, message.Body);
            }
            if (type == typeof(byte[]))
            {
                return (true, message.Body.ToArray());
            }
            if (type == typeof(QueueMessage))
            {
                return (true, message);
            }
            return (true, JsonSerializer.Deserialize(message.Body.ToMemory().Span, type, Json));
        }
        return parameter.Name switch
        {
            "dequeueCount" when type == typeof(long) => (true, message.DequeueCount),
            "dequeueCount" when type == typeof(int) => (true, (int)message.DequeueCount),
            "id" or "messageId" when type == typeof(string) => (true, message.MessageId),
            _ => (false, null),
        };
    }
}
