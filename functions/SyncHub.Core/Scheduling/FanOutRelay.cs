namespace SyncHub.Core.Scheduling;

/// <summary>
/// The scheduler packs up to 32 due syncs into one message (<see cref="SyncRunMessage.FanOut"/>); the run function
/// that receives it gives every other sync its own message before running the first. A retry of the packed message
/// only re-sends duplicates, which the run lease refuses.
/// </summary>
public sealed class FanOutRelay(SyncRunQueue queue)
{
    private const int Parallelism = 8;

    /// <summary>Re-sends the packed syncs as messages of their own; returns the message left to run here.</summary>
    public async Task<SyncRunMessage> RelayAsync(SyncRunMessage message, CancellationToken ct)
    {
        if (message.FanOut is not { Count: > 0 } others)
        {
            return message;
        }
        await Parallel.ForEachAsync(others, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
            (key, token) => new ValueTask(queue.SendAsync(new SyncRunMessage(key, SyncRunKind.Scheduled), token)));
        return message with { FanOut = null };
    }
}
