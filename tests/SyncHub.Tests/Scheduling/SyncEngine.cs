using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SyncHub.Core.Api;
using SyncHub.Core.Hosting;
using SyncHub.Core.Sdk;
using SyncHub.Core.Records;
using SyncHub.Core.Scheduling;
using SyncHub.Core.Storage;
using SyncHub.Functions;
using SyncHub.Tests.Infrastructure;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Scheduling;

/// <summary>
/// The sync engine on Azurite with a fake GitHub: the app's real service graph with a nango.yaml whose github
/// base_url is the fake, its own run queue, and a pump that delivers queue messages to the real runner the way the
/// queue trigger does.
/// </summary>
public sealed class SyncEngine : IAsyncDisposable
{
    private SyncEngine(FakeGithub github, ServiceProvider services, string configPath, string integration)
    {
        Github = github;
        Services = services;
        ConfigPath = configPath;
        Integration = integration;
    }

    /// <summary>
    /// An integration key of its own (see <see cref="IsolatedGithub"/>): tests that act on every connection of the
    /// integration must not reach the connections other tests create under <c>github</c> on the same Azurite.
    /// </summary>
    public const string IsolatedIntegration = IsolatedGithub.Key;

    /// <summary>The integration key the engine's syncs run under (<c>github</c> unless isolated).</summary>
    public string Integration { get; }

    public FakeGithub Github { get; }
    public ServiceProvider Services { get; }
    public string ConfigPath { get; }
    public QueueClient Queue => Services.GetRequiredService<StorageClients>().Queue(Services.GetRequiredService<IOptions<SchedulingOptions>>().Value.RunQueue);

    /// <param name="clock">Replaces the engine's clock (e.g. a <see cref="ShiftedClock"/> to make schedules due).</param>
    /// <param name="integration"><c>github</c>, or <see cref="IsolatedIntegration"/> for an integration no other test uses.</param>
    /// <param name="configure">Last changes to the service graph (e.g. other storage clients).</param>
    /// <param name="integrationYaml">More keys of the integration in nango.yaml (e.g. an <c>oauth</c> block), unindented.</param>
    public static async Task<SyncEngine> StartAsync(
        IDictionary<string, string?>? settings = null, string labelsRuns = "every hour", string issuesRuns = "every 30 minutes",
        TimeProvider? clock = null, string integration = "github", bool issuesAutoStart = true, Action<IServiceCollection>? configure = null,
        string? integrationYaml = null, Func<Uri, string>? moreYaml = null)
    {
        var github = await FakeGithub.StartAsync();
        var configPath = Path.Combine(Path.GetTempPath(), $"nango-{Guid.NewGuid():N}.yaml");
        // The test assembly's adapters serve every isolated key, so an isolated engine configures them all.
        string[] keys = integration == "github" ? [integration] : IsolatedGithub.Keys;
        var yaml = new System.Text.StringBuilder("integrations:\n");
        foreach (var key in keys)
        {
            yaml.Append($"""
                  {key}:
                    provider: github
                    base_url: {github.BaseUrl}
                    syncs:
                      issues:
                        runs: {issuesRuns}
                        output: GithubIssue
                        sync_type: incremental
                        auto_start: {(issuesAutoStart ? "true" : "false")}
                      labels:
                        runs: {labelsRuns}
                        output: GithubLabel
                        sync_type: full
                        track_deletes: true
                        auto_start: true
                {(key == integration ? string.Concat((integrationYaml ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => "    " + l.TrimEnd('\r') + "\n")) : "")}
                """);
        }
        // Declarative syncs' tests add integrations (and models) of their own after these.
        yaml.Append(moreYaml?.Invoke(github.BaseUrl) ?? "");
        await File.WriteAllTextAsync(configPath, yaml.ToString());
        var overrides = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["SyncHub:ConfigPath"] = configPath };
        var configuration = TestEnvironment.Configuration(overrides);
        var services = new ServiceCollection();
        services.AddLogging();
        if (integration == "github")
        {
            services.AddFunctionApp(configuration);
        }
        else
        {
            // The same GitHub syncs under another key: the test assembly's adapters (IsolatedGithub).
            services.AddSyncHub(configuration).AddSyncs(typeof(SyncEngine).Assembly);
        }
        if (clock is not null)
        {
            services.AddSingleton(clock);
        }
        configure?.Invoke(services);
        return new SyncEngine(github, services.BuildServiceProvider(), configPath, integration);
    }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>POST /connections through the real function (which creates the schedules and queues the first runs).</summary>
    /// <param name="integration">Another integration of the config (default: the engine's).</param>
    public async Task<string> ImportAsync(string repo = "o/r", string? connectionId = null, JsonObject? metadata = null, string? integration = null)
    {
        connectionId ??= TestEnvironment.Unique("gh");
        var body = new JsonObject
        {
            ["provider_config_key"] = integration ?? Integration,
            ["connection_id"] = connectionId,
            ["credentials"] = new JsonObject { ["type"] = "OAUTH2", ["access_token"] = "gho_test_token" },
            ["metadata"] = metadata ?? new JsonObject { ["repo"] = repo },
        };
        var functions = new ConnectionFunctions(Get<ApiPipeline>(), Get<SyncHub.Core.Api.ConnectionsEndpoints>());
        var response = await FunctionCall.SendAsync(Services, functions.Import, "POST", body: body.ToJsonString());
        Assert.Equal(200, response.Status);
        return connectionId;
    }

    /// <summary>
    /// Delivers queued messages to the runner until the queue stays empty for <paramref name="settle"/> (300 ms by
    /// default). That quiet window is the one bounded wait of the pump: "no more messages" is the absence of an event,
    /// so it cannot be awaited as one; a test that needs a message that only becomes visible later (a delayed message,
    /// e.g. a takeover check) uses <see cref="PumpUntilAsync"/> with the state that message must produce.
    /// </summary>
    public Task<int> PumpAsync(TimeSpan? settle = null, int maxMessages = 1000) => PumpAsync(null, null, settle, null, maxMessages);

    /// <summary>
    /// Delivers queued messages to the runner until <paramref name="done"/> holds (waiting for delayed messages as
    /// long as it does not, up to <paramref name="timeout"/>, then failing with <paramref name="awaited"/>), and then
    /// until the queue stays empty as in <see cref="PumpAsync(TimeSpan?, int)"/>.
    /// </summary>
    public Task<int> PumpUntilAsync(Func<Task<bool>> done, string awaited, TimeSpan? settle = null, TimeSpan? timeout = null) =>
        PumpAsync(done, awaited, settle, timeout, 1000);

    private async Task<int> PumpAsync(Func<Task<bool>>? done, string? awaited, TimeSpan? settle, TimeSpan? timeout, int maxMessages)
    {
        var runner = Get<SyncRunner>();
        var delivered = 0;
        var quiet = settle ?? TimeSpan.FromMilliseconds(300);
        while (delivered < maxMessages)
        {
            await Queue.CreateIfNotExistsAsync();
            var quietFor = Stopwatch.StartNew();
            var (messages, _) = await Eventually.Value(async () =>
            {
                QueueMessage[] received = (await Queue.ReceiveMessagesAsync(16, TimeSpan.FromMinutes(2))).Value;
                var over = received.Length == 0 && quietFor.Elapsed >= quiet && (done is null || await done());
                return (Messages: received, Over: over);
            }, r => r.Messages.Length > 0 || r.Over, awaited ?? $"the run queue to stay empty for {quiet.TotalMilliseconds} ms", timeout,
                _ => $"{delivered} messages delivered, the queue empty for {quietFor.Elapsed.TotalSeconds:F1} s");
            if (messages.Length == 0)
            {
                return delivered;
            }
            foreach (var message in messages)
            {
                var run = JsonSerializer.Deserialize<SyncRunMessage>(message.Body.ToString(), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
                await runner.RunAsync(run, CancellationToken.None);
                await Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                delivered++;
            }
        }
        return delivered;
    }

    public Task<Schedule?> ScheduleAsync(string connectionId, string sync, string variant = "base", string? integration = null) =>
        Get<ScheduleStore>().GetAsync(new SyncKey(integration ?? Integration, connectionId, sync, variant), CancellationToken.None);

    public async Task<List<StoredRecord>> RecordsAsync(string connectionId, string model, string variant = "base", string? integration = null)
    {
        var reader = Get<RecordReader>();
        var all = new List<StoredRecord>();
        Cursor? cursor = null;
        do
        {
            var page = await reader.ReadAsync(new RecordPartition(integration ?? Integration, connectionId, model, variant), new RecordQuery(cursor, null, null, null, 500), CancellationToken.None);
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
