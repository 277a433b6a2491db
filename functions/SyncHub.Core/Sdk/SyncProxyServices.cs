using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using SyncHub.Core.Telemetry;

namespace SyncHub.Core.Sdk;

/// <summary>Registers the Proxy client: <see cref="SyncProxyFactory"/> and the resilient named HttpClient it builds on.</summary>
public static class SyncProxyServices
{
    /// <summary>The IHttpClientFactory name of the Proxy's handler chain.</summary>
    public const string HttpClientName = "SyncHub.Proxy";

    /// <summary>
    /// Adds <see cref="SyncProxyFactory"/> (singleton), <see cref="SyncProxyOptions"/> bound from the <c>SyncHub:Proxy</c>
    /// section of <paramref name="configuration"/> (without one, of the <see cref="IConfiguration"/> registered, if any)
    /// and validated on first use and when the host starts, and <see cref="TimeProvider.System"/> unless a TimeProvider
    /// is already registered. Calling it twice is harmless.
    /// </summary>
    public static IServiceCollection AddSyncProxy(this IServiceCollection services, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(SyncProxyFactory)))
        {
            return services;
        }
        services.TryAddSingleton(TimeProvider.System);
        var options = services.AddOptions<SyncProxyOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration.GetSection(SyncProxyOptions.Section));
        }
        else
        {
            // Standalone use (no configuration at hand): bind from the registered IConfiguration when there is one.
            options.Configure<IServiceProvider>((o, sp) => sp.GetService<IConfiguration>()?.GetSection(SyncProxyOptions.Section).Bind(o));
        }
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SyncProxyOptions>, SyncProxyOptionsValidator>());

        var client = services.AddHttpClient(HttpClientName)
            // The default HttpClient logging writes every request URI, query string included (it may hold secrets):
            // the Proxy logs its retries itself, with the path only. Headers and bodies are never logged.
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AutomaticDecompression = DecompressionMethods.All,
                // Redirects are followed; .NET drops the Authorization header on a redirect.
                AllowAutoRedirect = true,
            });
        client.AddResilienceHandler("resilience", ConfigurePipeline);
        // Added after the resilience handler, so inside the retries: counts every attempt (synchub.provider.requests).
        client.AddHttpMessageHandler(() => new ProviderRequestMetrics());

        services.AddSingleton<SyncProxyFactory>();
        return services;
    }

    /// <summary>
    /// Total timeout ⊃ retry ⊃ attempt timeout. The attempt timeout covers one attempt up to the response headers; the
    /// total timeout every attempt and every wait. Rules in <see cref="ProxyRetryRules"/>.
    /// </summary>
    private static void ConfigurePipeline(ResiliencePipelineBuilder<HttpResponseMessage> builder, ResilienceHandlerContext context)
    {
        var services = context.ServiceProvider;
        var options = services.GetRequiredService<IOptions<SyncProxyOptions>>().Value;
        var time = services.GetRequiredService<TimeProvider>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SyncProxyFactory).FullName!);
        builder.TimeProvider = time;

        builder.AddTimeout(new HttpTimeoutStrategyOptions { Name = "TotalTimeout", Timeout = options.TotalTimeout });
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                Name = "Retry",
                // Before DelayGenerator: this setter replaces it.
                ShouldRetryAfterHeader = false,
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(
                    ProxyRetryRules.ShouldRetry(args.Outcome, args.Context.GetRequestMessage(), options, time)),
                DelayGenerator = args => ValueTask.FromResult(ProxyRetryRules.Delay(args.Outcome.Result, time.GetUtcNow())),
                OnRetry = args =>
                {
                    SyncHubTelemetry.ProviderRetries.Add(1, ProxyRetryRules.TagsOf(args.Context.GetRequestMessage(), ProxyRetryRules.StatusOf(args.Outcome)));
                    if (logger.IsEnabled(LogLevel.Information))
                    {
                        var request = args.Context.GetRequestMessage();
                        var outcome = args.Outcome.Result is { } response
                            ? ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture) + ProxyRetryRules.RateLimitNote(response)
                            : args.Outcome.Exception?.GetType().Name ?? "no response";
                        logger.LogInformation(
                            "Proxy {Method} {Path} got {Outcome}; retry {Retry} of {MaxRetries} in {DelayMs} ms",
                            request?.Method.Method, ProviderRequests.PathOf(request?.RequestUri), outcome,
                            args.AttemptNumber + 1, options.MaxRetries, (long)args.RetryDelay.TotalMilliseconds);
                    }
                    return default;
                },
            });
        }
        builder.AddTimeout(new HttpTimeoutStrategyOptions { Name = "AttemptTimeout", Timeout = options.AttemptTimeout });
    }
}
