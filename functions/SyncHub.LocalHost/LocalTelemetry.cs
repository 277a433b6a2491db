using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using SyncHub.Functions;

namespace SyncHub.LocalHost;

/// <summary>
/// LocalHost's telemetry export: SyncHub's metrics and run traces on the console, only when
/// <c>SyncHub__Telemetry__Console=true</c> (the metrics every 10 s). Off by default, to keep the logs readable.
/// </summary>
public static class LocalTelemetry
{
    /// <summary>The setting (configuration key) that turns the console export on.</summary>
    public const string ConsoleSetting = "SyncHub:Telemetry:Console";

    public static void AddConsole(IServiceCollection services) =>
        services.AddSyncHubOpenTelemetry()
            .WithMetrics(metrics => metrics.AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 10_000))
            .WithTracing(tracing => tracing.AddConsoleExporter());
}
