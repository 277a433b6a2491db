using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.Timeout;
using SyncHub.Core.Sdk;

namespace SyncHub.Tests.Sdk;

/// <summary>The retry decisions and header-driven waits, on a fake clock.</summary>
public sealed class ProxyRetryRulesTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Now);
    private readonly SyncProxyOptions _options = new() { MaxRetryAfter = TimeSpan.FromMinutes(5), TotalTimeout = TimeSpan.FromMinutes(10) };

    private static HttpResponseMessage Response(int status, params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage((HttpStatusCode)status) { RequestMessage = new HttpRequestMessage(HttpMethod.Get, "https://h/x") };
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }
        return response;
    }

    private bool Retries(HttpResponseMessage response, HttpMethod? method = null) =>
        ProxyRetryRules.ShouldRetry(Outcome.FromResult(response), new HttpRequestMessage(method ?? HttpMethod.Get, "https://h/x"), _options, _time);

    private bool Retries(Exception exception, HttpMethod method) =>
        ProxyRetryRules.ShouldRetry(Outcome.FromException<HttpResponseMessage>(exception), new HttpRequestMessage(method, "https://h/x"), _options, _time);

    [Fact]
    public void Retry_After_in_seconds_is_the_wait()
    {
        Assert.Equal(TimeSpan.FromSeconds(7), ProxyRetryRules.Delay(Response(429, ("Retry-After", "7")), Now));
    }

    [Fact]
    public void Retry_After_as_an_HTTP_date_waits_until_that_date()
    {
        var response = Response(429, ("Retry-After", Now.AddSeconds(90).ToString("R")));
        Assert.Equal(TimeSpan.FromSeconds(90), ProxyRetryRules.Delay(response, Now));
    }

    [Fact]
    public void X_RateLimit_Reset_in_epoch_seconds_waits_until_then_and_a_small_value_is_a_number_of_seconds()
    {
        var epoch = Response(403, ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", Now.AddSeconds(42).ToUnixTimeSeconds().ToString()));
        Assert.Equal(TimeSpan.FromSeconds(42), ProxyRetryRules.Delay(epoch, Now));

        var delta = Response(429, ("X-RateLimit-Reset", "12"));
        Assert.Equal(TimeSpan.FromSeconds(12), ProxyRetryRules.Delay(delta, Now));
    }

    [Fact]
    public void Retry_After_wins_over_X_RateLimit_Reset()
    {
        var response = Response(429, ("Retry-After", "3"), ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", Now.AddSeconds(60).ToUnixTimeSeconds().ToString()));
        Assert.Equal(TimeSpan.FromSeconds(3), ProxyRetryRules.Delay(response, Now));
    }

    [Fact]
    public void A_past_or_absent_time_falls_back_to_the_exponential_backoff()
    {
        Assert.Null(ProxyRetryRules.Delay(Response(429, ("X-RateLimit-Reset", Now.AddSeconds(-5).ToUnixTimeSeconds().ToString())), Now));
        Assert.Null(ProxyRetryRules.Delay(Response(429, ("Retry-After", "0")), Now));
        Assert.Null(ProxyRetryRules.Delay(Response(503), Now));
        Assert.Null(ProxyRetryRules.Delay(null, Now));
    }

    [Fact]
    public void X_RateLimit_Reset_is_ignored_unless_the_response_is_rate_limited_with_the_quota_spent()
    {
        var reset = ("X-RateLimit-Reset", Now.AddMinutes(40).ToUnixTimeSeconds().ToString());
        Assert.Null(ProxyRetryRules.Delay(Response(502, ("X-RateLimit-Remaining", "4000"), reset), Now));
        Assert.Null(ProxyRetryRules.Delay(Response(502, ("X-RateLimit-Remaining", "0"), reset), Now));
        Assert.Null(ProxyRetryRules.Delay(Response(429, ("X-RateLimit-Remaining", "10"), reset), Now));
        Assert.True(Retries(Response(502, ("X-RateLimit-Remaining", "0"), reset)));
    }

    [Theory]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(504, true)]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(400, false)]
    [InlineData(401, false)]
    [InlineData(403, false)]
    [InlineData(404, false)]
    [InlineData(409, false)]
    [InlineData(200, false)]
    public void Which_statuses_are_retried(int status, bool retried)
    {
        Assert.Equal(retried, Retries(Response(status)));
    }

    [Fact]
    public void A_403_is_retried_only_as_a_rate_limit()
    {
        Assert.True(Retries(Response(403, ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", Now.AddSeconds(30).ToUnixTimeSeconds().ToString()))));
        Assert.True(Retries(Response(403, ("Retry-After", "60"))));
        Assert.False(Retries(Response(403, ("X-RateLimit-Remaining", "12"))));
    }

    [Fact]
    public void A_requested_wait_beyond_MaxRetryAfter_or_the_remaining_total_timeout_is_not_retried()
    {
        Assert.False(Retries(Response(429, ("Retry-After", "301"))));
        Assert.True(Retries(Response(429, ("Retry-After", "300"))));
        Assert.False(Retries(Response(503, ("Retry-After", "3600"))));

        var request = new HttpRequestMessage(HttpMethod.Get, "https://h/x");
        request.Options.Set(ProxyRetryRules.StartedAt, _time.GetTimestamp());
        _time.Advance(TimeSpan.FromMinutes(8));
        Assert.False(ProxyRetryRules.ShouldRetry(Outcome.FromResult(Response(429, ("Retry-After", "150"))), request, _options, _time));
        Assert.True(ProxyRetryRules.ShouldRetry(Outcome.FromResult(Response(429, ("Retry-After", "60"))), request, _options, _time));
    }

    [Fact]
    public void Failures_without_a_response_are_retried_for_idempotent_methods()
    {
        Assert.True(Retries(new HttpRequestException("reset"), HttpMethod.Get));
        Assert.True(Retries(new TimeoutRejectedException(), HttpMethod.Put));
        Assert.False(Retries(new OperationCanceledException(), HttpMethod.Get));
        Assert.False(Retries(new InvalidOperationException(), HttpMethod.Get));
    }

    [Fact]
    public void Post_and_patch_are_retried_only_when_the_provider_surely_did_not_act()
    {
        Assert.False(Retries(Response(500), HttpMethod.Post));
        Assert.False(Retries(Response(503), HttpMethod.Patch));
        Assert.False(Retries(Response(408), HttpMethod.Post));
        Assert.True(Retries(Response(429), HttpMethod.Post));
        Assert.True(Retries(Response(503, ("Retry-After", "2")), HttpMethod.Post));
        Assert.True(Retries(new HttpRequestException(HttpRequestError.ConnectionError, "refused"), HttpMethod.Post));
        Assert.True(Retries(new HttpRequestException(HttpRequestError.NameResolutionError, "no such host"), HttpMethod.Patch));
        Assert.False(Retries(new HttpRequestException(HttpRequestError.ResponseEnded, "ended"), HttpMethod.Post));
        Assert.False(Retries(new TimeoutRejectedException(), HttpMethod.Post));
        Assert.True(Retries(Response(500), HttpMethod.Delete));
    }

    [Fact]
    public void The_rate_limit_note_tells_when_to_come_back()
    {
        Assert.Equal(" (rate limited: retry after 3600 s)", ProxyRetryRules.RateLimitNote(Response(429, ("Retry-After", "3600"))));
        Assert.Equal(" (rate limited until 2025-06-01 13:00:00Z)",
            ProxyRetryRules.RateLimitNote(Response(403, ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", Now.AddHours(1).ToUnixTimeSeconds().ToString()))));
        Assert.Equal("", ProxyRetryRules.RateLimitNote(Response(403)));
        Assert.Equal("", ProxyRetryRules.RateLimitNote(Response(500, ("Retry-After", "5"))));
    }
}
