using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SyncHub.Tests.Infrastructure;

/// <summary>
/// A webhook receiver for tests: records every POST (raw body, headers, arrival time) and answers 200, or the next of
/// the statuses queued with <see cref="Answer"/>. It keeps its port across <see cref="StopAsync"/> / <see cref="StartAsync"/>,
/// so a test can take it down ("connection refused") and bring it back at the same URL.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public sealed record Received(string Body, IReadOnlyDictionary<string, string> Headers, DateTimeOffset At, int AnsweredWith)
    {
        public JsonObject Json => JsonNode.Parse(Body)!.AsObject();
        public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : "";
        public string DeliveryId => Header("X-SyncHub-Delivery");
        public override string ToString() => $"{At:HH:mm:ss.fff} {AnsweredWith} {DeliveryId} {Body}";
    }

    private readonly List<(Func<JsonObject, bool> Which, int Status)> _answers = [];
    private readonly ConcurrentQueue<Received> _received = new();
    private WebApplication? _app;

    private WebhookReceiver(int port) => Port = port;

    public int Port { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}/hooks");

    /// <summary>Every request so far (answered or not), in arrival order.</summary>
    public IReadOnlyList<Received> All => [.. _received];

    /// <summary>The requests about one connection.</summary>
    public IReadOnlyList<Received> Of(string connectionId) =>
        [.. _received.Where(r => r.Json["connectionId"]?.GetValue<string>() == connectionId)];

    /// <summary>Called with each request's body before it is answered (a test acting while a delivery is in flight).</summary>
    public Func<JsonObject, Task>? OnReceive { get; set; }

    /// <summary>The next requests are answered with these statuses, in order; then 200 again.</summary>
    public void Answer(params int[] statuses) => AnswerFor(_ => true, statuses);

    /// <summary>The next requests whose body matches <paramref name="which"/> are answered with these statuses, in order.</summary>
    public void AnswerFor(Func<JsonObject, bool> which, params int[] statuses)
    {
        lock (_answers)
        {
            _answers.AddRange(statuses.Select(s => (which, s)));
        }
    }

    private int NextAnswer(string body)
    {
        var json = JsonNode.Parse(body)!.AsObject();
        lock (_answers)
        {
            var index = _answers.FindIndex(a => a.Which(json));
            if (index < 0)
            {
                return 200;
            }
            var status = _answers[index].Status;
            _answers.RemoveAt(index);
            return status;
        }
    }

    public static async Task<WebhookReceiver> StartNewAsync(bool listening = true)
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var receiver = new WebhookReceiver(port);
        if (listening)
        {
            await receiver.StartAsync();
        }
        return receiver;
    }

    public async Task StartAsync()
    {
        (_app, _) = await LoopbackServer.StartAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            if (OnReceive is { } onReceive)
            {
                await onReceive(JsonNode.Parse(body)!.AsObject());
            }
            var status = NextAnswer(body);
            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            _received.Enqueue(new Received(body, headers, DateTimeOffset.UtcNow, status));
            context.Response.StatusCode = status;
            await context.Response.WriteAsync("ok");
        }, Port);
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
