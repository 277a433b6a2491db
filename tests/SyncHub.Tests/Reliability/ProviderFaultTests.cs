using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SyncHub.Core.Api;
using SyncHub.Core.Scheduling;
using SyncHub.Functions;
using SyncHub.Tests.Infrastructure;
using SyncHub.Tests.Scheduling;
using Xunit.Abstractions;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Reliability;

/// <summary>
/// Provider faults through the whole engine (fake GitHub → Proxy → runner → records), read back through
/// <c>GET /sync/status</c> and <c>GET /records</c>: transient faults are retried and the run succeeds; the rest end in
/// ERROR with a clear message (never the token) and leave the cached records exactly as they were.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class ProviderFaultTests(ITestOutputHelper output)
{
    private const string Token = "gho_test_token";

    private static Task<SyncEngine> StartAsync() => SyncEngine.StartAsync(new Dictionary<string, string?>
    {
        ["SyncHub:Proxy:BaseDelay"] = "00:00:00.050",
        ["SyncHub:Proxy:MaxDelay"] = "00:00:00.200",
        ["SyncHub:Proxy:AttemptTimeout"] = "00:00:00.400",
        ["SyncHub:Proxy:MaxRetries"] = "3",
    });

    private static async Task<JsonObject> StatusAsync(SyncEngine engine, string connection)
    {
        var functions = new SyncFunctions(engine.Get<ApiPipeline>(), engine.Get<SyncEndpoints>());
        var response = await FunctionCall.SendAsync(engine.Services, functions.Status, "GET",
            $"provider_config_key=github&syncs=issues&connection_id={Uri.EscapeDataString(connection)}");
        Assert.Equal(200, response.Status);
        return response.Json!["syncs"]!.AsArray().Single()!.AsObject();
    }

    private static async Task<List<string>> SnapshotAsync(SyncEngine engine, string connection) =>
        (await engine.RecordsAsync(connection, "GithubIssue")).Select(r => $"{r.Id}|{r.Cursor}|{r.Action}|{System.Text.Encoding.UTF8.GetString(r.Payload)}").ToList();

    [Fact]
    public async Task Rate_limits_bad_gateways_and_timeouts_are_retried_and_the_run_succeeds()
    {
        await using var engine = await StartAsync();
        var source = Api.Issues(250).ToList();
        engine.Github.SetIssues("o/r", source);
        engine.Github.Fail(
            FakeGithub.Status(429, new Dictionary<string, string> { ["Retry-After"] = "1" }),
            FakeGithub.Status(502),
            FakeGithub.Delay(TimeSpan.FromSeconds(3))); // three failed attempts; the fourth (1 + MaxRetries) gets through

        var connection = await engine.ImportAsync();
        await engine.PumpAsync();

        var status = await StatusAsync(engine, connection);
        Assert.True(status["status"]!.GetValue<string>() == "SUCCESS", status.ToJsonString());
        // Retry-After: 1 — the fake heard nothing for a second after its 429 (50 ms for clock granularity).
        var (limited, next, gap) = engine.Github.NextRequestAfter(429);
        Assert.True(gap >= TimeSpan.FromMilliseconds(950), $"Retry-After was not honoured: {next} came {gap.TotalMilliseconds:F0} ms after {limited}");
        var records = await engine.RecordsAsync(connection, "GithubIssue");
        Assert.Equal(250, records.Select(r => r.Id).Distinct().Count());
        Assert.Equal(250, records.Count);
        Assert.Equal(250, status["recordCount"]!["GithubIssue"]!.GetValue<int>());
        Assert.Equal(250, status["latestResult"]!["GithubIssue"]!["added"]!.GetValue<int>());
    }

    public static TheoryData<string> PermanentFaults => ["401 revoked credentials", "malformed JSON", "502 forever", "timeout forever"];

    [Theory]
    [MemberData(nameof(PermanentFaults))]
    public async Task A_fault_that_does_not_pass_is_an_ERROR_with_a_clear_message_and_the_cache_is_untouched(string fault)
    {
        await using var engine = await StartAsync();
        engine.Github.SetIssues("o/r", Api.Issues(150));
        var connection = await engine.ImportAsync();
        await engine.PumpAsync();
        var before = await SnapshotAsync(engine, connection);
        Assert.Equal(150, before.Count);

        // The source changed: a run that got through would write. It must not.
        engine.Github.SetIssues("o/r", Api.Issues(200, version: 1));
        Func<HttpContext, Task<bool>> make = fault switch
        {
            "401 revoked credentials" => FakeGithub.Status(401),
            "malformed JSON" => FakeGithub.Malformed(),
            "502 forever" => FakeGithub.Status(502),
            _ => FakeGithub.Delay(TimeSpan.FromSeconds(5)),
        };
        engine.Github.Fail(Enumerable.Range(0, 20).Select(_ => make).ToArray());
        engine.Github.Requests.Clear();
        await engine.Get<SyncSchedules>().TriggerAsync(new SyncKey("github", connection, "issues", "base"), reset: true, emptyCache: false, default);
        await engine.PumpAsync();

        var status = await StatusAsync(engine, connection);
        var error = status["error"]?.GetValue<string>();
        output.WriteLine($"{fault}: {error}");
        Assert.Equal("ERROR", status["status"]!.GetValue<string>());
        Assert.NotNull(error);
        Assert.DoesNotContain(Token, error);
        Assert.DoesNotContain("   at ", error); // no stack trace
        var requests = engine.Github.Requests.Count;
        switch (fault)
        {
            case "401 revoked credentials":
                Assert.Contains("401", error);
                Assert.Equal(1, requests); // not retried
                break;
            case "malformed JSON":
                Assert.Contains("JSON", error, StringComparison.OrdinalIgnoreCase);
                Assert.Contains("/repos/o/r/issues", error);
                break;
            case "502 forever":
                Assert.Contains("502", error);
                Assert.Equal(4, requests); // 1 + MaxRetries
                break;
            default:
                Assert.Contains("in time", error);
                Assert.Equal(4, requests);
                break;
        }
        Assert.Equal(before, await SnapshotAsync(engine, connection));
        Assert.Equal(150, status["recordCount"]!["GithubIssue"]!.GetValue<int>());
        Assert.Equal(ScheduleStates.Started, (await engine.ScheduleAsync(connection, "issues"))!.State);
    }
}
