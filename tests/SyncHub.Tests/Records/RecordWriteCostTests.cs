using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.Core.Model;
using SyncHub.Core.Records;
using SyncHub.Core.Scheduling;
using SyncHub.Functions;
using SyncHub.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SyncHub.Tests.Records;

/// <summary>
/// What a write costs in storage requests and entities, counted exactly: a run's traffic follows the records it writes,
/// not the records stored (no whole-index load), and delete detection sweeps the index range by range with the seen ids
/// of one range in memory.
/// </summary>
public sealed class RecordWriteCostTests(ITestOutputHelper output) : IDisposable
{
    private readonly StorageRequestLog _log = new();
    private ServiceProvider? _services;

    private ServiceProvider Services => _services ??= Build();

    private ServiceProvider Build()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddFunctionApp(TestEnvironment.Configuration());
        services.AddSingleton(_log.Clients());
        return services.BuildServiceProvider();
    }

    public void Dispose() => _services?.Dispose();

    private RecordWriter Writer => Services.GetRequiredService<RecordWriter>();

    private static readonly CancellationToken None = CancellationToken.None;

    private async Task<RecordPartition> StoredAsync(int count)
    {
        var partition = RecordsFixture.Issues(TestEnvironment.Unique("cost"));
        var session = await Writer.OpenAsync(partition, None);
        for (var from = 0; from < count; from += 1000)
        {
            await session.SaveAsync(RecordsFixture.Issues(Math.Min(1000, count - from), from), None);
        }
        return partition;
    }

    /// <summary>A run on a set of <paramref name="stored"/>: open, save 10 unchanged, then 10 changed; its requests.</summary>
    private async Task<(IReadOnlyList<StorageRequest> Unchanged, IReadOnlyList<StorageRequest> Changed)> IncrementalRunAsync(int stored)
    {
        var partition = await StoredAsync(stored);
        _log.Clear();
        _log.Enabled = true;
        var session = await Writer.OpenAsync(partition, None);
        var unchanged = await session.SaveAsync(RecordsFixture.Issues(10, stored / 2), None);
        var first = _log.Requests;
        var changed = await session.SaveAsync(RecordsFixture.Issues(10, stored / 3, "changed"), None);
        var all = _log.Requests;
        _log.Enabled = false;
        Assert.Equal(10, unchanged.Unchanged);
        Assert.Equal(10, changed.Updated);
        return (first, all.Skip(first.Count).ToList());
    }

    private void Print(string title, IReadOnlyList<StorageRequest> requests)
    {
        output.WriteLine($"{title}: {requests.Count} requests");
        foreach (var group in requests.GroupBy(r => $"{r.Method}{(r.Conditional ? " if-match" : "")} {r.Table}"))
        {
            output.WriteLine($"  {group.Count(),5} × {group.Key}");
        }
    }

    [Fact]
    public async Task An_incremental_run_costs_the_same_requests_on_200_and_on_2000_stored_records()
    {
        var small = await IncrementalRunAsync(200);
        var large = await IncrementalRunAsync(2000);
        Print("200 stored: open + 10 unchanged", small.Unchanged);
        Print("2000 stored: open + 10 unchanged", large.Unchanged);
        Print("200 stored: 10 changed", small.Changed);
        Print("2000 stored: 10 changed", large.Changed);

        // Was: one scan of every index row at open (a request per 1,000 of them, in 16 key ranges).
        Assert.Equal(small.Unchanged.Count, large.Unchanged.Count);
        Assert.Equal(small.Changed.Count, large.Changed.Count);
        // No range query on the record table: the 10 ids are point reads.
        Assert.DoesNotContain(large.Unchanged, r => r.Table == "records" && r.Method == "GET" && r.Path.EndsWith("()", StringComparison.Ordinal));
        Assert.Equal(10, large.Unchanged.Count(r => r.Table == "records" && r.Path.Contains("RowKey='i:", StringComparison.Ordinal)));
        // 10 changed records: 10 index point reads and one transaction.
        Assert.Equal(10, large.Changed.Count(r => r.Table == "records" && r.Path.Contains("RowKey='i:", StringComparison.Ordinal)));
        Assert.Equal(1, large.Changed.Count(r => r.Table == "$batch"));
    }

    [Fact]
    public async Task An_initial_sync_into_an_empty_set_reads_no_index()
    {
        var partition = RecordsFixture.Issues(TestEnvironment.Unique("cost"));
        _log.Enabled = true;
        var session = await Writer.OpenAsync(partition, None);
        var before = _log.Count;
        var result = await session.SaveAsync(RecordsFixture.Issues(300), None);
        var requests = _log.Since(before);
        _log.Enabled = false;
        Print("300 new records into an empty set", requests);
        Assert.Equal(300, result.Added);
        // Only transactions: 300 × 2 operations + meta, 99 operations each.
        Assert.All(requests, r => Assert.Equal("$batch", r.Table));
        Assert.Equal(7, requests.Count);
    }

    [Fact]
    public async Task An_initial_sync_past_its_first_batch_still_reads_no_index()
    {
        var partition = RecordsFixture.Issues(TestEnvironment.Unique("cost"));
        _log.Enabled = true;
        var session = await Writer.OpenAsync(partition, None);
        var before = _log.Count;
        var added = 0;
        for (var from = 0; from < 3000; from += 1000)
        {
            added += (await session.SaveAsync(RecordsFixture.Issues(1000, from), None)).Added;
        }
        var requests = _log.Since(before);
        _log.Enabled = false;
        Print("3,000 new records into an empty set, batches of 1,000", requests);
        Assert.Equal(3000, added);
        Assert.Equal(3000, session.TotalCount);
        // The session inserted everything stored, so ids it did not insert need no lookup: transactions only
        // (1,000 × 2 operations + meta per batch, 99 operations each: 21 per batch). Was 2,000 index point reads.
        Assert.All(requests, r => Assert.Equal("$batch", r.Table));
        Assert.Equal(63, requests.Count);

        // Ids it did insert are still looked up: saved again, they are unchanged or updated, never added twice.
        var again = await session.SaveAsync([.. RecordsFixture.Issues(5, 100), .. RecordsFixture.Issues(5, 2000, "changed"), .. RecordsFixture.Issues(5, 3000)], None);
        Assert.Equal((5, 5, 5), (again.Unchanged, again.Updated, again.Added));
        Assert.Equal(3005, session.TotalCount);
    }

    private static bool IsRecordRangeRead(StorageRequest r) =>
        r.Table == "records" && r.Method == "GET" && r.Path.EndsWith("()", StringComparison.Ordinal);

    private static bool IsIndexPointRead(StorageRequest r) =>
        r.Table == "records" && r.Path.Contains("RowKey='i:", StringComparison.Ordinal);

    [Fact]
    public async Task A_full_sync_saving_every_record_again_reads_ahead_in_stored_order_and_point_reads_only_new_ids()
    {
        var partition = await StoredAsync(3000);
        _log.Clear();
        _log.Enabled = true;
        var session = await Writer.OpenAsync(partition, None);
        var (unchanged, updated, added) = (0, 0, 0);
        for (var from = 0; from < 3000; from += 1000)
        {
            // 5 changed records per batch, and 5 new ones.
            var batch = RecordsFixture.Issues(995, from).Concat(RecordsFixture.Issues(5, from + 995, "changed")).Concat(RecordsFixture.Issues(5, 10_000 + from)).ToList();
            var result = await session.SaveAsync(batch, None);
            (unchanged, updated, added) = (unchanged + result.Unchanged, updated + result.Updated, added + result.Added);
            Assert.True(session.WindowHeld <= 2 * 1005, $"the window holds {session.WindowHeld} entries after batch {from / 1000 + 1}");
        }
        var requests = _log.Requests;
        _log.Enabled = false;
        Print("full re-save of 3,000 stored (15 changed, 15 new), batches of 1,000", requests);
        Assert.Equal((2985, 15, 15), (unchanged, updated, added));
        Assert.Equal(3015, session.TotalCount);
        // The source lists the records in the order they were stored: one range read of record rows per batch (the
        // first reads 5 rows more, to hold as many entries as it has ids) finds every stored one, changed or not; only
        // the 15 new ids, not in the window, are point-read (was: one index point read per id, 3,000). The last read
        // reached the set's end, so nothing is read after the last batch.
        Assert.Equal(15, requests.Count(IsIndexPointRead));
        Assert.Equal(4, requests.Count(IsRecordRangeRead));
        Assert.DoesNotContain(requests, r => r.Path.Contains("RowKey ge 'i:", StringComparison.Ordinal));
        using var fx = new RecordsFixture();
        var stored = await fx.ReadAllAsync(partition);
        Assert.Equal(3015, stored.Count);
        Assert.Equal(15, stored.Count(r => r.Action == "UPDATED"));
    }

    [Fact]
    public async Task A_record_changed_while_the_next_window_was_read_is_judged_on_where_it_is_now()
    {
        var partition = await StoredAsync(3000);
        var session = await Writer.OpenAsync(partition, None);
        // Batch 1 also changes issue 1500, whose row the read ahead for batch 2 (in flight meanwhile) covers.
        var first = await session.SaveAsync([.. RecordsFixture.Issues(1000, 0), .. RecordsFixture.Issues(1, 1500, "changed")], None);
        Assert.Equal((1000, 1), (first.Unchanged, first.Updated));
        // Batch 2 brings issue 1500 back as it was: that is a change again, not "unchanged" by the row read before.
        var second = await session.SaveAsync(RecordsFixture.Issues(1000, 1000), None);
        Assert.Equal((999, 1), (second.Unchanged, second.Updated));
        using var fx = new RecordsFixture();
        var stored = (await fx.ReadAllAsync(partition)).Single(r => r.Id == RecordsFixture.Issues(1, 1500)[0]["id"]!.GetValue<string>());
        Assert.DoesNotContain("changed", System.Text.Encoding.UTF8.GetString(stored.Payload), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5000, 1500)] // more ids than the window read ahead: it reads on, in the dropped table
    [InlineData(3000, 2000)] // a set at most twice the batch: the index scan, in the dropped table
    public async Task A_set_emptied_during_a_full_re_save_is_written_again_from_empty(int stored, int next)
    {
        var partition = await StoredAsync(stored);
        var session = await Writer.OpenAsync(partition, None);
        Assert.Equal(1000, (await session.SaveAsync(RecordsFixture.Issues(1000, 0), None)).Unchanged);
        // A reset empties the set (a new generation, the old table dropped) while the session is saving it again.
        var sets = Services.GetRequiredService<RecordSetStore>();
        var storage = Services.GetRequiredService<SyncHub.Core.Storage.StorageClients>();
        await sets.StartNewGenerationAsync(partition, async set =>
            (await storage.Table(set.TableName).GetEntityAsync<Azure.Data.Tables.TableEntity>(RecordRows.PartitionKey, RecordRows.MetaRowKey)).Value.GetInt64("Hw") ?? 0, None);

        var result = await session.SaveAsync(RecordsFixture.Issues(next, 1000), None);

        Assert.Equal((next, 0, 0), (result.Added, result.Updated, result.Unchanged));
        Assert.Equal(next, session.TotalCount);
        using var fx = new RecordsFixture();
        Assert.Equal(next, (await fx.ReadAllAsync(partition)).Count);
    }

    [Fact]
    public async Task A_save_in_another_order_than_stored_turns_the_window_off_after_two_batches_and_point_reads()
    {
        var partition = await StoredAsync(3000);
        _log.Clear();
        _log.Enabled = true;
        var session = await Writer.OpenAsync(partition, None);
        // Every third record, then the next third …: each batch of 100 is spread over the whole set.
        var unchanged = 0;
        var order = Enumerable.Range(0, 3000).OrderBy(i => i % 30).ThenBy(i => i).ToList();
        foreach (var chunk in order.Chunk(100).Take(5))
        {
            unchanged += (await session.SaveAsync(chunk.Select(i => RecordsFixture.Issues(1, i)[0]).ToList(), None)).Unchanged;
        }
        var requests = _log.Requests;
        _log.Enabled = false;
        Print("5 batches of 100 in another order than stored", requests);
        Assert.Equal(500, unchanged);
        // Three reads ahead, then none: the first batch's, the next one (in flight while that batch was judged, then
        // abandoned), and one after the furthest record the first batch found, which the second batch mostly missed
        // too. The rest are point reads.
        Assert.Equal(3, requests.Count(IsRecordRangeRead));
        Assert.InRange(requests.Count(IsIndexPointRead), 500 - 2 * 100, 500);
        Assert.Equal(0, session.WindowHeld);
    }

    [Fact]
    public async Task A_full_sync_whose_records_another_writer_changed_meanwhile_saves_them_again()
    {
        var partition = await StoredAsync(2500);
        var session = await Writer.OpenAsync(partition, None);
        Assert.Equal(1000, (await session.SaveAsync(RecordsFixture.Issues(1000), None)).Unchanged);
        // The session now holds a digest of the set. Another writer changes records it has not saved yet, and one it did.
        var other = await Writer.OpenAsync(partition, None);
        Assert.Equal(11, (await other.SaveAsync([.. RecordsFixture.Issues(10, 1500, "other"), .. RecordsFixture.Issues(1, 0, "other"), .. RecordsFixture.Issues(1, 9000)], None)).Updated);

        // Saving the original payloads: the fence fails, the session reloads, and finds them changed.
        var result = await session.SaveAsync([.. RecordsFixture.Issues(1000, 1000), .. RecordsFixture.Issues(1, 0), .. RecordsFixture.Issues(1, 9000)], None);
        Assert.Equal((991, 11, 0), (result.Unchanged, result.Updated, result.Added));
        Assert.Equal(2501, session.TotalCount);
        using var fx = new RecordsFixture();
        var stored = await fx.ReadAllAsync(partition);
        Assert.Equal(2501, stored.Count);
        Assert.DoesNotContain(stored, r => System.Text.Encoding.UTF8.GetString(r.Payload).Contains("other", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_session_that_filled_an_empty_set_looks_ids_up_again_once_another_writer_wrote()
    {
        var partition = RecordsFixture.Issues(TestEnvironment.Unique("cost"));
        var first = await Writer.OpenAsync(partition, None);
        Assert.Equal(100, (await first.SaveAsync(RecordsFixture.Issues(100), None)).Added);
        // Another writer adds an id the first session never inserted, and changes one it did.
        var second = await Writer.OpenAsync(partition, None);
        var other = await second.SaveAsync([.. RecordsFixture.Issues(1, 500), .. RecordsFixture.Issues(1, 0, "other")], None);
        Assert.Equal((1, 1), (other.Added, other.Updated));

        // The first session's fence fails, it reloads and no longer trusts what it inserted: the other writer's id is
        // found (updated, not added twice), the counts stay exact.
        var result = await first.SaveAsync([.. RecordsFixture.Issues(1, 500, "mine"), .. RecordsFixture.Issues(1, 0, "mine"), .. RecordsFixture.Issues(1, 600)], None);
        Assert.Equal((2, 1), (result.Updated, result.Added));
        Assert.Equal(102, first.TotalCount);
        Assert.Equal(102, first.LiveCount);
        using var fx = new RecordsFixture();
        var stored = await fx.ReadAllAsync(partition);
        Assert.Equal(102, stored.Count);
        Assert.Equal(102, stored.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task Delete_detection_sweeps_the_index_by_range_against_seen_ids_kept_in_storage()
    {
        var partition = await StoredAsync(300);
        var session = await Writer.OpenAsync(partition, None);
        var store = Services.GetRequiredService<RunSeenStore>();
        var runId = Guid.NewGuid().ToString("N");
        // Memory holds at most 50 seen keys: the rest go to the run's seen rows, batch by batch.
        var seen = new RunSeenIds(store, runId, spillAt: 50);
        for (var from = 0; from < 200; from += 40)
        {
            await seen.AddAsync("GithubIssue", RecordsFixture.Issues(40, from).Select(r => r["id"]!.GetValue<string>()), None);
            Assert.True(seen.InMemory("GithubIssue").Count < 50);
        }
        Assert.True(seen.AnyStored);

        _log.Clear();
        _log.Enabled = true;
        var deleted = (await SyncExecution.DeleteUnseenAsync(session, seen, "GithubIssue", None)).Deleted;
        var requests = _log.Requests;
        _log.Enabled = false;
        Print("sweep of 300 stored, 200 seen", requests);

        Assert.Equal(100, deleted);
        Assert.Equal(200, session.LiveCount);
        using var fx = new RecordsFixture();
        var stored = await fx.ReadAllAsync(partition);
        Assert.Equal(100, stored.Count(r => r.Action == "DELETED"));
        Assert.All(stored.Where(r => r.Action == "DELETED"), r => Assert.True(string.CompareOrdinal(r.Id, "issue-000200") >= 0));
        // One index range and one seen range per first key character: never the whole index or every seen id at once.
        Assert.Equal(64, requests.Count(r => r.Table == "runseen" && r.Method == "GET"));
        Assert.Equal(64, requests.Count(r => r.Table == "records" && r.Method == "GET" && r.Path.EndsWith("()", StringComparison.Ordinal)));
        await store.DeleteAsync(runId, None);
    }

    [Fact]
    public void Sweep_ranges_cover_the_key_space_in_order_and_split_further_for_large_sets()
    {
        Assert.Equal([(null, "", "~")], SyncExecution.SweepRanges(stored: false, total: 10_000_000));
        foreach (var total in new long[] { 0, 1_000_000, 64L * SyncExecution.SweepStep * 5 })
        {
            var ranges = SyncExecution.SweepRanges(stored: true, total).ToList();
            var parts = Math.Max(1, (int)Math.Ceiling(total / 64.0 / SyncExecution.SweepStep));
            Assert.Equal(64 * parts, ranges.Count);
            Assert.True(ranges.Zip(ranges.Skip(1)).All(p => p.First.To == p.Second.From || p.First.To[0] < p.Second.From[0]));
            Assert.All(ranges, r => Assert.Equal(r.First, r.From[0]));
        }
    }
}
