using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SyncHub.Core.Scheduling;
using SyncHub.Tests.Infrastructure;
using SyncHub.Tests.Scheduling;
using SyncHub.Core.Model;

namespace SyncHub.Tests.EndToEnd;

/// <summary>
/// The whole pipeline in a LocalHost process: import over HTTP → queue trigger → runner → records over HTTP; then a
/// due schedule → timer trigger → scheduler → queue → runner, with nothing but the clock asking for it.
/// </summary>
public sealed class SyncOverLocalHostTests
{
    [Fact]
    public async Task Records_arrive_by_themselves_through_the_queue_and_the_timer()
    {
        var runQueue = "e2e-runs-" + Guid.NewGuid().ToString("N")[..12];
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?> { ["SyncHubRunQueue"] = runQueue });
        engine.Github.SetIssues("o/r", Enumerable.Range(0, 5).Select(i => FakeGithub.Issue(100 + i, $"2026-01-01T00:00:0{i}Z")));
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug")]);
        await using var host = await LocalHostProcess.StartAsync(new Dictionary<string, string?>
        {
            ["SyncHub__ConfigPath"] = engine.ConfigPath,
            ["SyncHubRunQueue"] = runQueue,
            ["SyncHubSchedulerCron"] = "* * * * * *",
        });
        var connection = TestEnvironment.Unique("e2e");
        var import = await host.Client.PostAsJsonAsync("connections", new JsonObject
        {
            ["provider_config_key"] = "github",
            ["connection_id"] = connection,
            ["credentials"] = new JsonObject { ["type"] = "API_KEY", ["apiKey"] = "k" },
            ["metadata"] = new JsonObject { ["repo"] = "o/r" },
        });
        Assert.Equal(200, (int)import.StatusCode);

        var records = await WaitForRecordsAsync(host, connection, 5);
        Assert.Equal(["100", "101", "102", "103", "104"], records.Select(r => r!["id"]!.GetValue<string>()));

        // Records are visible before their run ends; make the sync due only once that run has ended (its end places the
        // next run on the grid and would move a due time set before it).
        await Eventually.Value(() => engine.ScheduleAsync(connection, "issues"), s => s is { RunState: RunStates.Idle, Successes: 1 },
            "the first run to end", describe: Describe, interval: TimeSpan.FromMilliseconds(100));

        // Make the issues sync due now: only the timer can notice.
        // An issue updated after the last sync date: the incremental run (since=...) must bring it.
        engine.Github.SetIssues("o/r", [.. Enumerable.Range(0, 5).Select(i => FakeGithub.Issue(100 + i, $"2026-01-01T00:00:0{i}Z")), FakeGithub.Issue(105, "2099-01-01T00:00:00Z")]);
        var key = new SyncKey("github", connection, "issues", "base");
        var now = DateTime.UtcNow.Ticks;
        await engine.Get<DueRuns>().AddAsync(key, now, default);
        await engine.Get<ScheduleStore>().UpdateAsync(key, s => s with { NextRunAt = now }, default);

        records = await WaitForRecordsAsync(host, connection, 6);
        Assert.Equal("105", records[^1]!["id"]!.GetValue<string>());
        Assert.Contains(engine.Github.Requests, r => r.PathAndQuery.StartsWith("/repos/o/r/issues") && r.PathAndQuery.Contains("since="));
        // The records are visible as soon as they are written; the run records its success just after.
        await Eventually.Value(() => engine.ScheduleAsync(connection, "issues"), s => s!.Successes >= 2,
            "the timer-started run to record its success", describe: Describe, interval: TimeSpan.FromMilliseconds(100));
    }

    private static string Describe(Schedule? s) => s is null ? "no schedule" : $"run state {s.RunState}, {s.Successes} successes, last status {s.LastStatus}";

    private static Task<JsonArray> WaitForRecordsAsync(LocalHostProcess host, string connection, int count) =>
        Eventually.Value(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "records?model=GithubIssue");
            request.Headers.Add("Connection-Id", connection);
            request.Headers.Add("Provider-Config-Key", "github");
            using var response = await host.Client.SendAsync(request);
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["records"]!.AsArray();
        }, records => records.Count >= count, $"{count} records over GET /records", describe: records => $"{records.Count} records; LocalHost said:\n{host.Output}",
            interval: TimeSpan.FromMilliseconds(200));
}
