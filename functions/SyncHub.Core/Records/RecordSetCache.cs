using System.Collections.Concurrent;
using SyncHub.Core.Model;

namespace SyncHub.Core.Records;

/// <summary>
/// The record sets that readers found to exist, per instance, so that a warm <c>GET /records</c> page is one range query.
/// Only positive answers are kept (a set that did not exist may be created any moment). A cached set can only go stale
/// by its table going away: emptying, deleting a variant or a connection all move the set to a new generation and drop
/// the old table, so a read of a stale entry fails with 404 and the reader looks the set (and the connection) up again.
/// </summary>
public sealed class RecordSetCache
{
    /// <summary>Entries kept before the cache starts over: a bound on memory, not a tuning knob.</summary>
    public const int Capacity = 20_000;

    private readonly ConcurrentDictionary<RecordPartition, RecordSet> _sets = new();

    public RecordSet? Find(RecordPartition partition) => _sets.TryGetValue(partition, out var set) ? set : null;

    public void Remember(RecordSet set)
    {
        if (_sets.Count >= Capacity)
        {
            _sets.Clear();
        }
        _sets[set.Partition] = set;
    }

    public void Forget(RecordPartition partition) => _sets.TryRemove(partition, out _);
}
