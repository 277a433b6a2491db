using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using SyncHub.Core.Records;
using SyncHub.Core.Model;

namespace SyncHub.Core.Sdk;

/// <summary>What a run writes through: records per model, and the checkpoint. Implemented by the runner.</summary>
public interface ISyncRunOutput
{
    Task<BatchResult> SaveAsync(string model, IReadOnlyList<JsonObject> records, CancellationToken ct);
    Task<BatchResult> UpdateAsync(string model, IReadOnlyList<JsonObject> records, CancellationToken ct);
    Task<BatchResult> DeleteAsync(string model, IReadOnlyList<JsonObject> records, CancellationToken ct);
    Task SaveCheckpointAsync(JsonObject? checkpoint, CancellationToken ct);
}

/// <summary>
/// Everything a sync sees (Nango's <c>nango</c> object): the provider through <see cref="Proxy"/>, the connection's
/// metadata, the variant, environment variables, the last successful run's start, the checkpoint, and the record
/// writes. Records are JSON objects with an <c>id</c>; typed records are serialized with web defaults (camelCase)
/// unless their properties say otherwise.
/// </summary>
public sealed class SyncContext(
    string integration,
    string connectionId,
    string syncName,
    string variant,
    HttpClient proxy,
    JsonObject metadata,
    IReadOnlyDictionary<string, string> environmentVariables,
    DateTimeOffset? lastSyncDate,
    JsonObject? checkpoint,
    ISyncRunOutput output,
    ILogger logger,
    string? runId = null)
{
    private static readonly JsonSerializerOptions RecordJson = new(JsonSerializerDefaults.Web);
    private JsonObject? _checkpoint = checkpoint;

    public string Integration { get; } = integration;
    public string ConnectionId { get; } = connectionId;
    public string SyncName { get; } = syncName;

    /// <summary>
    /// The run this invocation belongs to: the same across its continuations and a takeover after a crash, new for
    /// each run. A checkpoint outlives its run; compare this to tell "resume my run" from "a new run" (null if unknown).
    /// </summary>
    public string? RunId { get; } = runId;

    /// <summary>The variant being run: <c>base</c>, or the name given when the variant was created.</summary>
    public string Variant { get; } = variant;

    /// <summary>An HttpClient on the integration's base_url with the connection's credentials, retries and rate-limit waits.</summary>
    public HttpClient Proxy { get; } = proxy;

    public JsonObject Metadata { get; } = metadata;
    public IReadOnlyDictionary<string, string> EnvironmentVariables { get; } = environmentVariables;

    /// <summary>When the last successful run started (null before the first, or after a reset): fetch what changed since.</summary>
    public DateTimeOffset? LastSyncDate { get; } = lastSyncDate;

    public ILogger Logger { get; } = logger;

    public JsonObject? Checkpoint => _checkpoint?.DeepClone().AsObject();

    public T? GetCheckpoint<T>() => _checkpoint is null ? default : _checkpoint.Deserialize<T>(RecordJson);

    /// <summary>Persists the checkpoint now: a run stopped after this resumes from it.</summary>
    public async Task SaveCheckpointAsync(JsonObject? checkpoint, CancellationToken ct)
    {
        await output.SaveCheckpointAsync(checkpoint, ct);
        _checkpoint = checkpoint?.DeepClone().AsObject();
    }

    public Task SaveCheckpointAsync<T>(T checkpoint, CancellationToken ct) =>
        SaveCheckpointAsync(JsonSerializer.SerializeToNode(checkpoint, RecordJson) as JsonObject
            ?? throw new ArgumentException("A checkpoint must serialize to a JSON object.", nameof(checkpoint)), ct);

    public Task<BatchResult> BatchSaveAsync(IEnumerable<JsonObject> records, string model, CancellationToken ct) =>
        output.SaveAsync(model, records.ToList(), ct);

    public Task<BatchResult> BatchSaveAsync<T>(IEnumerable<T> records, string model, CancellationToken ct) =>
        output.SaveAsync(model, ToObjects(records), ct);

    /// <summary>Merges each record's fields into the stored record with the same id.</summary>
    public Task<BatchResult> BatchUpdateAsync(IEnumerable<JsonObject> records, string model, CancellationToken ct) =>
        output.UpdateAsync(model, records.ToList(), ct);

    public Task<BatchResult> BatchUpdateAsync<T>(IEnumerable<T> records, string model, CancellationToken ct) =>
        output.UpdateAsync(model, ToObjects(records), ct);

    /// <summary>Marks records deleted (they keep their last payload). Only the <c>id</c> of each is read.</summary>
    public Task<BatchResult> BatchDeleteAsync(IEnumerable<JsonObject> records, string model, CancellationToken ct) =>
        output.DeleteAsync(model, records.ToList(), ct);

    public Task<BatchResult> BatchDeleteAsync<T>(IEnumerable<T> records, string model, CancellationToken ct) =>
        output.DeleteAsync(model, ToObjects(records), ct);

    private static List<JsonObject> ToObjects<T>(IEnumerable<T> records) =>
        records.Select(r => r as JsonObject ?? JsonSerializer.SerializeToNode(r, RecordJson) as JsonObject
            ?? throw new ArgumentException("Each record must serialize to a JSON object.", nameof(records))).ToList();
}
