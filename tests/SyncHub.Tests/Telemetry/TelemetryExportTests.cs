using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using SyncHub.Core.Telemetry;
using SyncHub.Functions;
using SyncHub.Tests.Infrastructure;
using SyncHub.Tests.Scheduling;

namespace SyncHub.Tests.Telemetry;

/// <summary>
/// The OpenTelemetry side: the hosts' pipeline (<see cref="FunctionAppTelemetry"/>) exports the run metrics under the names
/// the alerts and the workbook query, with the OpenTelemetry in-memory exporter standing in for Azure Monitor.
/// </summary>
public sealed class TelemetryExportTests
{
    [Fact]
    public async Task The_OpenTelemetry_pipeline_exports_a_runs_metrics_under_the_names_the_alerts_query_and_its_trace()
    {
        var metrics = new List<Metric>();
        var activities = new List<Activity>();
        var telemetry = new ServiceCollection();
        telemetry.AddSyncHubOpenTelemetry()
            .WithMetrics(m => m.AddInMemoryExporter(metrics))
            .WithTracing(t => t.AddInMemoryExporter(activities));
        await using var telemetryServices = telemetry.BuildServiceProvider();
        var meterProvider = telemetryServices.GetRequiredService<MeterProvider>();
        var tracerProvider = telemetryServices.GetRequiredService<TracerProvider>();

        await using var engine = await SyncEngine.StartAsync(integration: SyncEngine.IsolatedIntegration, labelsRuns: "every day");
        engine.Github.SetIssues("o/r", [FakeGithub.Issue(1, "2026-01-01T00:00:00Z"), FakeGithub.Issue(2, "2026-01-01T00:00:01Z")]);
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug")]);
        var connection = await engine.ImportAsync();
        await engine.PumpAsync();

        Assert.True(meterProvider.ForceFlush());
        Assert.True(tracerProvider.ForceFlush());
        // Other tests run syncs in parallel under other keys (and maybe this one): at least this run's points are there.
        Assert.Superset(new HashSet<string> { "synchub.runs.started", "synchub.runs.succeeded", "synchub.runs.duration", "synchub.records.added",
            "synchub.provider.requests", "synchub.queue.pickup_latency" }, metrics.Select(m => m.Name).ToHashSet());
        double Total(string name, string sync)
        {
            var sum = 0.0;
            foreach (var metric in metrics.Where(m => m.Name == name))
            {
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    var tags = new Dictionary<string, object?>();
                    foreach (var tag in point.Tags)
                    {
                        tags[tag.Key] = tag.Value;
                    }
                    if ((string?)tags.GetValueOrDefault("integration") == SyncEngine.IsolatedIntegration && (string?)tags.GetValueOrDefault("sync") == sync)
                    {
                        sum += metric.MetricType == MetricType.LongSum ? point.GetSumLong() : metric.MetricType == MetricType.Histogram ? point.GetHistogramCount() : 0;
                    }
                }
            }
            return sum;
        }
        Assert.True(Total("synchub.runs.started", "issues") >= 1);
        Assert.True(Total("synchub.runs.succeeded", "issues") >= 1);
        Assert.True(Total("synchub.records.added", "issues") >= 2);
        Assert.True(Total("synchub.runs.duration", "issues") >= 1);
        Assert.Equal(MetricType.LongSum, metrics.First(m => m.Name == "synchub.runs.started").MetricType);
        Assert.Equal(MetricType.Histogram, metrics.First(m => m.Name == "synchub.runs.duration").MetricType);

        var runId = (await engine.ScheduleAsync(connection, "issues"))!.RunId;
        var run = Assert.Single(activities, a => (string?)a.GetTagItem(SyncHubTelemetry.RunIdAttribute) == runId);
        Assert.Equal(SyncHubTelemetry.RunActivity, run.OperationName);
        Assert.Equal(connection, run.GetTagItem(SyncHubTelemetry.ConnectionAttribute));
    }

    [Fact]
    public void Azure_Monitor_export_is_added_only_with_a_connection_string()
    {
        var without = new ServiceCollection();
        Assert.False(without.AddAzureMonitorTelemetry(new ConfigurationBuilder().Build()));
        Assert.DoesNotContain(without, d => d.ServiceType == typeof(MeterProvider));

        var with = new ServiceCollection();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [FunctionAppTelemetry.ConnectionStringSetting] = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/",
            [FunctionAppTelemetry.AuthenticationSetting] = "ClientId=11111111-1111-1111-1111-111111111111;Authorization=AAD",
        }).Build();
        Assert.True(with.AddAzureMonitorTelemetry(configuration));
        Assert.Contains(with, d => d.ServiceType == typeof(MeterProvider));
        Assert.Contains(with, d => d.ServiceType == typeof(TracerProvider));
    }

    [Fact]
    public void LocalHost_exports_to_the_console_only_when_its_setting_asks()
    {
        // SyncHub__Telemetry__Console in the environment or local.settings.json is this configuration key.
        Assert.Equal("SyncHub:Telemetry:Console", SyncHub.LocalHost.LocalTelemetry.ConsoleSetting);
        var services = new ServiceCollection();
        SyncHub.LocalHost.LocalTelemetry.AddConsole(services);
        Assert.Contains(services, d => d.ServiceType == typeof(MeterProvider));
        Assert.Contains(services, d => d.ServiceType == typeof(TracerProvider));
        using var provider = services.BuildServiceProvider();
        Assert.NotNull(provider.GetRequiredService<MeterProvider>());
    }

    [Theory]
    [InlineData("ClientId=11111111-1111-1111-1111-111111111111;Authorization=AAD", true)]
    [InlineData("Authorization=AAD", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("ClientId=11111111-1111-1111-1111-111111111111", false)]
    public void The_authentication_string_names_the_managed_identity(string? setting, bool credential)
    {
        Assert.Equal(credential, FunctionAppTelemetry.ManagedIdentity(setting) is not null);
    }
}
