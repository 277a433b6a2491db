using Azure.Data.Tables;
using SyncHub.Core.Model;

namespace SyncHub.Core.Records;

/// <summary>
/// The stored entries that follow, in cursor order, the records a writer's last batch found. A full sync lists its
/// source in the same order each time, and that is the order its records were first stored in (each batch's rows get
/// rising cursors); reading the record rows ahead in cursor order (only the index columns, no payload) therefore finds
/// a batch's stored entries with one range read per 1,000 records instead of one point read per record, and holds at
/// most a few batches of entries whatever the set's size. The next read starts as soon as a batch has taken its
/// entries, and runs while that batch is judged and committed and the sync fetches its next page. Records stored elsewhere (changed since, so moved to the end) are
/// point-read by the caller; batches mostly not found here (a source listing in another order) turn the window off.
/// <para>
/// Entries are valid under the writer's fence, like every read of its view: the caller drops the window on reload, and
/// its own commits take the ids they moved out (<see cref="Forget"/>).
/// </para>
/// </summary>
internal sealed class StoredOrderWindow
{
    /// <summary>Smaller batches (an incremental run's handful of changed records) point-read their ids.</summary>
    internal const int MinBatch = 50;

    private const int MaxPage = 1000;

    /// <summary>After this many batches in a row with fewer than half their ids here, the window stays off.</summary>
    private const int MissesToStop = 2;

    private static readonly string[] Columns = ["RowKey", "Id", "Action", "FirstSeen", "Hash", "Size", "PrunedAt"];

    private readonly TableClient _table;
    private readonly string _end;
    private readonly long _endCursor;
    private readonly Queue<IndexEntry> _ordered = new();
    private readonly Dictionary<string, IndexEntry> _byId = new(StringComparer.Ordinal);
    private string _after = Cursor.RowKeyPrefix;
    private bool _exhausted;
    private int _misses;
    private int _lastBatch = MinBatch;
    private Task<Page>? _prefetch;

    /// <summary>Ids the writer committed while <see cref="_prefetch"/> was in flight (a batch's at most).</summary>
    private readonly HashSet<string> _movedDuringRead = new(StringComparer.Ordinal);

    /// <param name="highWater">The set's high-water cursor when the writer loaded its view: rows above it are the
    /// writer's own, already known, so the window never reads them.</param>
    public StoredOrderWindow(TableClient table, long highWater)
    {
        _table = table;
        _endCursor = highWater + 1;
        _end = new Cursor(_endCursor).RowKey;
    }

    public bool Active => _misses < MissesToStop;

    /// <summary>Entries held now: the memory the window costs (about two batches at most).</summary>
    public int Held => _byId.Count;

    /// <summary>
    /// The entries of <paramref name="ids"/> found in the window (reading ahead as far as the batch needs); the ids not
    /// returned still need a point read: absent here says nothing about whether they are stored.
    /// </summary>
    public async Task<Dictionary<string, IndexEntry>> FindAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        _lastBatch = ids.Count;
        if (_prefetch is { } pending)
        {
            _prefetch = null;
            Append(await pending);
        }
        while (_byId.Count < ids.Count && !_exhausted)
        {
            Append(await ReadAsync(Math.Min(MaxPage, ids.Count - _byId.Count), ct));
        }
        // The next batch's entries are read while this one is judged and committed.
        StartRead(ct);
        var found = new Dictionary<string, IndexEntry>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            if (_byId.TryGetValue(id, out var entry))
            {
                found[id] = entry;
            }
        }
        return found;
    }

    /// <summary>
    /// A batch is done (judged and committed): <paramref name="hits"/> of its <paramref name="count"/> ids were found
    /// here, <paramref name="stored"/> are the entries it found (here or by point reads). Drops what the batch went past,
    /// re-anchors after a batch mostly not found here (after the furthest record it found), and starts the next read.
    /// </summary>
    public void Advance(int count, int hits, IEnumerable<IndexEntry> stored, CancellationToken ct)
    {
        // The writer's own rows (above the view's high water) say nothing about where the source is in the stored order.
        var furthest = stored.Select(e => e.Cursor).Where(c => c < _endCursor).DefaultIfEmpty(0).Max();
        if (hits * 2 >= count)
        {
            _misses = 0;
            while (_ordered.TryPeek(out var entry) && entry.Cursor <= furthest)
            {
                Drop(_ordered.Dequeue());
            }
        }
        else
        {
            _misses++;
            _ordered.Clear();
            _byId.Clear();
            // A read in flight continues from where the window was: it is left to finish unobserved.
            _prefetch = null;
            _movedDuringRead.Clear();
            if (furthest > 0)
            {
                // Follow the source: read on after the last record this batch found.
                _after = new Cursor(furthest).RowKey;
                _exhausted = false;
            }
        }
        StartRead(ct);
    }

    /// <summary>The writer committed a change to <paramref name="id"/>: its entry here is no longer where the record is.</summary>
    public void Forget(string id)
    {
        _byId.Remove(id);
        if (_prefetch is not null)
        {
            // The read in flight may have seen the row before the commit moved it: its entry is dropped on arrival.
            _movedDuringRead.Add(id);
        }
    }

    private void StartRead(CancellationToken ct)
    {
        if (!Active || _exhausted || _prefetch is not null)
        {
            return;
        }
        var read = ReadAsync(Math.Min(MaxPage, Math.Max(_lastBatch, MinBatch)), ct);
        // Observed here so that a read nobody awaits any more (the writer reloaded) never goes unobserved.
        _ = read.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
        _prefetch = read;
    }

    private void Drop(IndexEntry entry)
    {
        if (_byId.TryGetValue(entry.Id, out var held) && held.Cursor == entry.Cursor)
        {
            _byId.Remove(entry.Id);
        }
    }

    private void Append(Page page)
    {
        foreach (var entry in page.Entries.Where(e => !_movedDuringRead.Contains(e.Id)))
        {
            _ordered.Enqueue(entry);
            _byId[entry.Id] = entry;
        }
        if (page.Entries.Count > 0)
        {
            _after = new Cursor(page.Entries[^1].Cursor).RowKey;
        }
        _movedDuringRead.Clear();
        _exhausted |= page.Last;
    }

    /// <summary>Up to <paramref name="take"/> rows after the last one read (one request), as index entries; the
    /// window moves on when the page is appended, so a read abandoned by a re-anchor changes nothing.</summary>
    private async Task<Page> ReadAsync(int take, CancellationToken ct)
    {
        var from = _after;
        var filter = $"PartitionKey eq '{RecordRows.PartitionKey}' and RowKey gt '{from}' and RowKey lt '{_end}'";
        var entries = new List<IndexEntry>(take);
        string? continuation = null;
        // A dropped table (the set emptied) answers 404 here: the writer reloads its view, as after a failed commit.
        await foreach (var page in _table.QueryAsync<TableEntity>(filter, maxPerPage: take, select: Columns, cancellationToken: ct).AsPages())
        {
            entries.AddRange(page.Values.Select(RecordRows.EntryOf));
            continuation = page.ContinuationToken;
            break;
        }
        return new Page(entries, continuation is null);
    }

    private sealed record Page(List<IndexEntry> Entries, bool Last);
}
