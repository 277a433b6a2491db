using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using SyncHub.Core.Storage;
using SyncHub.Core.Model;

namespace SyncHub.Core.Records;

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
