using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Time.Testing;
using SyncHub.Core.Model;
using SyncHub.Core.Records;

namespace SyncHub.Tests.Records;

/// <summary>
/// The writer's planner on its own, without storage: what it decides for each kind of record, the operations and index
/// entries it plans, the meta counters, and how it packs transactions.
/// </summary>
public sealed class RecordWritePlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly long Earlier = Now.UtcTicks - TimeSpan.TicksPerHour;

    private readonly FakeTimeProvider _clock = new(Now);
    private readonly Dictionary<string, IndexEntry> _stored = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _storedJson = new(StringComparer.Ordinal);

    // ----- decisions -----

    [Fact]
    public void A_new_record_is_inserted_with_its_index_row_at_a_cursor_of_now()
    {
        var plan = Plan(WriteMode.Save, [Issue("a")], new RecordMeta(0, 0, 0, 0));

        var tx = Assert.Single(plan.Transactions);
        var change = Assert.Single(tx.Changes);
        Assert.Equal((ChangeKind.Insert, "ADDED"), (change.Kind, change.Action));
        Assert.Equal(Now.UtcTicks, change.Entry.Cursor);
        Assert.Equal(Now.UtcTicks, change.Entry.FirstSeen);
        Assert.False(change.Entry.Deleted);

        Assert.Equal([TableTransactionActionType.Add, TableTransactionActionType.UpsertMerge], tx.Operations.Select(o => o.ActionType));
        var row = Entity(tx.Operations[0]);
        Assert.Equal(new Cursor(Now.UtcTicks).RowKey, row.RowKey);
        Assert.Equal(("a", "ADDED", (long?)Now.UtcTicks, (bool?)false), (row.GetString("Id"), row.GetString("Action"), row.GetInt64("FirstSeen"), row.GetBoolean("Pruned")));
        Assert.Equal(Payload(Issue("a")).Json, RecordRows.GetPayload(row));
        var index = Entity(tx.Operations[1]);
        Assert.Equal(RecordRows.IndexRowKey("a"), index.RowKey);
        Assert.Equal(change.Entry, IndexEntryRows.Codec.Decode(index));

        var size = Payload(Issue("a")).Json.Length;
        Assert.Equal(new RecordMeta(Now.UtcTicks, 1, 1, size), tx.Meta);
        Assert.Equal(3, tx.OperationCount);
        Assert.Equal((1, 0, 0, 0, 0), Counts(plan));
        Assert.Equal([change.Entry], plan.Entries);
    }

    [Fact]
    public void Saving_an_identical_payload_plans_no_operation()
    {
        Store(Issue("a"), cursor: Earlier);

        var plan = Plan(WriteMode.Save, [Issue("a")], Meta());

        Assert.Empty(plan.Transactions);
        Assert.Equal(1, plan.Unchanged);
        Assert.Empty(plan.Entries);
    }

    [Fact]
    public void A_changed_record_moves_to_a_new_cursor_and_keeps_its_first_seen()
    {
        var old = Store(Issue("a"), cursor: Earlier, firstSeen: Earlier - 5);

        var plan = Plan(WriteMode.Save, [Issue("a", "changed")], Meta());

        var tx = Assert.Single(plan.Transactions);
        var change = Assert.Single(tx.Changes);
        Assert.Equal((ChangeKind.Move, "UPDATED", old), (change.Kind, change.Action, change.Old));
        Assert.Equal(
            [TableTransactionActionType.Delete, TableTransactionActionType.Add, TableTransactionActionType.UpsertMerge],
            tx.Operations.Select(o => o.ActionType));
        Assert.Equal(new Cursor(Earlier).RowKey, Entity(tx.Operations[0]).RowKey);
        Assert.Equal(ETag.All, tx.Operations[0].ETag);
        Assert.Equal(new Cursor(Now.UtcTicks).RowKey, Entity(tx.Operations[1]).RowKey);
        Assert.Equal("changed", Json(RecordRows.GetPayload(Entity(tx.Operations[1])))["title"]!.GetValue<string>());
        Assert.Equal(RecordRows.IndexRowKey("a"), Entity(tx.Operations[2]).RowKey);
        Assert.Equal(Earlier - 5, change.Entry.FirstSeen);
        Assert.Equal(Payload(Issue("a", "changed")).Hash, change.Entry.Hash);

        var meta = Meta();
        Assert.Equal(meta with { HighWater = Now.UtcTicks, Bytes = meta.Bytes - old.Size + change.Entry.Size }, tx.Meta);
        Assert.Equal((0, 1, 0, 0, 0), Counts(plan));
    }

    [Fact]
    public void Delete_is_a_tombstone_at_a_new_cursor_with_the_last_payload()
    {
        Store(Issue("a", "last words"), cursor: Earlier);
        Store(Issue("gone"), cursor: Earlier - 10, deleted: true);

        var plan = Plan(WriteMode.Delete, [Id("a"), Id("gone"), Id("never-existed")], Meta());

        var change = Assert.Single(Assert.Single(plan.Transactions).Changes);
        Assert.Equal((ChangeKind.Move, "DELETED"), (change.Kind, change.Action));
        Assert.True(change.Entry.Deleted);
        var row = Entity(plan.Transactions[0].Operations[1]);
        Assert.Equal(("DELETED", (long?)Now.UtcTicks), (row.GetString("Action"), row.GetInt64("DeletedAt")));
        Assert.Equal("last words", Json(RecordRows.GetPayload(row))["title"]!.GetValue<string>());
        Assert.Equal(2, plan.Unchanged);
        Assert.Equal(Meta().Live - 1, plan.Transactions[0].Meta.Live);
        Assert.Equal(Meta().Total, plan.Transactions[0].Meta.Total);
        Assert.Equal((0, 0, 1, 0, 2), Counts(plan));
    }

    [Fact]
    public void A_record_saved_after_its_delete_is_added_again_with_a_new_first_seen()
    {
        Store(Issue("a"), cursor: Earlier, deleted: true, firstSeen: Earlier - 100);

        var plan = Plan(WriteMode.Save, [Issue("a")], Meta());

        var change = Assert.Single(Assert.Single(plan.Transactions).Changes);
        Assert.Equal((ChangeKind.Move, "ADDED"), (change.Kind, change.Action));
        Assert.Equal(Now.UtcTicks, change.Entry.FirstSeen);
        Assert.False(change.Entry.Deleted);
        Assert.Equal(TableTransactionActionType.Delete, plan.Transactions[0].Operations[0].ActionType);
        Assert.Equal((Meta().Live + 1, Meta().Total), (plan.Transactions[0].Meta.Live, plan.Transactions[0].Meta.Total));
        Assert.Equal((1, 0, 0, 0, 0), Counts(plan));
    }

    [Fact]
    public void A_pruned_record_saved_again_unchanged_gets_its_payload_back_at_its_cursor()
    {
        Store(Issue("a"), cursor: Earlier, prunedAt: Earlier + 1, action: "UPDATED");
        var pruned = _stored["a"];

        var plan = Plan(WriteMode.Save, [Issue("a")], Meta());

        var tx = Assert.Single(plan.Transactions);
        var change = Assert.Single(tx.Changes);
        Assert.Equal((ChangeKind.Restore, "UPDATED"), (change.Kind, change.Action));
        Assert.Equal([TableTransactionActionType.UpdateReplace, TableTransactionActionType.UpsertMerge], tx.Operations.Select(o => o.ActionType));
        var row = Entity(tx.Operations[0]);
        Assert.Equal(new Cursor(Earlier).RowKey, row.RowKey);
        Assert.False(row.GetBoolean("Pruned"));
        Assert.Equal(Payload(Issue("a")).Json, RecordRows.GetPayload(row));
        Assert.Equal(pruned with { PrunedAt = 0, Size = Payload(Issue("a")).Json.Length }, change.Entry);
        // The cursor stays, so the high-water mark does too; only the bytes grow back.
        Assert.Equal(Meta() with { Bytes = Meta().Bytes - pruned.Size + change.Entry.Size }, tx.Meta);
        Assert.Equal((0, 0, 0, 1, 0), Counts(plan));
    }

    [Fact]
    public void A_pruned_record_saved_changed_moves_and_a_pruned_record_deleted_stays_pruned()
    {
        Store(Issue("a"), cursor: Earlier, prunedAt: Earlier + 1);
        Store(Issue("b"), cursor: Earlier + 2, prunedAt: Earlier + 3);

        var saved = Plan(WriteMode.Save, [Issue("a", "changed")], Meta());
        var moved = Assert.Single(saved.Changes);
        Assert.Equal((ChangeKind.Move, "UPDATED", 0L), (moved.Kind, moved.Action, moved.Entry.PrunedAt));

        var deleted = Plan(WriteMode.Delete, [Id("b")], Meta());
        var change = Assert.Single(deleted.Changes);
        Assert.Equal(("DELETED", Earlier + 3), (change.Action, change.Entry.PrunedAt));
        var row = Entity(deleted.Transactions[0].Operations[1]);
        Assert.Equal(((bool?)true, (long?)(Earlier + 3)), (row.GetBoolean("Pruned"), row.GetInt64("PrunedAt")));
    }

    [Fact]
    public void Update_merges_top_level_fields_into_the_stored_payload()
    {
        Store(new JsonObject { ["id"] = "a", ["title"] = "t", ["number"] = 1, ["labels"] = new JsonArray("x") }, cursor: Earlier);
        Store(Issue("same"), cursor: Earlier + 1);

        var plan = Plan(WriteMode.Update, [new JsonObject { ["id"] = "a", ["title"] = "new", ["labels"] = null }, new JsonObject { ["id"] = "same", ["title"] = "t" }], Meta());

        var change = Assert.Single(plan.Changes);
        Assert.Equal(("a", "UPDATED"), (change.Item.Id, change.Action));
        var merged = Json(RecordRows.GetPayload(Entity(plan.Transactions[0].Operations[1])));
        Assert.Equal("""{"id":"a","title":"new","number":1,"labels":null}""", merged.ToJsonString());
        Assert.Equal(1, plan.Unchanged);
    }

    [Fact]
    public void Update_rejects_what_it_cannot_merge_into_and_reads_only_what_it_merges()
    {
        Store(Issue("live"), cursor: Earlier);
        Store(Issue("deleted"), cursor: Earlier + 1, deleted: true);
        Store(Issue("pruned"), cursor: Earlier + 2, prunedAt: Earlier + 3);
        Store(Issue("big"), cursor: Earlier + 4);
        var batch = RecordWritePlanner.Prepare(
            [Id("live"), Id("deleted"), Id("pruned"), Id("missing"), new JsonObject { ["id"] = "big", ["body"] = new string('x', RecordRows.MaxPayloadBytes) }],
            WriteMode.Update);

        Assert.Equal(["live", "big"], RecordWritePlanner.PayloadsToRead(WriteMode.Update, batch.Items, _stored).Select(e => e.Id));
        var plan = Plan(batch, Meta());

        Assert.Equal(1, plan.Unchanged);
        Assert.Empty(plan.Transactions);
        Assert.Equal([1, 2, 3, 4], plan.Rejected.Select(r => r.Index));
        Assert.Contains("no stored record", plan.Rejected[0].Reason);
        Assert.Contains("pruned", plan.Rejected[1].Reason);
        Assert.Contains("no stored record", plan.Rejected[2].Reason);
        Assert.Contains("limit", plan.Rejected[3].Reason);
    }

    [Fact]
    public void Delete_reads_only_the_live_records_it_deletes_and_save_reads_nothing()
    {
        Store(Issue("live"), cursor: Earlier);
        Store(Issue("deleted"), cursor: Earlier + 1, deleted: true);
        Store(Issue("pruned"), cursor: Earlier + 2, prunedAt: Earlier + 3);
        var items = RecordWritePlanner.Prepare([Id("live"), Id("deleted"), Id("pruned"), Id("missing")], WriteMode.Delete).Items;

        Assert.Equal(["live", "pruned"], RecordWritePlanner.PayloadsToRead(WriteMode.Delete, items, _stored).Select(e => e.Id));
        Assert.Empty(RecordWritePlanner.PayloadsToRead(WriteMode.Save, RecordWritePlanner.Prepare([Issue("live")], WriteMode.Save).Items, _stored));
    }

    [Fact]
    public void Only_the_first_of_duplicate_ids_in_a_batch_is_planned()
    {
        var batch = RecordWritePlanner.Prepare([Issue("a", "first"), Issue("b"), Issue("a", "second"), Issue(1), Issue("1")], WriteMode.Save);

        Assert.Equal(["a", "b", "1"], batch.Items.Select(i => i.Id));
        Assert.Equal([(2, "a"), (4, "1")], batch.Rejected.Select(r => (r.Index, r.Id)));
        Assert.All(batch.Rejected, r => Assert.Equal(RecordWritePlanner.DuplicateReason, r.Reason));
        var plan = Plan(batch, new RecordMeta(0, 0, 0, 0));
        Assert.Equal("first", Json(RecordRows.GetPayload(Entity(plan.Transactions[0].Operations[0])))["title"]!.GetValue<string>());
        Assert.Equal(3, plan.Added);
    }

    [Fact]
    public void Records_too_large_or_with_a_bad_id_are_rejected_and_their_batch_mates_planned()
    {
        JsonObject[] records =
        [
            Issue("ok"),
            new() { ["id"] = "huge", ["body"] = new string('x', RecordRows.MaxPayloadBytes) },
            new() { ["title"] = "no id" },
            new() { ["id"] = new JsonObject() },
            new() { ["id"] = "" },
            new() { ["id"] = new string('i', RecordPayload.MaxIdLength + 1) },
            null!,
            new() { ["id"] = true },
            Issue(new string('i', RecordPayload.MaxIdLength)),
        ];

        var batch = RecordWritePlanner.Prepare(records, WriteMode.Save);

        Assert.Equal(["ok", new string('i', RecordPayload.MaxIdLength)], batch.Items.Select(i => i.Id));
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], batch.Rejected.Select(r => r.Index));
        Assert.Equal("huge", batch.Rejected[0].Id);
        Assert.Contains("limit", batch.Rejected[0].Reason);
        Assert.Equal("record has no id", batch.Rejected[1].Reason);
        Assert.Contains("string or a number", batch.Rejected[2].Reason);
        Assert.Contains("1 to 256 characters", batch.Rejected[3].Reason);
        Assert.Contains("1 to 256 characters", batch.Rejected[4].Reason);
        Assert.Equal("record is null", batch.Rejected[5].Reason);
        Assert.Contains("string or a number", batch.Rejected[6].Reason);

        // Delete and update need an id only.
        var delete = RecordWritePlanner.Prepare([Id("a"), new JsonObject { ["x"] = 1 }], WriteMode.Delete);
        Assert.Equal(["a"], delete.Items.Select(i => i.Id));
        Assert.Equal([1], delete.Rejected.Select(r => r.Index));
    }

    // ----- packing -----

    [Fact]
    public void Inserts_are_packed_49_to_a_transaction_with_the_meta_update_in_each()
    {
        var plan = Plan(WriteMode.Save, Issues(120), new RecordMeta(0, 0, 0, 0));

        Assert.Equal([49, 49, 22], plan.Transactions.Select(t => t.Changes.Count));
        Assert.Equal([99, 99, 45], plan.Transactions.Select(t => t.OperationCount));
        AssertPacked(plan, new RecordMeta(0, 0, 0, 0));
        Assert.Equal(120, plan.Transactions[^1].Meta.Live);
        Assert.Equal(120, plan.Added);
    }

    [Fact]
    public void Moves_are_packed_33_to_a_transaction()
    {
        foreach (var record in Issues(70))
        {
            Store(record, cursor: Earlier + _stored.Count);
        }
        var meta = Meta();

        var plan = Plan(WriteMode.Save, Issues(70, title: "changed"), meta);

        Assert.Equal([33, 33, 4], plan.Transactions.Select(t => t.Changes.Count));
        Assert.Equal([100, 100, 13], plan.Transactions.Select(t => t.OperationCount));
        AssertPacked(plan, meta);
        Assert.Equal((meta.Live, meta.Total), (plan.Transactions[^1].Meta.Live, plan.Transactions[^1].Meta.Total));
    }

    [Fact]
    public void Large_records_are_packed_under_the_request_size_limit()
    {
        var records = Enumerable.Range(0, 9).Select(i => new JsonObject { ["id"] = $"big-{i}", ["body"] = new string('x', 700 * 1024) }).ToList();

        var plan = Plan(WriteMode.Save, records, new RecordMeta(0, 0, 0, 0));

        Assert.True(plan.Transactions.Count >= 3, $"{plan.Transactions.Count} transactions");
        Assert.All(plan.Transactions, t => Assert.InRange(t.WireBytes, 1, RecordRows.MaxTransactionBytes));
        Assert.All(plan.Transactions, t => Assert.True(t.OperationCount < RecordRows.MaxTransactionOperations));
        // Packed tight: the first record of each transaction would not have fitted into the one before.
        for (var i = 1; i < plan.Transactions.Count; i++)
        {
            Assert.True(plan.Transactions[i - 1].WireBytes + plan.Transactions[i].WireBytes / plan.Transactions[i].Changes.Count > RecordRows.MaxTransactionBytes);
        }
        AssertPacked(plan, new RecordMeta(0, 0, 0, 0));
        Assert.Equal(records.Select(r => r["id"]!.GetValue<string>()), plan.Changes.Select(c => c.Item.Id));
    }

    [Fact]
    public void A_single_record_of_the_maximum_size_fits_one_transaction()
    {
        var plan = Plan(WriteMode.Save, [new JsonObject { ["id"] = "max", ["b"] = new string('x', RecordRows.MaxPayloadBytes - 20) }], new RecordMeta(0, 0, 0, 0));

        Assert.InRange(Assert.Single(plan.Transactions).WireBytes, 1, RecordRows.MaxTransactionBytes);
    }

    [Fact]
    public void Cursors_stay_above_a_high_water_mark_ahead_of_the_clock()
    {
        var ahead = Now.UtcTicks + 1_000;

        var plan = Plan(WriteMode.Save, Issues(60), new RecordMeta(ahead, 0, 0, 0));

        Assert.Equal(Enumerable.Range(1, 60).Select(i => ahead + i), plan.Changes.Select(c => c.Entry.Cursor));
        Assert.Equal(ahead + 60, plan.Transactions[^1].Meta.HighWater);
    }

    [Fact]
    public void Each_transaction_reads_the_clock_and_cursors_still_strictly_increase()
    {
        _clock.AutoAdvanceAmount = TimeSpan.FromSeconds(1);

        var plan = Plan(WriteMode.Save, Issues(150), new RecordMeta(0, 0, 0, 0));

        Assert.Equal(4, plan.Transactions.Count);
        Assert.Equal([0, 1, 2, 3], plan.Transactions.Select(t => (t.Changes[0].Entry.Cursor - Now.UtcTicks) / TimeSpan.TicksPerSecond));
        Assert.All(plan.Transactions, t => Assert.Equal(0, (t.Changes[0].Entry.Cursor - Now.UtcTicks) % TimeSpan.TicksPerSecond));
        AssertPacked(plan, new RecordMeta(0, 0, 0, 0));
    }

    // ----- what the planner is given -----

    [Fact]
    public void The_planner_needs_only_the_index_entries_of_the_batch_and_counts_from_meta()
    {
        foreach (var record in Issues(300))
        {
            Store(record, cursor: Earlier + _stored.Count);
        }
        var meta = Meta() with { Live = 5_000, Total = 7_000 };
        List<JsonObject> batch = [Issue("issue-000010", "changed"), RecordsFixture.Issue("issue-000020", "t", 20), Issue("new-one")];
        var items = RecordWritePlanner.Prepare(batch, WriteMode.Save).Items;

        var whole = Plan(WriteMode.Save, batch, meta);
        var onlyBatch = RecordWritePlanner.Plan(WriteMode.Save, items,
            _stored.Where(e => batch.Any(r => r["id"]!.GetValue<string>() == e.Key)).ToDictionary(), new Dictionary<string, byte[]>(), meta, _clock);

        Assert.Equal(Describe(whole), Describe(onlyBatch));
        Assert.Equal((1, 1, 1), (onlyBatch.Added, onlyBatch.Updated, onlyBatch.Unchanged));
        Assert.Equal((5_001L, 7_001L), (onlyBatch.Transactions[^1].Meta.Live, onlyBatch.Transactions[^1].Meta.Total));
    }

    [Fact]
    public void Planning_is_pure_the_same_inputs_give_the_same_plan_and_nothing_given_is_changed()
    {
        Store(Issue("a"), cursor: Earlier);
        var before = _stored.ToDictionary();
        var meta = Meta();

        var first = Plan(WriteMode.Save, [Issue("a", "changed"), Issue("b")], meta);
        var second = Plan(WriteMode.Save, [Issue("a", "changed"), Issue("b")], meta);

        Assert.Equal(Describe(first), Describe(second));
        Assert.Equal(before, _stored);
    }

    // ----- helpers -----

    private RecordWritePlan Plan(WriteMode mode, IReadOnlyList<JsonObject> records, RecordMeta meta) =>
        Plan(RecordWritePlanner.Prepare(records, mode), meta);

    /// <summary>What the session does: read the payloads the planner asks for, then plan.</summary>
    private RecordWritePlan Plan(PreparedBatch batch, RecordMeta meta)
    {
        var payloads = RecordWritePlanner.PayloadsToRead(batch.Mode, batch.Items, _stored).ToDictionary(e => e.Id, e => _storedJson[e.Id]);
        return RecordWritePlanner.Plan(batch.Mode, batch.Items, _stored, payloads, meta, _clock);
    }

    /// <summary>A stored record: its index entry, and its payload as a point read would return it.</summary>
    private IndexEntry Store(JsonObject record, long cursor, bool deleted = false, long prunedAt = 0, long? firstSeen = null, string? action = null)
    {
        var payload = Payload(record);
        var stored = prunedAt > 0 ? RecordPayload.IdOnly(payload.Id) : payload.Json;
        var entry = new IndexEntry(payload.Id, cursor, payload.Hash, firstSeen ?? cursor, deleted, prunedAt, action ?? (deleted ? "DELETED" : "ADDED"), stored.Length);
        _stored[payload.Id] = entry;
        _storedJson[payload.Id] = stored;
        return entry;
    }

    /// <summary>The meta row matching what <see cref="Store"/> stored.</summary>
    private RecordMeta Meta() => new(
        _stored.Values.Select(e => e.Cursor).DefaultIfEmpty(0).Max(), _stored.Values.Count(e => !e.Deleted), _stored.Count, _stored.Values.Sum(e => (long)e.Size));

    /// <summary>
    /// Every transaction within Azure's limits with its meta the running result of its changes; cursors strictly
    /// increasing through the plan; one change per id.
    /// </summary>
    private static void AssertPacked(RecordWritePlan plan, RecordMeta start)
    {
        var meta = start;
        var last = start.HighWater;
        foreach (var tx in plan.Transactions)
        {
            Assert.NotEmpty(tx.Changes);
            Assert.InRange(tx.OperationCount, 2, RecordRows.MaxTransactionOperations);
            Assert.InRange(tx.WireBytes, 1, RecordRows.MaxTransactionBytes);
            Assert.Equal(tx.Changes.Sum(c => c.Kind == ChangeKind.Move ? 3 : 2), tx.Operations.Count);
            foreach (var change in tx.Changes)
            {
                Assert.True(change.Entry.Cursor > last, "cursors strictly increase");
                last = change.Entry.Cursor;
                meta = meta.Apply(change.Old, change.Entry);
            }
            Assert.Equal(meta, tx.Meta);
            Assert.Equal(last, tx.Meta.HighWater);
        }
        Assert.Equal(plan.Changes.Count(), plan.Changes.Select(c => c.Item.Id).Distinct().Count());
    }

    private static (int Added, int Updated, int Deleted, int Restored, int Unchanged) Counts(RecordWritePlan plan) =>
        (plan.Added, plan.Updated, plan.Deleted, plan.Restored, plan.Unchanged);

    private static string Describe(RecordWritePlan plan) => string.Join("\n", plan.Transactions.Select(t =>
        string.Join(";", t.Operations.Select(o => $"{o.ActionType} {Entity(o).RowKey} {string.Join(",", Entity(o).Where(p => p.Value is not byte[]).Select(p => $"{p.Key}={p.Value}"))}")) + $" | {t.Meta}"))
        + $"\nunchanged {plan.Unchanged}, rejected {string.Join(",", plan.Rejected)}";

    private static TableEntity Entity(TableTransactionAction action) => (TableEntity)action.Entity;

    private static RecordPayload Payload(JsonObject record) =>
        RecordPayload.TryCreate(record, out var payload, out var problem) ? payload : throw new ArgumentException(problem);

    private static JsonObject Json(byte[] payload) => JsonNode.Parse(payload)!.AsObject();

    private static JsonObject Issue(object id, string title = "t") => RecordsFixture.Issue(id, title);

    private static List<JsonObject> Issues(int count, string title = "t") => RecordsFixture.Issues(count, title: title);

    private static JsonObject Id(string id) => new() { ["id"] = id };
}
