namespace SyncHub.Core.Scheduling;

/// <summary>
/// Runs fall on a fixed grid, <c>anchor + k × interval</c>: a late or long run does not shift later ones, and slots
/// missed while a run was late are skipped rather than queued.
/// </summary>
public static class ScheduleGrid
{
    /// <summary>The first grid slot strictly after <paramref name="now"/>.</summary>
    public static long NextAfter(long anchor, TimeSpan interval, long now)
    {
        if (now < anchor)
        {
            return anchor;
        }
        var step = interval.Ticks;
        var slots = (now - anchor) / step + 1;
        return anchor + slots * step;
    }
}
