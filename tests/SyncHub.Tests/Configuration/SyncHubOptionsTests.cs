using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SyncHub.Core.Configuration;
using SyncHub.Core.Connections;
using SyncHub.Core.Hosting;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Configuration;

public sealed class SyncHubOptionsTests
{
    /// <summary>
    /// Starts a host with the engine, as the function app and LocalHost do: a bad nango.yaml stops it while services are
    /// registered (<see cref="ConfigurationException"/>), bad settings when it starts (ValidateOnStart's
    /// <see cref="OptionsValidationException"/>).
    /// </summary>
    private static Exception StartFails(Dictionary<string, string?> overrides)
    {
        var error = Record.Exception(() =>
        {
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Services.AddSyncHub(TestEnvironment.Configuration(overrides));
            using var host = builder.Build();
            host.StartAsync().GetAwaiter().GetResult();
            host.StopAsync().GetAwaiter().GetResult();
        });
        Assert.NotNull(error);
        Assert.True(error is ConfigurationException or OptionsValidationException, $"unexpected {error}");
        return error;
    }

    [Fact]
    public void The_test_settings_start_and_bind_every_setting()
    {
        using var services = TestEnvironment.Services();
        var options = services.GetRequiredService<IOptions<SyncHubOptions>>().Value;
        Assert.Equal([TestEnvironment.SecretKey, TestEnvironment.OtherSecretKey], options.ParsedSecretKeys());
        Assert.Equal("hello", options.EnvironmentVariables["GREETING"]);
        Assert.Equal("https://example.test/v1?x=1&y=2", options.EnvironmentVariables["API_BASE"]);
        Assert.Equal("github", Assert.Single(services.GetRequiredService<IntegrationCatalog>().Integrations).Key);
        Assert.NotNull(services.GetRequiredService<CredentialProtector>());
    }

    [Theory]
    [InlineData("not-a-uuid-but-a-secret-value")]
    [InlineData("5f3e1c2a-9b7d-1e6f-8a1b-2c3d4e5f6a7b")] // a UUID, but v1
    public void A_bad_secret_key_stops_start_up_naming_the_setting_not_the_value(string key)
    {
        var error = StartFails(new() { ["SyncHub:SecretKeys"] = $"{TestEnvironment.SecretKey},{key}" });
        Assert.Contains("SyncHub__SecretKeys", error.Message);
        Assert.Contains("entry 2", error.Message);
        Assert.DoesNotContain(key, error.Message);
        Assert.DoesNotContain(TestEnvironment.SecretKey, error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" , ")]
    [InlineData(null)]
    public void No_secret_key_stops_start_up(string? value)
    {
        var error = StartFails(new() { ["SyncHub:SecretKeys"] = value });
        Assert.Contains("SyncHub__SecretKeys", error.Message);
    }

    [Theory]
    [InlineData("c2VjcmV0LWJ1dC1zaG9ydA==")] // base64 of 16 bytes
    [InlineData("this is not base64 at all, it is a secret")]
    [InlineData("")]
    public void A_bad_encryption_key_stops_start_up_naming_the_setting_not_the_value(string key)
    {
        var error = StartFails(new() { ["SyncHub:EncryptionKey"] = key });
        Assert.Contains("SyncHub__EncryptionKey", error.Message);
        if (key.Length > 0)
        {
            Assert.DoesNotContain(key, error.Message);
        }
    }

    [Fact]
    public void A_33_byte_encryption_key_is_rejected()
    {
        var error = StartFails(new() { ["SyncHub:EncryptionKey"] = Convert.ToBase64String(new byte[33]) });
        Assert.Contains("SyncHub__EncryptionKey", error.Message);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var error = StartFails(new() { ["SyncHub:SecretKeys"] = "nope", ["SyncHub:EncryptionKey"] = "nope" });
        Assert.Contains("SyncHub__SecretKeys", error.Message);
        Assert.Contains("SyncHub__EncryptionKey", error.Message);
    }

    [Theory]
    [InlineData("SyncHub:Proxy:MaxRetries", "-1", "SyncHub:Proxy:MaxRetries")]
    [InlineData("SyncHub:Scheduling:LeaseDuration", "00:00:00", "SyncHub__Scheduling__LeaseDuration")]
    [InlineData("SyncHub:Scheduling:MaxDuePerTick", "0", "SyncHub__Scheduling__MaxDuePerTick")]
    public void Proxy_and_scheduling_settings_are_validated_at_start_up(string key, string value, string named)
    {
        var error = StartFails(new() { [key] = value });
        Assert.IsType<OptionsValidationException>(error);
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void An_invalid_config_file_stops_start_up_with_its_path()
    {
        var file = Path.Combine(Path.GetTempPath(), $"nango-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, "integrations:\n  github:\n    syncs:\n      issues:\n        runs: whenever\n        output: GithubIssue\n");
        try
        {
            var error = StartFails(new() { ["SyncHub:ConfigPath"] = file });
            Assert.StartsWith($"{file}:5:", error.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void The_config_path_defaults_to_the_nango_yaml_next_to_the_app()
    {
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "nango.yaml"), new SyncHubOptions().ResolvedConfigPath());
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "nango.yaml"), new SyncHubOptions { ConfigPath = " " }.ResolvedConfigPath());
        Assert.Equal("/etc/synchub/nango.yaml", new SyncHubOptions { ConfigPath = "/etc/synchub/nango.yaml" }.ResolvedConfigPath());
    }

    [Fact]
    public void Secret_keys_are_trimmed_and_lower_cased()
    {
        var options = new SyncHubOptions
        {
            SecretKeys = $" {TestEnvironment.SecretKey.ToUpperInvariant()} ,, {TestEnvironment.OtherSecretKey} ",
            EncryptionKey = TestEnvironment.EncryptionKey,
        };
        Assert.Equal([TestEnvironment.SecretKey, TestEnvironment.OtherSecretKey], options.ParsedSecretKeys());
        Assert.Empty(options.Problems());
    }
}
