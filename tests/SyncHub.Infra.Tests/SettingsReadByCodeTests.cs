using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Azure.Functions.Worker;
using SyncHub.Core.Configuration;

namespace SyncHub.Infra.Tests;

/// <summary>
/// The app settings the code reads, derived from the code itself, against what main.bicep emits: every trigger
/// binding's <c>%SETTING%</c> and storage connection, and every required <see cref="SyncHubOptions"/> setting, is
/// emitted; and every emitted setting is one the code (or the Functions host) reads.
/// </summary>
public sealed partial class SettingsReadByCodeTests
{
    [GeneratedRegex("%([^%]+)%")]
    private static partial Regex SettingReference();

    /// <summary>Settings the Functions host itself reads (not SyncHub's code).</summary>
    private static readonly string[] HostSettings =
        ["APPLICATIONINSIGHTS_CONNECTION_STRING", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"];

    private static IEnumerable<(string Function, string Setting)> TriggerSettings()
    {
        var functions = typeof(SyncHub.Functions.FunctionAppServices).Assembly.GetExportedTypes()
            .SelectMany(t => t.GetMethods())
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null);
        foreach (var method in functions)
        {
            var name = method.GetCustomAttribute<FunctionAttribute>()!.Name;
            foreach (var parameter in method.GetParameters())
            {
                if (parameter.GetCustomAttribute<TimerTriggerAttribute>() is { } timer)
                {
                    foreach (Match m in SettingReference().Matches(timer.Schedule))
                    {
                        yield return (name, m.Groups[1].Value);
                    }
                }
                if (parameter.GetCustomAttribute<QueueTriggerAttribute>() is { } queue)
                {
                    foreach (Match m in SettingReference().Matches(queue.QueueName))
                    {
                        yield return (name, m.Groups[1].Value);
                    }
                    yield return (name, (queue.Connection ?? "AzureWebJobsStorage") + "__queueServiceUri");
                }
            }
        }
    }

    /// <summary>SyncHub__SecretKeys and SyncHub__EncryptionKey: start-up refuses to run without them.</summary>
    private static IEnumerable<string> RequiredOptions() =>
        new SyncHubOptions().Problems().Select(p => p.Split(' ')[0]).Distinct();

    [Fact]
    public void Every_setting_a_trigger_binding_or_required_option_reads_is_emitted()
    {
        var emitted = MainTemplateTests.EmittedAppSettings();
        var read = TriggerSettings().Select(t => t.Setting).Concat(RequiredOptions()).Distinct().ToList();
        Assert.Contains("SyncHubSchedulerCron", read);
        Assert.Contains("SyncHubRunQueue", read);
        Assert.Contains("SyncHub__SecretKeys", read);
        Assert.Contains("SyncHub__EncryptionKey", read);
        Assert.All(read, setting => Assert.Contains(setting, emitted));
    }

    [Fact]
    public void Every_emitted_setting_is_read_by_the_code_or_the_host()
    {
        var storageConnections = new[] { "AzureWebJobsStorage", "SyncHubStorage" };
        var read = TriggerSettings().Select(t => t.Setting).Concat(RequiredOptions()).ToHashSet();
        foreach (var setting in MainTemplateTests.EmittedAppSettings())
        {
            var known = read.Contains(setting)
                || HostSettings.Contains(setting)
                // The identity-based forms of a storage connection (StorageClients and the host read all of them).
                || storageConnections.Any(c => setting.StartsWith(c + "__", StringComparison.Ordinal));
            Assert.True(known, $"main.bicep emits '{setting}', which nothing reads");
        }
    }
}
