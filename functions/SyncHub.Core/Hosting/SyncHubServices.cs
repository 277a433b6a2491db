using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SyncHub.Core.Api;
using SyncHub.Core.Configuration;
using SyncHub.Core.Connections;
using SyncHub.Core.Records;
using SyncHub.Core.Scheduling;
using SyncHub.Core.Sdk;
using SyncHub.Core.Storage;
using SyncHub.Core.Webhooks;

namespace SyncHub.Core.Hosting;

/// <summary>
/// Registers the engine. Called by the function app's Program.cs and by LocalHost, so both run the same graph.
/// A bad deployment fails at start, not on a request: the integration config is loaded and checked here, and the
/// options are validated when the host starts (<c>ValidateOnStart</c>; an <see cref="OptionsValidationException"/>
/// naming each bad setting). Without a host, <see cref="ValidateAtStart"/> runs the same check.
/// </summary>
public static class SyncHubServices
{
    public static IServiceCollection AddSyncHub(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SyncHubOptions>().Bind(configuration.GetSection(SyncHubOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SyncHubOptions>, SyncHubOptionsValidator>());
        // AddSyncs checks the syncs against the catalog while services are registered, so it is loaded now; it needs
        // only SyncHub__ConfigPath (the other settings are validated at start).
        var configPath = configuration.GetSection(SyncHubOptions.Section).Get<SyncHubOptions>()?.ResolvedConfigPath()
            ?? new SyncHubOptions().ResolvedConfigPath();
        // oauth client ids and secrets: SyncHub__Integrations__<key>__ClientId / __ClientSecret (Key Vault references in Azure).
        var catalog = NangoYamlLoader.Load(configPath, name => configuration[name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)]);

        services.TryAddSingleton(configuration);
        services.AddSingleton(catalog);
        services.AddSingleton(TimeProvider.System);
        services.AddAzureClients(clients => StorageClients.Register(clients, configuration));
        // Creating a client through IAzureClientFactory starts forwarding the Azure SDK's own event logs (every storage
        // request) to ILogger; SyncHub never logged them. Logging__LogLevel__Azure.Core (and the like) turns them on.
        services.AddLogging(logging => logging.AddFilter("Azure", LogLevel.None));
        services.AddSingleton(sp => StorageClients.Create(sp, configuration));
        services.AddSingleton<FixedTables>();

        services.AddSingleton<SecretKeyAuthenticator>();
        services.AddSingleton<ApiPipeline>();
        services.AddSingleton<ConfigurationEndpoints>();

        services.AddSingleton<CredentialProtector>();
        services.AddSingleton<ConnectionStore>();
        services.AddConnectionTokens(configuration);
        services.AddSingleton<ConnectionsEndpoints>();

        services.AddSingleton<RecordSetStore>();
        services.AddSingleton<RecordWriter>();
        services.AddSingleton<RecordSetCache>();
        services.AddSingleton<RecordReader>();
        services.AddSingleton<RecordPruner>();
        services.AddSingleton<RecordsEndpoints>();

        services.AddOptions<SchedulingOptions>()
            .Bind(configuration.GetSection(SchedulingOptions.Section))
            .Configure(o => o.RunQueue = configuration[SchedulingOptions.RunQueueSetting] is { Length: > 0 } queue ? queue : o.RunQueue)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SchedulingOptions>, SchedulingOptionsValidator>());
        services.AddSyncProxy(configuration);
        services.AddSingleton<ScheduleStore>();
        services.AddSingleton<DueRuns>();
        services.AddSingleton<SyncRunQueue>();
        services.AddSingleton<RunSeenStore>();
        services.AddSingleton<RunHistory>();
        services.AddSingleton<SyncSchedules>();
        services.AddSingleton<Scheduler>();
        services.AddSingleton<RunLeases>();
        services.AddSingleton<SyncExecution>();
        services.AddSingleton<FanOutRelay>();
        services.AddSingleton<BulkControl>();
        services.AddSingleton<SyncRunner>();
        services.AddOptions<WebhookOptions>()
            .Bind(configuration.GetSection(WebhookOptions.Section))
            .Configure(o => o.Queue = configuration[WebhookOptions.QueueSetting] is { Length: > 0 } queue ? queue : o.Queue)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>());
        services.AddSingleton<WebhookStore>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<IWebhookOutboxHolder, ScheduleOutbox>();
        services.AddSingleton<WebhookOutbox>();
        services.AddSingleton<IConnectionEvents, WebhookConnectionEvents>();
        services.AddSingleton<WebhookDelivery>();
        services.AddSingleton<RunWebhooks>();
        services.AddSingleton<WebhooksEndpoints>();
        services.AddSingleton<SyncEndpoints>();
        // Order matters on delete: schedules go first (a running sync loses its lease and stops, its outbox with it),
        // then the records and the webhook rows.
        services.AddSingleton<IConnectionLifecycle, SchedulingLifecycle>();
        services.AddSingleton<IConnectionLifecycle, RecordsLifecycle>();
        services.AddSingleton<IConnectionLifecycle, WebhooksLifecycle>();
        return services;
    }

    /// <summary>
    /// What the host does first when it starts: validates every option registered with <c>ValidateOnStart</c>. Throws
    /// an <see cref="OptionsValidationException"/> naming the bad settings (an <see cref="AggregateException"/> of them
    /// when several options are bad). For code that builds the services without a host (tests, tools).
    /// </summary>
    public static void ValidateAtStart(this IServiceProvider services) =>
        services.GetService<IStartupValidator>()?.Validate();

    /// <summary>
    /// Whether <paramref name="error"/> is what a failed start-up validation throws (one
    /// <see cref="OptionsValidationException"/>, or several in an <see cref="AggregateException"/>), and its messages,
    /// each naming its setting.
    /// </summary>
    public static bool IsValidationFailure(Exception error, out IReadOnlyList<string> failures)
    {
        failures = error switch
        {
            OptionsValidationException e => [.. e.Failures],
            AggregateException { InnerExceptions.Count: > 0 } e when e.InnerExceptions.All(i => i is OptionsValidationException) =>
                [.. e.InnerExceptions.OfType<OptionsValidationException>().SelectMany(i => i.Failures)],
            _ => [],
        };
        return failures.Count > 0;
    }
}
