using System.Net;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Azure.Functions.Worker;
using SyncHub.LocalHost;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.LocalHost;

/// <summary>
/// The routes LocalHost serves are exactly those on the function app's <c>[HttpTrigger]</c> attributes: what the
/// catalog discovers, what gets mapped, and what a running LocalHost answers.
/// </summary>
[Collection(LocalHostCollection.Name)]
public sealed class FunctionRoutesTests(LocalHostFixture fixture)
{
    private static readonly Assembly FunctionApp = typeof(SyncHub.Functions.ConnectionFunctions).Assembly;
    private static readonly string[] AllVerbs = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    /// <summary>(function name, route, verbs) straight from the attributes, independently of FunctionCatalog.</summary>
    private static List<(string Name, string Route, string[] Methods)> AttributeRoutes()
    {
        var routes = new List<(string, string, string[])>();
        foreach (var type in FunctionApp.GetTypes())
        {
            foreach (var method in type.GetMethods())
            {
                var function = method.GetCustomAttribute<FunctionAttribute>();
                var trigger = method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).SingleOrDefault(a => a is not null);
                if (function is not null && trigger is not null)
                {
                    // No methods on the attribute means every verb.
                    routes.Add((function.Name, trigger.Route ?? function.Name, (trigger.Methods ?? []).Select(m => m.ToUpperInvariant()).Distinct().Order().ToArray()));
                }
            }
        }
        return routes;
    }

    private static string Key(string route, IEnumerable<string> methods) =>
        $"{(methods.Any() ? string.Join(",", methods.Order()) : "*")} /{route.Trim('/')}";

    private static IEnumerable<string> Verbs(string[] methods) => methods.Length == 0 ? AllVerbs : methods;

    [Fact]
    public void The_function_app_declares_the_foundation_routes()
    {
        var routes = AttributeRoutes().Select(r => Key(r.Route, r.Methods)).ToHashSet();
        foreach (var expected in new[]
                 {
                     "GET /environment-variables", "GET /integrations", "POST /connections", "GET /connections",
                     "GET /connections/{connectionId}", "DELETE /connections/{connectionId}",
                     "POST /connections/metadata", "PATCH /connections/metadata",
                 })
        {
            Assert.Contains(expected, routes);
        }
    }

    [Fact]
    public void The_catalog_discovers_exactly_the_attribute_routes()
    {
        var catalog = FunctionCatalog.Discover(FunctionApp);
        var discovered = catalog.Http.Select(f => (f.Name, f.Route, Methods: f.Methods.Order().ToArray()))
            .Select(f => $"{f.Name}: {Key(f.Route, f.Methods)}").Order().ToArray();
        var declared = AttributeRoutes().Select(r => $"{r.Name}: {Key(r.Route, r.Methods)}").Order().ToArray();
        Assert.Equal(declared, discovered);
    }

    [Fact]
    public void Exactly_the_attribute_routes_are_mapped_under_the_route_prefix()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddRouting();
        var app = builder.Build();
        var host = HostJson.Load(Path.Combine(AppContext.BaseDirectory, "host.json"));
        Assert.Equal("", host.RoutePrefix);
        app.MapHttpTriggers(FunctionCatalog.Discover(FunctionApp), host);

        var mapped = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Select(e => Key(e.RoutePattern.RawText!, e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []))
            .Order().ToArray();
        var declared = AttributeRoutes().Select(r => Key(r.Route, r.Methods)).Order().ToArray();
        Assert.Equal(declared, mapped);
    }

    [Fact]
    public void A_route_prefix_from_host_json_is_applied()
    {
        var app = WebApplication.CreateSlimBuilder().Build();
        app.MapHttpTriggers(FunctionCatalog.Discover(FunctionApp), new HostJson("api", TimeSpan.FromSeconds(2), TimeSpan.Zero, 16, 5, true));
        var patterns = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>().Select(e => e.RoutePattern.RawText).ToArray();
        Assert.Contains("/api/environment-variables", patterns);
        Assert.All(patterns, p => Assert.StartsWith("/api/", p));
    }

    /// <summary>A concrete path for a route template: every parameter becomes a plausible value.</summary>
    private static string Fill(string route) => "/" + Regex.Replace(route.Trim('/'), @"\{[^}]+\}", "route-probe");

    private static async Task<(HttpStatusCode Status, string? Code)> SendAsync(HttpClient client, string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        }
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        // Errors are JSON; a 200 may be a page (GET /dashboard).
        var json = response.Content.Headers.ContentType?.MediaType == "application/json" && body.Length > 0 ? JsonNode.Parse(body) as JsonObject : null;
        var code = json?["error"]?["code"]?.GetValue<string>();
        return (response.StatusCode, code);
    }

    [Fact]
    public async Task The_running_LocalHost_serves_every_attribute_route_and_verb()
    {
        foreach (var (name, route, methods) in AttributeRoutes())
        {
            foreach (var method in Verbs(methods))
            {
                var (status, code) = await SendAsync(fixture.Host.Client, method, Fill(route));
                Assert.False(status == HttpStatusCode.NotFound && code == "not_found", $"{name}: {method} {route} got the fallback 404");
                Assert.NotEqual(HttpStatusCode.MethodNotAllowed, status);
                Assert.True((int)status < 500, $"{name}: {method} {route} answered {(int)status}");
            }
        }
    }

    /// <summary>Whether a route template (segments, <c>{x}</c> = any one segment) matches a path.</summary>
    private static bool Matches(string route, string path)
    {
        var template = route.Trim('/').Split('/');
        var segments = path.Trim('/').Split('/');
        return template.Length == segments.Length
            && template.Zip(segments).All(p => p.First.StartsWith('{') || string.Equals(p.First, p.Second, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task The_running_LocalHost_serves_nothing_else()
    {
        var routes = AttributeRoutes();
        foreach (var path in routes.Select(r => Fill(r.Route)).Distinct())
        {
            // Verbs no attribute route serves on this path (GET /connections/metadata is GetConnection's, as in Azure).
            var served = routes.Where(r => Matches(r.Route, path)).SelectMany(r => Verbs(r.Methods)).ToHashSet();
            foreach (var method in AllVerbs.Where(v => !served.Contains(v)))
            {
                var (status, code) = await SendAsync(fixture.Host.Client, method, path);
                Assert.True(status == HttpStatusCode.NotFound && code == "not_found", $"{method} {path} answered {(int)status} {code}, not the fallback");
            }
        }
        foreach (var path in new[] { "/made-up", "/records/extra/segments", "/api/environment-variables", "/connections/a/b" })
        {
            Assert.DoesNotContain(routes, r => Matches(r.Route, path));
            var (status, code) = await SendAsync(fixture.Host.Client, "GET", path);
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Equal("not_found", code);
        }
    }

    [Fact]
    public async Task The_fallback_answers_without_auth_in_the_envelope()
    {
        using var anonymous = fixture.Host.CreateClient(null);
        var (status, code) = await SendAsync(anonymous, "GET", "/made-up");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("not_found", code);
    }
}
