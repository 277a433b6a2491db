using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Polly;
using Polly.Timeout;
using SyncHub.Core.Telemetry;

namespace SyncHub.Core.Sdk;

/// <summary>
/// What the Proxy client retries and how long it waits: the decisions behind its Polly retry strategy, kept apart
/// from the pipeline so they can be tested without a server or a clock.
/// </summary>
internal static class ProxyRetryRules
{
    /// <summary>Set by the Proxy client on each request: when it entered the pipeline (a <see cref="TimeProvider"/> timestamp).</summary>
    internal static readonly HttpRequestOptionsKey<long> StartedAt = new("SyncHub.Proxy.StartedAt");

    /// <summary>Set by the Proxy client on each request: the run's <c>integration</c> and <c>sync</c> metric tags.</summary>
    internal static readonly HttpRequestOptionsKey<(string Integration, string Sync)> MetricTags = new("SyncHub.Proxy.MetricTags");

    /// <summary>The metric tags of a request: its run's integration and sync (when the client was created for a run) and <paramref name="status"/>.</summary>
    internal static TagList TagsOf(HttpRequestMessage? request, string status)
    {
        var tags = new TagList();
        if (request is not null && request.Options.TryGetValue(MetricTags, out var run))
        {
            tags.Add(SyncHubTelemetry.IntegrationTag, run.Integration);
            tags.Add(SyncHubTelemetry.SyncTag, run.Sync);
        }
        tags.Add(SyncHubTelemetry.StatusTag, status);
        return tags;
    }

    /// <summary>The <c>status</c> tag of an outcome: the HTTP status, <c>timeout</c> (attempt timeout) or <c>error</c>.</summary>
    internal static string StatusOf(Outcome<HttpResponseMessage> outcome) => outcome.Result is { } response
        ? SyncHubTelemetry.Status((int)response.StatusCode)
        : outcome.Exception is TimeoutRejectedException ? "timeout" : "error";

    /// <summary>Epoch seconds below this are read as a number of seconds to wait (some APIs send a delta in X-RateLimit-Reset).</summary>
    private const long EpochThreshold = 1_000_000_000;

    /// <summary>
    /// Whether to retry this outcome. Idempotent methods (all but POST and PATCH) are retried on connection failures,
    /// attempt timeouts, 408, 5xx and rate limits (429, or 403 with <c>X-RateLimit-Remaining: 0</c> or
    /// <c>Retry-After</c>); POST and PATCH only when the request surely did not reach the provider (no connection) or the
    /// provider said when to come back (429, 503 with <c>Retry-After</c>). A provider asking to wait longer than
    /// <see cref="SyncProxyOptions.MaxRetryAfter"/>, or past the request's total timeout, gets no retry: its response is
    /// returned as it is.
    /// </summary>
    public static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, HttpRequestMessage? request, SyncProxyOptions options, TimeProvider time)
    {
        var idempotent = request is null || IsIdempotent(request.Method);
        if (outcome.Exception is { } exception)
        {
            return exception switch
            {
                HttpRequestException http => idempotent || http.HttpRequestError
                    is HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError,
                TimeoutRejectedException => idempotent,
                _ => false,
            };
        }
        if (outcome.Result is not { } response)
        {
            return false;
        }
        var status = (int)response.StatusCode;
        var rateLimited = IsRateLimited(response);
        if (!rateLimited && status != 408 && status < 500)
        {
            return false;
        }
        if (RequestedWait(response, time.GetUtcNow()) is { } wait
            && (wait > options.MaxRetryAfter || wait >= RemainingBudget(request ?? response.RequestMessage, options, time)))
        {
            return false;
        }
        return idempotent || status == 429 || (status == 503 && response.Headers.RetryAfter is not null);
    }

    /// <summary>
    /// The delay before the next attempt when the provider asked for one (a positive <see cref="RequestedWait"/>),
    /// otherwise null: the strategy's exponential backoff with jitter.
    /// </summary>
    public static TimeSpan? Delay(HttpResponseMessage? response, DateTimeOffset now) =>
        response is not null && RequestedWait(response, now) is { } wait && wait > TimeSpan.Zero ? wait : null;

    /// <summary>
    /// How long the provider asked to wait: <c>Retry-After</c> (seconds or an HTTP date) on any response; on a rate-limited
    /// response without it, <c>X-RateLimit-Reset</c> (epoch seconds, or seconds when small) when <c>X-RateLimit-Remaining</c>
    /// is 0 or absent. GitHub sends X-RateLimit-Reset on every response, so a 502 is never made to wait for the quota window.
    /// Zero or negative when the time is already past; null when nothing was asked.
    /// </summary>
    public static TimeSpan? RequestedWait(HttpResponseMessage response, DateTimeOffset now)
    {
        if (response.Headers.RetryAfter is { } retryAfter)
        {
            if (retryAfter.Delta is { } delta)
            {
                return delta;
            }
            if (retryAfter.Date is { } date)
            {
                return date - now;
            }
        }
        if (IsRateLimited(response) && Header(response.Headers, "X-RateLimit-Remaining") is null or "0" && ResetAt(response.Headers, now) is { } reset)
        {
            return reset - now;
        }
        return null;
    }

    /// <summary>429, or GitHub's rate-limit 403 (quota spent, or a secondary limit with Retry-After).</summary>
    public static bool IsRateLimited(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.TooManyRequests
        || (response.StatusCode == HttpStatusCode.Forbidden
            && (Header(response.Headers, "X-RateLimit-Remaining") == "0" || response.Headers.RetryAfter is not null));

    /// <summary>" (rate limited: retry after 3600 s)" and the like for an error message; empty when not rate limited.</summary>
    public static string RateLimitNote(HttpResponseMessage response)
    {
        if (!IsRateLimited(response))
        {
            return "";
        }
        if (response.Headers.RetryAfter is { } retryAfter)
        {
            if (retryAfter.Delta is { } delta)
            {
                return $" (rate limited: retry after {delta.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s)";
            }
            if (retryAfter.Date is { } date)
            {
                return $" (rate limited: retry after {date.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)})";
            }
        }
        if (Header(response.Headers, "X-RateLimit-Reset") is { } raw && long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return value >= EpochThreshold
                ? $" (rate limited until {DateTimeOffset.FromUnixTimeSeconds(value).UtcDateTime.ToString("u", CultureInfo.InvariantCulture)})"
                : $" (rate limited: resets in {value} s)";
        }
        return " (rate limited)";
    }

    private static DateTimeOffset? ResetAt(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (Header(headers, "X-RateLimit-Reset") is not { } raw
            || !long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            || value > 253_402_300_799)
        {
            return null;
        }
        return value >= EpochThreshold ? DateTimeOffset.FromUnixTimeSeconds(value) : now.AddSeconds(value);
    }

    private static TimeSpan RemainingBudget(HttpRequestMessage? request, SyncProxyOptions options, TimeProvider time) =>
        request is not null && request.Options.TryGetValue(StartedAt, out var started)
            ? options.TotalTimeout - time.GetElapsedTime(started)
            : TimeSpan.MaxValue;

    private static bool IsIdempotent(HttpMethod method) =>
        method != HttpMethod.Post && method != HttpMethod.Patch && method != HttpMethod.Connect;

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault()?.Trim() : null;
}
