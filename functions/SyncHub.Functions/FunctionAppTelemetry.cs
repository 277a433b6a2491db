using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SyncHub.Core.Telemetry;

namespace SyncHub.Functions;

/// <summary>
/// Exports SyncHub's metrics and traces (the <c>SyncHub</c> meter and activity source, <see cref="SyncHubTelemetry"/>)
/// with OpenTelemetry. In Azure: to Application Insights with the Azure Monitor exporter, when
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set; metrics land in <c>customMetrics</c> under their names
/// (<c>synchub.runs.failed</c> ...), run invocations in <c>dependencies</c>. Logs are not exported here: the worker
/// already hands them to the Functions host, which sends them (exporting them too would duplicate every trace).
/// </summary>
/// <remarks>
/// <c>UseFunctionsWorkerDefaults()</c> of Microsoft.Azure.Functions.Worker.OpenTelemetry is deliberately not used: it
/// declares the worker capability <c>WorkerOpenTelemetryEnabled</c>, which tells the host to stop sending the worker's
/// logs, and the alerts and runbooks of infra/README.md read those logs in <c>traces</c>. The role name is set here instead.
/// </remarks>
public static class FunctionAppTelemetry
{
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary><c>ClientId=&lt;id&gt;;Authorization=AAD</c>: Application Insights accepts telemetry only from that managed identity (local auth is off).</summary>
    public const string AuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>The OpenTelemetry builder subscribed to SyncHub's meter and activity source, for a host to add its exporters to.</summary>
    public static OpenTelemetryBuilder AddSyncHubOpenTelemetry(this IServiceCollection services) =>
        services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(SyncHubTelemetry.Name))
            .WithTracing(tracing => tracing.AddSource(SyncHubTelemetry.Name));

    /// <summary>
    /// With <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> set: OpenTelemetry with the Azure Monitor exporter for metrics
    /// and traces (service name = the app's name, <c>WEBSITE_SITE_NAME</c>, so <c>cloud_RoleName</c> matches the host's
    /// telemetry), authenticated with the managed identity <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> names. False
    /// (nothing added) without a connection string.
    /// </summary>
    public static bool AddAzureMonitorTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration[ConnectionStringSetting] is not { Length: > 0 } connectionString)
        {
            return false;
        }
        var credential = ManagedIdentity(configuration[AuthenticationSetting]);
        void Configure(AzureMonitorExporterOptions options)
        {
            options.ConnectionString = connectionString;
            if (credential is not null)
            {
                options.Credential = credential;
            }
        }
        var serviceName = configuration["WEBSITE_SITE_NAME"] is { Length: > 0 } site ? site : SyncHubTelemetry.Name;
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics => metrics.AddMeter(SyncHubTelemetry.Name).AddAzureMonitorMetricExporter(Configure))
            .WithTracing(tracing => tracing.AddSource(SyncHubTelemetry.Name).AddAzureMonitorTraceExporter(Configure));
        return true;
    }

    /// <summary>The managed identity of <c>ClientId=...;Authorization=AAD</c>; null when the setting asks for none.</summary>
    public static ManagedIdentityCredential? ManagedIdentity(string? authentication)
    {
        if (string.IsNullOrWhiteSpace(authentication))
        {
            return null;
        }
        var parts = authentication.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var kind) || !string.Equals(kind, "AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        return parts.TryGetValue("ClientId", out var clientId) && clientId.Length > 0
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
    }
}
