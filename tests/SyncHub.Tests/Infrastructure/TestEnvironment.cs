using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.Functions;

namespace SyncHub.Tests.Infrastructure;

/// <summary>
/// Settings for tests: a real Azurite (SYNCHUB_TEST_STORAGE, default the local emulator that scripts/test.sh starts),
/// fresh keys, and the sample nango.yaml unless a test passes its own.
/// </summary>
public static class TestEnvironment
{
    public const string SecretKey = "5f3e1c2a-9b7d-4e6f-8a1b-2c3d4e5f6a7b";
    public const string OtherSecretKey = "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d";
    public static readonly string EncryptionKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    public static string StorageConnectionString =>
        Environment.GetEnvironmentVariable("SYNCHUB_TEST_STORAGE") is { Length: > 0 } value ? value : "UseDevelopmentStorage=true";

    public static string SampleConfigPath => Path.Combine(AppContext.BaseDirectory, "nango.yaml");

    public static Dictionary<string, string?> Settings(string? configPath = null) => new()
    {
        ["SyncHubStorage"] = StorageConnectionString,
        ["AzureWebJobsStorage"] = StorageConnectionString,
        ["SyncHub:SecretKeys"] = $"{SecretKey},{OtherSecretKey}",
        ["SyncHub:EncryptionKey"] = EncryptionKey,
        ["SyncHub:ConfigPath"] = configPath ?? SampleConfigPath,
        ["SyncHub:EnvironmentVariables:GREETING"] = "hello",
        ["SyncHub:EnvironmentVariables:API_BASE"] = "https://example.test/v1?x=1&y=2",
        // A run queue (and due-index partition) of its own, so no other test or LocalHost runs this graph's syncs.
        ["SyncHubRunQueue"] = "test-runs-" + Guid.NewGuid().ToString("N")[..16],
        // Likewise the webhook delivery queue (LocalHost refuses to start without the setting).
        ["SyncHubWebhookQueue"] = "test-hooks-" + Guid.NewGuid().ToString("N")[..16],
        // What local.settings.json must hold for the timer trigger (LocalHost refuses to start without it).
        ["SyncHubSchedulerCron"] = "*/30 * * * * *",
    };

    public static IConfiguration Configuration(IDictionary<string, string?>? overrides = null)
    {
        var settings = Settings();
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }

    /// <summary>The engine's real service graph, as the function app builds it.</summary>
    public static ServiceProvider Services(IDictionary<string, string?>? overrides = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddFunctionApp(Configuration(overrides));
        return services.BuildServiceProvider();
    }

    /// <summary>A name no other test (or earlier run on the same Azurite) uses.</summary>
    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, prefix.Length + 33)];
}
