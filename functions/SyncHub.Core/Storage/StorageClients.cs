using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;

namespace SyncHub.Core.Storage;

/// <summary>
/// The table and queue clients of the <c>SyncHubStorage</c> connection. One code path for both forms of the setting:
/// a connection string (<c>UseDevelopmentStorage=true</c> locally), or the identity-based
/// <c>SyncHubStorage__tableServiceUri</c> / <c>__queueServiceUri</c> / <c>__credential</c> / <c>__clientId</c> in Azure,
/// the same names the Functions host reads for trigger connections.
/// </summary>
public sealed class StorageClients
{
    public const string SettingName = "SyncHubStorage";

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

    public static StorageClients FromConfiguration(
        IConfiguration configuration, AzureComponentFactory credentials, string settingName = SettingName, QueueMessageEncoding encoding = QueueMessageEncoding.Base64)
    {
        var section = configuration.GetSection(settingName);
        var queueOptions = new QueueClientOptions { MessageEncoding = encoding };
        var tableOptions = new TableClientOptions();
        if (!string.IsNullOrWhiteSpace(section.Value))
        {
            return new StorageClients(new TableServiceClient(section.Value, tableOptions), new QueueServiceClient(section.Value, queueOptions));
        }
        var tableUri = section["tableServiceUri"];
        var queueUri = section["queueServiceUri"];
        if (string.IsNullOrWhiteSpace(tableUri) || string.IsNullOrWhiteSpace(queueUri))
        {
            throw new InvalidOperationException(
                $"The storage setting '{settingName}' is missing: set it to a connection string (UseDevelopmentStorage=true locally), " +
                $"or set {settingName}__tableServiceUri and {settingName}__queueServiceUri (with {settingName}__credential=managedidentity and {settingName}__clientId) for identity-based access.");
        }
        // The same reading of credential/clientId that the Functions host applies to trigger connections.
        TokenCredential credential = credentials.CreateTokenCredential(section);
        return new StorageClients(
            new TableServiceClient(new Uri(tableUri), credential, tableOptions),
            new QueueServiceClient(new Uri(queueUri), credential, queueOptions));
    }
}
