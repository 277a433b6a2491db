using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace SyncHub.Core.Telemetry;

/// <summary>
/// SyncHub's metrics and traces: one <see cref="Meter"/> and one <see cref="ActivitySource"/>, both named
/// <see cref="Name"/>. The engine records into them wherever it runs (Functions host, LocalHost, tests); what is exported,
/// and where to, is the host's choice (Program.cs: Azure Monitor in Azure, the console locally when asked). The names and
/// tags are what infra/app/alerts.bicep and workbook.bicep query: change them there too (infra/README.md, Telemetry names).
/// </summary>
/// <remarks>
/// Tags are bounded: <c>integration</c> and <c>sync</c> (nango.yaml keys), <c>model</c>, and a status. Connection ids and
/// variants are never metric tags (unbounded cardinality); they are attributes of the run's trace (<see cref="RunActivity"/>).
/// </remarks>
public static class SyncHubTelemetry
{
    /// <summary>The name of the meter and of the activity source: what an exporter subscribes to.</summary>
    public const string Name = "SyncHub";

    public const string IntegrationTag = "integration";
    public const string SyncTag = "sync";
    public const string ModelTag = "model";
    public const string StatusTag = "status";
    public const string KindTag = "kind";

    /// <summary>Trace attributes of a run invocation.</summary>
    public const string RunIdAttribute = "synchub.run_id";
    public const string IntegrationAttribute = "synchub.integration";
    public const string SyncAttribute = "synchub.sync";
    public const string VariantAttribute = "synchub.variant";
    public const string ConnectionAttribute = "synchub.connection_id";
    public const string KindAttribute = "synchub.message_kind";
    public const string ResumedAttribute = "synchub.resumed";
    public const string OutcomeAttribute = "synchub.outcome";

    /// <summary>The activity of one run invocation (one queue message that claimed, or tried to claim, a run).</summary>
    public const string RunActivity = "SyncHub.RunSync";

    /// <summary>The activity of one scheduler tick.</summary>
    public const string SchedulerActivity = "SyncHub.EnqueueDueSyncs";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> RunsStarted = Meter.CreateCounter<long>("synchub.runs.started", "{run}", "Sync runs started (a new run claimed; not its continuations or takeovers).");
    public static readonly Counter<long> RunsSucceeded = Meter.CreateCounter<long>("synchub.runs.succeeded", "{run}", "Sync runs that ended with SUCCESS.");
    public static readonly Counter<long> RunsFailed = Meter.CreateCounter<long>("synchub.runs.failed", "{run}", "Sync runs that ended with ERROR (including runs abandoned on the poison queue).");
    public static readonly Histogram<double> RunDuration = Meter.CreateHistogram<double>("synchub.runs.duration", "s", "From a run's start to its end, across its continuations.");

    public static readonly Counter<long> RecordsAdded = Meter.CreateCounter<long>("synchub.records.added", "{record}", "Records runs added.");
    public static readonly Counter<long> RecordsUpdated = Meter.CreateCounter<long>("synchub.records.updated", "{record}", "Records runs updated.");
    public static readonly Counter<long> RecordsDeleted = Meter.CreateCounter<long>("synchub.records.deleted", "{record}", "Records runs deleted (explicitly or by track_deletes).");

    public static readonly Counter<long> ProviderRequests = Meter.CreateCounter<long>("synchub.provider.requests", "{request}", "HTTP attempts of the Proxy client to a provider, by response status.");
    public static readonly Counter<long> ProviderRetries = Meter.CreateCounter<long>("synchub.provider.retries", "{retry}", "Proxy retries, by the status (or failure) that caused them.");

    public static readonly Histogram<double> SchedulerLag = Meter.CreateHistogram<double>("synchub.scheduler.lag", "s", "When the scheduler enqueues a due sync: now minus its due time.");
    public static readonly Histogram<double> QueuePickupLatency = Meter.CreateHistogram<double>("synchub.queue.pickup_latency", "s", "When a run message is processed: now minus when it became visible on the queue.");

    public static readonly Counter<long> WebhooksDelivered = Meter.CreateCounter<long>("synchub.webhooks.delivered", "{webhook}", "Webhooks delivered to every configured URL.");
    public static readonly Counter<long> WebhooksFailed = Meter.CreateCounter<long>("synchub.webhooks.failed", "{attempt}", "Failed webhook delivery attempts (status: retrying or dead_lettered).");

    /// <summary>The tags <c>integration</c> and <c>sync</c>.</summary>
    public static TagList Tags(string integration, string sync) => new()
    {
        { IntegrationTag, integration },
        { SyncTag, sync },
    };

    /// <summary>The tags <c>integration</c>, <c>sync</c> and one more.</summary>
    public static TagList Tags(string integration, string sync, string key, object? value) => new()
    {
        { IntegrationTag, integration },
        { SyncTag, sync },
        { key, value },
    };

    /// <summary>An HTTP status as a tag value: <c>"200"</c>.</summary>
    public static string Status(int status) => status.ToString(CultureInfo.InvariantCulture);

    /// <summary>Seconds between two times in ticks, never negative (clocks of two hosts may differ slightly).</summary>
    public static double Seconds(long fromTicks, long toTicks) => Math.Max(0, toTicks - fromTicks) / (double)TimeSpan.TicksPerSecond;
}
