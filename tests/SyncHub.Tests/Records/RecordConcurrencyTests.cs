using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.Core.Records;
using SyncHub.Core.Storage;
using SyncHub.Tests.Infrastructure;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Records;

[Collection("records")]
public sealed class RecordConcurrencyTests(RecordsFixture fx)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_reader_paging_while_a_writer_inserts_and_updates_sees_every_final_state_in_order()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        var session = await fx.Writer.OpenAsync(partition, None);
        await session.SaveAsync(RecordsFixture.Issues(600, title: "v0"), None);

        var finalTitle = new ConcurrentDictionary<string, string>();
        for (var i = 0; i < 600; i++)
        {
            finalTitle[$"issue-{i:D6}"] = "v0";
        }
        using var stop = new CancellationTokenSource();
        // Reader and writer in step, yet concurrent: the writer commits a batch while each page's read is in flight
        // (it starts one as the reader starts a page), and the reader's next page waits for that batch.
        using var pageStarted = new SemaphoreSlim(0);
        var writesDuringRead = 0;
        var writer = Task.Run(async () =>
        {
            var random = new Random(7);
            var next = 600;
            for (var round = 1; round <= 40; round++)
            {
                try
                {
                    await pageStarted.WaitAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                var batch = new List<JsonObject>();
                foreach (var i in Enumerable.Range(0, 20).Select(_ => random.Next(next)).Distinct())
                {
                    batch.Add(RecordsFixture.Issue($"issue-{i:D6}", $"v{round}", i));
                }
                batch.Add(RecordsFixture.Issue($"issue-{next:D6}", $"v{round}", next));
                next++;
                await session.SaveAsync(batch, None);
                foreach (var record in batch)
                {
                    finalTitle[record["id"]!.GetValue<string>()] = record["title"]!.GetValue<string>();
                }
                Interlocked.Increment(ref writesDuringRead);
            }
        });

        // The reader pages from the start while the writer runs; once it reaches the end the writer stops, and it
        // pages on from where it was to the (now final) end.
        var seen = new List<StoredRecord>();
        Cursor? cursor = null;
        var writerStopped = false;
        var pagesWithWriter = 0;
        while (true)
        {
            if (!writerStopped)
            {
                pagesWithWriter++;
                pageStarted.Release();
            }
            var page = await fx.Reader.ReadAsync(partition, new RecordQuery(cursor, null, null, null, 37), None);
            seen.AddRange(page.Records);
            cursor = page.Next ?? (page.Records.Count > 0 ? page.Records[^1].Cursor : cursor);
            if (page.Next is null)
            {
                if (writerStopped)
                {
                    break;
                }
                stop.Cancel();
                await writer;
                writerStopped = true;
            }
            else if (!writerStopped)
            {
                await Eventually.Until(() => Volatile.Read(ref writesDuringRead) >= pagesWithWriter || writer.IsCompleted,
                    $"the writer's batch for page {pagesWithWriter}", state: () => $"{Volatile.Read(ref writesDuringRead)} batches committed, writer {writer.Status}");
            }
        }

        Assert.True(writesDuringRead > 3, $"the writer only committed {writesDuringRead} batches while the reader paged");
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First.Cursor < p.Second.Cursor), "records arrived out of cursor order");
        var lastSeen = seen.GroupBy(r => r.Id).ToDictionary(g => g.Key, g => RecordsFixture.Json(g.Last())["title"]!.GetValue<string>());
        Assert.Equal(finalTitle.Count, lastSeen.Count);
        foreach (var (id, title) in finalTitle)
        {
            Assert.Equal(title, lastSeen[id]);
        }
        Assert.Equal(finalTitle.Count, await fx.Reader.CountAsync(partition, None));
    }

    [Fact]
    public async Task Two_writers_on_one_partition_cannot_interleave_and_counts_stay_exact()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        var a = await fx.Writer.OpenAsync(partition, None);
        var b = await fx.Writer.OpenAsync(partition, None);

        Assert.Equal(100, (await a.SaveAsync(RecordsFixture.Issues(100, 0, "from-a"), None)).Added);
        // b's view predates a's write: its first transaction is fenced out, it reloads, and re-plans ids 50..99 as updates.
        var result = await b.SaveAsync(RecordsFixture.Issues(100, 50, "from-b"), None);
        Assert.Equal((50, 50), (result.Added, result.Updated));

        var stored = await fx.ReadAllAsync(partition);
        Assert.Equal(150, stored.Count);
        Assert.All(stored.Where(r => string.CompareOrdinal(r.Id, "issue-000050") >= 0), r => Assert.Equal("from-b", RecordsFixture.Json(r)["title"]!.GetValue<string>()));
        Assert.Equal(150, await fx.Reader.CountAsync(partition, None));

        // Both writing at once, over and over, on overlapping ids.
        await Task.WhenAll(Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
        {
            var session = w == 0 ? a : b;
            for (var round = 0; round < 15; round++)
            {
                await session.SaveAsync(RecordsFixture.Issues(30, 140 + round * 5, $"w{w}-r{round}"), None);
            }
        })));
        stored = await fx.ReadAllAsync(partition);
        Assert.Equal(stored.Count, stored.Select(r => r.Id).Distinct().Count());
        Assert.Equal(140 + 14 * 5 + 30, stored.Count);
        Assert.Equal(stored.Count, await fx.Reader.CountAsync(partition, None));
        Assert.True(stored.Zip(stored.Skip(1)).All(p => p.First.Cursor < p.Second.Cursor));
    }

    [Fact]
    public async Task A_transaction_with_a_stale_meta_etag_fails_whole_and_leaves_nothing_written()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        await fx.Writer.SaveAsync(partition, RecordsFixture.Issues(3), None);
        var set = await fx.Services.GetRequiredService<RecordSetStore>().FindAsync(partition, None);
        var table = fx.Services.GetRequiredService<StorageClients>().Table(set!.TableName);
        var staleMeta = (await table.GetEntityAsync<TableEntity>(RecordRows.PartitionKey, RecordRows.MetaRowKey)).Value;
        await fx.Writer.SaveAsync(partition, [RecordsFixture.Issue("another-writer")], None);

        var cursor = new Cursor(DateTime.UtcNow.Ticks + TimeSpan.TicksPerHour);
        TableTransactionAction[] actions =
        [
            new(TableTransactionActionType.Add, new TableEntity(RecordRows.PartitionKey, cursor.RowKey) { ["Id"] = "ghost", ["Action"] = "ADDED" }),
            new(TableTransactionActionType.UpsertReplace, new TableEntity(RecordRows.PartitionKey, RecordRows.IndexRowKey("ghost")) { ["Id"] = "ghost" }),
            new(TableTransactionActionType.UpdateReplace, new TableEntity(RecordRows.PartitionKey, RecordRows.MetaRowKey) { ["Hw"] = cursor.Ticks }, staleMeta.ETag),
        ];
        var failure = await Assert.ThrowsAsync<TableTransactionFailedException>(() => table.SubmitTransactionAsync(actions));
        Assert.Equal(412, failure.Status);

        Assert.False((await table.GetEntityIfExistsAsync<TableEntity>(RecordRows.PartitionKey, cursor.RowKey)).HasValue);
        Assert.False((await table.GetEntityIfExistsAsync<TableEntity>(RecordRows.PartitionKey, RecordRows.IndexRowKey("ghost"))).HasValue);
        Assert.Equal(4, (await fx.ReadAllAsync(partition)).Count);
    }

    [Fact]
    public async Task A_new_generation_empties_the_partition_at_once_and_continues_cursors_above_the_old_ones()
    {
        var partition = RecordsFixture.Issues(await fx.NewConnectionAsync());
        await fx.Writer.SaveAsync(partition, RecordsFixture.Issues(50), None);
        var old = await fx.ReadAllAsync(partition);
        var sets = fx.Services.GetRequiredService<RecordSetStore>();
        var storage = fx.Services.GetRequiredService<StorageClients>();
        var before = (await sets.FindAsync(partition, None))!;

        var next = await sets.StartNewGenerationAsync(partition, async set =>
            (await storage.Table(set.TableName).GetEntityAsync<TableEntity>(RecordRows.PartitionKey, RecordRows.MetaRowKey)).Value.GetInt64("Hw") ?? 0, None);

        Assert.Equal(before.Generation + 1, next.Generation);
        Assert.Empty(await fx.ReadAllAsync(partition));
        Assert.Equal(0, await fx.Reader.CountAsync(partition, None));
        var gone = await Assert.ThrowsAsync<RequestFailedException>(() => storage.Table(before.TableName).GetEntityAsync<TableEntity>(RecordRows.PartitionKey, RecordRows.MetaRowKey));
        Assert.Equal(404, gone.Status);

        // Written again at once: a client holding the old last cursor still sees every re-added record.
        await fx.Writer.SaveAsync(partition, RecordsFixture.Issues(5), None);
        var again = await fx.ReadAllAsync(partition, from: old[^1].Cursor);
        Assert.Equal(5, again.Count);
        Assert.All(again, r => Assert.Equal("ADDED", r.Action));
    }
}
