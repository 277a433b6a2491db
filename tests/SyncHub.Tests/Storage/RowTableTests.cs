using Azure.Data.Tables;
using SyncHub.Core.Storage;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Storage;

/// <summary>The row layer's two-row transaction against Azurite: both rows or neither, never a lost update.</summary>
public sealed class RowTableTests : IAsyncLifetime
{
    private sealed record Counter(string Row, int N);

    private sealed class CounterRows : IRowCodec<Counter>
    {
        public TableEntity Encode(Counter value) => new("p", value.Row) { ["N"] = value.N };

        public Counter Decode(TableEntity row) => new(row.RowKey, row.GetInt32("N") ?? 0);
    }

    private readonly TableClient _client = new TableServiceClient(TestEnvironment.StorageConnectionString)
        .GetTableClient("rowtable" + Guid.NewGuid().ToString("N")[..12]);

    private RowTable<Counter> Rows => new(_client, new CounterRows());

    public Task InitializeAsync() => _client.CreateAsync();

    public Task DisposeAsync() => _client.DeleteAsync();

    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Writes_the_row_and_creates_or_changes_the_other_together()
    {
        var first = (await Rows.TryAddAsync(new Counter("a", 1), None))!.Value;
        Assert.True(await Rows.TryWriteWithAsync("p", "a", first.ETag, new Counter("a", 2), "sum", s => new Counter("sum", (s?.N ?? 0) + 10), None));
        var again = (await Rows.GetAsync("p", "a", None))!.Value;
        Assert.True(await Rows.TryWriteWithAsync("p", "a", again.ETag, null, "sum", s => new Counter("sum", (s?.N ?? 0) + 10), None));

        Assert.Null(await Rows.GetAsync("p", "a", None));
        Assert.Equal(20, (await Rows.GetAsync("p", "sum", None))!.Value.Value.N);
    }

    [Fact]
    public async Task A_change_to_the_other_row_meanwhile_is_kept_and_the_change_applied_to_it()
    {
        var first = (await Rows.TryAddAsync(new Counter("a", 1), None))!.Value;
        await Rows.TryAddAsync(new Counter("sum", 5), None);
        var calls = 0;
        var written = await Rows.TryWriteWithAsync("p", "a", first.ETag, new Counter("a", 2), "sum", s =>
        {
            if (calls++ == 0)
            {
                // Another writer adds 100 after this one read the row.
                Rows.UpdateAsync("p", "sum", c => c! with { N = c.N + 100 }, None).GetAwaiter().GetResult();
            }
            return new Counter("sum", s!.N + 10);
        }, None);

        Assert.True(written);
        Assert.Equal(2, calls);
        Assert.Equal(115, (await Rows.GetAsync("p", "sum", None))!.Value.Value.N);
        Assert.Equal(2, (await Rows.GetAsync("p", "a", None))!.Value.Value.N);
    }

    [Fact]
    public async Task A_row_changed_since_it_was_read_writes_neither()
    {
        var first = (await Rows.TryAddAsync(new Counter("a", 1), None))!.Value;
        await Rows.TryReplaceAsync(new Counter("a", 7), first.ETag, None);

        Assert.False(await Rows.TryWriteWithAsync("p", "a", first.ETag, new Counter("a", 2), "sum", s => new Counter("sum", 10), None));
        Assert.False(await Rows.TryWriteWithAsync("p", "a", first.ETag, null, "sum", s => new Counter("sum", 10), None));

        Assert.Equal(7, (await Rows.GetAsync("p", "a", None))!.Value.Value.N);
        Assert.Null(await Rows.GetAsync("p", "sum", None));
    }
}
