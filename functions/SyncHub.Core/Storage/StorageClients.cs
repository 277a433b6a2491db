using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace SyncHub.Core.Storage;

/// <summary>
/// The table and queue clients of the <c>SyncHubStorage</c> connection. One code path for both forms of the setting:
/// a connection string (<c>UseDevelopmentStorage=true</c> locally), or the identity-based
/// <c>SyncHubStorage__tableServiceUri</c> / <c>__queueServiceUri</c> / <c>__credential</c> / <c>__clientId</c> in Azure,
/// the same names the Functions host reads for trigger connections. The clients are built by Microsoft.Extensions.Azure
/// (<see cref="Register"/> with <c>AddAzureClients</c>, then <see cref="Create"/> through <see cref="IAzureClientFactory{TClient}"/>).
/// </summary>
public sealed class StorageClients
{
    public const string SettingName = "SyncHubStorage";

    /// <summary>For clients built another way (tests wrap the pipeline of the clients they build).</summary>
    public StorageClients(TableServiceClient tables, QueueServiceClient queues)
    {
        Tables = tables;
        Queues = queues;
    }

    public TableServiceClient Tables { get; }
    public QueueServiceClient Queues { get; }

    public TableClient Table(string name) => Tables.GetTableClient(name);

    /// <summary>Queue clients send base64, the Functions queue trigger's default encoding (host.json agrees).</summary>
    public QueueClient Queue(string name) => Queues.GetQueueClient(name);

    /// <summary>
    /// Registers the table and queue service clients of the connection <paramref name="settingName"/> as named clients
    /// (<paramref name="clientName"/>, default the setting name) of <c>AddAzureClients</c>. A connection that is not
    /// set registers nothing: <see cref="Create"/> then says what to set.
    /// </summary>
    public static void Register(
        AzureClientFactoryBuilder clients, IConfiguration configuration, string settingName = SettingName, string? clientName = null,
        QueueMessageEncoding encoding = QueueMessageEncoding.Base64)
    {
        ArgumentNullException.ThrowIfNull(clients);
        var section = configuration.GetSection(settingName);
        if (!IsSet(section))
        {
            return;
        }
        clients.AddTableServiceClient(ClientSettings(section, "tableServiceUri", "endpoint"))
            .WithName(clientName ?? settingName);
        clients.AddQueueServiceClient(ClientSettings(section, "queueServiceUri", "serviceUri"))
            .WithName(clientName ?? settingName)
            .ConfigureOptions(options => options.MessageEncoding = encoding);
    }

    /// <summary>The clients <see cref="Register"/> registered; a clear error naming the setting when it is not set.</summary>
    public static StorageClients Create(IServiceProvider services, IConfiguration configuration, string settingName = SettingName, string? clientName = null)
    {
        if (!IsSet(configuration.GetSection(settingName)))
        {
            throw new InvalidOperationException(
                $"The storage setting '{settingName}' is missing: set it to a connection string (UseDevelopmentStorage=true locally), " +
                $"or set {settingName}__tableServiceUri and {settingName}__queueServiceUri (with {settingName}__credential=managedidentity and {settingName}__clientId) for identity-based access.");
        }
        return new StorageClients(
            services.GetRequiredService<IAzureClientFactory<TableServiceClient>>().CreateClient(clientName ?? settingName),
            services.GetRequiredService<IAzureClientFactory<QueueServiceClient>>().CreateClient(clientName ?? settingName));
    }

    private static bool IsSet(IConfigurationSection section) =>
        !string.IsNullOrWhiteSpace(section.Value)
        || (!string.IsNullOrWhiteSpace(section["tableServiceUri"]) && !string.IsNullOrWhiteSpace(section["queueServiceUri"]));

    /// <summary>
    /// What the client factory reads: the section itself for a connection string; otherwise the section with the
    /// service URI also under the name of the client constructor's parameter (<c>endpoint</c> for tables,
    /// <c>serviceUri</c> for queues), since the Functions host's names (<c>tableServiceUri</c>, <c>queueServiceUri</c>)
    /// are the settings' contract. <c>credential</c>, <c>clientId</c>... are read from it as they are.
    /// </summary>
    private static IConfiguration ClientSettings(IConfigurationSection section, string uriKey, string parameterName)
    {
        if (!string.IsNullOrWhiteSpace(section.Value))
        {
            return section;
        }
        var values = section.AsEnumerable(makePathsRelative: true).Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value);
        values[parameterName] = section[uriKey];
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }
}
