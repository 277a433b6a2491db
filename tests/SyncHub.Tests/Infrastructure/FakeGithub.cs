using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SyncHub.Tests.Infrastructure;

/// <summary>
/// A small GitHub on 127.0.0.1: issues and labels of repositories, with GitHub's paging (Link headers), <c>since</c>,
/// ascending <c>updated</c> order, pull requests among issues, and injectable faults. Records every request.
/// </summary>
public sealed class FakeGithub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, List<JsonObject>> _issues = new();
    private readonly ConcurrentDictionary<string, List<JsonObject>> _labels = new();
    private readonly ConcurrentQueue<Func<HttpContext, Task<bool>>> _faults = new();

    public ConcurrentQueue<(string Method, string PathAndQuery, string? Authorization, string? Accept)> Requests { get; } = new();

    /// <summary>One request as the fake received and answered it (kept apart from <see cref="Requests"/>, which tests clear).</summary>
    public sealed class Exchange(int number, string pathAndQuery, long arrivedAt)
    {
        public int Number { get; } = number;
        public string PathAndQuery { get; } = pathAndQuery;

        /// <summary>When the request arrived, as a <see cref="Stopwatch"/> timestamp (monotonic).</summary>
        public long ArrivedAt { get; } = arrivedAt;

        /// <summary>The status it was answered (0 until answered).</summary>
        public int Status { get; internal set; }

        public override string ToString() => $"#{Number} {PathAndQuery} → {Status}";
    }

    private readonly ConcurrentQueue<Exchange> _exchanges = new();
    private int _exchangeCount;

    /// <summary>Every request received, in order of arrival, with its arrival time and the status it was answered.</summary>
    public IReadOnlyList<Exchange> Exchanges => _exchanges.OrderBy(e => e.Number).ToArray();

    /// <summary>
    /// The first request answered <paramref name="status"/>, the next request the fake received after it, and the time
    /// between their arrivals (a lower bound of the time between the answer and the next request); fails if either is missing.
    /// </summary>
    public (Exchange Answered, Exchange Next, TimeSpan Gap) NextRequestAfter(int status)
    {
        var all = Exchanges;
        var answered = all.FirstOrDefault(e => e.Status == status);
        Assert.True(answered is not null, $"no request was answered {status}: " + string.Join(", ", all));
        var next = all.FirstOrDefault(e => e.Number == answered.Number + 1);
        Assert.True(next is not null, $"no request followed {answered}: " + string.Join(", ", all));
        return (answered, next, Stopwatch.GetElapsedTime(answered.ArrivedAt, next.ArrivedAt));
    }

    public Uri BaseUrl { get; }

    private readonly ConcurrentDictionary<string, int> _inFlight = new();

    /// <summary>The most requests ever in flight at once per path (e.g. <c>/repos/o/r/issues</c>): 2+ means two runs of one sync overlapped.</summary>
    public ConcurrentDictionary<string, int> MaxInFlight { get; } = new();

    /// <summary>Delay applied to every page, to make runs slow enough to interrupt.</summary>
    public TimeSpan PageDelay { get; set; }

    private FakeGithub(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public static async Task<FakeGithub> StartAsync()
    {
        FakeGithub? fake = null;
        var (app, address) = await LoopbackServer.StartAsync(context => fake!.HandleAsync(context));
        fake = new FakeGithub(app, new Uri(address, "/"));
        return fake;
    }

    public void SetIssues(string repo, IEnumerable<JsonObject> issues) => _issues[repo] = issues.ToList();
    public void SetLabels(string repo, IEnumerable<JsonObject> labels) => _labels[repo] = labels.ToList();

    /// <summary>The next requests are answered by these faults first (return true when the fault answered).</summary>
    public void Fail(params Func<HttpContext, Task<bool>>[] faults)
    {
        foreach (var fault in faults)
        {
            _faults.Enqueue(fault);
        }
    }

    public static Func<HttpContext, Task<bool>> Status(int status, IDictionary<string, string>? headers = null) => async context =>
    {
        context.Response.StatusCode = status;
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }
        await context.Response.WriteAsync("{\"message\":\"fault\"}");
        return true;
    };

    /// <summary>Holds the request this long, then lets it be served normally (a timeout when longer than the client waits).</summary>
    public static Func<HttpContext, Task<bool>> Delay(TimeSpan delay) => async context =>
    {
        try
        {
            // The fault itself: a provider that is slow to answer.
            await Task.Delay(delay, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            return true;
        }
        return false;
    };

    /// <summary>A 200 whose body is cut-off JSON.</summary>
    public static Func<HttpContext, Task<bool>> Malformed() => async context =>
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("[{\"id\": 1, \"title\": \"cut off");
        return true;
    };

    public static JsonObject Issue(long id, string updatedAt, string title = "Issue", bool pullRequest = false, params string[] labels)
    {
        var issue = new JsonObject
        {
            ["id"] = id,
            ["number"] = id % 100000,
            ["title"] = title,
            ["state"] = "open",
            ["user"] = new JsonObject { ["login"] = "octocat" },
            ["labels"] = new JsonArray(labels.Select(l => (JsonNode?)new JsonObject { ["name"] = l, ["color"] = "fff" }).ToArray()),
            ["created_at"] = "2026-01-01T00:00:00Z",
            ["updated_at"] = updatedAt,
            ["closed_at"] = null,
            ["html_url"] = $"https://github.com/o/r/issues/{id}",
            ["body"] = "not copied",
        };
        if (pullRequest)
        {
            issue["pull_request"] = new JsonObject { ["url"] = "https://api.github.com/pulls/1" };
        }
        return issue;
    }

    public static JsonObject Label(long id, string name, string? description = null) =>
        new() { ["id"] = id, ["name"] = name, ["color"] = "00ff00", ["description"] = description, ["default"] = false };

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var exchange = new Exchange(Interlocked.Increment(ref _exchangeCount), request.Path + request.QueryString, Stopwatch.GetTimestamp());
        _exchanges.Enqueue(exchange);
        Requests.Enqueue((request.Method, request.Path + request.QueryString, request.Headers.Authorization.FirstOrDefault(), request.Headers.Accept.FirstOrDefault()));
        var path = request.Path.Value ?? "";
        var inFlight = _inFlight.AddOrUpdate(path, 1, (_, n) => n + 1);
        MaxInFlight.AddOrUpdate(path, inFlight, (_, n) => Math.Max(n, inFlight));
        try
        {
            await ServeAsync(context);
        }
        finally
        {
            exchange.Status = context.Response.StatusCode;
            _inFlight.AddOrUpdate(path, 0, (_, n) => n - 1);
        }
    }

    private async Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        if (PageDelay > TimeSpan.Zero)
        {
            // A fake's latency (makes runs slow enough to interrupt), not synchronisation.
            await Task.Delay(PageDelay);
        }
        if (_faults.TryDequeue(out var fault) && await fault(context))
        {
            return;
        }
        var segments = request.Path.Value!.Trim('/').Split('/');
        if (segments.Length != 4 || segments[0] != "repos")
        {
            context.Response.StatusCode = 404;
            return;
        }
        var repo = $"{segments[1]}/{segments[2]}";
        var perPage = int.TryParse(request.Query["per_page"], out var p) ? p : 30;
        var page = int.TryParse(request.Query["page"], out var n) ? n : 1;
        IEnumerable<JsonObject> items;
        switch (segments[3])
        {
            case "issues":
                items = _issues.GetValueOrDefault(repo) ?? [];
                items = items.OrderBy(i => i["updated_at"]!.GetValue<string>(), StringComparer.Ordinal);
                if (request.Query["since"].FirstOrDefault() is { } since)
                {
                    var from = DateTimeOffset.Parse(since, CultureInfo.InvariantCulture);
                    items = items.Where(i => DateTimeOffset.Parse(i["updated_at"]!.GetValue<string>(), CultureInfo.InvariantCulture) >= from);
                }
                break;
            case "labels":
                items = _labels.GetValueOrDefault(repo) ?? [];
                break;
            default:
                context.Response.StatusCode = 404;
                return;
        }
        var all = items.ToList();
        var slice = all.Skip((page - 1) * perPage).Take(perPage).ToList();
        if (page * perPage < all.Count)
        {
            var query = System.Web.HttpUtility.ParseQueryString(request.QueryString.Value ?? "");
            query["page"] = (page + 1).ToString(CultureInfo.InvariantCulture);
            context.Response.Headers["Link"] = $"<{BaseUrl}{request.Path.Value!.TrimStart('/')}?{query}>; rel=\"next\", <{BaseUrl}x>; rel=\"last\"";
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonArray(slice.Select(i => (JsonNode?)i.DeepClone()).ToArray()).ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
