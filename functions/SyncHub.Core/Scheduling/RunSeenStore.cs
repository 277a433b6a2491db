using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using SyncHub.Core.Storage;

namespace SyncHub.Core.Scheduling;

/// <summary>
/// The ids a full sync with <c>track_deletes</c> has seen so far, kept across the invocations of one run (table
/// <c>runseen</c>, PartitionKey = run id, one row per 64 KiB chunk of a model's JSON id list). Written when a run
/// continues, read when the continuation starts, removed when the run ends.
/// </summary>
public sealed class RunSeenStore(FixedTables tables)
{
    private const int ChunkBytes = 64 * 1024;
    private const int RowsPerTransaction = 40;

    public async Task SaveAsync(string runId, IReadOnlyDictionary<string, HashSet<string>> seen, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.RunSeenTable, ct);
        var rows = new List<TableEntity>();
        foreach (var (model, ids) in seen)
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(ids.ToArray());
            for (var i = 0; i * ChunkBytes < json.Length || i == 0; i++)
            {
                var chunk = json.AsSpan(i * ChunkBytes, Math.Min(ChunkBytes, json.Length - i * ChunkBytes)).ToArray();
                rows.Add(new TableEntity(runId, $"{model}:{i:D6}") { ["Model"] = model, ["C"] = chunk });
            }
        }
        // The set only grows during a run, so rewriting every chunk leaves no stale one behind.
        foreach (var batch in rows.Chunk(RowsPerTransaction))
        {
            await table.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)), ct);
        }
    }

    public async Task<Dictionary<string, HashSet<string>>> LoadAsync(string runId, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.RunSeenTable, ct);
        var chunks = new Dictionary<string, MemoryStream>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {runId}"), cancellationToken: ct))
        {
            var model = row.GetString("Model");
            if (!chunks.TryGetValue(model, out var buffer))
            {
                chunks[model] = buffer = new MemoryStream();
            }
            buffer.Write(row.GetBinary("C"));
        }
        return chunks.ToDictionary(c => c.Key, c => new HashSet<string>(JsonSerializer.Deserialize<string[]>(c.Value.ToArray()) ?? [], StringComparer.Ordinal));
    }

    public async Task DeleteAsync(string runId, CancellationToken ct)
    {
        var table = await tables.GetAsync(StorageNames.RunSeenTable, ct);
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {runId}"), select: ["RowKey"], cancellationToken: ct))
        {
            await table.DeleteEntityAsync(runId, row.RowKey, ETag.All, ct);
        }
    }
}
