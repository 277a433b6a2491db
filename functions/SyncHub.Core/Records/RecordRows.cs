using Azure.Data.Tables;
using SyncHub.Core.Model;
using SyncHub.Core.Storage;

namespace SyncHub.Core.Records;

/// <summary>
/// The three kinds of row in a record table (all in one partition), and Azure's size rules for them.
/// <list type="bullet">
/// <item><c>meta</c>: high-water cursor, live and total counts, payload bytes. Every write transaction updates it
/// ETag-conditionally: that is the fence.</item>
/// <item><c>r:&lt;cursor&gt;</c>: one per record, at its current cursor: id, action, timestamps, payload chunks.</item>
/// <item><c>i:&lt;hash of id&gt;</c>: one per record id: current cursor and payload hash, so a writer loads what is stored
/// with one range scan instead of a point read per record.</item>
/// </list>
/// </summary>
public static class RecordRows
{
    public const string PartitionKey = "p";
    public const string MetaRowKey = "meta";
    public const string IndexPrefix = "i:";
    public const string IndexEnd = "i;";

    /// <summary>Azure's limit per binary property.</summary>
    public const int ChunkBytes = 64 * 1024;

    /// <summary>15 chunks keeps a record row under Azure's 1 MiB entity limit with room for its other properties.</summary>
    public const int MaxChunks = 15;

    public const int MaxPayloadBytes = ChunkBytes * MaxChunks;
    public const int MaxEntityBytes = 1024 * 1024;

    /// <summary>Azure's 4 MiB per transaction, less headroom for the multipart envelope.</summary>
    public const int MaxTransactionBytes = 3 * 1024 * 1024 + 512 * 1024;
    public const int MaxTransactionOperations = 100;

    public static string IndexRowKey(string id) => IndexPrefix + StorageKeys.Hash(id);

    /// <summary>The index entry a record row carries (it has every index column; its cursor is its key): what a read
    /// of record rows in cursor order selects (<see cref="StoredOrderWindow"/>).</summary>
    internal static IndexEntry EntryOf(TableEntity row)
    {
        var action = row.GetString("Action") ?? "ADDED";
        return new IndexEntry(row.GetString("Id") ?? "", Cursor.FromRowKey(row.RowKey).Ticks, row.GetString("Hash") ?? "",
            row.GetInt64("FirstSeen") ?? 0, action == "DELETED", row.GetInt64("PrunedAt") ?? 0, action, row.GetInt32("Size") ?? 0);
    }

    /// <summary>A record table's <c>meta</c> row, through its codec.</summary>
    internal static RowTable<RecordMeta> MetaRows(TableClient table) => new(table, RecordMetaRows.Codec);

    /// <summary>A record table's index rows, through their codec.</summary>
    internal static RowTable<IndexEntry> IndexRows(TableClient table) => new(table, IndexEntryRows.Codec);

    public static string ChunkName(int i) => "P" + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture);

    public static readonly string[] ChunkNames = Enumerable.Range(0, MaxChunks).Select(ChunkName).ToArray();

    public static void SetPayload(TableEntity entity, ReadOnlyMemory<byte> payload)
    {
        var count = Math.Max(1, (payload.Length + ChunkBytes - 1) / ChunkBytes);
        for (var i = 0; i < count; i++)
        {
            var start = i * ChunkBytes;
            entity[ChunkNames[i]] = payload.Slice(start, Math.Min(ChunkBytes, payload.Length - start)).ToArray();
        }
        entity["N"] = count;
    }

    /// <summary>The stored payload (UTF-8 JSON of the record, <c>id</c> first), reassembled from its chunks.</summary>
    public static byte[] GetPayload(TableEntity entity)
    {
        var count = entity.GetInt32("N") ?? 0;
        if (count == 1)
        {
            return entity.GetBinary(ChunkNames[0]);
        }
        var parts = Enumerable.Range(0, count).Select(i => entity.GetBinary(ChunkNames[i])).ToArray();
        var result = new byte[parts.Sum(p => p.Length)];
        var offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(result, offset);
            offset += part.Length;
        }
        return result;
    }

    /// <summary>Azure's billing formula for an entity's size; Azurite does not enforce the 1 MiB limit, so we do.</summary>
    public static long EntitySize(TableEntity entity)
    {
        long size = 4 + (entity.PartitionKey.Length + entity.RowKey.Length) * 2L;
        foreach (var (name, value) in entity)
        {
            if (name is "PartitionKey" or "RowKey" or "odata.etag" or "Timestamp")
            {
                continue;
            }
            size += 8 + name.Length * 2L + value switch
            {
                string s => 4 + s.Length * 2L,
                byte[] b => 4 + b.Length,
                BinaryData d => 4 + d.ToMemory().Length,
                long or double or DateTime or DateTimeOffset => 8,
                int => 4,
                bool => 1,
                Guid => 16,
                _ => 8,
            };
        }
        return size;
    }

    /// <summary>What an entity weighs on the wire in a transaction: binary travels as base64.</summary>
    public static long WireSize(TableEntity entity)
    {
        long size = 600 + (entity.PartitionKey.Length + entity.RowKey.Length) * 2L;
        foreach (var (name, value) in entity)
        {
            size += name.Length + 16 + value switch
            {
                string s => s.Length * 2L,
                byte[] b => (b.Length + 2) / 3 * 4,
                _ => 24,
            };
        }
        return size;
    }
}

/// <summary>
/// What the <c>meta</c> row holds: the high-water cursor and counters that stay exact because they change only inside
/// fenced transactions (every write transaction updates this row on condition of its ETag).
/// </summary>
internal readonly record struct RecordMeta(long HighWater, long Live, long Total, long Bytes)
{
    /// <summary>The meta of a table nobody wrote to yet: cursors start above the record set's floor.</summary>
    public static RecordMeta Empty(long floor) => new(floor, 0, 0, 0);

    /// <summary>The counters once a record's index entry went from <paramref name="old"/> (null: a new id) to <paramref name="entry"/>.</summary>
    public RecordMeta Apply(IndexEntry? old, IndexEntry entry)
    {
        var wasLive = old is { Deleted: false };
        return new RecordMeta(
            Math.Max(HighWater, entry.Cursor),
            Live + (entry.Deleted ? 0 : 1) - (wasLive ? 1 : 0),
            Total + (old is null ? 1 : 0),
            Bytes + entry.Size - (old?.Size ?? 0));
    }
}

/// <summary>
/// The columns of the <c>meta</c> row (RowKey <see cref="RecordRows.MetaRowKey"/>). A row read with only some columns
/// selected decodes the others as 0.
/// </summary>
internal sealed class RecordMetaRows : IRowCodec<RecordMeta>
{
    public static readonly RecordMetaRows Codec = new();

    public const string HighWaterColumn = "Hw";
    public const string LiveColumn = "Live";
    public const string TotalColumn = "Total";
    public const string BytesColumn = "Bytes";

    public TableEntity Encode(RecordMeta meta) => new(RecordRows.PartitionKey, RecordRows.MetaRowKey)
    {
        [HighWaterColumn] = meta.HighWater,
        [LiveColumn] = meta.Live,
        [TotalColumn] = meta.Total,
        [BytesColumn] = meta.Bytes,
    };

    public RecordMeta Decode(TableEntity row) => new(
        row.GetInt64(HighWaterColumn) ?? 0, row.GetInt64(LiveColumn) ?? 0, row.GetInt64(TotalColumn) ?? 0, row.GetInt64(BytesColumn) ?? 0);
}

/// <summary>A record's index row: where the record is now and what it holds (by hash).</summary>
internal sealed record IndexEntry(string Id, long Cursor, string Hash, long FirstSeen, bool Deleted, long PrunedAt, string Action, int Size)
{
    public bool Pruned => PrunedAt > 0;
}

/// <summary>
/// The columns of an index row (RowKey <see cref="RecordRows.IndexRowKey"/> of the id). An index row always carries all
/// of them, except the prune update (<see cref="EncodePruned"/>), which merges two into the row.
/// </summary>
internal sealed class IndexEntryRows : IRowCodec<IndexEntry>
{
    public static readonly IndexEntryRows Codec = new();

    public const string CursorColumn = "Cursor";
    public const string PrunedAtColumn = "PrunedAt";
    public const string SizeColumn = "Size";

    /// <summary>Every column: what a writer's index scan selects.</summary>
    public static readonly string[] Columns = ["Id", CursorColumn, "Hash", "FirstSeen", "Deleted", PrunedAtColumn, "Action", SizeColumn];

    public TableEntity Encode(IndexEntry entry) => new(RecordRows.PartitionKey, RecordRows.IndexRowKey(entry.Id))
    {
        ["Id"] = entry.Id,
        [CursorColumn] = entry.Cursor,
        ["Hash"] = entry.Hash,
        ["FirstSeen"] = entry.FirstSeen,
        ["Deleted"] = entry.Deleted,
        [PrunedAtColumn] = entry.PrunedAt,
        ["Action"] = entry.Action,
        [SizeColumn] = entry.Size,
    };

    public IndexEntry Decode(TableEntity row) => new(
        row.GetString("Id") ?? "", row.GetInt64(CursorColumn) ?? 0, row.GetString("Hash") ?? "", row.GetInt64("FirstSeen") ?? 0,
        row.GetBoolean("Deleted") ?? false, row.GetInt64(PrunedAtColumn) ?? 0, row.GetString("Action") ?? "ADDED", row.GetInt32(SizeColumn) ?? 0);

    /// <summary>The prune update of an index row (to merge into it): its payload is gone, only the id is left.</summary>
    public static TableEntity EncodePruned(string id, long prunedAt, int size) => new(RecordRows.PartitionKey, RecordRows.IndexRowKey(id))
    {
        [PrunedAtColumn] = prunedAt,
        [SizeColumn] = size,
    };
}
