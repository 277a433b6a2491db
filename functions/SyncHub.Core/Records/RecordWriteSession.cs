using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using SyncHub.Core.Storage;
using SyncHub.Core.Model;

namespace SyncHub.Core.Records;

/// <summary>
/// A writer's view of one partition, kept for a whole sync run: the <c>meta</c> row's counters and ETag, and every
/// record's index entry (loaded with one range scan, so no write needs a per-record lookup). The view is valid while
/// <c>meta</c> still has the ETag this session last wrote or read; every transaction asserts that, so a concurrent
/// writer makes the transaction fail atomically, and the session reloads and re-plans what was not yet written.
/// </summary>
public sealed class RecordWriteSession
{
    private const int MaxAttempts = 8;
    private const int ParallelReads = 16;
    private const int IndexScanParts = 16;
    private const int ParallelIndexScans = 4;
    private static readonly IReadOnlyList<(string From, string To)> IndexRanges = IndexScanRanges();

    private readonly RecordPartition _partition;
    private readonly RecordSetStore _sets;
    private readonly StorageClients _storage;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Dictionary<string, IndexEntry> _index = new(StringComparer.Ordinal);
    private RecordSet _set = null!;
    private TableClient _table = null!;
    private ETag? _metaETag;
    private Meta _meta;

    internal RecordWriteSession(RecordPartition partition, RecordSetStore sets, StorageClients storage, TimeProvider clock, ILogger logger)
    {
        _partition = partition;
        _sets = sets;
        _storage = storage;
        _clock = clock;
        _logger = logger;
    }

    public RecordPartition Partition => _partition;

    /// <summary>Non-deleted records, exactly (the meta row's counter).</summary>
    public long LiveCount => _meta.Live;

    /// <summary>The ids of every non-deleted record, e.g. to find those a full sync did not see.</summary>
    public IReadOnlyList<string> LiveIds() => _index.Values.Where(e => !e.Deleted).Select(e => e.Id).ToArray();

    /// <summary>Full-payload upsert. Identical payload: no write. Deleted: comes back ADDED. Pruned: payload restored.</summary>
    public Task<BatchResult> SaveAsync(IReadOnlyList<JsonObject> records, CancellationToken ct) =>
        ExecuteAsync(records, Mode.Save, ct);

    /// <summary>Merges each record's top-level fields into the stored payload.</summary>
    public Task<BatchResult> UpdateAsync(IReadOnlyList<JsonObject> records, CancellationToken ct) =>
        ExecuteAsync(records, Mode.Update, ct);

    /// <summary>Soft delete: the record keeps its last payload, becomes DELETED and gets a new cursor.</summary>
    public Task<BatchResult> DeleteAsync(IReadOnlyList<JsonObject> records, CancellationToken ct) =>
        ExecuteAsync(records, Mode.Delete, ct);

    public Task<BatchResult> DeleteAsync(IEnumerable<string> ids, CancellationToken ct) =>
        DeleteAsync(ids.Select(id => new JsonObject { ["id"] = id }).ToArray(), ct);

    /// <summary>(Re)loads the partition's current generation, meta row and index.</summary>
    public async Task ReloadAsync(CancellationToken ct)
    {
        _set = await _sets.GetOrCreateAsync(_partition, ct);
        _table = _storage.Table(_set.TableName);
        await _table.CreateIfNotExistsAsync(ct);
        var meta = await _table.GetEntityIfExistsAsync<TableEntity>(RecordRows.PartitionKey, RecordRows.MetaRowKey, cancellationToken: ct);
        _metaETag = meta.HasValue ? meta.Value!.ETag : null;
        _meta = meta.HasValue ? Meta.From(meta.Value!) : new Meta(_set.Floor, 0, 0, 0);
        _index.Clear();
        if (_meta.Total == 0)
        {
            return;
        }
        // The index rows in key ranges, a few at a time: in Azure each page is a round trip, and Azurite sorts every
        // row a query matches before it returns a page (index keys are hashes, so in random order), so a range of a
        // sixteenth of the index costs far less per page than the whole index would.
        var ranges = IndexRanges;
        var found = new List<IndexEntry>[ranges.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, ranges.Count), new ParallelOptions { MaxDegreeOfParallelism = ParallelIndexScans, CancellationToken = ct },
            async (i, token) =>
            {
                var (from, to) = ranges[i];
                var filter = $"PartitionKey eq '{RecordRows.PartitionKey}' and RowKey ge '{from}' and RowKey lt '{to}'";
                var entries = found[i] = [];
                await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: IndexEntry.Columns, cancellationToken: token))
                {
                    entries.Add(IndexEntry.From(row));
                }
            });
        foreach (var entry in found.SelectMany(f => f))
        {
            _index[entry.Id] = entry;
        }
    }

    /// <summary>
    /// [i:, i;) cut into <see cref="IndexScanParts"/> ranges that together cover every key; even for the base64url
    /// hashes index keys hold (<c>- 0-9 A-Z _ a-z</c> in ordinal order).
    /// </summary>
    private static IReadOnlyList<(string From, string To)> IndexScanRanges()
    {
        const string alphabet = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
        var bounds = new List<string> { RecordRows.IndexPrefix };
        for (var k = 1; k < IndexScanParts; k++)
        {
            bounds.Add(RecordRows.IndexPrefix + alphabet[k * alphabet.Length / IndexScanParts]);
        }
        bounds.Add(RecordRows.IndexEnd);
        return bounds.Zip(bounds.Skip(1)).ToList();
    }

    private enum Mode
    {
        Save,
        Update,
        Delete,
    }

    private async Task<BatchResult> ExecuteAsync(IReadOnlyList<JsonObject> records, Mode mode, CancellationToken ct)
    {
        var result = new BatchResult();
        var pending = Prepare(records, mode, result);
        for (var attempt = 1; pending.Count > 0; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            Plan? plan = null;
            try
            {
                plan = await PlanAsync(pending, mode, ct);
                if (plan.Changes.Count > 0)
                {
                    await CommitAsync(plan.Changes, result, ct);
                }
                else
                {
                    await ConfirmUnchangedAsync(ct);
                }
                result.Unchanged += plan.Unchanged;
                result.Rejected.AddRange(plan.Rejected);
                break;
            }
            catch (StaleViewException stale)
            {
                if (attempt >= MaxAttempts)
                {
                    throw new RecordWriteConflictException(
                        $"Gave up writing to {_partition} after {attempt} attempts: another writer kept changing it ({stale.Message}).");
                }
                _logger.LogInformation("Record partition {Partition} changed under this writer ({Reason}); reloading (attempt {Attempt})",
                    _partition, stale.Message, attempt);
                // What was committed before the conflict stays done; the rest is re-planned on a fresh view.
                var done = (plan?.Changes ?? []).Take(stale.Committed).Select(c => c.Item).ToHashSet();
                pending = pending.Where(p => !done.Contains(p)).ToList();
                await ReloadAsync(ct);
            }
        }
        result.Rejected.Sort((a, b) => a.Index.CompareTo(b.Index));
        return result;
    }

    private static List<Item> Prepare(IReadOnlyList<JsonObject> records, Mode mode, BatchResult result)
    {
        var items = new List<Item>(records.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            if (record is null)
            {
                result.Rejected.Add(new RejectedRecord(i, null, "record is null"));
                continue;
            }
            string id;
            RecordPayload? payload = null;
            if (mode == Mode.Save)
            {
                if (!RecordPayload.TryCreate(record, out payload, out var problem))
                {
                    RecordPayload.TryGetId(record, out var badId, out _);
                    result.Rejected.Add(new RejectedRecord(i, badId.Length > 0 ? badId : null, problem));
                    continue;
                }
                id = payload.Id;
            }
            else if (!RecordPayload.TryGetId(record, out id, out var problem))
            {
                result.Rejected.Add(new RejectedRecord(i, null, problem));
                continue;
            }
            if (!seen.Add(id))
            {
                result.Rejected.Add(new RejectedRecord(i, id, "duplicate id in this batch; the first occurrence was kept"));
                continue;
            }
            items.Add(new Item(i, id, record, payload));
        }
        return items;
    }

    /// <summary>Decides each pending item against the current view. Reads stored payloads only for update and delete.</summary>
    private async Task<Plan> PlanAsync(List<Item> pending, Mode mode, CancellationToken ct)
    {
        var plan = new Plan();
        Dictionary<string, byte[]> stored = [];
        if (mode != Mode.Save)
        {
            var needed = pending.Select(p => _index.GetValueOrDefault(p.Id)).Where(e => e is not null && !e.Deleted && !(mode == Mode.Update && e.Pruned)).ToList();
            stored = await ReadPayloadsAsync(needed!, ct);
        }
        foreach (var item in pending)
        {
            var old = _index.GetValueOrDefault(item.Id);
            switch (mode)
            {
                case Mode.Save:
                    PlanSave(plan, item, item.Payload!, old);
                    break;
                case Mode.Update:
                    if (old is null || old.Deleted)
                    {
                        plan.Rejected.Add(new RejectedRecord(item.Index, item.Id, "no stored record with this id to update; save it instead"));
                    }
                    else if (old.Pruned)
                    {
                        plan.Rejected.Add(new RejectedRecord(item.Index, item.Id, "the stored record was pruned; save the full record instead of updating it"));
                    }
                    else
                    {
                        var merged = JsonNode.Parse(stored[item.Id])!.AsObject();
                        foreach (var (name, value) in item.Record)
                        {
                            merged[name] = value?.DeepClone();
                        }
                        merged["id"] = item.Id;
                        if (!RecordPayload.TryCreate(merged, out var payload, out var problem))
                        {
                            plan.Rejected.Add(new RejectedRecord(item.Index, item.Id, problem));
                        }
                        else
                        {
                            PlanSave(plan, item, payload, old);
                        }
                    }
                    break;
                default:
                    if (old is null || old.Deleted)
                    {
                        plan.Unchanged++;
                    }
                    else
                    {
                        var json = stored[item.Id];
                        plan.Changes.Add(new Change(item, ChangeKind.Move, "DELETED", new RecordPayload(item.Id, json, old.Hash), old));
                    }
                    break;
            }
        }
        return plan;
    }

    private static void PlanSave(Plan plan, Item item, RecordPayload payload, IndexEntry? old)
    {
        if (old is null)
        {
            plan.Changes.Add(new Change(item, ChangeKind.Insert, "ADDED", payload, null));
        }
        else if (old.Deleted)
        {
            plan.Changes.Add(new Change(item, ChangeKind.Move, "ADDED", payload, old));
        }
        else if (old.Hash == payload.Hash)
        {
            if (old.Pruned)
            {
                plan.Changes.Add(new Change(item, ChangeKind.Restore, old.Action, payload, old));
            }
            else
            {
                plan.Unchanged++;
            }
        }
        else
        {
            plan.Changes.Add(new Change(item, ChangeKind.Move, "UPDATED", payload, old));
        }
    }

    private async Task<Dictionary<string, byte[]>> ReadPayloadsAsync(List<IndexEntry> entries, CancellationToken ct)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var gate = new SemaphoreSlim(ParallelReads);
        var reads = entries.Select(async entry =>
        {
            await gate.WaitAsync(ct);
            try
            {
                var row = await _table.GetEntityIfExistsAsync<TableEntity>(RecordRows.PartitionKey, new Cursor(entry.Cursor).RowKey, cancellationToken: ct);
                if (!row.HasValue)
                {
                    throw new StaleViewException("a record row moved", 0);
                }
                return (entry.Id, RecordRows.GetPayload(row.Value!));
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        foreach (var (id, payload) in await Task.WhenAll(reads))
        {
            result[id] = payload;
        }
        return result;
    }

    /// <summary>
    /// Writes the changes in as few transactions as Azure allows (100 operations, 4 MiB), each with the
    /// ETag-conditional meta update. Returns how many changes were committed.
    /// </summary>
    private async Task<int> CommitAsync(List<Change> changes, BatchResult result, CancellationToken ct)
    {
        var committed = 0;
        while (committed < changes.Count)
        {
            var actions = new List<TableTransactionAction>(RecordRows.MaxTransactionOperations);
            var staged = new List<(Change Change, IndexEntry Entry)>();
            var meta = _meta;
            long wire = 0;
            var now = _clock.GetUtcNow();
            for (var i = committed; i < changes.Count; i++)
            {
                var change = changes[i];
                var cursor = change.Kind == ChangeKind.Restore ? new Cursor(change.Old!.Cursor) : Cursor.Next(new Cursor(meta.HighWater), now);
                var (ops, entry) = Operations(change, cursor);
                var opsWire = ops.Sum(o => RecordRows.WireSize(o.Entity as TableEntity ?? new TableEntity()));
                if (staged.Count > 0 && (actions.Count + ops.Count + 1 > RecordRows.MaxTransactionOperations || wire + opsWire > RecordRows.MaxTransactionBytes))
                {
                    break;
                }
                actions.AddRange(ops);
                wire += opsWire;
                staged.Add((change, entry));
                meta = meta.Apply(change, entry, cursor);
            }
            // Merge, not replace: meta always carries all its properties, so the two are the same here, and Azurite
            // carries out a replace as delete + insert, whose delete costs O(rows in the table).
            var metaEntity = meta.ToEntity();
            actions.Add(_metaETag is { } etag
                ? new TableTransactionAction(TableTransactionActionType.UpdateMerge, metaEntity, etag)
                : new TableTransactionAction(TableTransactionActionType.Add, metaEntity));
            try
            {
                var response = await _table.SubmitTransactionAsync(actions, ct);
                _metaETag = response.Value[^1].Headers.ETag ?? throw new InvalidOperationException("The store returned no ETag for the meta row.");
            }
            catch (TableTransactionFailedException e) when (e.Status is 404 or 409 or 412)
            {
                throw new StaleViewException($"{e.Status} {e.ErrorCode} on operation {e.FailedTransactionActionIndex}", committed);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                throw new StaleViewException("the record table is gone (the partition was emptied)", committed);
            }
            _meta = meta;
            foreach (var (change, entry) in staged)
            {
                _index[entry.Id] = entry;
                switch (change.Kind)
                {
                    case ChangeKind.Restore:
                        result.Unchanged++;
                        break;
                    default:
                        result.FirstCursor = result.FirstCursor == 0 ? entry.Cursor : result.FirstCursor;
                        result.LastCursor = entry.Cursor;
                        _ = change.Action switch
                        {
                            "ADDED" => result.Added++,
                            "UPDATED" => result.Updated++,
                            _ => result.Deleted++,
                        };
                        break;
                }
            }
            committed += staged.Count;
        }
        return committed;
    }

    /// <summary>A batch that wrote nothing was judged on the view; make sure nobody wrote since.</summary>
    private async Task ConfirmUnchangedAsync(CancellationToken ct)
    {
        var meta = await _table.GetEntityIfExistsAsync<TableEntity>(RecordRows.PartitionKey, RecordRows.MetaRowKey, ["PartitionKey"], ct);
        var current = meta.HasValue ? meta.Value!.ETag : (ETag?)null;
        if (current != _metaETag)
        {
            throw new StaleViewException("meta changed since it was read", 0);
        }
    }

    private (List<TableTransactionAction> Ops, IndexEntry Entry) Operations(Change change, Cursor cursor)
    {
        var old = change.Old;
        var firstSeen = change.Action == "ADDED" && change.Kind != ChangeKind.Restore ? cursor.Ticks : old!.FirstSeen;
        var row = new TableEntity(RecordRows.PartitionKey, cursor.RowKey)
        {
            ["Id"] = change.Item.Id,
            ["Action"] = change.Action,
            ["FirstSeen"] = firstSeen,
            ["Hash"] = change.Payload.Hash,
            ["Size"] = change.Payload.Json.Length,
        };
        // Deleting a pruned record keeps it pruned: its payload is already gone.
        var prunedAt = change.Action == "DELETED" ? old!.PrunedAt : 0;
        row["Pruned"] = prunedAt > 0;
        if (prunedAt > 0)
        {
            row["PrunedAt"] = prunedAt;
        }
        if (change.Action == "DELETED")
        {
            row["DeletedAt"] = cursor.Ticks;
        }
        RecordRows.SetPayload(row, change.Payload.Json);
        if (RecordRows.EntitySize(row) > RecordRows.MaxEntityBytes)
        {
            // Unreachable while MaxPayloadBytes holds, but Azurite would accept it and Azure would not.
            throw new InvalidOperationException($"Record row of {RecordRows.EntitySize(row)} bytes exceeds Azure's 1 MiB entity limit.");
        }
        var entry = new IndexEntry(change.Item.Id, cursor.Ticks, change.Payload.Hash, firstSeen, change.Action == "DELETED", prunedAt, change.Action, change.Payload.Json.Length);
        var ops = new List<TableTransactionAction>(3);
        switch (change.Kind)
        {
            case ChangeKind.Insert:
                ops.Add(new TableTransactionAction(TableTransactionActionType.Add, row));
                break;
            case ChangeKind.Move:
                ops.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(RecordRows.PartitionKey, new Cursor(old!.Cursor).RowKey), ETag.All));
                ops.Add(new TableTransactionAction(TableTransactionActionType.Add, row));
                break;
            default:
                ops.Add(new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, ETag.All));
                break;
        }
        // An index row always carries all its properties, so merge = replace; Azurite's replace is a costly delete + insert.
        ops.Add(new TableTransactionAction(TableTransactionActionType.UpsertMerge, entry.ToEntity()));
        return (ops, entry);
    }

    private sealed record Item(int Index, string Id, JsonObject Record, RecordPayload? Payload);

    private enum ChangeKind
    {
        /// <summary>A new id: record row + index row.</summary>
        Insert,

        /// <summary>A modification: the record row moves to a new cursor (delete old + add new) and the index follows.</summary>
        Move,

        /// <summary>A pruned record saved again unchanged: its payload comes back in place, cursor unchanged.</summary>
        Restore,
    }

    private sealed record Change(Item Item, ChangeKind Kind, string Action, RecordPayload Payload, IndexEntry? Old);

    private sealed class Plan
    {
        public List<Change> Changes { get; } = [];
        public List<RejectedRecord> Rejected { get; } = [];
        public int Unchanged { get; set; }
    }

    private sealed class StaleViewException(string message, int committed) : Exception(message)
    {
        public int Committed { get; } = committed;
    }

    /// <summary>The meta row: counters that stay exact because they change only inside fenced transactions.</summary>
    private readonly record struct Meta(long HighWater, long Live, long Total, long Bytes)
    {
        public static Meta From(TableEntity e) =>
            new(e.GetInt64("Hw") ?? 0, e.GetInt64("Live") ?? 0, e.GetInt64("Total") ?? 0, e.GetInt64("Bytes") ?? 0);

        public TableEntity ToEntity() => new(RecordRows.PartitionKey, RecordRows.MetaRowKey)
        {
            ["Hw"] = HighWater,
            ["Live"] = Live,
            ["Total"] = Total,
            ["Bytes"] = Bytes,
        };

        public Meta Apply(Change change, IndexEntry entry, Cursor cursor)
        {
            var old = change.Old;
            var wasLive = old is not null && !old.Deleted;
            var isLive = !entry.Deleted;
            return new Meta(
                Math.Max(HighWater, cursor.Ticks),
                Live + (isLive ? 1 : 0) - (wasLive ? 1 : 0),
                Total + (old is null ? 1 : 0),
                Bytes + entry.Size - (old?.Size ?? 0));
        }
    }
}

/// <summary>A record's index row: where the record is now and what it holds (by hash).</summary>
internal sealed record IndexEntry(string Id, long Cursor, string Hash, long FirstSeen, bool Deleted, long PrunedAt, string Action, int Size)
{
    public static readonly string[] Columns = ["Id", "Cursor", "Hash", "FirstSeen", "Deleted", "PrunedAt", "Action", "Size"];

    public bool Pruned => PrunedAt > 0;

    public static IndexEntry From(TableEntity e) => new(
        e.GetString("Id"), e.GetInt64("Cursor") ?? 0, e.GetString("Hash") ?? "", e.GetInt64("FirstSeen") ?? 0,
        e.GetBoolean("Deleted") ?? false, e.GetInt64("PrunedAt") ?? 0, e.GetString("Action") ?? "ADDED", e.GetInt32("Size") ?? 0);

    public TableEntity ToEntity() => new(RecordRows.PartitionKey, RecordRows.IndexRowKey(Id))
    {
        ["Id"] = Id,
        ["Cursor"] = Cursor,
        ["Hash"] = Hash,
        ["FirstSeen"] = FirstSeen,
        ["Deleted"] = Deleted,
        ["PrunedAt"] = PrunedAt,
        ["Action"] = Action,
        ["Size"] = Size,
    };
}
