using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using SyncHub.Core.Records;
using SyncHub.Core.Sdk;
using SyncHub.Core.Model;
using SyncHub.Core.Telemetry;

namespace SyncHub.Core.Scheduling;

/// <summary>A run lost its lease (another invocation took it over): it must stop writing.</summary>
public sealed class LeaseLostException(string message) : OperationCanceledException(message);

/// <summary>
/// Where one run's writes go: a record writer session per model (opened on first use and kept for the run), the
/// per-model counts, the ids seen (for delete detection), and the checkpoint, saved only while the run holds its lease.
/// </summary>
internal sealed class RunOutput(
    RunLease lease,
    IReadOnlyList<string> models,
    bool trackSeen,
    RecordWriter writer,
    RunSeenStore seenStore,
    ILogger logger) : ISyncRunOutput
{
    /// <summary>The schedules table stores the checkpoint in one string property (64 KiB of UTF-16).</summary>
    public const int MaxCheckpointChars = 30_000;

    private readonly Dictionary<string, RecordWriteSession> _sessions = [];
    private readonly SemaphoreSlim _gate = new(1, 1);

    private readonly Schedule _schedule = lease.Claimed;

    public Dictionary<string, ModelCounts> Counts { get; } = new(lease.Claimed.RunCounts);
    /// <summary>The ids seen (with <c>track_deletes</c>): bounded in memory, the rest in <see cref="RunSeenStore"/>.</summary>
    public RunSeenIds Seen { get; } = new(seenStore, lease.Claimed.RunId ?? "");

    public Task<BatchResult> SaveAsync(string model, IReadOnlyList<JsonObject> records, CancellationToken ct) =>
        WriteAsync(model, records, (s, r, t) => s.SaveAsync(r, t), ct);

    public Task<BatchResult> UpdateAsync(string model, IReadOnlyList<JsonObject> records, CancellationToken ct) =>
        WriteAsync(model, records, (s, r, t) => s.UpdateAsync(r, t), ct);

    public Task<BatchResult> DeleteAsync(string model, IReadOnlyList<JsonObject> records, CancellationToken ct) =>
        WriteAsync(model, records, (s, r, t) => s.DeleteAsync(r, t), ct);

    public async Task SaveCheckpointAsync(JsonObject? checkpoint, CancellationToken ct)
    {
        var json = checkpoint?.ToJsonString();
        if (json is { Length: > MaxCheckpointChars })
        {
            throw new ArgumentException($"The checkpoint is {json.Length} characters of JSON; the limit is {MaxCheckpointChars}.", nameof(checkpoint));
        }
        ct.ThrowIfCancellationRequested();
        // The counts so far go with the checkpoint: a run taken over after a crash resumes from both, so its result
        // still counts what the crashed invocation wrote before its last checkpoint.
        Dictionary<string, ModelCounts> counts;
        await _gate.WaitAsync(ct);
        try
        {
            counts = new Dictionary<string, ModelCounts>(Counts);
        }
        finally
        {
            _gate.Release();
        }
        // One conditional write of the schedule row (the lease holds its ETag), serialised with the heartbeats.
        if (!await lease.SaveCheckpointAsync(json, counts, ct))
        {
            throw new LeaseLostException($"Run {_schedule.RunId} of {_schedule.Key} no longer holds its lease; its checkpoint was not saved.");
        }
    }

    public async Task<RecordWriteSession> SessionAsync(string model, CancellationToken ct)
    {
        if (!_sessions.TryGetValue(model, out var session))
        {
            session = await writer.OpenAsync(new RecordPartition(_schedule.Key.Integration, _schedule.Key.ConnectionId, model, _schedule.Key.Variant), ct);
            _sessions[model] = session;
        }
        return session;
    }

    /// <summary>Adds what a write did to the run's counts, and to the <c>synchub.records.*</c> metrics (once per write, as it commits).</summary>
    public void Add(string model, ModelCounts counts)
    {
        Counts[model] = Counts.TryGetValue(model, out var existing) ? existing.Plus(counts) : counts;
        var key = _schedule.Key;
        var tags = SyncHubTelemetry.Tags(key.Integration, key.Sync, SyncHubTelemetry.ModelTag, model);
        if (counts.Added > 0)
        {
            SyncHubTelemetry.RecordsAdded.Add(counts.Added, tags);
        }
        if (counts.Updated > 0)
        {
            SyncHubTelemetry.RecordsUpdated.Add(counts.Updated, tags);
        }
        if (counts.Deleted > 0)
        {
            SyncHubTelemetry.RecordsDeleted.Add(counts.Deleted, tags);
        }
    }

    private async Task<BatchResult> WriteAsync(
        string model, IReadOnlyList<JsonObject> records, Func<RecordWriteSession, IReadOnlyList<JsonObject>, CancellationToken, Task<BatchResult>> write, CancellationToken ct)
    {
        if (!models.Contains(model, StringComparer.Ordinal))
        {
            throw new ArgumentException($"This sync writes {string.Join(", ", models)} (nango.yaml output), not '{model}'.", nameof(model));
        }
        ct.ThrowIfCancellationRequested();
        // Writes of one run are serialized: a session is single-writer, and counts must add up.
        await _gate.WaitAsync(ct);
        try
        {
            var session = await SessionAsync(model, ct);
            // A batch, once started, is written whole: stopping between its transactions would leave records stored
            // but uncounted. The time budget is checked between batches (above), and the writes are fenced anyway.
            var result = await write(session, records, CancellationToken.None);
            Add(model, new ModelCounts(result.Added, result.Updated, result.Deleted, result.FirstCursor, result.LastCursor));
            if (trackSeen)
            {
                var ids = new List<string>(records.Count);
                foreach (var record in records)
                {
                    if (record is not null && RecordPayload.TryGetId(record, out var id, out _))
                    {
                        ids.Add(id);
                    }
                }
                await Seen.AddAsync(model, ids, CancellationToken.None);
            }
            if (result.Rejected.Count > 0)
            {
                // Ids and reasons only: payloads never go to logs.
                logger.LogWarning("Sync {Sync} run {RunId}: {Count} {Model} records rejected: {Reasons}", _schedule.Key, _schedule.RunId,
                    result.Rejected.Count, model, string.Join("; ", result.Rejected.Take(10).Select(r => $"{r.Id ?? "#" + r.Index}: {r.Reason}")));
            }
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }
}
