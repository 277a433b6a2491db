using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SyncHub.Core.Sdk;

namespace SyncHub.Tests.Sdk;

public sealed class PaginationTests
{
    private static async Task<List<JsonNode>> All(IAsyncEnumerable<JsonNode> pages)
    {
        var list = new List<JsonNode>();
        await foreach (var page in pages)
        {
            list.Add(page);
        }
        return list;
    }

    private static int[] Ids(IEnumerable<JsonNode> pages) =>
        pages.SelectMany(p => (p as JsonArray ?? p["items"]!.AsArray()).Select(i => i!["id"]!.GetValue<int>())).ToArray();

    [Fact]
    public async Task Link_header_pagination_follows_rel_next_across_three_pages()
    {
        FakeProvider? self = null;
        await using var provider = await FakeProvider.StartAsync((context, _) =>
        {
            var page = context.Request.Query["page"].FirstOrDefault() ?? "1";
            var links = page switch
            {
                // A relative next, listed after another link, with quoted rel.
                "1" => """<https://example.test/first>; rel="first", </api/v3/repos/o/r/issues?state=all&page=2>; rel="next" """,
                // An absolute next with several rel types, unquoted params and odd spacing.
                "2" => $"<{self!.Url}api/v3/repos/o/r/issues?state=all&page=1>;rel=prev ,  <{self.Url}api/v3/repos/o/r/issues?state=all&page=3> ; title=\"a, b\"; rel=\"next last\"",
                _ => $"<{self!.Url}api/v3/repos/o/r/issues?state=all&page=2>; rel=\"prev\", <{self.Url}api/v3/repos/o/r/issues?state=all&page=1>; rel=\"first\"",
            };
            context.Response.Headers["Link"] = links;
            var n = int.Parse(page, System.Globalization.CultureInfo.InvariantCulture);
            return FakeProvider.Json(context, "[{\"id\":" + ((2 * n) - 1) + "},{\"id\":" + (2 * n) + "}]");
        });
        self = provider;
        using var services = new ProxyTestServices();
        using var client = services.Client(new Uri(provider.Url, "/api/v3"));

        var pages = await All(client.LinkHeaderAsync("/repos/o/r/issues?state=all", TestContext.Current()));

        Assert.Equal([1, 2, 3, 4, 5, 6], Ids(pages));
        Assert.Equal(
            ["/api/v3/repos/o/r/issues?state=all", "/api/v3/repos/o/r/issues?state=all&page=2", "/api/v3/repos/o/r/issues?state=all&page=3"],
            provider.Requests.Select(r => r.PathAndQuery));
        Assert.All(provider.Requests, r => Assert.Equal("Bearer " + ProxyTestServices.Token, r.Authorization));
    }

    [Fact]
    public async Task Link_header_pagination_that_loops_is_an_error_rather_than_endless()
    {
        await using var provider = await FakeProvider.StartAsync((context, _) =>
        {
            context.Response.Headers["Link"] = "</items?page=1>; rel=\"next\"";
            return FakeProvider.Json(context, "[]");
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        var error = await Assert.ThrowsAsync<ProviderResponseException>(() => All(client.LinkHeaderAsync("items?page=1", TestContext.Current())));

        Assert.Contains("loops", error.Message, StringComparison.Ordinal);
        Assert.Single(provider.Requests);
    }

    [Fact]
    public async Task Cursor_pagination_sets_the_cursor_parameter_from_each_page_until_there_is_none()
    {
        await using var provider = await FakeProvider.StartAsync((context, _) =>
        {
            var cursor = context.Request.Query["cursor"].FirstOrDefault();
            var (ids, next) = cursor switch
            {
                "start" => ("1,2", "\"c2\""),
                "c2" => ("3,4", "\"c3 /+\""),
                _ => ("5", "null"),
            };
            var items = string.Join(',', ids.Split(',').Select(i => "{\"id\":" + i + "}"));
            return FakeProvider.Json(context, "{\"items\":[" + items + "],\"meta\":{\"next_cursor\":" + next + "}}");
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        var pages = await All(client.CursorAsync("contacts?cursor=start&limit=2", "cursor", p => p["meta"]?["next_cursor"]?.GetValue<string>(), TestContext.Current()));

        Assert.Equal([1, 2, 3, 4, 5], Ids(pages));
        Assert.Equal(
            ["/contacts?cursor=start&limit=2", "/contacts?cursor=c2&limit=2", "/contacts?cursor=c3%20%2F%2B&limit=2"],
            provider.Requests.Select(r => r.PathAndQuery));
    }

    [Fact]
    public async Task Cursor_pagination_that_repeats_a_cursor_is_an_error()
    {
        await using var provider = await FakeProvider.StartAsync("""{"next":"same"}""");
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        await Assert.ThrowsAsync<ProviderResponseException>(() => All(client.CursorAsync("items", "after", p => p["next"]?.GetValue<string>(), TestContext.Current())));

        Assert.Equal(2, provider.Requests.Count);
    }

    [Theory]
    [InlineData(5, new[] { "0", "2", "4" })]
    [InlineData(4, new[] { "0", "2", "4" })]
    [InlineData(1, new[] { "0" })]
    public async Task Offset_pagination_advances_by_the_items_received_and_stops_on_a_short_page(int total, string[] offsets)
    {
        await using var provider = await FakeProvider.StartAsync((context, _) =>
        {
            var offset = int.Parse(context.Request.Query["offset"]!, System.Globalization.CultureInfo.InvariantCulture);
            var limit = int.Parse(context.Request.Query["limit"]!, System.Globalization.CultureInfo.InvariantCulture);
            var ids = Enumerable.Range(offset + 1, Math.Max(0, Math.Min(limit, total - offset)));
            return FakeProvider.Json(context, "{\"results\":[" + string.Join(',', ids.Select(i => "{\"id\":" + i + "}")) + "]}");
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        var pages = await All(client.OffsetAsync("deals?archived=false", "offset", "limit", 2, p => p["results"] as JsonArray, TestContext.Current()));

        Assert.Equal(Enumerable.Range(1, total), pages.SelectMany(p => p["results"]!.AsArray().Select(i => i!["id"]!.GetValue<int>())));
        Assert.Equal(offsets.Select(o => $"/deals?archived=false&limit=2&offset={o}"), provider.Requests.Select(r => r.PathAndQuery));
    }

    [Fact]
    public async Task Offset_pagination_starts_from_an_offset_already_in_the_url_and_refuses_a_page_without_items()
    {
        await using var provider = await FakeProvider.StartAsync("""{"error":"unexpected shape"}""");
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        var error = await Assert.ThrowsAsync<ProviderResponseException>(() =>
            All(client.OffsetAsync("deals?offset=40", "offset", "limit", 20, p => p["results"] as JsonArray, TestContext.Current())));

        Assert.Equal("GET /deals has no items array where the sync expected one", error.Message);
        Assert.Equal("/deals?offset=40&limit=20", Assert.Single(provider.Requests).PathAndQuery);
    }

    [Fact]
    public async Task A_body_that_is_not_JSON_gives_a_ProviderResponseException_that_does_not_quote_it()
    {
        await using var provider = await FakeProvider.StartAsync(async (context, _) =>
        {
            context.Response.ContentType = "text/html";
            await context.Response.WriteAsync("<html>secret body text</html>");
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        var error = await Assert.ThrowsAsync<ProviderResponseException>(() => client.GetJsonAsync("repos/o/r/issues?token=abc", TestContext.Current()));

        Assert.StartsWith("GET /repos/o/r/issues returned a body that is not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("<html", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("token=abc", error.ToString(), StringComparison.Ordinal);
        Assert.Null(error.InnerException);
        Assert.Equal("/repos/o/r/issues", error.Path);
    }

    [Fact]
    public async Task Malformed_JSON_midway_through_pagination_stops_it_with_a_ProviderResponseException()
    {
        await using var provider = await FakeProvider.StartAsync((context, n) =>
        {
            context.Response.Headers["Link"] = "</items?page=2>; rel=\"next\"";
            return FakeProvider.Json(context, n == 1 ? "[]" : """[{"id":1,""");
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        var error = await Assert.ThrowsAsync<ProviderResponseException>(() => All(client.LinkHeaderAsync("items", TestContext.Current())));

        Assert.StartsWith("GET /items returned a body that is not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_body_is_a_ProviderResponseException()
    {
        await using var provider = await FakeProvider.StartAsync((context, _) => Task.CompletedTask);
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        await Assert.ThrowsAsync<ProviderResponseException>(() => client.GetJsonAsync("items", TestContext.Current()));
    }

    [Fact]
    public async Task GetJsonAsync_returns_the_body_and_the_headers_and_asks_for_JSON()
    {
        string? accept = null;
        await using var provider = await FakeProvider.StartAsync((context, _) =>
        {
            accept = context.Request.Headers.Accept;
            context.Response.Headers["X-Total"] = "2";
            return FakeProvider.Json(context, "\uFEFF{\"a\":[1,2]}");
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        var (body, headers) = await client.GetJsonAsync("things", TestContext.Current());

        Assert.Equal(2, body["a"]!.AsArray().Count);
        Assert.Equal("2", headers.GetValues("X-Total").Single());
        Assert.Equal("application/json", accept);
    }

    [Fact]
    public async Task A_client_Accept_header_is_kept()
    {
        string? accept = null;
        await using var provider = await FakeProvider.StartAsync((context, _) =>
        {
            accept = context.Request.Headers.Accept;
            return FakeProvider.Json(context, "[]");
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);
        client.DefaultRequestHeaders.Accept.ParseAdd("application/vnd.github+json");

        await client.GetJsonAsync("things", TestContext.Current());

        Assert.Equal("application/vnd.github+json", accept);
    }

    [Fact]
    public async Task A_non_success_status_throws_a_ProviderRequestException_naming_method_path_and_status_only()
    {
        await using var provider = await FakeProvider.StartAsync((context, _) => FakeProvider.Json(context, """{"message":"Bad credentials secret"}""", 401));
        using var services = new ProxyTestServices();
        using var client = services.Client(new Uri(provider.Url, "/api/v3/"));

        var error = await Assert.ThrowsAsync<ProviderRequestException>(() => All(client.LinkHeaderAsync("repos/o/r/issues?access_token=abc", TestContext.Current())));

        Assert.Equal("GET /api/v3/repos/o/r/issues answered 401 Unauthorized", error.Message);
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Equal("GET", error.Method);
        Assert.Single(provider.Requests);
    }

    [Fact]
    public async Task A_rate_limit_beyond_the_cap_says_so_in_the_error()
    {
        await using var provider = await FakeProvider.StartAsync((context, _) =>
        {
            context.Response.Headers.RetryAfter = "3600";
            return FakeProvider.Json(context, "{}", 429);
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        var error = await Assert.ThrowsAsync<ProviderRequestException>(() => client.GetJsonAsync("items", TestContext.Current()));

        Assert.Equal("GET /items answered 429 Too Many Requests (rate limited: retry after 3600 s)", error.Message);
    }

    [Fact]
    public async Task No_response_at_all_throws_a_ProviderRequestException_without_a_status()
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        using var services = new ProxyTestServices(o => o.MaxRetries = 1);
        using var client = services.Client(new Uri($"http://127.0.0.1:{port}/api"));

        var error = await Assert.ThrowsAsync<ProviderRequestException>(() => client.GetJsonAsync("items?key=secret", TestContext.Current()));

        Assert.StartsWith("GET /api/items failed: ", error.Message, StringComparison.Ordinal);
        Assert.Null(error.StatusCode);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_is_an_OperationCanceledException()
    {
        await using var provider = await FakeProvider.StartAsync(async (context, _) =>
        {
            try
            {
                // The fake's answer is slow on purpose: the client's cancellation must end the wait.
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => All(client.LinkHeaderAsync("items", cts.Token)));
    }
}

internal static class TestContext
{
    /// <summary>A token that cancels a test stuck on the network, so a regression fails instead of hanging the suite.</summary>
    public static CancellationToken Current() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;
}
