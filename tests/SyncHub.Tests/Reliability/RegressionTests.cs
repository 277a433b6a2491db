using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using SyncHub.Core.Api;
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
        var seen = await Eventually.Value(() => engine.ScheduleAsync(connection, "issues"), s => s is { RunState: RunStates.Running, CheckpointObject: not null },
            "the run to save a checkpoint while in progress", TimeSpan.FromSeconds(30),
            s => s is null ? "no schedule" : $"run state {s.RunState}, checkpoint {s.Checkpoint ?? "none"}, last status {s.LastStatus}", TimeSpan.FromMilliseconds(20));
        await pump;

        Assert.NotNull(seen);
        var checkpoint = DateTimeOffset.Parse(seen!.CheckpointObject!["updated_at"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        var savedThrough = (int)(checkpoint - new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)).TotalSeconds + 1;
        Assert.True(seen.RunCounts.ContainsKey(GithubIssues.Model), "the checkpoint was saved without the run's counts");
        Assert.Equal(savedThrough, seen.RunCounts[GithubIssues.Model].Added);
    }

    /// <summary>
    /// Found by the fuzzer: a body with invalid UTF-8 inside a JSON string parsed fine (the parser checks UTF-8 only
    /// when a string is read), then failed in the handler: POST /sync/pause answered 500 server_error.
    /// </summary>
    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFE })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    public async Task A_body_that_is_not_UTF8_is_400_invalid_json(byte[] bad)
    {
        byte[] body = [.. Encoding.UTF8.GetBytes("{\"provider_config_key\":\""), .. bad, .. Encoding.UTF8.GetBytes("\",\"connection_id\":\"c\"}")];
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;

        var error = await Assert.ThrowsAsync<ApiException>(() => new ApiRequest(context.Request).JsonObjectAsync(default));

        Assert.Equal(400, error.Status);
        Assert.Equal("invalid_json", error.Code);
    }

    /// <summary>
    /// Found by the fuzzer: a path whose last segment looks like a file name (<c>..Z</c>, <c>x.json</c>) escaped the
    /// LocalHost fallback route (it excludes file-like paths), and ASP.NET answered a bare 404 with no error envelope.
    /// </summary>
    [Fact]
    public async Task A_file_like_unknown_path_answers_the_error_envelope()
    {
        await using var host = await LocalHostProcess.StartAsync();
        foreach (var path in new[] { "no/such/file.txt", "records/x/y.json", "sync/issues/variant/a/..Z" })
        {
            using var response = await host.Client.PostAsync(path, new StringContent("{}", Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(404 == (int)response.StatusCode, $"{path}: {(int)response.StatusCode} {body}");
            Assert.Equal("not_found", System.Text.Json.Nodes.JsonNode.Parse(body)!["error"]!["code"]!.GetValue<string>());
        }
    }

    /// <summary>
    /// Found by the storage-fault test: a run that lost its storage ended in ERROR with the Azure SDK's retry text
    /// ("AggregateException: Retry failed after 4 tries ... Connection refused (127.0.0.1:33109)"), and a bare
    /// storage HttpRequestException would have read "The provider could not be reached".
    /// </summary>
    [Fact]
    public void A_storage_failure_is_described_as_storage_not_as_the_provider()
    {
        var refused = new AggregateException("Retry failed after 4 tries.", new HttpRequestException("Connection refused (127.0.0.1:33109)"));
        var described = SyncRunner.Describe(refused);
        Assert.StartsWith("SyncHub's storage could not be reached", described);
        Assert.DoesNotContain("127.0.0.1", described);
        Assert.Equal("SyncHub's storage answered 503 (ServerBusy); the run stopped and keeps its checkpoint.",
            SyncRunner.Describe(new Azure.RequestFailedException(503, "busy", "ServerBusy", null)));
        Assert.StartsWith("The provider could not be reached", SyncRunner.Describe(new HttpRequestException("refused")));
    }
}
