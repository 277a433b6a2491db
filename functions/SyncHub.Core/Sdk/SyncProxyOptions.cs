namespace SyncHub.Core.Sdk;

/// <summary>
/// How the Proxy client retries and times out: the <c>SyncHub:Proxy</c> configuration section
/// (<c>SyncHub__Proxy__MaxRetries</c>, <c>SyncHub__Proxy__AttemptTimeout</c> = <c>00:00:30</c>... as app settings).
/// </summary>
public sealed class SyncProxyOptions
{
    public const string Section = "SyncHub:Proxy";

    /// <summary>Retries after the first attempt (0 = never retry). A request is sent at most MaxRetries + 1 times.</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>The first backoff delay; it doubles on each retry, with jitter.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest backoff delay (rate-limit waits are bounded by <see cref="MaxRetryAfter"/> instead).</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one attempt may wait for the response headers before it is abandoned and retried.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one request may take in all: every attempt and every wait between them.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The longest rate-limit wait (<c>Retry-After</c>, <c>X-RateLimit-Reset</c>) the client accepts; a provider asking
    /// for more gets no retry: the 429/403 is returned to the caller at once.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Problems that make the options unusable, each naming its setting.</summary>
    public IEnumerable<string> Problems()
    {
        if (MaxRetries < 0)
        {
            yield return "SyncHub:Proxy:MaxRetries must be 0 or more.";
        }
        if (BaseDelay <= TimeSpan.Zero)
        {
            yield return "SyncHub:Proxy:BaseDelay must be positive.";
        }
        if (MaxDelay < BaseDelay)
        {
            yield return "SyncHub:Proxy:MaxDelay must be at least BaseDelay.";
        }
        if (AttemptTimeout < TimeSpan.FromMilliseconds(10) || AttemptTimeout > TimeSpan.FromDays(1))
        {
            yield return "SyncHub:Proxy:AttemptTimeout must be between 10 ms and 1 day.";
        }
        if (TotalTimeout < AttemptTimeout || TotalTimeout > TimeSpan.FromDays(1))
        {
            yield return "SyncHub:Proxy:TotalTimeout must be at least AttemptTimeout and at most 1 day.";
        }
        if (MaxRetryAfter < TimeSpan.Zero)
        {
            yield return "SyncHub:Proxy:MaxRetryAfter must not be negative.";
        }
    }
}
