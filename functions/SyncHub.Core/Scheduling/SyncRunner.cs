using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SyncHub.Core.Records;
using SyncHub.Core.Sdk;
using SyncHub.Core.Telemetry;

namespace SyncHub.Core.Scheduling;

/// <summary>
/// Runs one message from <c>sync-runs</c>: relays a scheduler's packed message (<see cref="FanOutRelay"/>), takes the
/// run lease (<see cref="RunLeases"/>: one run per sync however many messages or hosts there are), executes the sync
/// (<see cref="SyncExecution"/>) while the lease is heartbeated, and records the outcome through the lease: finished
/// (SUCCESS or ERROR, the next run placed on the frequency grid), continued past the time budget from its checkpoint,
/// or nothing when the lease was lost to a takeover. Each invocation is one activity (<see cref="SyncHubTelemetry.RunActivity"/>)
/// with the run id as an attribute, so the invocations of one run can be followed; each message records its queue
/// pickup latency.
/// </summary>
public sealed class SyncRunner(
    BulkControl bulk,
    FanOutRelay relay,
    RunLeases leases,
    SyncExecution execution,
    IOptions<SchedulingOptions> options,
    TimeProvider clock,
    ILogger<SyncRunner> logger)
{
    private const int MaxErrorLength = 2000;

    public async Task RunAsync(SyncRunMessage message, CancellationToken ct)
    {
        var key = message.Key;
        if (message.EnqueuedAt is { } enqueuedAt)
        {
            SyncHubTelemetry.QueuePickupLatency.Record(SyncHubTelemetry.Seconds(enqueuedAt.UtcTicks, clock.GetUtcNow().UtcTicks),
                SyncHubTelemetry.Tags(key.Integration, message.Control is null ? key.Sync : "", SyncHubTelemetry.KindTag, message.Control is null ? message.Kind.ToString() : "Control"));
        }
        if (message.Control is { } control)
        {
            await bulk.ApplyPageAsync(control, ct);
            return;
        }
        using var activity = SyncHubTelemetry.Source.StartActivity(SyncHubTelemetry.RunActivity);
        activity?.SetTag(SyncHubTelemetry.IntegrationAttribute, key.Integration);
        activity?.SetTag(SyncHubTelemetry.SyncAttribute, key.Sync);
        activity?.SetTag(SyncHubTelemetry.VariantAttribute, key.Variant);
        activity?.SetTag(SyncHubTelemetry.ConnectionAttribute, key.ConnectionId);
        activity?.SetTag(SyncHubTelemetry.KindAttribute, message.Kind.ToString());
        if (message.RunId is not null)
        {
            activity?.SetTag(SyncHubTelemetry.RunIdAttribute, message.RunId);
        }
        message = await relay.RelayAsync(message, ct);
        if (await leases.ClaimAsync(message, ct) is not { } lease)
        {
            activity?.SetTag(SyncHubTelemetry.OutcomeAttribute, "not_claimed");
            return;
        }
        activity?.SetTag(SyncHubTelemetry.RunIdAttribute, lease.RunId);
        activity?.SetTag(SyncHubTelemetry.ResumedAttribute, lease.Resumed);
        using (lease)
        {
            string outcome;
            try
            {
                outcome = await RunClaimedAsync(lease, ct);
            }
            catch (Exception e)
            {
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.GetType().Name);
                throw;
            }
            activity?.SetTag(SyncHubTelemetry.OutcomeAttribute, outcome);
            if (outcome == "ERROR")
            {
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, lease.Current.LastError);
            }
        }
    }

    /// <summary>Records ERROR for a message that crashed the runner on every delivery (it reached the poison queue).</summary>
    public async Task RecordPoisonedAsync(SyncRunMessage message, CancellationToken ct)
    {
        if (message.Control is { } control)
        {
            logger.LogError("{Action} of {Integration} after connection {After}: failed on every delivery; the connections after it were not reached", control.Action, control.Integration, control.After);
            return;
        }
        logger.LogError("Sync {Sync}: a run message failed on every delivery and was moved to the poison queue", message.Key);
        await leases.RecordPoisonedAsync(message.Key, ct);
    }

    /// <summary>Runs a claimed sync; returns what became of it (SUCCESS, ERROR, CONTINUING, LOST, RELEASED) for the trace.</summary>
    private async Task<string> RunClaimedAsync(RunLease lease, CancellationToken hostToken)
    {
        using var budget = new CancellationTokenSource(options.Value.RunBudget, clock);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(hostToken, lease.LostToken, budget.Token);
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = lease.KeepAliveAsync(heartbeatStop.Token);
        async Task StopHeartbeatAsync()
        {
            heartbeatStop.Cancel();
            await heartbeat;
        }
        PreparedRun? prepared = null;
        try
        {
            prepared = execution.Prepare(lease);
            var ran = await execution.ExecuteAsync(prepared, lease, run.Token);
            await StopHeartbeatAsync();
            if (!ran)
            {
                logger.LogInformation("Sync {Sync}: the connection was deleted; the run is dropped", lease.Key);
                await lease.ReleaseAsync(CancellationToken.None);
                return "RELEASED";
            }
            return await FinishAsync(lease, prepared, error: null);
        }
        catch (Exception e) when (e is OperationCanceledException && lease.IsLost)
        {
            logger.LogWarning("Sync {Sync} run {RunId} lost its lease to another invocation and stopped", lease.Key, lease.RunId);
            return "LOST";
        }
        catch (Exception e) when (e is OperationCanceledException && (budget.IsCancellationRequested || hostToken.IsCancellationRequested))
        {
            await StopHeartbeatAsync();
            return await ContinueLaterAsync(lease, prepared);
        }
        catch (RecordSetDeletedException e)
        {
            // The variant (or connection) was deleted during the run: its records must not come back. Its schedule is
            // normally gone too, and then there is nothing to record.
            logger.LogInformation("Sync {Sync} run {RunId} stopped: its records were deleted", lease.Key, lease.RunId);
            await StopHeartbeatAsync();
            return await FinishAsync(lease, prepared, Describe(e));
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Sync {Sync} run {RunId} failed", lease.Key, lease.RunId);
            await StopHeartbeatAsync();
            return await FinishAsync(lease, prepared, Describe(e));
        }
        finally
        {
            await StopHeartbeatAsync();
        }
    }

    private async Task<string> ContinueLaterAsync(RunLease lease, PreparedRun? prepared)
    {
        var ct = CancellationToken.None;
        try
        {
            await execution.SaveSeenAsync(prepared, lease, ct);
            if (await lease.ContinueAsync(prepared?.Output.Counts ?? lease.Claimed.RunCounts, ct))
            {
                logger.LogInformation("Sync {Sync} run {RunId} reached its time budget; continuing from its checkpoint", lease.Key, lease.RunId);
                return "CONTINUING";
            }
            return "LOST";
        }
        catch (Exception e)
        {
            // The lease will expire and the run be taken over from its last checkpoint.
            logger.LogWarning("Sync {Sync} run {RunId} could not hand over to a continuation: {Error}", lease.Key, lease.RunId, e.Message);
            return "HANDOVER_FAILED";
        }
    }

    private async Task<string> FinishAsync(RunLease lease, PreparedRun? prepared, string? error)
    {
        var ct = CancellationToken.None;
        var finished = await lease.FinishAsync(prepared?.Output.Counts ?? lease.Claimed.RunCounts, error, ct);
        if (finished is null)
        {
            return "LOST";
        }
        logger.LogInformation("Sync {Sync} run {RunId} finished: {Status}", lease.Key, lease.RunId, finished.LastStatus);
        await execution.ForgetSeenAsync(prepared, lease, ct);
        return finished.LastStatus ?? "SUCCESS";
    }

    /// <summary>The run's error as GET /sync/status shows it: what failed, in a sentence; never credentials or payloads.</summary>
    internal static string Describe(Exception e)
    {
        var message = e switch
        {
            SyncConfigurationException or ProviderRequestException or ProviderResponseException or RecordSetDeletedException
                or Connections.OAuthRefreshException => e.Message,
            // Table/queue storage, not the provider: the Azure SDK throws RequestFailedException, or an
            // AggregateException once its own retries are spent (connection refused, timeouts).
            Azure.RequestFailedException storage =>
                $"SyncHub's storage answered {storage.Status}{(storage.ErrorCode is { } code ? $" ({code})" : "")}; the run stopped and keeps its checkpoint.",
            AggregateException aggregate when aggregate.InnerExceptions.Any(i => i is Azure.RequestFailedException or HttpRequestException) =>
                "SyncHub's storage could not be reached; the run stopped and keeps its checkpoint (the next run resumes from it).",
            HttpRequestException http => $"The provider could not be reached: {http.Message}",
            TimeoutException => "The provider did not answer in time.",
            _ => $"{e.GetType().Name}: {e.Message}",
        };
        return message.Length <= MaxErrorLength ? message : message[..MaxErrorLength] + "...";
    }
}
