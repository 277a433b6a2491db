using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SyncHub.Core.Api;
using SyncHub.Core.Records;
using SyncHub.Core.Scheduling;
using SyncHub.Core.Storage;
using SyncHub.Functions;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Scheduling;

/// <summary>
/// The sync engine on Azurite with a fake GitHub: the app's real service graph with a nango.yaml whose github
/// base_url is the fake, its own run queue, and a pump that delivers queue messages to the real runner the way the
/// queue trigger does.
/// </summary>
public sealed class SyncEngine : IAsyncDisposable
{
    private SyncEngine(FakeGithub github, ServiceProvider services, string configPath)
    {
        Github = github;
        Services = services;
        ConfigPath = configPath;
    }

    public FakeGithub Github { get; }
    public ServiceProvider Services { get; }
    public string ConfigPath { get; }
    public QueueClient Queue => Services.GetRequiredService<StorageClients>().Queue(Services.GetRequiredService<IOptions<SchedulingOptions>>().Value.RunQueue);

    public static async Task<SyncEngine> StartAsync(IDictionary<string, string?>? settings = null, string labelsRuns = "every hour", string issuesRuns = "every 30 minutes")
    {
        var github = await FakeGithub.StartAsync();
        var configPath = Path.Combine(Path.GetTempPath(), $"nango-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(configPath, $"""
            integrations:
              github:
                provider: github
                base_url: {github.BaseUrl}
                syncs:
                  issues:
                    runs: {issuesRuns}
                    output: GithubIssue
                    sync_type: incremental
                    auto_start: true
                  labels:
                    runs: {labelsRuns}
                    output: GithubLabel
                    sync_type: full
                    track_deletes: true
                    auto_start: true
            """);
        var overrides = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["SyncHub:ConfigPath"] = configPath };
        return new SyncEngine(github, TestEnvironment.Services(overrides), configPath);
    }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>POST /connections through the real function (which creates the schedules and queues the first runs).</summary>
    public async Task<string> ImportAsync(string repo = "o/r", string? connectionId = null, JsonObject? metadata = null)
    {
        connectionId ??= TestEnvironment.Unique("gh");
        var body = new JsonObject
        {
            ["provider_config_key"] = "github",
            ["connection_id"] = connectionId,
            ["credentials"] = new JsonObject { ["type"] = "OAUTH2", ["access_token"] = "gho_test_token" },
            ["metadata"] = metadata ?? new JsonObject { ["repo"] = repo },
        };
        var functions = new ConnectionFunctions(Get<ApiPipeline>(), Get<SyncHub.Core.Connections.ConnectionsEndpoints>());
        var response = await FunctionCall.SendAsync(Services, functions.Import, "POST", body: body.ToJsonString());
        Assert.Equal(200, response.Status);
        return connectionId;
    }

    /// <summary>Delivers queued messages to the runner until the queue stays empty (delayed messages included up to <paramref name="settle"/>).</summary>
    public async Task<int> PumpAsync(TimeSpan? settle = null, int maxMessages = 1000)
    {
        var runner = Get<SyncRunner>();
        var delivered = 0;
        var quietSince = DateTime.UtcNow;
        var wait = settle ?? TimeSpan.FromMilliseconds(300);
        while (delivered < maxMessages)
        {
            await Queue.CreateIfNotExistsAsync();
            QueueMessage[] messages = (await Queue.ReceiveMessagesAsync(16, TimeSpan.FromMinutes(2))).Value;
            if (messages.Length == 0)
            {
                if (DateTime.UtcNow - quietSince > wait)
                {
                    return delivered;
                }
                await Task.Delay(50);
                continue;
            }
            foreach (var message in messages)
            {
                var run = JsonSerializer.Deserialize<SyncRunMessage>(message.Body.ToString(), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
                await runner.RunAsync(run, CancellationToken.None);
                await Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                delivered++;
            }
            quietSince = DateTime.UtcNow;
        }
        return delivered;
    }

    public Task<Schedule?> ScheduleAsync(string connectionId, string sync, string variant = "base") =>
        Get<ScheduleStore>().GetAsync(new SyncKey("github", connectionId, sync, variant), CancellationToken.None);

    public async Task<List<StoredRecord>> RecordsAsync(string connectionId, string model, string variant = "base")
    {
        var reader = Get<RecordReader>();
        var all = new List<StoredRecord>();
        Cursor? cursor = null;
        do
        {
            var page = await reader.ReadAsync(new RecordPartition("github", connectionId, model, variant), new RecordQuery(cursor, null, null, null, 500), CancellationToken.None);
            all.AddRange(page.Records);
            cursor = page.Next;
        }
        while (cursor is not null);
        return all;
    }

    public static JsonObject Json(StoredRecord record) => JsonNode.Parse(record.Payload)!.AsObject();

    public async ValueTask DisposeAsync()
    {
        await Github.DisposeAsync();
        await Services.DisposeAsync();
        File.Delete(ConfigPath);
    }
}
