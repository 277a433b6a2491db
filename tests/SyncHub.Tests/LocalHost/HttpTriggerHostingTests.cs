using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.LocalHost;

namespace SyncHub.Tests.LocalHost;

/// <summary>Functions that exercise what LocalHost's HTTP hosting must handle (not part of the function app).</summary>
public sealed class FakeHttpFunctions
{
    [Function("FakeAnyVerb")]
    public IResult AnyVerb([HttpTrigger(AuthorizationLevel.Anonymous, Route = "fake/any")] HttpRequest request) =>
        Results.Text(request.Method);

    [Function("FakeRouteValue")]
    public Task<IResult> RouteValue([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "fake/items/{id}")] HttpRequest request, string id, CancellationToken ct) =>
        Task.FromResult(Results.Text($"{id}|{ct.CanBeCanceled}"));

    [Function("FakeUnbindable")]
    public IResult Unbindable([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "fake/unbindable")] HttpRequest request, int count) =>
        Results.Text(count.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Function("FakeThrows")]
    public Task<IResult> Throws([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "fake/throws")] HttpRequest request) =>
        throw new InvalidOperationException("internal detail that must not leak");
}

/// <summary>LocalHost's HTTP hosting in-process on Kestrel, with functions made for the purpose.</summary>
public sealed class HttpTriggerHostingTests : IAsyncLifetime
{
    private WebApplication? _app;
    private HttpClient? _client;

    private HttpClient Client => _client!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<FunctionInvoker>();
        _app = builder.Build();
        _app.UseServerErrorEnvelope();
        _app.MapHttpTriggers(FunctionCatalog.Discover(typeof(FakeHttpFunctions).Assembly), new HostJson("", TimeSpan.FromSeconds(2), TimeSpan.Zero, 16, 5, true));
        _app.MapFallback(ErrorResponses.NotFoundAsync);
        await _app.StartAsync();
        _client = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public void A_trigger_without_methods_is_discovered_as_every_verb()
    {
        var function = FunctionCatalog.Discover(typeof(FakeHttpFunctions).Assembly).Http.Single(f => f.Name == "FakeAnyVerb");
        Assert.Empty(function.Methods);
        Assert.Equal("fake/any", function.Route);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("OPTIONS")]
    public async Task A_trigger_without_methods_answers_every_verb(string method)
    {
        using var response = await Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/fake/any"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(method, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Route_values_and_the_cancellation_token_are_bound()
    {
        Assert.Equal("abc|True", await Client.GetStringAsync("/fake/items/abc"));
        Assert.Equal("a%2Fb|True", await Client.GetStringAsync("/fake/items/a%2Fb"));
    }

    [Theory]
    [InlineData("GET", "/fake/unbindable")]
    [InlineData("POST", "/fake/throws")]
    public async Task A_failure_outside_the_pipeline_is_a_500_envelope_without_details(string method, string path)
    {
        using var response = await Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var error = JsonNode.Parse(body)!["error"]!;
        Assert.Equal("server_error", error["code"]!.GetValue<string>());
        Assert.Matches(new Regex("[0-9a-f]{32}"), error["message"]!.GetValue<string>());
        Assert.DoesNotContain("internal detail", body);
        Assert.DoesNotContain(" at ", body);
    }

    [Fact]
    public async Task A_verb_the_function_does_not_serve_gets_the_404_envelope()
    {
        using var response = await Client.PostAsync("/fake/items/abc", null);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
    }
}
