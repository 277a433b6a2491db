using System.Text.Json.Nodes;
using SyncHub.Core.Records;

namespace SyncHub.Tests.Records;

[Collection("records")]
public sealed class RecordWriterTests(RecordsFixture fx)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task New_records_are_added_with_string_ids_and_increasing_cursors()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        var result = await fx.Writer.SaveAsync(partition, [RecordsFixture.Issue(42), RecordsFixture.Issue("b"), RecordsFixture.Issue(7.5)], None);

        Assert.Equal((3, 0, 0, 0), (result.Added, result.Updated, result.Deleted, result.Unchanged));
        var records = await fx.ReadAllAsync(partition);
        Assert.Equal(["42", "b", "7.5"], records.Select(r => r.Id));
        Assert.Equal("42", RecordsFixture.Json(records[0])["id"]!.GetValue<string>());
        Assert.All(records, r => Assert.Equal("ADDED", r.Action));
        Assert.All(records, r => Assert.Equal(r.Cursor.Ticks, r.FirstSeen));
        Assert.True(records[0].Cursor < records[1].Cursor && records[1].Cursor < records[2].Cursor);
    }

    [Fact]
    public async Task Saving_an_identical_payload_writes_nothing()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        await fx.Writer.SaveAsync(partition, RecordsFixture.Issues(10), None);
        var before = await fx.ReadAllAsync(partition);

        var session = await fx.Writer.OpenAsync(partition, None);
        var result = await session.SaveAsync(RecordsFixture.Issues(10), None);

        Assert.Equal(10, result.Unchanged);
        Assert.Equal(0, result.Added + result.Updated);
        var after = await fx.ReadAllAsync(partition);
        Assert.Equal(before.Select(r => (r.Id, r.Cursor, r.Action)), after.Select(r => (r.Id, r.Cursor, r.Action)));
    }

    [Fact]
    public async Task A_changed_payload_is_updated_with_a_new_cursor_and_its_first_seen_kept()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        await fx.Writer.SaveAsync(partition, [RecordsFixture.Issue("a"), RecordsFixture.Issue("b")], None);
        var before = (await fx.ReadAllAsync(partition)).ToDictionary(r => r.Id);

        var result = await fx.Writer.SaveAsync(partition, [RecordsFixture.Issue("a", "changed")], None);

        Assert.Equal(1, result.Updated);
        var after = await fx.ReadAllAsync(partition);
        Assert.Equal(["b", "a"], after.Select(r => r.Id));
        var a = after[1];
        Assert.Equal("UPDATED", a.Action);
        Assert.True(a.Cursor > before["b"].Cursor);
        Assert.Equal(before["a"].FirstSeen, a.FirstSeen);
        Assert.Equal("changed", RecordsFixture.Json(a)["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_keeps_the_last_payload_and_a_later_save_adds_it_again()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        await fx.Writer.SaveAsync(partition, [RecordsFixture.Issue("a", "last words"), RecordsFixture.Issue("b")], None);
        var added = (await fx.ReadAllAsync(partition)).Single(r => r.Id == "a");

        var session = await fx.Writer.OpenAsync(partition, None);
        var deleted = await session.DeleteAsync(["a", "never-existed"], None);
        Assert.Equal(1, deleted.Deleted);
        Assert.Equal(1, deleted.Unchanged);
        Assert.Equal(1, session.LiveCount);

        var record = (await fx.ReadAllAsync(partition)).Single(r => r.Id == "a");
        Assert.Equal("DELETED", record.Action);
        Assert.Equal(record.Cursor.Ticks, record.DeletedAt);
        Assert.Equal("last words", RecordsFixture.Json(record)["title"]!.GetValue<string>());
        Assert.Equal(1, (await session.DeleteAsync(["a"], None)).Unchanged);

        var readded = await session.SaveAsync([RecordsFixture.Issue("a", "back")], None);
        Assert.Equal(1, readded.Added);
        record = (await fx.ReadAllAsync(partition)).Single(r => r.Id == "a");
        Assert.Equal("ADDED", record.Action);
        Assert.Equal(0, record.DeletedAt);
        Assert.True(record.FirstSeen > added.FirstSeen);
        Assert.Equal(record.Cursor.Ticks, record.FirstSeen);
        Assert.Equal(2, await fx.Reader.CountAsync(partition, None));
    }

    [Fact]
    public async Task Update_merges_top_level_fields_into_the_stored_payload()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        var session = await fx.Writer.OpenAsync(partition, None);
        await session.SaveAsync([new JsonObject { ["id"] = "a", ["title"] = "t", ["state"] = "open", ["labels"] = new JsonArray("x") }], None);

        var result = await session.UpdateAsync([new JsonObject { ["id"] = "a", ["state"] = "closed" }, new JsonObject { ["id"] = "missing", ["state"] = "x" }], None);

        Assert.Equal(1, result.Updated);
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal(("missing", 1), (rejected.Id, rejected.Index));
        var json = RecordsFixture.Json((await fx.ReadAllAsync(partition)).Single());
        Assert.Equal("closed", json["state"]!.GetValue<string>());
        Assert.Equal("t", json["title"]!.GetValue<string>());
        Assert.Equal("x", json["labels"]![0]!.GetValue<string>());
        Assert.Equal(1, (await session.UpdateAsync([new JsonObject { ["id"] = "a", ["state"] = "closed" }], None)).Unchanged);
    }

    [Fact]
    public async Task Bad_records_are_rejected_with_a_reason_while_their_batch_mates_are_saved()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        var huge = new JsonObject { ["id"] = "huge", ["body"] = new string('x', RecordRows.MaxPayloadBytes) };
        var batch = new List<JsonObject>
        {
            RecordsFixture.Issue("ok-1"),
            huge,
            new() { ["title"] = "no id" },
            new() { ["id"] = new JsonObject(), ["title"] = "object id" },
            new() { ["id"] = "", ["title"] = "empty id" },
            new() { ["id"] = new string('i', 257) },
            RecordsFixture.Issue("ok-1", "duplicate"),
            RecordsFixture.Issue("ok-2"),
        };

        var result = await fx.Writer.SaveAsync(partition, batch, None);

        Assert.Equal(2, result.Added);
        Assert.Equal([1, 2, 3, 4, 5, 6], result.Rejected.Select(r => r.Index));
        Assert.Contains("limit is", result.Rejected[0].Reason);
        Assert.Equal("huge", result.Rejected[0].Id);
        Assert.Contains("no id", result.Rejected[1].Reason);
        Assert.Contains("string or a number", result.Rejected[2].Reason);
        Assert.Contains("duplicate", result.Rejected[5].Reason);
        var stored = await fx.ReadAllAsync(partition);
        Assert.Equal(["ok-1", "ok-2"], stored.Select(r => r.Id));
        Assert.Equal("t", RecordsFixture.Json(stored[0])["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task Large_records_split_across_properties_and_transactions_round_trip()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        // Five records of ~900 KiB: each spans 14 properties, and together they need several 4 MiB transactions.
        var big = Enumerable.Range(0, 5).Select(i => new JsonObject { ["id"] = $"big-{i}", ["body"] = new string((char)('a' + i), 900 * 1024) }).ToList();

        var result = await fx.Writer.SaveAsync(partition, big, None);

        Assert.Equal(5, result.Added);
        var stored = await fx.ReadAllAsync(partition, limit: 2);
        Assert.Equal(5, stored.Count);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(new string((char)('a' + i), 900 * 1024), RecordsFixture.Json(stored[i])["body"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Ids_and_connection_ids_with_reserved_and_unicode_characters_are_safe()
    {
        var connectionId = await fx.NewConnectionAsync($"org/team\\x:{Guid.NewGuid():N}");
        var partition = RecordsFixture.Issues(connectionId);
        string[] ids = ["a/b", "c\\d", "e#f", "g?h", "ünïcødé-☃-𝄞", "it's", "%2F", new string('z', 256)];

        var result = await fx.Writer.SaveAsync(partition, ids.Select(id => RecordsFixture.Issue(id)).ToList(), None);
        Assert.Equal(ids.Length, result.Added);
        Assert.Equal(ids.Length, (await fx.Writer.SaveAsync(partition, ids.Select(id => RecordsFixture.Issue(id)).ToList(), None)).Unchanged);

        var stored = await fx.ReadAllAsync(partition);
        Assert.Equal(ids, stored.Select(r => r.Id));
        Assert.Equal(ids, stored.Select(r => RecordsFixture.Json(r)["id"]!.GetValue<string>()));
        var byIds = await fx.Reader.ReadAsync(partition, new RecordQuery(null, null, null, ["e#f", "ünïcødé-☃-𝄞"], 10), None);
        Assert.Equal(["e#f", "ünïcødé-☃-𝄞"], byIds.Records.Select(r => r.Id));
    }
}
