using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SyncHub.Core.Connections;
using SyncHub.Core.Sdk;

namespace SyncHub.Tests.Sdk;

public sealed class SyncProxyTests
{
    [Fact]
    public async Task OAuth2_credentials_are_sent_as_a_bearer_access_token_with_the_SyncHub_user_agent()
    {
        await using var provider = await FakeProvider.StartAsync();
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url, ProxyTestServices.OAuth2("oauth-token"));

        using var response = await client.GetAsync("repos/o/r/issues");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = Assert.Single(provider.Requests);
        Assert.Equal("Bearer oauth-token", request.Authorization);
        Assert.Equal("SyncHub", request.UserAgent);
    }

    [Fact]
    public async Task Api_key_credentials_are_sent_as_a_bearer_token()
    {
        await using var provider = await FakeProvider.StartAsync();
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url, new ConnectionCredentials("API_KEY", new JsonObject { ["apiKey"] = "key-123" }));

        using var response = await client.GetAsync("/user");

        Assert.Equal("Bearer key-123", Assert.Single(provider.Requests).Authorization);
    }

    [Fact]
    public async Task Basic_credentials_are_sent_as_base64_of_username_colon_password()
    {
        await using var provider = await FakeProvider.StartAsync();
        using var services = new ProxyTestServices();
        var credentials = new ConnectionCredentials("BASIC", new JsonObject { ["username"] = "ann", ["password"] = "pä:ss" });
        using var client = services.Client(provider.Url, credentials);

        using var response = await client.GetAsync("user");

        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ann:pä:ss"));
        Assert.Equal(expected, Assert.Single(provider.Requests).Authorization);
    }

    [Theory]
    [InlineData("OAUTH2", "apiKey")]
    [InlineData("API_KEY", "access_token")]
    [InlineData("BASIC", "password")]
    [InlineData("APP", "access_token")]
    public void Unusable_credentials_are_refused_without_echoing_their_values(string type, string key)
    {
        using var services = new ProxyTestServices();
        var credentials = new ConnectionCredentials(type, new JsonObject { [key] = "secret-value" });

        var error = Assert.Throws<ArgumentException>(() => services.Factory.Create(new Uri("https://api.example.test"), credentials));

        Assert.DoesNotContain("secret-value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Relative_urls_with_or_without_a_leading_slash_keep_the_base_url_path_and_absolute_urls_are_kept()
    {
        await using var provider = await FakeProvider.StartAsync();
        using var services = new ProxyTestServices();
        using var client = services.Client(new Uri(provider.Url, "/api/v3"));

        (await client.GetAsync("repos/o/r/issues?state=all&per_page=100")).Dispose();
        (await client.GetAsync("/repos/o/r/labels")).Dispose();
        (await client.GetAsync(new Uri(provider.Url, "/api/uploads/x"))).Dispose();
        (await client.GetAsync(new Uri(provider.Url, "/api/v3/repositories/1/issues?page=2"))).Dispose();

        Assert.Equal(
            ["/api/v3/repos/o/r/issues?state=all&per_page=100", "/api/v3/repos/o/r/labels", "/api/uploads/x", "/api/v3/repositories/1/issues?page=2"],
            provider.Requests.Select(r => r.PathAndQuery));
        Assert.All(provider.Requests, r => Assert.Equal("Bearer " + ProxyTestServices.Token, r.Authorization));
    }

    [Fact]
    public async Task Credentials_are_never_sent_to_another_origin_whether_asked_directly_or_by_redirect()
    {
        await using var other = await FakeProvider.StartAsync();
        await using var provider = await FakeProvider.StartAsync((context, _) =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = new Uri(other.Url, "/landing").AbsoluteUri;
            return Task.CompletedTask;
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        (await client.GetAsync(new Uri(other.Url, "/direct"))).Dispose();
        using var redirected = await client.GetAsync("moved");

        Assert.Equal(HttpStatusCode.OK, redirected.StatusCode);
        Assert.Equal("Bearer " + ProxyTestServices.Token, Assert.Single(provider.Requests).Authorization);
        Assert.Equal(["/direct", "/landing"], other.Requests.Select(r => r.PathAndQuery));
        Assert.All(other.Requests, r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task A_502_then_200_is_retried_and_succeeds()
    {
        await using var provider = await FakeProvider.StartAsync((context, n) => FakeProvider.Json(context, """{"n":1}""", n == 1 ? 502 : 200));
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        using var response = await client.GetAsync("items");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, provider.Requests.Count);
    }

    [Fact]
    public async Task A_persistent_500_is_given_up_after_MaxRetries_and_the_500_is_returned()
    {
        await using var provider = await FakeProvider.StartAsync((context, _) => FakeProvider.Json(context, """{"error":"boom"}""", 500));
        using var services = new ProxyTestServices(o => o.MaxRetries = 3);
        using var client = services.Client(provider.Url);

        using var response = await client.GetAsync("items");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(4, provider.Requests.Count);
        Assert.Equal("""{"error":"boom"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_429_with_Retry_After_in_seconds_waits_that_long_then_succeeds()
    {
        await using var provider = await FakeProvider.StartAsync((context, n) =>
        {
            if (n == 1)
            {
                context.Response.Headers.RetryAfter = "1";
                return FakeProvider.Json(context, "{}", 429);
            }
            return FakeProvider.Json(context, "{}");
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync("items");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"took {clock.Elapsed}");
        Assert.Equal(2, provider.Requests.Count);
        // From the request answered 429 (Retry-After: 1) to the next request: 1 s, less 50 ms for clock granularity.
        Assert.InRange(provider.Requests[0].Until(provider.Requests[1]), TimeSpan.FromMilliseconds(950), TimeSpan.FromSeconds(6));
    }

    [Fact]
    public async Task A_429_with_X_RateLimit_Reset_waits_until_that_epoch_second()
    {
        long reset = 0;
        await using var provider = await FakeProvider.StartAsync((context, n) =>
        {
            if (n == 1)
            {
                reset = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 2;
                context.Response.Headers["X-RateLimit-Remaining"] = "0";
                context.Response.Headers["X-RateLimit-Reset"] = reset.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return FakeProvider.Json(context, "{}", 429);
            }
            return FakeProvider.Json(context, "{}");
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        using var response = await client.GetAsync("items");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, provider.Requests.Count);
        Assert.True(provider.Requests[1].At >= DateTimeOffset.FromUnixTimeSeconds(reset).AddMilliseconds(-50),
            $"retried at {provider.Requests[1].At:O}, before the reset {DateTimeOffset.FromUnixTimeSeconds(reset):O}");
    }

    [Fact]
    public async Task GitHubs_403_with_X_RateLimit_Remaining_0_is_retried_after_the_reset()
    {
        long reset = 0;
        await using var provider = await FakeProvider.StartAsync((context, n) =>
        {
            if (n == 1)
            {
                reset = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1;
                context.Response.Headers["X-RateLimit-Limit"] = "5000";
                context.Response.Headers["X-RateLimit-Remaining"] = "0";
                context.Response.Headers["X-RateLimit-Reset"] = reset.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return FakeProvider.Json(context, """{"message":"API rate limit exceeded"}""", 403);
            }
            return FakeProvider.Json(context, "[]");
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        using var response = await client.GetAsync("items");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, provider.Requests.Count);
        Assert.True(provider.Requests[1].At >= DateTimeOffset.FromUnixTimeSeconds(reset).AddMilliseconds(-50));
    }

    [Fact]
    public async Task A_rate_limit_wait_beyond_MaxRetryAfter_returns_the_429_at_once()
    {
        await using var provider = await FakeProvider.StartAsync((context, _) =>
        {
            context.Response.Headers.RetryAfter = "3600";
            return FakeProvider.Json(context, "{}", 429);
        });
        using var services = new ProxyTestServices(o => o.MaxRetryAfter = TimeSpan.FromMinutes(5));
        using var client = services.Client(provider.Url);

        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync("items");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Single(provider.Requests);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_502_is_not_made_to_wait_for_GitHubs_quota_window()
    {
        var reset = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var provider = await FakeProvider.StartAsync((context, n) =>
        {
            context.Response.Headers["X-RateLimit-Remaining"] = "4999";
            context.Response.Headers["X-RateLimit-Reset"] = reset;
            return FakeProvider.Json(context, "{}", n == 1 ? 502 : 200);
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync("items");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Equal(2, provider.Requests.Count);
        // The retry of the 502 followed its backoff, not the hour until the quota window's reset.
        var gap = provider.Requests[0].Until(provider.Requests[1]);
        Assert.True(gap < TimeSpan.FromSeconds(5), $"the retry came {gap} after the 502");
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(422)]
    public async Task Other_4xx_are_not_retried(int status)
    {
        await using var provider = await FakeProvider.StartAsync((context, _) => FakeProvider.Json(context, """{"message":"no"}""", status));
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        using var response = await client.GetAsync("items");

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Single(provider.Requests);
    }

    [Fact]
    public async Task An_attempt_that_exceeds_the_attempt_timeout_is_abandoned_and_retried()
    {
        await using var provider = await FakeProvider.StartAsync(async (context, n) =>
        {
            if (n == 1)
            {
                try
                {
                    // The fault itself: an answer slower than the attempt timeout.
                    await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            await FakeProvider.Json(context, """{"late":false}""");
        });
        using var services = new ProxyTestServices(o => o.AttemptTimeout = TimeSpan.FromMilliseconds(300));
        using var client = services.Client(provider.Url);

        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync("slow");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"took {clock.Elapsed}");
        Assert.Equal(2, provider.Requests.Count);
        // The retry came once the 300 ms attempt timeout abandoned the first attempt (less 20 ms for clock
        // granularity), long before that attempt's 10 s answer.
        Assert.InRange(provider.Requests[0].Until(provider.Requests[1]), TimeSpan.FromMilliseconds(280), TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task Post_is_not_retried_on_a_500_but_is_on_a_429()
    {
        await using var provider = await FakeProvider.StartAsync((context, n) =>
        {
            if (context.Request.Path == "/limited" && n == 2)
            {
                context.Response.Headers.RetryAfter = "0";
                return FakeProvider.Json(context, "{}", 429);
            }
            return FakeProvider.Json(context, "{}", context.Request.Path == "/failing" ? 500 : 201);
        });
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        using var failing = await client.PostAsync("failing", new StringContent("{}"));
        using var limited = await client.PostAsync("limited", new StringContent("""{"a":1}"""));

        Assert.Equal(HttpStatusCode.InternalServerError, failing.StatusCode);
        Assert.Equal(HttpStatusCode.Created, limited.StatusCode);
        Assert.Equal(["/failing", "/limited", "/limited"], provider.Requests.Select(r => r.PathAndQuery));
    }

    [Fact]
    public async Task Logs_name_the_retried_path_but_never_the_credentials_nor_the_query_string()
    {
        await using var provider = await FakeProvider.StartAsync((context, n) => FakeProvider.Json(context, """{"body":"private"}""", n == 1 ? 503 : 200));
        using var services = new ProxyTestServices();
        using var client = services.Client(provider.Url);

        using var response = await client.GetAsync("repos/o/r/issues?api_key=query-secret");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var log = string.Join('\n', services.Log.Messages);
        Assert.Contains("/repos/o/r/issues", log, StringComparison.Ordinal);
        Assert.DoesNotContain(ProxyTestServices.Token, log, StringComparison.Ordinal);
        Assert.DoesNotContain("query-secret", log, StringComparison.Ordinal);
        Assert.DoesNotContain("private", log, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_are_bound_from_the_SyncHub_Proxy_section_and_validated()
    {
        static SyncProxyOptions Resolve(Dictionary<string, string?> settings)
        {
            var services = new ServiceCollection();
            services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
            services.AddSyncProxy();
            using var provider = services.BuildServiceProvider();
            return provider.GetRequiredService<IOptions<SyncProxyOptions>>().Value;
        }

        var defaults = Resolve([]);
        Assert.Equal(5, defaults.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(1), defaults.BaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), defaults.AttemptTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), defaults.TotalTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), defaults.MaxRetryAfter);

        var bound = Resolve(new() { ["SyncHub:Proxy:MaxRetries"] = "2", ["SyncHub:Proxy:AttemptTimeout"] = "00:00:02" });
        Assert.Equal(2, bound.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(2), bound.AttemptTimeout);

        var error = Assert.Throws<OptionsValidationException>(() => Resolve(new() { ["SyncHub:Proxy:MaxRetries"] = "-1" }));
        Assert.Contains("SyncHub:Proxy:MaxRetries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxRetries_0_sends_each_request_once()
    {
        await using var provider = await FakeProvider.StartAsync((context, _) => FakeProvider.Json(context, "{}", 503));
        using var services = new ProxyTestServices(o => o.MaxRetries = 0);
        using var client = services.Client(provider.Url);

        using var response = await client.GetAsync("items");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Single(provider.Requests);
    }
}
