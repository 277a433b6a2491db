using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace SyncHub.Core.Connections;

/// <summary>
/// How token requests are made and how hosts take turns refreshing one connection: the <c>SyncHub:OAuth</c> section
/// (<c>SyncHub__OAuth__MaxRetries</c>, <c>SyncHub__OAuth__LeaseDuration</c> = <c>00:01:00</c>... as app settings).
/// </summary>
public sealed class OAuthRefreshOptions
{
    public const string Section = "SyncHub:OAuth";

    /// <summary>Retries of a token request after a 5xx, 408, 429, connection failure or attempt timeout.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>The first backoff delay between token request attempts (doubles, with jitter).</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one token request attempt may wait for its response.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long the refresh lease on the connection row holds: the others wait up to this long for the holder's new
    /// token; a holder that crashed is taken over after it. Longer than a token request with its retries.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>How often a host waiting for another's refresh reads the row again.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The request timeout that bounds a token request with all its retries.</summary>
    public TimeSpan TotalTimeout => AttemptTimeout * (MaxRetries + 1) + TimeSpan.FromSeconds(30);
}

/// <summary>Registers <see cref="ConnectionTokens"/>, its options and the token endpoint's HttpClient.</summary>
public static class ConnectionTokenServices
{
    /// <summary>The IHttpClientFactory name of the token endpoint client.</summary>
    public const string HttpClientName = "SyncHub.OAuth";

    public static IServiceCollection AddConnectionTokens(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(ConnectionTokens)))
        {
            return services;
        }
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<OAuthRefreshOptions>().Bind(configuration.GetSection(OAuthRefreshOptions.Section));
        services.TryAddSingleton<IConnectionEvents, NoConnectionEvents>();
        services.AddHttpClient(HttpClientName)
            // Request URIs and headers are never logged (a token endpoint's query could hold a secret).
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
            .AddResilienceHandler("resilience", (builder, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<OAuthRefreshOptions>>().Value;
                builder.TimeProvider = context.ServiceProvider.GetRequiredService<TimeProvider>();
                if (options.MaxRetries > 0)
                {
                    // The default rule: 5xx, 408, 429, connection failures and attempt timeouts.
                    builder.AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = options.MaxRetries,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        Delay = options.BaseDelay,
                        MaxDelay = TimeSpan.FromSeconds(10),
                    });
                }
                builder.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = options.AttemptTimeout });
            });
        services.AddSingleton<ConnectionTokens>();
        return services;
    }
}
