using System.Globalization;
using SyncHub.Core.Scheduling;
using SyncHub.Integrations.Github;
using SyncHub.Tests.Infrastructure;
using SyncHub.Tests.Scheduling;

namespace SyncHub.Tests.Reliability;

/// <summary>Focused regression tests for the defects the reliability suite found.</summary>
[Collection(ReliabilityCollection.Name)]
public sealed class RegressionTests
{
    /// <summary>
    /// Found by the crash test: a run taken over after its host died reported only what the new host wrote
    /// (latestResult.added 3,400 of 5,000), because the counts were kept in memory until the run ended.
    /// </summary>
    [Fact]
    public async Task A_saved_checkpoint_carries_the_counts_of_the_run_so_far()
    {
        await using var engine = await SyncEngine.StartAsync();
        engine.Github.SetIssues("o/r", Api.Issues(600));
        engine.Github.PageDelay = TimeSpan.FromMilliseconds(150);
        var connection = await engine.ImportAsync();
        var pump = engine.PumpAsync();

        // Look at the row while the run is in progress: whatever checkpoint it shows, the counts match it.
        Schedule? seen = null;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (seen is null && DateTime.UtcNow < deadline)
        {
            var s = await engine.ScheduleAsync(connection, "issues");
            if (s is { RunState: RunStates.Running, CheckpointObject: not null })
            {
                seen = s;
            }
            await Task.Delay(20);
        }
        await pump;

        Assert.NotNull(seen);
        var checkpoint = DateTimeOffset.Parse(seen!.CheckpointObject!["updated_at"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        var savedThrough = (int)(checkpoint - new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)).TotalSeconds + 1;
        Assert.True(seen.RunCounts.ContainsKey(GithubIssues.Model), "the checkpoint was saved without the run's counts");
        Assert.Equal(savedThrough, seen.RunCounts[GithubIssues.Model].Added);
    }
}
