using SyncHub.Core.Records;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Records;

[Collection("records")]
public sealed class RecordPruneTests(RecordsFixture fx)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private RecordPruner Pruner => fx.Services.GetRequiredService<RecordPruner>();

    [Fact]
    public async Task Prune_empties_payloads_up_to_the_cursor_oldest_first_and_keeps_metadata()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        var session = await fx.Writer.OpenAsync(partition, None);
        await session.SaveAsync(RecordsFixture.Issues(120), None);
        await session.DeleteAsync(["issue-000001"], None);
        var before = await fx.ReadAllAsync(partition);
        var until = before[99].Cursor;

        var (count, hasMore) = await Pruner.PruneAsync(partition, until, 60, None);
        Assert.Equal((60, true), (count, hasMore));
        (count, hasMore) = await Pruner.PruneAsync(partition, until, null, None);
        Assert.Equal((40, false), (count, hasMore));
        Assert.Equal((0, false), await Pruner.PruneAsync(partition, until, null, None));

        var after = await fx.ReadAllAsync(partition);
        Assert.Equal(before.Select(r => (r.Id, r.Cursor, r.Action, r.FirstSeen, r.DeletedAt)), after.Select(r => (r.Id, r.Cursor, r.Action, r.FirstSeen, r.DeletedAt)));
        foreach (var record in after.Take(100))
        {
            Assert.True(record.PrunedAt > 0);
            var json = RecordsFixture.Json(record);
            Assert.Equal(["id"], json.Select(p => p.Key));
            Assert.Equal(record.Id, json["id"]!.GetValue<string>());
        }
        Assert.All(after.Skip(100), r => Assert.Equal(0, r.PrunedAt));
        Assert.All(after.Skip(100), r => Assert.NotNull(RecordsFixture.Json(r)["title"]));
        Assert.Equal(119, await fx.Reader.CountAsync(partition, None));
    }

    [Fact]
    public async Task A_pruned_record_saved_again_gets_its_payload_back()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        await fx.Writer.SaveAsync(partition, [RecordsFixture.Issue("a", "original"), RecordsFixture.Issue("b", "original")], None);
        var before = await fx.ReadAllAsync(partition);
        await Pruner.PruneAsync(partition, before[^1].Cursor, null, None);

        var session = await fx.Writer.OpenAsync(partition, None);
        var result = await session.SaveAsync([RecordsFixture.Issue("a", "original"), RecordsFixture.Issue("b", "changed")], None);

        Assert.Equal((1, 1), (result.Unchanged, result.Updated));
        var after = (await fx.ReadAllAsync(partition)).ToDictionary(r => r.Id);
        // Same payload: restored in place, no new modification. New payload: an ordinary update.
        Assert.Equal(before[0].Cursor, after["a"].Cursor);
        Assert.Equal(0, after["a"].PrunedAt);
        Assert.Equal("original", RecordsFixture.Json(after["a"])["title"]!.GetValue<string>());
        Assert.Equal("UPDATED", after["b"].Action);
        Assert.Equal("changed", RecordsFixture.Json(after["b"])["title"]!.GetValue<string>());
        Assert.Equal(0, after["b"].PrunedAt);
    }

    [Fact]
    public async Task Pruning_an_unknown_partition_prunes_nothing()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        Assert.Equal((0, false), await Pruner.PruneAsync(partition, new Cursor(DateTime.UtcNow.Ticks), null, None));
    }
}
