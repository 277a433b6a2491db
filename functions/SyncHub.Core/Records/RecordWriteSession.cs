using Azure;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using SyncHub.Core.Storage;
using SyncHub.Core.Model;

namespace SyncHub.Core.Records;

/// <summary>
/// A writer's view of one partition, kept for a whole sync run: the <c>meta</c> row's counters and ETag. Each batch reads
/// the index entries of its own ids only (none for an empty set, nor for ids that a session which opened on an empty
/// set certainly did not insert itself; a streamed scan for a set at most twice the batch; point reads otherwise), so a run's storage traffic and memory follow what it writes, not what is stored. What it read
/// is valid while <c>meta</c> still has the ETag this session last wrote or read; every transaction asserts that, so a
/// concurrent writer makes the transaction fail atomically, and the session reloads and re-plans what was not yet written.
/// <para>
/// A batch goes through <see cref="RecordWritePlanner"/> (pure: what to write, packed into transactions) and
/// <see cref="RecordWriteCommitter"/> (the fenced transactions); the session reads what the planner needs (index
/// entries, stored payloads for update and delete), keeps its view in step with each committed transaction, and
/// retries on conflicts.
/// </para>
/// </summary>
public sealed class RecordWriteSession
{
    // A writer that keeps losing to another on the same partition backs off exponentially (full jitter, capped), so
    // it waits out the other's run instead of colliding with its every batch: 12 attempts wait at most ~6 s in all.
    private const int MaxAttempts = 12;
    private const int BackoffBaseMs = 20;
    private const int BackoffCapMs = 1_000;
    private const int ParallelReads = 32;

    /// <summary>A batch scans the index instead of point-reading its ids when the set holds at most this many records per batch id.</summary>
    internal const int ScanRatio = 2;
    private const int IndexScanParts = 16;
    private const int ParallelIndexScans = 4;
    private static readonly IReadOnlyList<(string From, string To)> IndexRanges = IndexScanRanges();

    private readonly RecordPartition _partition;
    private readonly RecordSetStore _sets;
    private readonly StorageClients _storage;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private RecordSet _set = null!;
    private TableClient _table = null!;
    private RecordWriteCommitter _committer = null!;
    private RecordMeta _meta;

    /// <summary>
    /// Set while this session knows every stored id is one it inserted itself: it opened (or reloaded) on an empty set,
    /// and every commit since was fenced on the meta ETag it read or wrote last, so no one else wrote in between. A
    /// reload drops it. Ids it certainly did not insert need no lookup.
    /// </summary>
    private InsertedIds? _inserted;

    /// <summary>
    /// Set while the set was not empty when the view was loaded: large saves find their stored entries by reading ahead
    /// in cursor order (a full sync saving every record again) instead of a point read per id. Dropped by a reload.
    /// </summary>
    private StoredOrderWindow? _window;

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

    /// <summary>Index entries the stored-order window holds now (its memory; 0 when off).</summary>
    internal int WindowHeld => _window?.Held ?? 0;

    /// <summary>Records stored, deleted or not, exactly (the meta row's counter).</summary>
    public long TotalCount => _meta.Total;

    /// <summary>Full-payload upsert. Identical payload: no write. Deleted: comes back ADDED. Pruned: payload restored.</summary>
    public Task<BatchResult> SaveAsync(IReadOnlyList<JsonObject> records, CancellationToken ct) =>
        ExecuteAsync(records, WriteMode.Save, ct);

    /// <summary>Merges each record's top-level fields into the stored payload.</summary>
    public Task<BatchResult> UpdateAsync(IReadOnlyList<JsonObject> records, CancellationToken ct) =>
        ExecuteAsync(records, WriteMode.Update, ct);

    /// <summary>Soft delete: the record keeps its last payload, becomes DELETED and gets a new cursor.</summary>
    public Task<BatchResult> DeleteAsync(IReadOnlyList<JsonObject> records, CancellationToken ct) =>
        ExecuteAsync(records, WriteMode.Delete, ct);

    public Task<BatchResult> DeleteAsync(IEnumerable<string> ids, CancellationToken ct) =>
        DeleteAsync(ids.Select(id => new JsonObject { ["id"] = id }).ToArray(), ct);

    /// <summary>(Re)loads the partition's current generation and meta row (its ETag is the fence). No index is read here:
    /// each batch looks up only its own ids (<see cref="LookupAsync"/>).</summary>
    public async Task ReloadAsync(CancellationToken ct)
    {
        _set = await _sets.GetOrCreateAsync(_partition, ct);
        _table = _storage.Table(_set.TableName);
        await _table.CreateIfNotExistsAsync(ct);
        var meta = await RecordRows.MetaRows(_table).GetAsync(RecordRows.PartitionKey, RecordRows.MetaRowKey, ct);
        _committer = new RecordWriteCommitter(_table, meta?.ETag);
        _meta = meta?.Value ?? RecordMeta.Empty(_set.Floor);
        _inserted = _meta.Total == 0 ? new InsertedIds() : null;
        _window = _meta.Total > 0 ? new StoredOrderWindow(_table, _meta.HighWater) : null;
    }

    /// <summary>
    /// The stored index entries of <paramref name="items"/> (a batch's), nothing else: what the planner needs. An empty
    /// set (meta total 0) needs no read at all, nor does an id this session certainly did not insert while it knows it
    /// inserted everything stored (<see cref="_inserted"/>); a set at most <see cref="ScanRatio"/> times the batch is read with one
    /// streamed index scan (few requests, at most that many entities per batch id); a large save looks in the
    /// <see cref="StoredOrderWindow"/> first (a range read per 1,000 records when the source lists them in stored
    /// order); the rest are point-read, <see cref="ParallelReads"/> at a time. Either way the cost follows the batch, not
    /// the set, and only the batch's entries (and the window's) are kept. The entries are valid while meta keeps this
    /// session's ETag: every commit (or <see cref="RecordWriteCommitter.ConfirmUnchangedAsync"/>) asserts it after they were read.
    /// </summary>
    /// <returns>The entries found, and how many of them the window held (null: the window was not asked).</returns>
    private async Task<(Dictionary<string, IndexEntry> Found, int? WindowHits)> LookupAsync(WriteMode mode, IReadOnlyList<BatchItem> items, CancellationToken ct)
    {
        var found = new Dictionary<string, IndexEntry>(StringComparer.Ordinal);
        if (_meta.Total == 0 || items.Count == 0)
        {
            return (found, null);
        }
        if (_inserted is not null)
        {
            // Everything stored was inserted by this session: an id it did not insert is new (a filter's false
            // "maybe" costs one lookup, never a wrong answer).
            items = items.Where(i => _inserted.MightContain(i.Id)).ToList();
            if (items.Count == 0)
            {
                return (found, null);
            }
        }
        if (_meta.Total <= (long)ScanRatio * items.Count)
        {
            var wanted = items.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
            await foreach (var entry in ScanIndexAsync(ct))
            {
                if (wanted.Contains(entry.Id))
                {
                    lock (found)
                    {
                        found[entry.Id] = entry;
                    }
                }
            }
            return (found, null);
        }
        int? windowHits = null;
        if (mode == WriteMode.Save && items.Count >= StoredOrderWindow.MinBatch && _window is { Active: true } window)
        {
            found = await window.FindAsync(items.Select(i => i.Id).ToList(), ct);
            windowHits = found.Count;
            items = items.Where(i => !found.ContainsKey(i.Id)).ToList();
        }
        var rows = RecordRows.IndexRows(_table);
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = ct }, async (item, token) =>
        {
            var row = await rows.GetAsync(RecordRows.PartitionKey, RecordRows.IndexRowKey(item.Id), token, IndexEntryRows.Columns);
            if (row is not null)
            {
                lock (found)
                {
                    found[item.Id] = row.Value.Value;
                }
            }
        });
        return (found, windowHits);
    }

    /// <summary>
    /// Every index entry of the set, streamed (nothing is kept): the index in key ranges, a few at a time. In Azure each
    /// page is a round trip; Azurite sorts every row a query matches before it returns a page (index keys are hashes,
    /// so in random order), so a range of a sixteenth of the index costs far less per page than the whole index would.
    /// </summary>
    private async IAsyncEnumerable<IndexEntry> ScanIndexAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var ranges = IndexRanges;
        for (var first = 0; first < ranges.Count; first += ParallelIndexScans)
        {
            var group = ranges.Skip(first).Take(ParallelIndexScans).ToList();
            var parts = await Task.WhenAll(group.Select(async range =>
            {
                var entries = new List<IndexEntry>();
                await foreach (var entry in ScanIndexRangeAsync(range.From, range.To, ct))
                {
                    entries.Add(entry);
                }
                return entries;
            }));
            foreach (var entry in parts.SelectMany(p => p))
            {
                yield return entry;
            }
        }
    }

    /// <summary>The index entries with keys in [<paramref name="from"/>, <paramref name="to"/>), in key order, streamed page by page.</summary>
    internal async IAsyncEnumerable<IndexEntry> ScanIndexRangeAsync(string from, string to, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var filter = $"PartitionKey eq '{RecordRows.PartitionKey}' and RowKey ge '{from}' and RowKey lt '{to}'";
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: IndexEntryRows.Columns, cancellationToken: ct))
        {
            yield return IndexEntryRows.Codec.Decode(row);
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

    private async Task<BatchResult> ExecuteAsync(IReadOnlyList<JsonObject> records, WriteMode mode, CancellationToken ct)
    {
        var batch = RecordWritePlanner.Prepare(records, mode);
        var result = new BatchResult();
        result.Rejected.AddRange(batch.Rejected);
        var pending = batch.Items;
        for (var attempt = 1; pending.Count > 0; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            var done = new HashSet<BatchItem>();
            try
            {
                var (stored, windowHits) = await LookupAsync(mode, pending, ct);
                var payloads = await ReadPayloadsAsync(RecordWritePlanner.PayloadsToRead(mode, pending, stored), ct);
                var plan = RecordWritePlanner.Plan(mode, pending, stored, payloads, _meta, _clock);
                if (plan.Transactions.Count > 0)
                {
                    await _committer.CommitAsync(plan, transaction =>
                    {
                        Committed(transaction, result);
                        done.UnionWith(transaction.Changes.Select(c => c.Item));
                    }, ct);
                }
                else
                {
                    await _committer.ConfirmUnchangedAsync(ct);
                }
                result.Unchanged += plan.Unchanged;
                result.Rejected.AddRange(plan.Rejected);
                if (windowHits is { } hits)
                {
                    _window!.Advance(pending.Count, hits, stored.Values, ct);
                }
                break;
            }
            // A read of the table after it was dropped (the set emptied: a reset, a variant or connection delete) is a
            // stale view too: the reload finds the set's new generation, or that the set is gone.
            catch (Exception stale) when (stale is StaleViewException or RequestFailedException { Status: 404 })
            {
                var reason = stale is StaleViewException ? stale.Message : "the record table is gone (the partition was emptied)";
                if (attempt >= MaxAttempts)
                {
                    throw new RecordWriteConflictException(
                        $"Gave up writing to {_partition} after {attempt} attempts: another writer kept changing it ({reason}).");
                }
                _logger.LogInformation("Record partition {Partition} changed under this writer ({Reason}); reloading (attempt {Attempt})",
                    _partition, reason, attempt);
                // What was committed before the conflict stays done; the rest is re-planned on a fresh view.
                pending = pending.Where(p => !done.Contains(p)).ToList();
                // Two writers that keep failing each other (on Azurite a read can even see another writer's transaction
                // before it rolls back) stop doing it in step: a random pause whose bound doubles with each attempt.
                if (attempt > 1)
                {
                    await Task.Delay(Backoff(attempt), ct);
                }
                await ReloadAsync(ct);
            }
        }
        result.Rejected.Sort((a, b) => a.Index.CompareTo(b.Index));
        return result;
    }

    internal static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Random.Shared.Next(1, Math.Min(BackoffCapMs, BackoffBaseMs << Math.Min(attempt - 1, 16)) + 1));

    /// <summary>A transaction is stored: the view and the counts follow it.</summary>
    private void Committed(PlannedTransaction transaction, BatchResult result)
    {
        _meta = transaction.Meta;
        foreach (var change in transaction.Changes)
        {
            if (change.Kind == ChangeKind.Insert)
            {
                if (_inserted is not null && !_inserted.TryAdd(change.Item.Id))
                {
                    // Its memory cap is reached: from now on this session looks its ids up like any other.
                    _logger.LogInformation("Record partition {Partition}: {Count} ids inserted, past the inserted-id filter's {Bytes} bytes; looking ids up from now on",
                        _partition, _inserted.Count, InsertedIds.MaxBytes);
                    _inserted = null;
                }
            }
            _window?.Forget(change.Item.Id);
            if (change.Kind == ChangeKind.Restore)
            {
                result.Unchanged++;
                continue;
            }
            // The cursors this batch wrote: a webhook's cursorRange and modifiedAfter.
            result.FirstCursor = result.FirstCursor == 0 ? change.Entry.Cursor : result.FirstCursor;
            result.LastCursor = change.Entry.Cursor;
            _ = change.Action switch
            {
                "ADDED" => result.Added++,
                "UPDATED" => result.Updated++,
                _ => result.Deleted++,
            };
        }
    }

    private async Task<Dictionary<string, byte[]>> ReadPayloadsAsync(IReadOnlyList<IndexEntry> entries, CancellationToken ct)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (entries.Count == 0)
        {
            return result;
        }
        using var gate = new SemaphoreSlim(ParallelReads);
        var reads = entries.Select(async entry =>
        {
            await gate.WaitAsync(ct);
            try
            {
                var row = await _table.GetEntityIfExistsAsync<TableEntity>(RecordRows.PartitionKey, new Cursor(entry.Cursor).RowKey, cancellationToken: ct);
                if (!row.HasValue)
                {
                    throw new StaleViewException("a record row moved");
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
}
