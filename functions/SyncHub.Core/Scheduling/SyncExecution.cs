using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SyncHub.Core.Configuration;
using SyncHub.Core.Connections;
using SyncHub.Core.Records;
using SyncHub.Core.Sdk;
using SyncHub.Core.Model;

namespace SyncHub.Core.Scheduling;

/// <summary>What one invocation of a run executes: the sync's definition and where its writes go.</summary>
internal sealed record PreparedRun(IntegrationDefinition Integration, SyncDefinition Definition, RunOutput Output)
{
    public bool TrackDeletes => Definition is { Type: SyncType.Full, TrackDeletes: true };
}

/// <summary>
/// Executes a claimed run: builds the <see cref="SyncContext"/> (the connection and its credentials read once),
/// empties the models first when a reset asked for it, runs the <see cref="ISync"/>, and for a complete full sync with
/// <c>track_deletes</c> deletes what the run did not see. Keeps the ids seen across the invocations of one run.
/// Recording the outcome is the lease's (<see cref="RunLease"/>).
/// </summary>
public sealed class SyncExecution(
    IntegrationCatalog catalog,
    SyncCatalog syncs,
    ConnectionStore connections,
    ConnectionTokens tokens,
    RecordWriter writer,
    RecordSetStore sets,
    RunSeenStore seenStore,
    SyncProxyFactory proxies,
    IOptions<SyncHubOptions> hubOptions,
    IServiceProvider services,
    ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<SyncExecution>();

    /// <summary>The run's sync from the configuration (no I/O); a sync no longer configured is an error of the run.</summary>
    internal PreparedRun Prepare(RunLease lease)
    {
        var key = lease.Key;
        var integration = catalog.Find(key.Integration) ?? throw new SyncConfigurationException($"Integration '{key.Integration}' is no longer configured.");
        var definition = integration.FindSync(key.Sync) ?? throw new SyncConfigurationException($"Sync '{key.Sync}' is no longer configured for '{key.Integration}'.");
        var trackDeletes = definition is { Type: SyncType.Full, TrackDeletes: true };
        return new PreparedRun(integration, definition, new RunOutput(lease, definition.Models, trackDeletes, writer, seenStore, _logger));
    }

    /// <summary>Runs the sync to its end. False when the connection was deleted: there is nothing to run.</summary>
    internal async Task<bool> ExecuteAsync(PreparedRun run, RunLease lease, CancellationToken ct)
    {
        var schedule = lease.Claimed;
        var key = schedule.Key;
        // One read of the connection row: metadata and credentials.
        if (await connections.GetWithCredentialsAsync(key.Integration, key.ConnectionId, ct) is not (var connection, var credentials))
        {
            return false;
        }
        if (schedule.EmptyCacheDue)
        {
            await EmptyCacheAsync(run, lease, ct);
        }
        var output = run.Output;
        if (run.TrackDeletes && schedule.RunCounts.Count > 0 && !schedule.DeletesUnsafe)
        {
            // Earlier invocations stored what they saw: the sweep reads it range by range.
            output.Seen.ContinuesEarlierInvocations();
        }
        // OAuth: a token within its refresh margin is refreshed before the run (one refresh per connection across hosts);
        // a 401 during the run refreshes once and retries that request.
        credentials = await tokens.EnsureFreshAsync(connection, credentials, ct);
        Func<string, CancellationToken, Task<ConnectionCredentials?>>? reauthorize = tokens.CanRefresh(key.Integration, credentials)
            ? (rejected, token) => tokens.RefreshRejectedAsync(key.Integration, key.ConnectionId, rejected, token)
            : null;
        using var proxy = proxies.Create(run.Integration.BaseUrl ?? new Uri("http://invalid.invalid/"), credentials, reauthorize, (key.Integration, key.Sync));
        var context = new SyncContext(key.Integration, key.ConnectionId, key.Sync, key.Variant, proxy,
            connection.Metadata, hubOptions.Value.EnvironmentVariables,
            schedule.LastSyncDate > 0 ? new DateTimeOffset(schedule.LastSyncDate, TimeSpan.Zero) : null,
            schedule.CheckpointObject, output, loggers.CreateLogger($"SyncHub.Syncs.{key.Integration}.{key.Sync}"), lease.RunId);

        await syncs.Create(services, key.Integration, key.Sync).ExecuteAsync(context, ct);

        if (run.TrackDeletes)
        {
            await DeleteUnseenAsync(run, lease, ct);
        }
        return true;
    }

    private async Task EmptyCacheAsync(PreparedRun run, RunLease lease, CancellationToken ct)
    {
        foreach (var model in run.Definition.Models)
        {
            await sets.EmptyAsync(new RecordPartition(lease.Key.Integration, lease.Key.ConnectionId, model, lease.Key.Variant), ct);
        }
        await lease.EmptyCacheDoneAsync(ct);
        _logger.LogInformation("Sync {Sync}: records of {Models} emptied before the run", lease.Key, string.Join(", ", run.Definition.Models));
    }

    /// <summary>
    /// A complete, successful full run: every stored record it did not see was deleted at the provider. Only if the
    /// run was never taken over (what a crashed invocation saw is lost) and still holds its lease: a heartbeat, one
    /// conditional write, proves it and renews the lease for the deletions.
    /// </summary>
    private async Task DeleteUnseenAsync(PreparedRun run, RunLease lease, CancellationToken ct)
    {
        if (!lease.Current.DeletesUnsafe && !await lease.HeartbeatAsync(ct))
        {
            throw new LeaseLostException($"Run {lease.RunId} of {lease.Key} no longer holds its lease; deletions are not inferred.");
        }
        if (lease.Current.DeletesUnsafe)
        {
            _logger.LogWarning("Sync {Sync} run {RunId} was taken over after a crash: deletions are not inferred this time", lease.Key, lease.RunId);
            return;
        }
        var output = run.Output;
        foreach (var model in run.Definition.Models)
        {
            var session = await output.SessionAsync(model, ct);
            var deleted = await DeleteUnseenAsync(session, output.Seen, model, ct);
            if (deleted.Deleted > 0)
            {
                output.Add(model, deleted);
            }
        }
    }

    /// <summary>
    /// Soft-deletes the live records of <paramref name="session"/>'s set that <paramref name="seen"/> does not hold: a
    /// sweep over the set's index in key order, range by range (<see cref="SweepRanges"/>), each range against the seen
    /// keys of that range only. Memory: the seen keys of one range and the unseen ids of one range, whatever the set's size.
    /// </summary>
    internal static async Task<ModelCounts> DeleteUnseenAsync(RecordWriteSession session, RunSeenIds seen, string model, CancellationToken ct)
    {
        var deleted = new ModelCounts(0, 0, 0);
        var unseen = new List<string>();
        async Task DeleteAsync()
        {
            var result = await session.DeleteAsync(unseen, ct);
            // With the cursors the deletions were written at: a webhook's cursorRange covers them.
            deleted = deleted.Plus(new ModelCounts(0, 0, result.Deleted, result.FirstCursor, result.LastCursor));
            unseen.Clear();
        }
        foreach (var (first, from, to) in SweepRanges(seen.Stored(model), session.TotalCount))
        {
            await SweepAsync(session, seen, model, first, from, to, unseen, ct);
            if (unseen.Count >= DeleteBatch)
            {
                await DeleteAsync();
            }
        }
        if (unseen.Count > 0)
        {
            await DeleteAsync();
        }
        return deleted;
    }

    /// <summary>Index keys (after <c>i:</c>) a sweep step covers at most, so its memory stays bounded whatever the set's size.</summary>
    internal const int SweepStep = 50_000;

    private const string KeyAlphabet = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

    /// <summary>
    /// The key ranges of the sweep, in key order: the whole index in one pass when every seen id is in memory (it then
    /// holds at most <see cref="RunSeenIds.SpillAt"/> per model); otherwise per first key character (the store's rows)
    /// and, for sets over 64 × <see cref="SweepStep"/> records, per range of the second, so each step holds the seen keys
    /// of about <see cref="SweepStep"/> records.
    /// </summary>
    internal static IEnumerable<(char? First, string From, string To)> SweepRanges(bool stored, long total)
    {
        if (!stored)
        {
            yield return (null, "", "~");
            yield break;
        }
        var parts = (int)Math.Clamp((total / KeyAlphabet.Length + SweepStep - 1) / SweepStep, 1, KeyAlphabet.Length);
        foreach (var first in KeyAlphabet)
        {
            for (var p = 0; p < parts; p++)
            {
                var lo = p * KeyAlphabet.Length / parts;
                var hi = (p + 1) * KeyAlphabet.Length / parts;
                yield return (first, $"{first}{KeyAlphabet[lo]}", hi == KeyAlphabet.Length ? $"{first}~" : $"{first}{KeyAlphabet[hi]}");
            }
        }
    }

    /// <summary>
    /// One step of the sweep: the index entries with keys in <c>[from, to)</c>, streamed in key order, against the seen
    /// keys of that range; the ids of live entries not seen are added to <paramref name="unseen"/> (deleted by the caller
    /// about <see cref="DeleteBatch"/> at a time).
    /// </summary>
    private static async Task SweepAsync(RecordWriteSession session, RunSeenIds seen, string model, char? first, string from, string to, List<string> unseen, CancellationToken ct)
    {
        var keys = first is { } c ? await seen.InRangeAsync(model, c, from, to, ct) : seen.InMemory(model);
        await foreach (var entry in session.ScanIndexRangeAsync(RecordRows.IndexPrefix + from, RecordRows.IndexPrefix + to, ct))
        {
            if (!entry.Deleted && !keys.Contains(RunSeenIds.Key(entry.Id)))
            {
                unseen.Add(entry.Id);
            }
        }
    }

    private const int DeleteBatch = 1000;

    /// <summary>The run continues in another invocation: the ids seen so far go with it.</summary>
    internal async Task SaveSeenAsync(PreparedRun? run, RunLease lease, CancellationToken ct)
    {
        if (run?.Output is { } output && run.TrackDeletes)
        {
            await output.Seen.SpillAllAsync(ct);
        }
    }

    /// <summary>
    /// The run has ended: removes the ids seen kept for it. There are some only if the sync tracks deletes and an earlier
    /// invocation of the run handed over to a continuation (the claim then found counts already recorded) or this one
    /// saw more than <see cref="RunSeenIds.SpillAt"/> ids of a model.
    /// </summary>
    internal async Task ForgetSeenAsync(PreparedRun? run, RunLease lease, CancellationToken ct)
    {
        if ((lease.Claimed.RunCounts.Count > 0 || run?.Output.Seen.AnyStored == true) && (run?.TrackDeletes ?? true))
        {
            await seenStore.DeleteAsync(lease.RunId, ct);
        }
    }
}
