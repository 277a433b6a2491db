using System.Diagnostics;
using SyncHub.Core.Model;
using SyncHub.Core.Scheduling;
using SyncHub.Core.Telemetry;
using SyncHub.Integrations.Github;
using SyncHub.Tests.Infrastructure;
using SyncHub.Tests.Scheduling;

namespace SyncHub.Tests.Telemetry;

/// <summary>
/// The metrics and traces a run emits (the names infra/app/alerts.bicep and workbook.bicep query), captured with a
/// MeterListener and an ActivityListener on the SyncHub meter and source while runs go through the real engine.
/// </summary>
public sealed class RunTelemetryTests
{
    private static (string, string) Integration(string value) => (SyncHubTelemetry.IntegrationTag, value);
    private static (string, string) Sync(string value) => (SyncHubTelemetry.SyncTag, value);
    private static (string, string) Status(string value) => (SyncHubTelemetry.StatusTag, value);
    private static (string, string) Model(string value) => (SyncHubTelemetry.ModelTag, value);

    private static IEnumerable<System.Text.Json.Nodes.JsonObject> Issues(int count) =>
        Enumerable.Range(0, count).Select(i => FakeGithub.Issue(1000 + i, $"2026-01-01T00:00:{i % 60:D2}Z", $"Issue {i}"));

    [Fact]
    public async Task A_successful_run_counts_its_start_success_records_requests_duration_and_has_an_activity_with_its_run_id()
    {
        using var capture = new TelemetryCapture();
        await using var engine = await SyncEngine.StartAsync();
        engine.Github.SetIssues("o/r", Issues(7));
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug"), FakeGithub.Label(2, "docs")]);

        var connection = await engine.ImportAsync();
        await engine.PumpAsync();

        foreach (var sync in new[] { "issues", "labels" })
        {
            Assert.Equal(1, capture.Sum("synchub.runs.started", Integration("github"), Sync(sync)));
            Assert.Equal(1, capture.Sum("synchub.runs.succeeded", Integration("github"), Sync(sync)));
            Assert.Equal(0, capture.Sum("synchub.runs.failed", Integration("github"), Sync(sync)));
            var duration = Assert.Single(capture.Of("synchub.runs.duration", Integration("github"), Sync(sync)));
            Assert.Equal("SUCCESS", duration[SyncHubTelemetry.StatusTag]);
            Assert.InRange(duration.Value, 0, 60);
        }
        Assert.Equal(7, capture.Sum("synchub.records.added", Integration("github"), Sync("issues"), Model(GithubIssues.Model)));
        Assert.Equal(2, capture.Sum("synchub.records.added", Integration("github"), Sync("labels"), Model(GithubLabels.Model)));
        Assert.Empty(capture.Of("synchub.records.updated"));
        Assert.Empty(capture.Of("synchub.records.deleted"));
        Assert.All(capture.Of("synchub.records.added"), m => Assert.Equal(["integration", "sync", "model"], m.Tags.Keys));

        // Each request the provider answered is counted once, by its run's sync and its status.
        var issueRequests = engine.Github.Requests.Count(r => r.PathAndQuery.StartsWith("/repos/o/r/issues", StringComparison.Ordinal));
        var labelRequests = engine.Github.Requests.Count(r => r.PathAndQuery.StartsWith("/repos/o/r/labels", StringComparison.Ordinal));
        Assert.True(issueRequests > 0 && labelRequests > 0);
        Assert.Equal(issueRequests, capture.Sum("synchub.provider.requests", Integration("github"), Sync("issues"), Status("200")));
        Assert.Equal(labelRequests, capture.Sum("synchub.provider.requests", Integration("github"), Sync("labels"), Status("200")));
        Assert.Equal(engine.Github.Requests.Count, capture.Sum("synchub.provider.requests"));
        Assert.Empty(capture.Of("synchub.provider.retries"));

        // Every run message picked up says how long it waited, with its kind.
        var pickups = capture.Of("synchub.queue.pickup_latency", Integration("github"));
        Assert.NotEmpty(pickups);
        Assert.All(pickups, p => Assert.InRange(p.Value, 0, 60));
        Assert.Contains(pickups, p => p[SyncHubTelemetry.KindTag] == nameof(SyncRunKind.Scheduled));

        // One activity per invocation that ran the sync, with the run id of the schedule row and the outcome.
        foreach (var sync in new[] { "issues", "labels" })
        {
            var schedule = (await engine.ScheduleAsync(connection, sync))!;
            var run = Assert.Single(capture.Activities, a => a.OperationName == SyncHubTelemetry.RunActivity
                && (string?)a.GetTagItem(SyncHubTelemetry.SyncAttribute) == sync && a.GetTagItem(SyncHubTelemetry.RunIdAttribute) is not null);
            Assert.Equal(schedule.RunId, run.GetTagItem(SyncHubTelemetry.RunIdAttribute));
            Assert.Equal(connection, run.GetTagItem(SyncHubTelemetry.ConnectionAttribute));
            Assert.Equal("github", run.GetTagItem(SyncHubTelemetry.IntegrationAttribute));
            Assert.Equal("SUCCESS", run.GetTagItem(SyncHubTelemetry.OutcomeAttribute));
            Assert.Equal(ActivityKind.Internal, run.Kind);
            Assert.NotEqual(ActivityStatusCode.Error, run.Status);
        }
    }

    [Fact]
    public async Task A_failing_run_counts_as_failed_with_the_provider_status_and_an_error_activity()
    {
        using var capture = new TelemetryCapture();
        await using var engine = await SyncEngine.StartAsync(labelsRuns: "every day");
        engine.Github.SetIssues("o/r", Issues(3));
        var connection = await engine.ImportAsync();
        await engine.PumpAsync();

        engine.Github.Fail(Enumerable.Range(0, 20).Select(_ => FakeGithub.Status(404)).ToArray());
        await engine.Get<SyncSchedules>().TriggerAsync(new SyncKey("github", connection, "issues", "base"), false, false, default);
        await engine.PumpAsync();

        Assert.Equal("ERROR", (await engine.ScheduleAsync(connection, "issues"))!.LastStatus);
        Assert.Equal(2, capture.Sum("synchub.runs.started", Integration("github"), Sync("issues")));
        Assert.Equal(1, capture.Sum("synchub.runs.succeeded", Integration("github"), Sync("issues")));
        Assert.Equal(1, capture.Sum("synchub.runs.failed", Integration("github"), Sync("issues")));
        Assert.Single(capture.Of("synchub.runs.duration", Integration("github"), Sync("issues"), Status("ERROR")));
        Assert.Equal(1, capture.Sum("synchub.provider.requests", Integration("github"), Sync("issues"), Status("404")));
        Assert.Equal(3, capture.Sum("synchub.records.added", Integration("github"), Sync("issues")));

        var failed = Assert.Single(capture.Activities, a => a.OperationName == SyncHubTelemetry.RunActivity
            && (string?)a.GetTagItem(SyncHubTelemetry.OutcomeAttribute) == "ERROR");
        Assert.Equal(ActivityStatusCode.Error, failed.Status);
        Assert.Equal((await engine.ScheduleAsync(connection, "issues"))!.RunId, failed.GetTagItem(SyncHubTelemetry.RunIdAttribute));
        Assert.Equal(nameof(SyncRunKind.Triggered), failed.GetTagItem(SyncHubTelemetry.KindAttribute));
    }

    [Fact]
    public async Task Provider_retries_are_counted_by_the_status_that_caused_them()
    {
        using var capture = new TelemetryCapture();
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?>
        {
            ["SyncHub:Proxy:BaseDelay"] = "00:00:00.020",
            ["SyncHub:Proxy:MaxDelay"] = "00:00:00.050",
        }, issuesAutoStart: false);
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug")]);
        engine.Github.Fail(FakeGithub.Status(502), FakeGithub.Status(503));

        await engine.ImportAsync();
        await engine.PumpAsync();

        Assert.Equal(1, capture.Sum("synchub.runs.succeeded", Integration("github"), Sync("labels")));
        Assert.Equal(1, capture.Sum("synchub.provider.retries", Integration("github"), Sync("labels"), Status("502")));
        Assert.Equal(1, capture.Sum("synchub.provider.retries", Integration("github"), Sync("labels"), Status("503")));
        Assert.Equal(1, capture.Sum("synchub.provider.requests", Integration("github"), Sync("labels"), Status("502")));
        Assert.Equal(1, capture.Sum("synchub.provider.requests", Integration("github"), Sync("labels"), Status("503")));
        Assert.Equal(1, capture.Sum("synchub.provider.requests", Integration("github"), Sync("labels"), Status("200")));
    }

    [Fact]
    public async Task The_scheduler_records_how_late_it_enqueues_a_due_sync()
    {
        using var capture = new TelemetryCapture();
        // issues is not auto-started: it has no due entry until this test gives it one, 30 s in the past.
        await using var engine = await SyncEngine.StartAsync(issuesAutoStart: false, labelsRuns: "every day");
        engine.Github.SetIssues("o/r", Issues(2));
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug")]);
        var connection = await engine.ImportAsync();
        await engine.PumpAsync();
        var key = new SyncKey("github", connection, "issues", "base");
        var dueAt = DateTime.UtcNow.AddSeconds(-30).Ticks;
        await engine.Get<DueRuns>().AddAsync(key, dueAt, default);
        await engine.Get<ScheduleStore>().UpdateAsync(key, s => s with { State = ScheduleStates.Started, NextRunAt = dueAt, Anchor = dueAt }, default);

        var enqueued = await engine.Get<Scheduler>().EnqueueDueAsync(default);
        await engine.PumpAsync();

        Assert.True(enqueued >= 1);
        var lag = Assert.Single(capture.Of("synchub.scheduler.lag", Sync("issues")));
        Assert.Equal("github", lag[SyncHubTelemetry.IntegrationTag]);
        Assert.InRange(lag.Value, 30, 90);
        Assert.Equal(1, capture.Sum("synchub.runs.succeeded", Integration("github"), Sync("issues")));
        Assert.Equal(2, capture.Sum("synchub.records.added", Integration("github"), Sync("issues")));
    }

    [Fact]
    public async Task The_invocations_of_a_run_continued_over_its_budget_share_its_run_id_and_it_counts_once()
    {
        using var capture = new TelemetryCapture();
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?> { ["SyncHub:Scheduling:RunBudget"] = "00:00:00.500" },
            labelsRuns: "every day");
        engine.Github.SetIssues("o/r", Issues(300));
        engine.Github.PageDelay = TimeSpan.FromMilliseconds(300);
        var connection = await engine.ImportAsync();

        await engine.PumpUntilAsync(async () => (await engine.ScheduleAsync(connection, "issues"))?.LastStatus is "SUCCESS" or "ERROR",
            "the issues run (continued over its budget) to end");

        var schedule = (await engine.ScheduleAsync(connection, "issues"))!;
        Assert.Equal("SUCCESS", schedule.LastStatus);
        var invocations = capture.Activities.Where(a => a.OperationName == SyncHubTelemetry.RunActivity
            && (string?)a.GetTagItem(SyncHubTelemetry.RunIdAttribute) == schedule.RunId).ToList();
        Assert.True(invocations.Count >= 2, $"expected the run to continue at least once: {invocations.Count} invocation(s)");
        Assert.Contains(invocations, a => (string?)a.GetTagItem(SyncHubTelemetry.OutcomeAttribute) == "CONTINUING");
        Assert.Contains(invocations, a => (string?)a.GetTagItem(SyncHubTelemetry.KindAttribute) == nameof(SyncRunKind.Continuation));
        Assert.Equal(1, capture.Sum("synchub.runs.started", Integration("github"), Sync("issues")));
        Assert.Equal(1, capture.Sum("synchub.runs.succeeded", Integration("github"), Sync("issues")));
        Assert.Equal(300, capture.Sum("synchub.records.added", Integration("github"), Sync("issues")));
        Assert.Contains(capture.Of("synchub.queue.pickup_latency", Integration("github"), Sync("issues")),
            m => m[SyncHubTelemetry.KindTag] == nameof(SyncRunKind.Continuation));
    }

    [Fact]
    public async Task Webhook_deliveries_and_failed_attempts_are_counted_by_sync()
    {
        using var capture = new TelemetryCapture();
        await using var receiver = await WebhookReceiver.StartNewAsync();
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?> { ["SyncHub:Webhooks:PrimaryUrl"] = receiver.Url.ToString() },
            labelsRuns: "every day");
        engine.Github.SetIssues("o/r", Issues(2));
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug")]);
        var connection = await engine.ImportAsync();
        await engine.PumpAsync();

        // Each run's webhook waits in the webhooks table; deliver them here (the webhooks queue is not pumped).
        receiver.Answer(500);
        await engine.Get<Core.Webhooks.WebhookDelivery>().DeliverAsync(new Core.Webhooks.WebhookMessage("github", connection, "issues:base"), default);
        await engine.Get<Core.Webhooks.WebhookDelivery>().DeliverAsync(new Core.Webhooks.WebhookMessage("github", connection, "labels:base"), default);

        Assert.Equal(1, capture.Sum("synchub.webhooks.failed", Integration("github"), Sync("issues"), Status("retrying")));
        Assert.Equal(0, capture.Sum("synchub.webhooks.delivered", Integration("github"), Sync("issues")));
        Assert.Equal(1, capture.Sum("synchub.webhooks.delivered", Integration("github"), Sync("labels")));
        Assert.Equal(0, capture.Sum("synchub.webhooks.failed", Integration("github"), Sync("labels")));
        Assert.Single(receiver.Of(connection), r => r.AnsweredWith == 200);
    }
}
