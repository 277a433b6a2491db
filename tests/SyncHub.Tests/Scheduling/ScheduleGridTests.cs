using Microsoft.Extensions.Time.Testing;
using SyncHub.Core.Scheduling;

namespace SyncHub.Tests.Scheduling;

public sealed class ScheduleGridTests
{
    private static readonly DateTimeOffset Anchor = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Runs_fall_on_the_grid_and_missed_slots_are_skipped()
    {
        var clock = new FakeTimeProvider(Anchor);
        var interval = TimeSpan.FromMinutes(30);
        long Next() => ScheduleGrid.NextAfter(Anchor.UtcTicks, interval, clock.GetUtcNow().UtcTicks);

        Assert.Equal(Anchor.AddMinutes(30).UtcTicks, Next());
        clock.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(Anchor.AddMinutes(30).UtcTicks, Next());
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(Anchor.AddMinutes(60).UtcTicks, Next());
        // A run that finishes 2 h 10 min late does not queue the four slots it missed.
        clock.Advance(TimeSpan.FromMinutes(130));
        Assert.Equal(Anchor.AddMinutes(180).UtcTicks, Next());
    }

    [Fact]
    public void A_frequency_change_anchors_a_new_grid_at_the_change()
    {
        var changedAt = Anchor.AddMinutes(47).UtcTicks;
        Assert.Equal(changedAt + TimeSpan.FromHours(2).Ticks, ScheduleGrid.NextAfter(changedAt, TimeSpan.FromHours(2), changedAt));
        Assert.Equal(Anchor.UtcTicks, ScheduleGrid.NextAfter(Anchor.UtcTicks, TimeSpan.FromHours(1), Anchor.UtcTicks - 5));
    }
}
