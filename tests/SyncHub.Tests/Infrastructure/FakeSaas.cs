using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SyncHub.Tests.Infrastructure;

/// <summary>
/// HubSpot, Jira and Stripe list endpoints on 127.0.0.1 with their documented response shapes and paging:
/// <list type="bullet">
/// <item>HubSpot <c>GET /crm/v3/objects/contacts?limit&amp;after&amp;properties</c>: <c>{results: [{id, properties{...},
/// createdAt, updatedAt, archived}], paging: {next: {after, link}}}</c> (no <c>paging</c> on the last page), id order.
/// The list endpoint has no "modified since" filter (HubSpot offers it through the search API); this fake accepts
/// <c>updatedAfter</c> (ms since the epoch, inclusive) on it, the query parameter the declarative sync sends.</item>
/// <item>Jira <c>GET /rest/api/3/search?jql&amp;startAt&amp;maxResults&amp;fields</c>: <c>{expand, startAt, maxResults, total,
/// issues: [{expand, id, self, key, fields{summary, status{name}, updated}}]}</c>; the JQL it understands is
/// <c>project = X [AND updated &gt;= "yyyy-MM-dd HH:mm"] ORDER BY updated ASC</c>; maxResults capped at 100.</item>
/// <item>Stripe <c>GET /v1/customers?limit&amp;starting_after&amp;created[gte]</c>: <c>{object: "list", url, has_more,
/// data: [{id, object: "customer", created, email, name, ...}]}</c>, newest first.</item>
/// </list>
/// <see cref="Custom"/> serves any other path (error shapes). Records every request; <see cref="PageDelay"/> slows pages.
/// </summary>
public sealed partial class FakeSaas : IAsyncDisposable
{
    private readonly WebApplication _app;

    public List<JsonObject> HubspotContacts { get; set; } = [];
    public List<JsonObject> JiraIssues { get; set; } = [];
    public List<JsonObject> StripeCustomers { get; set; } = [];

    /// <summary>Answers for other paths: the JSON body for a request.</summary>
    public ConcurrentDictionary<string, Func<HttpRequest, JsonNode>> Custom { get; } = new();

    public ConcurrentQueue<string> Requests { get; } = new();
    public TimeSpan PageDelay { get; set; }
    public Uri BaseUrl { get; }

    private FakeSaas(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public static async Task<FakeSaas> StartAsync()
    {
        FakeSaas? fake = null;
        var (app, address) = await LoopbackServer.StartAsync(context => fake!.ServeAsync(context));
        fake = new FakeSaas(app, new Uri(address, "/"));
        return fake;
    }

    public IEnumerable<string> RequestsTo(string path) => Requests.Where(r => r.StartsWith(path, StringComparison.Ordinal));

    private static readonly DateTime Epoch = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static JsonObject HubspotContact(int i, int minutes = 0) => new()
    {
        ["id"] = (1000 + i).ToString(CultureInfo.InvariantCulture),
        ["properties"] = new JsonObject
        {
            ["createdate"] = "2025-12-01T00:00:00.000Z",
            ["email"] = $"contact{i}@example.com",
            ["firstname"] = $"First{i}",
            ["hs_object_id"] = (1000 + i).ToString(CultureInfo.InvariantCulture),
            ["lastmodifieddate"] = Epoch.AddMinutes(minutes).AddSeconds(i).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["lastname"] = $"Last{i}",
        },
        ["createdAt"] = "2025-12-01T00:00:00.000Z",
        ["updatedAt"] = Epoch.AddMinutes(minutes).AddSeconds(i).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        ["archived"] = false,
    };

    public static JsonObject JiraIssue(int i, int minutes = 0, string summary = "Summary") => new()
    {
        ["expand"] = "operations,versionedRepresentations,editmeta,changelog,renderedFields",
        ["id"] = (10000 + i).ToString(CultureInfo.InvariantCulture),
        ["self"] = $"https://example.atlassian.net/rest/api/3/issue/{10000 + i}",
        ["key"] = $"PROJ-{i}",
        ["fields"] = new JsonObject
        {
            ["summary"] = $"{summary} {i}",
            ["status"] = new JsonObject { ["name"] = "To Do", ["id"] = "10000" },
            ["updated"] = Epoch.AddMinutes(minutes).AddSeconds(i).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'+0000'", CultureInfo.InvariantCulture),
        },
    };

    public static JsonObject StripeCustomer(int i, long createdOffset = 0) => new()
    {
        ["id"] = $"cus_{i:D6}",
        ["object"] = "customer",
        ["address"] = null,
        ["balance"] = 0,
        ["created"] = new DateTimeOffset(Epoch).ToUnixTimeSeconds() + createdOffset + i,
        ["currency"] = "usd",
        ["email"] = $"customer{i}@example.com",
        ["livemode"] = false,
        ["metadata"] = new JsonObject(),
        ["name"] = $"Customer {i}",
    };

    private async Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        Requests.Enqueue(request.Path + request.QueryString);
        if (PageDelay > TimeSpan.Zero)
        {
            // A provider's latency (makes runs slow enough to interrupt), not synchronisation.
            await Task.Delay(PageDelay);
        }
        JsonNode body;
        switch (request.Path.Value)
        {
            case "/crm/v3/objects/contacts":
                body = Hubspot(request);
                break;
            case "/rest/api/3/search":
                body = Jira(request);
                break;
            case "/v1/customers":
                body = Stripe(request);
                break;
            default:
                if (!Custom.TryGetValue(request.Path.Value ?? "", out var custom))
                {
                    context.Response.StatusCode = 404;
                    return;
                }
                body = custom(request);
                break;
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private JsonNode Hubspot(HttpRequest request)
    {
        var limit = int.TryParse(request.Query["limit"], out var l) ? Math.Min(l, 100) : 10;
        IEnumerable<JsonObject> items = HubspotContacts.OrderBy(c => long.Parse(c["id"]!.GetValue<string>(), CultureInfo.InvariantCulture));
        if (request.Query["updatedAfter"].FirstOrDefault() is { } after)
        {
            var from = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(after, CultureInfo.InvariantCulture));
            items = items.Where(c => DateTimeOffset.Parse(c["properties"]!["lastmodifieddate"]!.GetValue<string>(), CultureInfo.InvariantCulture) >= from);
        }
        if (request.Query["after"].FirstOrDefault() is { } cursor)
        {
            items = items.Where(c => long.Parse(c["id"]!.GetValue<string>(), CultureInfo.InvariantCulture) >= long.Parse(cursor, CultureInfo.InvariantCulture));
        }
        var all = items.ToList();
        var page = all.Take(limit).ToList();
        var response = new JsonObject { ["results"] = new JsonArray(page.Select(c => (JsonNode)c.DeepClone()).ToArray()) };
        if (all.Count > limit)
        {
            var next = all[limit]["id"]!.GetValue<string>();
            response["paging"] = new JsonObject
            {
                ["next"] = new JsonObject { ["after"] = next, ["link"] = $"https://api.hubapi.com/crm/v3/objects/contacts?after={next}" },
            };
        }
        return response;
    }

    private JsonNode Jira(HttpRequest request)
    {
        var jql = request.Query["jql"].FirstOrDefault() ?? "";
        var startAt = int.TryParse(request.Query["startAt"], out var s) ? s : 0;
        var maxResults = int.TryParse(request.Query["maxResults"], out var m) ? Math.Min(m, 100) : 50;
        IEnumerable<JsonObject> items = JiraIssues;
        if (JqlUpdated().Match(jql) is { Success: true } match)
        {
            var from = DateTime.ParseExact(match.Groups[1].Value, "yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            items = items.Where(i => Updated(i) >= from);
        }
        else if (jql.Contains("updated", StringComparison.Ordinal) && !jql.EndsWith("ORDER BY updated ASC", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("JQL the fake does not understand: " + jql);
        }
        var all = items.OrderBy(Updated).ToList();
        return new JsonObject
        {
            ["expand"] = "schema,names",
            ["startAt"] = startAt,
            ["maxResults"] = maxResults,
            ["total"] = all.Count,
            ["issues"] = new JsonArray(all.Skip(startAt).Take(maxResults).Select(i => (JsonNode)i.DeepClone()).ToArray()),
        };
    }

    private static DateTime Updated(JsonObject issue) =>
        DateTime.ParseExact(issue["fields"]!["updated"]!.GetValue<string>(), "yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal);

    private JsonNode Stripe(HttpRequest request)
    {
        var limit = int.TryParse(request.Query["limit"], out var l) ? Math.Min(l, 100) : 10;
        IEnumerable<JsonObject> items = StripeCustomers
            .OrderByDescending(c => c["created"]!.GetValue<long>())
            .ThenByDescending(c => c["id"]!.GetValue<string>(), StringComparer.Ordinal);
        if (request.Query["created[gte]"].FirstOrDefault() is { } gte)
        {
            var from = long.Parse(gte, CultureInfo.InvariantCulture);
            items = items.Where(c => c["created"]!.GetValue<long>() >= from);
        }
        var all = items.ToList();
        if (request.Query["starting_after"].FirstOrDefault() is { } startingAfter)
        {
            all = all.SkipWhile(c => c["id"]!.GetValue<string>() != startingAfter).Skip(1).ToList();
        }
        return new JsonObject
        {
            ["object"] = "list",
            ["url"] = "/v1/customers",
            ["has_more"] = all.Count > limit,
            ["data"] = new JsonArray(all.Take(limit).Select(c => (JsonNode)c.DeepClone()).ToArray()),
        };
    }

    [GeneratedRegex("updated >= \"([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2})\"")]
    private static partial Regex JqlUpdated();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
