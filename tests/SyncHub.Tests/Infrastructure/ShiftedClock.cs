namespace SyncHub.Tests.Infrastructure;

/// <summary>
/// The system clock moved forward by <see cref="Offset"/>: "now" jumps ahead (schedules fall due) while timers and
/// delays keep running in real time, so leases, heartbeats and run budgets behave as usual.
/// </summary>
public sealed class ShiftedClock : TimeProvider
{
    private long _offsetTicks;

    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}
