using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using SyncHub.Core.Model;

namespace SyncHub.Core.Records;

/// <summary>What a batch does to its records.</summary>
internal enum WriteMode
{
    /// <summary>Full-payload upsert.</summary>
    Save,

    /// <summary>Merge of each record's top-level fields into the stored payload.</summary>
    Update,

    /// <summary>Soft delete.</summary>
    Delete,
}

/// <summary>A record of a batch that passed validation: its position in the batch, its id, the record as given and, to save, its payload.</summary>
internal sealed record BatchItem(int Index, string Id, JsonObject Record, RecordPayload? Payload);

/// <summary>A validated batch: the records to plan (one per id) and those rejected before planning.</summary>
internal sealed record PreparedBatch(WriteMode Mode, IReadOnlyList<BatchItem> Items, IReadOnlyList<RejectedRecord> Rejected);

internal enum ChangeKind
{
    /// <summary>A new id: record row + index row.</summary>
    Insert,

    /// <summary>A modification: the record row moves to a new cursor (delete old + add new) and the index follows.</summary>
    Move,

    /// <summary>A pruned record saved again unchanged: its payload comes back in place, cursor unchanged.</summary>
    Restore,
}

/// <summary>One record's write: what it was (<c>Old</c>, null for a new id) and what it becomes (<c>Entry</c>, at its cursor).</summary>
internal sealed record PlannedChange(BatchItem Item, ChangeKind Kind, string Action, IndexEntry? Old, IndexEntry Entry)
{
    public Cursor Cursor => new(Entry.Cursor);
}

/// <summary>
/// One transaction of a plan: its record and index operations, and the meta row's value after it. The committer adds
/// the meta update, conditional on the meta ETag, as the transaction's last operation (<see cref="OperationCount"/>
/// counts it).
/// </summary>
internal sealed record PlannedTransaction(IReadOnlyList<PlannedChange> Changes, IReadOnlyList<TableTransactionAction> Operations, RecordMeta Meta, long WireBytes)
{
    public int OperationCount => Operations.Count + 1;
}

/// <summary>What a batch does, decided but not yet written.</summary>
internal sealed class RecordWritePlan
{
    public List<PlannedTransaction> Transactions { get; } = [];

    /// <summary>Records this plan does not write because nothing would change (restores count as writes here).</summary>
    public int Unchanged { get; set; }

    /// <summary>Records refused while planning (update of a missing or pruned record, merge result too large).</summary>
    public List<RejectedRecord> Rejected { get; } = [];

    public IEnumerable<PlannedChange> Changes => Transactions.SelectMany(t => t.Changes);

    /// <summary>The index entries once every transaction is committed.</summary>
    public IEnumerable<IndexEntry> Entries => Changes.Select(c => c.Entry);

    public int Added => Changes.Count(c => c.Kind != ChangeKind.Restore && c.Action == "ADDED");
    public int Updated => Changes.Count(c => c.Kind != ChangeKind.Restore && c.Action == "UPDATED");
    public int Deleted => Changes.Count(c => c.Kind != ChangeKind.Restore && c.Action == "DELETED");
    public int Restored => Changes.Count(c => c.Kind == ChangeKind.Restore);
}

/// <summary>
/// The pure half of a record write: validates a batch, decides each record against what is stored (its index entry and,
/// for update and delete, its stored payload) and packs the writes into transactions Azure accepts (100 operations,
/// 4 MiB, the meta update in each). No I/O: <see cref="RecordWriteSession"/> reads what the planner asks for and
/// commits what it plans.
/// <para>
/// The planner looks up only the ids of the batch: <c>stored</c> must hold the index entry of every id of the batch that
/// has one (a missing id is a new record) and may hold any others, so a whole-index scan and point reads of the batch's
/// ids serve equally. Counts come from the meta row, never from the index.
/// </para>
/// </summary>
internal static class RecordWritePlanner
{
    public const string DuplicateReason = "duplicate id in this batch; the first occurrence was kept";

    /// <summary>Validates the records (null, id, size) and keeps the first of each id.</summary>
    public static PreparedBatch Prepare(IReadOnlyList<JsonObject> records, WriteMode mode)
    {
        var items = new List<BatchItem>(records.Count);
        var rejected = new List<RejectedRecord>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            if (record is null)
            {
                rejected.Add(new RejectedRecord(i, null, "record is null"));
                continue;
            }
            string id;
            RecordPayload? payload = null;
            if (mode == WriteMode.Save)
            {
                if (!RecordPayload.TryCreate(record, out payload, out var problem))
                {
                    RecordPayload.TryGetId(record, out var badId, out _);
                    rejected.Add(new RejectedRecord(i, badId.Length > 0 ? badId : null, problem));
                    continue;
                }
                id = payload.Id;
            }
            else if (!RecordPayload.TryGetId(record, out id, out var problem))
            {
                rejected.Add(new RejectedRecord(i, null, problem));
                continue;
            }
            if (!seen.Add(id))
            {
                rejected.Add(new RejectedRecord(i, id, DuplicateReason));
                continue;
            }
            items.Add(new BatchItem(i, id, record, payload));
        }
        return new PreparedBatch(mode, items, rejected);
    }

    /// <summary>The stored records whose payload <see cref="Plan"/> needs: for update and delete, those it changes.</summary>
    public static IReadOnlyList<IndexEntry> PayloadsToRead(WriteMode mode, IEnumerable<BatchItem> items, IReadOnlyDictionary<string, IndexEntry> stored) =>
        mode == WriteMode.Save
            ? []
            : items.Select(i => stored.GetValueOrDefault(i.Id))
                .Where(e => e is not null && !e.Deleted && !(mode == WriteMode.Update && e.Pruned))
                .Select(e => e!)
                .ToList();

    /// <summary>
    /// Decides each item against what is stored and packs the writes into transactions, in the items' order.
    /// Cursors are <c>max(now, high water + 1)</c>, <c>now</c> read from <paramref name="clock"/> once per transaction,
    /// so they strictly increase through the plan (restores keep theirs).
    /// </summary>
    /// <param name="stored">The index entry of every stored id of <paramref name="items"/> (others may be there too).</param>
    /// <param name="payloads">The stored payloads of <see cref="PayloadsToRead"/>, by id.</param>
    /// <param name="meta">The meta row as last read or written: high-water cursor and counters.</param>
    public static RecordWritePlan Plan(WriteMode mode, IReadOnlyList<BatchItem> items, IReadOnlyDictionary<string, IndexEntry> stored,
        IReadOnlyDictionary<string, byte[]> payloads, RecordMeta meta, TimeProvider clock)
    {
        var plan = new RecordWritePlan();
        var decisions = new List<Decision>();
        foreach (var item in items)
        {
            var old = stored.GetValueOrDefault(item.Id);
            switch (mode)
            {
                case WriteMode.Save:
                    Decide(plan, decisions, item, item.Payload ?? throw new ArgumentException($"Item {item.Index} to save has no payload.", nameof(items)), old);
                    break;
                case WriteMode.Update:
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
                        var merged = JsonNode.Parse(StoredPayload(payloads, item.Id))!.AsObject();
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
                            Decide(plan, decisions, item, payload, old);
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
                        decisions.Add(new Decision(item, ChangeKind.Move, "DELETED", new RecordPayload(item.Id, StoredPayload(payloads, item.Id), old.Hash), old));
                    }
                    break;
            }
        }
        Pack(plan, decisions, meta, clock);
        return plan;
    }

    private static byte[] StoredPayload(IReadOnlyDictionary<string, byte[]> payloads, string id) =>
        payloads.TryGetValue(id, out var json) ? json : throw new InvalidOperationException($"The stored payload of record '{id}' was not read before planning.");

    private static void Decide(RecordWritePlan plan, List<Decision> decisions, BatchItem item, RecordPayload payload, IndexEntry? old)
    {
        if (old is null)
        {
            decisions.Add(new Decision(item, ChangeKind.Insert, "ADDED", payload, null));
        }
        else if (old.Deleted)
        {
            decisions.Add(new Decision(item, ChangeKind.Move, "ADDED", payload, old));
        }
        else if (old.Hash == payload.Hash)
        {
            if (old.Pruned)
            {
                decisions.Add(new Decision(item, ChangeKind.Restore, old.Action, payload, old));
            }
            else
            {
                plan.Unchanged++;
            }
        }
        else
        {
            decisions.Add(new Decision(item, ChangeKind.Move, "UPDATED", payload, old));
        }
    }

    /// <summary>
    /// As few transactions as Azure allows: a change goes into the current transaction unless it would pass
    /// 100 operations (with the meta update) or <see cref="RecordRows.MaxTransactionBytes"/>; a change never splits.
    /// </summary>
    private static void Pack(RecordWritePlan plan, List<Decision> decisions, RecordMeta meta, TimeProvider clock)
    {
        var next = 0;
        while (next < decisions.Count)
        {
            var operations = new List<TableTransactionAction>(RecordRows.MaxTransactionOperations);
            var changes = new List<PlannedChange>();
            long wire = 0;
            var now = clock.GetUtcNow();
            for (; next < decisions.Count; next++)
            {
                var decision = decisions[next];
                var cursor = decision.Kind == ChangeKind.Restore ? new Cursor(decision.Old!.Cursor) : Cursor.Next(new Cursor(meta.HighWater), now);
                var (ops, entry) = Operations(decision, cursor);
                var opsWire = ops.Sum(o => RecordRows.WireSize(o.Entity as TableEntity ?? new TableEntity()));
                if (changes.Count > 0 && (operations.Count + ops.Count + 1 > RecordRows.MaxTransactionOperations || wire + opsWire > RecordRows.MaxTransactionBytes))
                {
                    break;
                }
                operations.AddRange(ops);
                wire += opsWire;
                changes.Add(new PlannedChange(decision.Item, decision.Kind, decision.Action, decision.Old, entry));
                meta = meta.Apply(decision.Old, entry);
            }
            plan.Transactions.Add(new PlannedTransaction(changes, operations, meta, wire));
        }
    }

    /// <summary>The record row and index row operations of one change at its cursor, and the index entry it leaves.</summary>
    private static (List<TableTransactionAction> Ops, IndexEntry Entry) Operations(Decision change, Cursor cursor)
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
        ops.Add(new TableTransactionAction(TableTransactionActionType.UpsertMerge, IndexEntryRows.Codec.Encode(entry)));
        return (ops, entry);
    }

    private sealed record Decision(BatchItem Item, ChangeKind Kind, string Action, RecordPayload Payload, IndexEntry? Old);
}
