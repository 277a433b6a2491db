using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
/// Settings and the integration config are checked here, eagerly: a bad deployment fails at start, not on a request.
/// </summary>
public static class SyncHubServices
{
    public static IServiceCollection AddSyncHub(this IServiceCollection services, IConfiguration configuration)
    {
        var options = new SyncHubOptions();
        configuration.GetSection(SyncHubOptions.Section).Bind(options);
        var problems = options.Problems().ToList();
        if (problems.Count > 0)
        {
            throw new ConfigurationException("SyncHub cannot start: " + string.Join(" ", problems));
        }
        var webhookOptions = new WebhookOptions();
        configuration.GetSection(WebhookOptions.Section).Bind(webhookOptions);
        webhookOptions.Queue = configuration[WebhookOptions.QueueSetting] is { Length: > 0 } webhookQueue ? webhookQueue : webhookOptions.Queue;
        problems.AddRange(webhookOptions.Problems());
        if (problems.Count > 0)
        {
            throw new ConfigurationException("SyncHub cannot start: " + string.Join(" ", problems));
        }
        var catalog = NangoYamlLoader.Load(options.ResolvedConfigPath());

        services.TryAddSingleton(configuration);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(catalog);
        services.AddSingleton(TimeProvider.System);
        services.AddAzureClientsCore();
        services.AddSingleton(sp => StorageClients.FromConfiguration(configuration, sp.GetRequiredService<AzureComponentFactory>()));
        services.AddSingleton<FixedTables>();

        services.AddSingleton<SecretKeyAuthenticator>();
        services.AddSingleton<ApiPipeline>();
        services.AddSingleton<ConfigurationEndpoints>();

        services.AddSingleton<CredentialProtector>();
        services.AddSingleton<ConnectionStore>();
        services.AddSingleton<ConnectionsEndpoints>();

        services.AddSingleton<RecordSetStore>();
        services.AddSingleton<RecordWriter>();
        services.AddSingleton<RecordReader>();
        services.AddSingleton<RecordPruner>();
        services.AddSingleton<RecordsEndpoints>();

        services.Configure<SchedulingOptions>(o =>
        {
            configuration.GetSection(SchedulingOptions.Section).Bind(o);
            o.RunQueue = configuration[SchedulingOptions.RunQueueSetting] is { Length: > 0 } queue ? queue : o.RunQueue;
        });
        services.AddSyncProxy();
        services.AddSingleton<ScheduleStore>();
        services.AddSingleton<DueRuns>();
        services.AddSingleton<SyncRunQueue>();
        services.AddSingleton<RunSeenStore>();
        services.AddSingleton<SyncSchedules>();
        services.AddSingleton<Scheduler>();
        services.AddSingleton<SyncRunner>();
        services.AddSingleton(Options.Create(webhookOptions));
        services.AddSingleton<WebhookStore>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<IWebhookOutboxHolder, ScheduleOutbox>();
        services.AddSingleton<WebhookOutbox>();
        services.AddSingleton<WebhookDelivery>();
        services.AddSingleton<RunWebhooks>();
        services.AddSingleton<WebhooksEndpoints>();
        services.AddSingleton<SyncEndpoints>();
        // Order matters on delete: schedules go first (a running sync loses its lease and stops), then the records.
        services.AddSingleton<IConnectionLifecycle, SchedulingLifecycle>();
        services.AddSingleton<IConnectionLifecycle, RecordsLifecycle>();
        return services;
    }
}
