using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using SyncHub.Core.Storage;
using SyncHub.Core.Model;

namespace SyncHub.Core.Records;

/// <summary>A record a batch did not store, and why (too large, bad id, duplicate in the batch, ...).</summary>
public sealed record RejectedRecord(int Index, string? Id, string Reason);

/// <summary>What one batch did to one model: counts by outcome, and the records it rejected.</summary>
public sealed class BatchResult
{
    public int Added { get; set; }
    public int Updated { get; set; }
    public int Deleted { get; set; }
    public int Unchanged { get; set; }
    public List<RejectedRecord> Rejected { get; } = [];
}

/// <summary>Another writer kept changing the partition; the batch was not (fully) applied.</summary>
public sealed class RecordWriteConflictException(string message) : Exception(message);

/// <summary>The write API of the records store: opens a session on one partition (see <see cref="RecordWriteSession"/>).</summary>
public sealed class RecordWriter(RecordSetStore sets, StorageClients storage, TimeProvider clock, ILogger<RecordWriter> logger)
{
    public async Task<RecordWriteSession> OpenAsync(RecordPartition partition, CancellationToken ct)
    {
        var session = new RecordWriteSession(partition, sets, storage, clock, logger);
        await session.ReloadAsync(ct);
        return session;
    }

    /// <summary>Convenience for one-off writes: open, save, done.</summary>
    public async Task<BatchResult> SaveAsync(RecordPartition partition, IReadOnlyList<JsonObject> records, CancellationToken ct)
    {
        var session = await OpenAsync(partition, ct);
        return await session.SaveAsync(records, ct);
    }
}
