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
    /// Loaded when a save reads a large share of the set (a full sync saving every record again): every stored id's key
    /// (64 bits of its index hash) and what its payload hash is (64 bits; 0 for a deleted or pruned record). Kept with
    /// the same rule as <see cref="_inserted"/>: valid while every commit is fenced on this session's meta ETag, updated
    /// by each of its commits, dropped by a reload. With it, a save looks up only the ids whose payload changed.
    /// </summary>
    private Dictionary<ulong, ulong>? _digest;

    /// <summary>Ids this session's saves have looked up or judged since the set was (re)loaded.</summary>
    private long _judged;

    /// <summary>
    /// A save loads the digest once the ids it judged (with this batch) are at least <see cref="DigestMinIds"/> and a
    /// <c>1/DigestShare</c> of the set: it costs one request per 1,000 stored records (at least 16) instead of one per
    /// id, so incremental runs keep their point reads and a full sync reads the index once.
    /// </summary>
    internal const int DigestShare = 16;

    internal const int DigestMinIds = 1000;

    /// <summary>Sets above this size are never digested (its memory: about 30 bytes per stored record).</summary>
    internal const long DigestLimit = 1_000_000;

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
        _digest = null;
        _judged = 0;
    }

    /// <summary>
    /// The ids of a save that need a lookup, the rest judged from the digest: unchanged (same payload hash, neither
    /// deleted nor pruned) or new (not in it). Loads the digest first when this session is saving a large share of a set.
    /// </summary>
    private async Task<(IReadOnlyList<BatchItem> ToPlan, IReadOnlyList<BatchItem> ToLookUp, int Unchanged)> JudgeAsync(
        WriteMode mode, IReadOnlyList<BatchItem> items, CancellationToken ct)
    {
        if (mode != WriteMode.Save || _inserted is not null || _meta.Total == 0)
        {
            return (items, items, 0);
        }
        _judged += items.Count;
        if (_digest is null && _meta.Total <= DigestLimit && _meta.Total > (long)ScanRatio * items.Count && _judged >= DigestMinIds && _judged * DigestShare >= _meta.Total)
        {
            _digest = await LoadDigestAsync(ct);
        }
        if (_digest is null)
        {
            return (items, items, 0);
        }
        var toPlan = new List<BatchItem>();
        var toLookUp = new List<BatchItem>();
        var unchanged = 0;
        foreach (var item in items)
        {
            if (!_digest.TryGetValue(IdKey(item.Id), out var stored))
            {
                // Not in the digest: a new id, planned as an insert without a lookup.
                toPlan.Add(item);
            }
            else if (stored != 0 && stored == PayloadKey(item.Payload!.Hash))
            {
                unchanged++;
            }
            else
            {
                toPlan.Add(item);
                toLookUp.Add(item);
            }
        }
        return (toPlan, toLookUp, unchanged);
    }

    private async Task<Dictionary<ulong, ulong>> LoadDigestAsync(CancellationToken ct)
    {
        var digest = new Dictionary<ulong, ulong>((int)_meta.Total);
        await Parallel.ForEachAsync(IndexRanges, new ParallelOptions { MaxDegreeOfParallelism = ParallelIndexScans, CancellationToken = ct }, async (range, token) =>
        {
            await foreach (var entry in ScanIndexRangeAsync(range.From, range.To, token))
            {
                var (key, value) = (IdKey(entry.Id), DigestValue(entry));
                lock (digest)
                {
                    digest[key] = value;
                }
            }
        });
        _logger.LogDebug("Record partition {Partition}: digest of {Count} index entries loaded", _partition, digest.Count);
        return digest;
    }

    private static ulong IdKey(string id)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id), hash);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(hash);
    }

    private static ulong PayloadKey(string payloadHash)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(payloadHash), hash);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(hash) | 1;
    }

    private static ulong DigestValue(IndexEntry entry) => entry.Deleted || entry.Pruned ? 0 : PayloadKey(entry.Hash);

    /// <summary>
    /// The stored index entries of <paramref name="ids"/> (a batch's), nothing else: what the planner needs. An empty
    /// set (meta total 0) needs no read at all, nor does an id this session certainly did not insert while it knows it
    /// inserted everything stored (<see cref="_inserted"/>); a set at most <see cref="ScanRatio"/> times the batch is read with one
    /// streamed index scan (few requests, at most that many entities per batch id); any larger set with point reads of
    /// the batch's ids, <see cref="ParallelReads"/> at a time. Either way the cost follows the batch, not the set, and
    /// only the batch's entries are kept. The entries are valid while meta keeps this session's ETag: every commit
    /// (or <see cref="RecordWriteCommitter.ConfirmUnchangedAsync"/>) asserts it after they were read.
    /// </summary>
    private async Task<Dictionary<string, IndexEntry>> LookupAsync(IReadOnlyList<BatchItem> items, CancellationToken ct)
    {
        var found = new Dictionary<string, IndexEntry>(StringComparer.Ordinal);
        if (_meta.Total == 0 || items.Count == 0)
        {
            return found;
        }
        if (_inserted is not null)
        {
            // Everything stored was inserted by this session: an id it did not insert is new (a filter's false
            // "maybe" costs one lookup, never a wrong answer).
            items = items.Where(i => _inserted.MightContain(i.Id)).ToList();
            if (items.Count == 0)
            {
                return found;
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
            return found;
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
        return found;
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
                var (toPlan, toLookUp, judgedUnchanged) = await JudgeAsync(mode, pending, ct);
                var stored = await LookupAsync(toLookUp, ct);
                var payloads = await ReadPayloadsAsync(RecordWritePlanner.PayloadsToRead(mode, toPlan, stored), ct);
                var plan = RecordWritePlanner.Plan(mode, toPlan, stored, payloads, _meta, _clock);
                plan.Unchanged += judgedUnchanged;
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
                _inserted?.Add(change.Item.Id);
            }
            if (_digest is not null)
            {
                _digest[IdKey(change.Item.Id)] = DigestValue(change.Entry);
            }
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
