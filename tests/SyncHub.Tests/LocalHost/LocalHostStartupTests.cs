using Microsoft.Extensions.Configuration;
using SyncHub.LocalHost;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.LocalHost;

public sealed class LocalHostStartupTests
{
    [Fact]
    public async Task An_invalid_nango_yaml_stops_start_up_with_its_path_and_line()
    {
        var file = Path.Combine(Path.GetTempPath(), $"nango-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, "integrations:\n  github:\n    syncs:\n      issues:\n        runs: every 30 minutes\n        output: GithubIssue\n        colour: blue\n");
        try
        {
            var (exitCode, output) = await LocalHostProcess.RunUntilExitAsync(new Dictionary<string, string?> { ["SyncHub__ConfigPath"] = file });
            Assert.NotEqual(0, exitCode);
            Assert.Contains($"{file}:7:", output);
            Assert.Contains("unknown key 'colour'", output);
            Assert.DoesNotContain("   at ", output); // a message, not a stack trace
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_bad_secret_key_stops_start_up_naming_the_setting_without_its_value()
    {
        const string bad = "definitely-not-a-uuid-7f00";
        var (exitCode, output) = await LocalHostProcess.RunUntilExitAsync(new Dictionary<string, string?> { ["SyncHub__SecretKeys"] = bad });
        Assert.NotEqual(0, exitCode);
        Assert.Contains("SyncHub__SecretKeys", output);
        Assert.DoesNotContain(bad, output);
    }

    [Fact]
    public async Task A_trigger_setting_that_is_not_set_stops_start_up_naming_it()
    {
        var (exitCode, output) = await LocalHostProcess.RunUntilExitAsync(new Dictionary<string, string?> { ["SyncHubSchedulerCron"] = null });
        Assert.NotEqual(0, exitCode);
        Assert.Contains("SyncHubSchedulerCron", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void Local_settings_values_become_configuration_with_double_underscores_as_sections()
    {
        var file = Path.Combine(Path.GetTempPath(), $"settings-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{"IsEncrypted":false,"Values":{"SyncHub__SecretKeys":"k","SyncHub__EnvironmentVariables__GREETING":"hi there","SyncHubStorage":"UseDevelopmentStorage=true","Flag":true}}""");
        try
        {
            var configuration = new ConfigurationBuilder().AddLocalSettings(file).Build();
            Assert.Equal("k", configuration["SyncHub:SecretKeys"]);
            Assert.Equal("hi there", configuration.GetSection("SyncHub:EnvironmentVariables")["GREETING"]);
            Assert.Equal("UseDevelopmentStorage=true", configuration["SyncHubStorage"]);
            Assert.Equal("true", configuration["Flag"]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Percent_settings_in_trigger_attributes_are_resolved()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["SyncHub:SchedulerCron"] = "*/30 * * * * *" }).Build();
        Assert.Equal("*/30 * * * * *", LocalSettings.Resolve(configuration, "%SyncHub__SchedulerCron%"));
        Assert.Equal("0 * * * * *", LocalSettings.Resolve(configuration, "0 * * * * *"));
        Assert.Throws<InvalidOperationException>(() => LocalSettings.Resolve(configuration, "%Missing%"));
    }

    [Fact]
    public void Host_json_is_read_with_the_functions_defaults()
    {
        var shipped = HostJson.Load(Path.Combine(AppContext.BaseDirectory, "host.json"));
        Assert.Equal("", shipped.RoutePrefix);
        Assert.True(shipped.QueueBase64);
        Assert.Equal(TimeSpan.FromSeconds(2), shipped.QueueMaxPollingInterval);

        var defaults = HostJson.Load(Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.json"));
        Assert.Equal("api", defaults.RoutePrefix);
        Assert.Equal(TimeSpan.FromMinutes(1), defaults.QueueMaxPollingInterval);
        Assert.Equal(5, defaults.QueueMaxDequeueCount);
        Assert.True(defaults.QueueBase64);
    }
}
