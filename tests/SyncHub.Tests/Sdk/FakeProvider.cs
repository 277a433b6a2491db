using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Sdk;

/// <summary>What the fake provider received: <see cref="At"/> on the wall clock, <see cref="Timestamp"/> a monotonic <see cref="Stopwatch"/> timestamp.</summary>
public sealed record ReceivedRequest(int Number, string Method, string PathAndQuery, string? Authorization, string? UserAgent, DateTimeOffset At, long Timestamp)
{
    /// <summary>The time from this request's arrival to <paramref name="later"/>'s (monotonic).</summary>
    public TimeSpan Until(ReceivedRequest later) => Stopwatch.GetElapsedTime(Timestamp, later.Timestamp);
}

/// <summary>
/// A provider API for the Proxy tests: a Kestrel server on 127.0.0.1 (a free port), answering each request with the
/// test's delegate, which gets the request's 1-based number. Records every request it receives.
/// </summary>
public sealed class FakeProvider : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private int _count;

    private FakeProvider(WebApplication app) => _app = app;

    /// <summary>The server's root, e.g. <c>http://127.0.0.1:41234</c> (no trailing slash).</summary>
    public Uri Url { get; private set; } = null!;

    public IReadOnlyList<ReceivedRequest> Requests => _requests.OrderBy(r => r.Number).ToArray();

    public static async Task<FakeProvider> StartAsync(Func<HttpContext, int, Task> respond)
    {
        FakeProvider? provider = null;
        var (app, address) = await LoopbackServer.StartAsync(async context =>
        {
            var number = Interlocked.Increment(ref provider!._count);
            var request = context.Request;
            provider._requests.Enqueue(new ReceivedRequest(
                number, request.Method, request.Path.ToUriComponent() + request.QueryString.ToUriComponent(),
                request.Headers.Authorization.FirstOrDefault(), request.Headers.UserAgent.FirstOrDefault(), DateTimeOffset.UtcNow, Stopwatch.GetTimestamp()));
            await respond(context, number);
        });
        provider = new FakeProvider(app) { Url = address };
        return provider;
    }

    /// <summary>A server that answers every request with the same JSON.</summary>
    public static Task<FakeProvider> StartAsync(string json = """{"ok":true}""") =>
        StartAsync((context, _) => Json(context, json));

    public static async Task Json(HttpContext context, string json, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
