using SyncHub.Core.Scheduling;
using SyncHub.Tests.Infrastructure;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Scheduling;

public sealed class SchedulerTests
{
    [Fact]
    public async Task A_tick_sends_one_message_per_32_due_syncs_and_every_due_sync_runs_once()
    {
        await using var engine = await SyncEngine.StartAsync();
        engine.Github.SetIssues("o/r", [FakeGithub.Issue(1, "2026-01-01T00:00:00Z")]);
        var connections = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            connections.Add(await engine.ImportAsync());
        }
        await engine.PumpAsync();
        var keys = connections.SelectMany(c => new[] { new SyncKey("github", c, "issues", "base"), new SyncKey("github", c, "labels", "base") }).ToList();
        var now = DateTime.UtcNow.Ticks;
        foreach (var key in keys)
        {
            await engine.Get<DueRuns>().AddAsync(key, now, default);
            await engine.Get<ScheduleStore>().UpdateAsync(key, s => s with { NextRunAt = now }, default);
        }

        Assert.Equal(40, await engine.Get<Scheduler>().EnqueueDueAsync(default));

        var queued = (await engine.Queue.PeekMessagesAsync(32)).Value;
        Assert.Equal(2, queued.Length);
        Assert.Equal(0, await engine.Get<Scheduler>().EnqueueDueAsync(default));
        await engine.PumpAsync();
        foreach (var key in keys)
        {
            Assert.Equal(2, (await engine.Get<ScheduleStore>().GetAsync(key, default))!.Successes);
        }
    }
}
