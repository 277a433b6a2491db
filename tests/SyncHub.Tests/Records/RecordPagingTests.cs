using SyncHub.Core.Records;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Records;

[Collection("records")]
public sealed class RecordPagingTests(RecordsFixture fx)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Every_record_is_returned_exactly_once_in_cursor_order_at_every_page_size()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        await fx.Writer.SaveAsync(partition, RecordsFixture.Issues(2_100), None);
        // Some updates so cursor order differs from insertion order.
        await fx.Writer.SaveAsync(partition, Enumerable.Range(0, 2_100).Where(i => i % 10 == 0).Select(i => RecordsFixture.Issue($"issue-{i:D6}", "v2", i)).ToList(), None);

        foreach (var limit in new[] { 1, 7, 100, 500 })
        {
            var all = await fx.ReadAllAsync(partition, limit);
            Assert.Equal(2_100, all.Count);
            Assert.Equal(2_100, all.Select(r => r.Id).Distinct().Count());
            Assert.True(all.Zip(all.Skip(1)).All(p => p.First.Cursor < p.Second.Cursor), $"cursor order at limit {limit}");
            Assert.All(all.TakeLast(210), r => Assert.Equal("UPDATED", r.Action));
        }
    }

    [Fact]
    public async Task Next_cursor_is_null_exactly_when_no_record_follows()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        Assert.Null((await fx.Reader.ReadAsync(partition, new RecordQuery(null, null, null, null, 10), None)).Next);
        await fx.Writer.SaveAsync(partition, RecordsFixture.Issues(10), None);

        var exact = await fx.Reader.ReadAsync(partition, new RecordQuery(null, null, null, null, 10), None);
        Assert.Equal(10, exact.Records.Count);
        Assert.Null(exact.Next);

        var first = await fx.Reader.ReadAsync(partition, new RecordQuery(null, null, null, null, 9), None);
        Assert.Equal(first.Records[^1].Cursor, first.Next);
        var last = await fx.Reader.ReadAsync(partition, new RecordQuery(first.Next, null, null, null, 9), None);
        Assert.Single(last.Records);
        Assert.Null(last.Next);
    }

    [Fact]
    public async Task Modified_after_is_inclusive_at_the_exact_tick()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        await fx.Writer.SaveAsync(partition, RecordsFixture.Issues(5), None);
        var all = await fx.ReadAllAsync(partition);
        var pivot = all[2];

        var emitted = RecordTimestamps.Format(pivot.Cursor.Ticks);
        Assert.True(RecordTimestamps.TryParse(emitted, out var ticks, out _));
        Assert.Equal(pivot.Cursor.Ticks, ticks);

        Assert.Equal(all.Skip(2).Select(r => r.Id), (await fx.ReadAllAsync(partition, modifiedAfter: ticks)).Select(r => r.Id));
        Assert.Equal(all.Skip(3).Select(r => r.Id), (await fx.ReadAllAsync(partition, modifiedAfter: ticks + 1)).Select(r => r.Id));
        Assert.Equal(all.Where(r => r.Cursor.Ticks >= ticks - 1).Select(r => r.Id), (await fx.ReadAllAsync(partition, modifiedAfter: ticks - 1)).Select(r => r.Id));
        // With a cursor too, both bounds apply.
        Assert.Equal(all.Skip(4).Select(r => r.Id), (await fx.ReadAllAsync(partition, from: all[3].Cursor, modifiedAfter: ticks)).Select(r => r.Id));
    }

    [Theory]
    [InlineData("2026-11-26T10:00:00.1234567+00:00", "2026-11-26T10:00:00.1234567Z")]
    [InlineData("2026-11-26T10:00:00.123456+00:00", "2026-11-26T10:00:00.1234560Z")]
    [InlineData("2026-11-26T10:00:00.123Z", "2026-11-26T10:00:00.1230000Z")]
    [InlineData("2026-11-26T12:00:00+02:00", "2026-11-26T10:00:00.0000000Z")]
    [InlineData("2026-11-26T10:00:00.123456789Z", "2026-11-26T10:00:00.1234568Z")]
    [InlineData("2026-11-26T10:00:00.123456700Z", "2026-11-26T10:00:00.1234567Z")]
    [InlineData("2026-11-26", "2026-11-26T00:00:00.0000000Z")]
    [InlineData("2026-11-26T10:00Z", "2026-11-26T10:00:00.0000000Z")]
    public void Timestamps_in_every_emitted_and_common_form_parse(string text, string expected)
    {
        Assert.True(RecordTimestamps.TryParse(text, out var ticks, out var error), error);
        Assert.Equal(DateTimeOffset.Parse(expected).UtcTicks, ticks);
    }

    [Theory]
    [InlineData("2026-11-26T10:00:00")]
    [InlineData("yesterday")]
    [InlineData("2026-13-01T00:00:00Z")]
    [InlineData("")]
    public void Ambiguous_or_invalid_timestamps_are_refused(string text) => Assert.False(RecordTimestamps.TryParse(text, out _, out _));

    [Fact]
    public async Task Filters_select_the_union_of_the_named_actions()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        var session = await fx.Writer.OpenAsync(partition, None);
        await session.SaveAsync(RecordsFixture.Issues(6), None);
        await session.SaveAsync([RecordsFixture.Issue("issue-000002", "v2", 2), RecordsFixture.Issue("issue-000003", "v2", 3)], None);
        await session.DeleteAsync(["issue-000004"], None);

        async Task<string[]> Ids(params string[] actions) =>
            (await fx.ReadAllAsync(partition, limit: 2, actions: actions)).Select(r => r.Id[^1..]).ToArray();

        Assert.Equal(["0", "1", "5"], await Ids("ADDED"));
        Assert.Equal(["2", "3"], await Ids("UPDATED"));
        Assert.Equal(["4"], await Ids("DELETED"));
        Assert.Equal(["2", "3", "4"], await Ids("UPDATED", "DELETED"));
        Assert.Equal(["0", "1", "5", "4"], await Ids("ADDED", "DELETED"));
        Assert.Equal(["0", "1", "5", "2", "3", "4"], await Ids("ADDED", "UPDATED", "DELETED"));
    }

    [Fact]
    public async Task Ids_select_those_records_and_respect_cursor_filter_and_limit()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        await fx.Writer.SaveAsync(partition, RecordsFixture.Issues(300), None);
        var wanted = Enumerable.Range(0, 100).Select(i => $"issue-{i * 3:D6}").Reverse().ToList();

        var page = await fx.Reader.ReadAsync(partition, new RecordQuery(null, null, null, [.. wanted, "no-such-id"], 60), None);
        Assert.Equal(60, page.Records.Count);
        Assert.Equal(wanted.Order(StringComparer.Ordinal).Take(60), page.Records.Select(r => r.Id));
        var rest = await fx.Reader.ReadAsync(partition, new RecordQuery(page.Next, null, null, wanted, 60), None);
        Assert.Equal(40, rest.Records.Count);
        Assert.Null(rest.Next);

        var none = await fx.Reader.ReadAsync(partition, new RecordQuery(null, null, ["DELETED"], wanted, 60), None);
        Assert.Empty(none.Records);
    }

    [Fact]
    public async Task Records_of_other_variants_models_and_connections_are_separate()
    {
        var connection = await fx.NewConnectionAsync();
        var other = await fx.NewConnectionAsync();
        await fx.Writer.SaveAsync(RecordsFixture.Issues(connection), RecordsFixture.Issues(3), None);
        await fx.Writer.SaveAsync(RecordsFixture.Issues(connection, "v1"), RecordsFixture.Issues(2), None);
        await fx.Writer.SaveAsync(new RecordPartition("github", connection, "GithubLabel"), RecordsFixture.Issues(1), None);
        await fx.Writer.SaveAsync(RecordsFixture.Issues(other), RecordsFixture.Issues(4), None);

        Assert.Equal(3, (await fx.ReadAllAsync(RecordsFixture.Issues(connection))).Count);
        Assert.Equal(2, (await fx.ReadAllAsync(RecordsFixture.Issues(connection, "v1"))).Count);
        Assert.Equal(1, await fx.Reader.CountAsync(new RecordPartition("github", connection, "GithubLabel"), None));
        Assert.Equal(4, await fx.Reader.CountAsync(RecordsFixture.Issues(other), None));
    }
}
