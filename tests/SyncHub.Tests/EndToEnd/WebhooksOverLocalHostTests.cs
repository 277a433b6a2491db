using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using SyncHub.Core.Scheduling;
using SyncHub.Core.Webhooks;
using SyncHub.Tests.Infrastructure;
using SyncHub.Tests.Scheduling;

namespace SyncHub.Tests.EndToEnd;

/// <summary>
/// Outgoing webhooks through a LocalHost process, to a receiver in the test: bodies, signatures, retries with the same
/// delivery id, dead letters and redelivery, a kill -9 before delivery, and order between two runs of one sync.
/// </summary>
public sealed class WebhooksOverLocalHostTests
{
    private static readonly TimeSpan Slow = TimeSpan.FromSeconds(90);

    private sealed class Setup(SyncEngine engine, WebhookReceiver receiver, Dictionary<string, string?> settings) : IAsyncDisposable
    {
        public SyncEngine Engine => engine;
        public WebhookReceiver Receiver => receiver;
        public Dictionary<string, string?> Settings => settings;
        public LocalHostProcess Host { get; set; } = null!;

        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            await receiver.DisposeAsync();
            await engine.DisposeAsync();
        }
    }

    private static async Task<Setup> StartAsync(Dictionary<string, string?>? webhookSettings = null, bool receiverUp = true)
    {
        var runQueue = "wh-runs-" + Guid.NewGuid().ToString("N")[..12];
        var engine = await SyncEngine.StartAsync(new Dictionary<string, string?> { ["SyncHubRunQueue"] = runQueue });
        var receiver = await WebhookReceiver.StartNewAsync(receiverUp);
        var settings = new Dictionary<string, string?>
        {
            ["SyncHub__ConfigPath"] = engine.ConfigPath,
            ["SyncHubRunQueue"] = runQueue,
            ["SyncHubWebhookQueue"] = "wh-hooks-" + Guid.NewGuid().ToString("N")[..12],
            ["SyncHub__Webhooks__PrimaryUrl"] = receiver.Url.ToString(),
            ["SyncHub__Webhooks__RetryDelays"] = "300ms,300ms",
        };
        foreach (var (k, v) in webhookSettings ?? [])
        {
            settings[k] = v;
        }
        return new Setup(engine, receiver, settings) { Host = await LocalHostProcess.StartAsync(settings) };
    }

    private static async Task<string> ImportAsync(LocalHostProcess host)
    {
        var connection = TestEnvironment.Unique("wh");
        var import = await host.Client.PostAsJsonAsync("connections", new JsonObject
        {
            ["provider_config_key"] = "github",
            ["connection_id"] = connection,
            ["credentials"] = new JsonObject { ["type"] = "API_KEY", ["apiKey"] = "k" },
            ["metadata"] = new JsonObject { ["repo"] = "o/r" },
        });
        Assert.Equal(200, (int)import.StatusCode);
        return connection;
    }

    private static async Task TriggerAsync(LocalHostProcess host, string connection, string sync = "issues")
    {
        var response = await host.Client.PostAsJsonAsync("sync/trigger", new JsonObject
        {
            ["provider_config_key"] = "github", ["connection_id"] = connection, ["syncs"] = new JsonArray(sync),
        });
        Assert.Equal(200, (int)response.StatusCode);
    }

    private static Task<Schedule?> RunsAsync(Setup setup, string connection, int successes, string sync = "issues") =>
        Eventually.Value(() => setup.Engine.ScheduleAsync(connection, sync), s => s is { RunState: RunStates.Idle, Outbox: null } && s.Successes + (s.LastStatus == "ERROR" ? 1 : 0) >= successes,
            $"run {successes} of {sync} to end", Slow, s => $"{s?.RunState} {s?.Successes} {s?.LastStatus}\n{setup.Host.Output}", TimeSpan.FromMilliseconds(100));

    private static Task<IReadOnlyList<WebhookReceiver.Received>> HooksAsync(Setup setup, string connection, int count, Func<WebhookReceiver.Received, bool>? which = null) =>
        Eventually.Value(() => (IReadOnlyList<WebhookReceiver.Received>)[.. setup.Receiver.Of(connection).Where(which ?? (_ => true))], r => r.Count >= count,
            $"{count} webhooks", Slow, r => string.Join("\n", r) + "\n" + setup.Host.Output, TimeSpan.FromMilliseconds(100));

    private static async Task<JsonObject> WebhookStatusAsync(LocalHostProcess host, string connection, string sync = "issues")
    {
        var status = JsonNode.Parse(await host.Client.GetStringAsync($"sync/status?provider_config_key=github&syncs={sync}&connection_id={connection}"))!;
        return status["syncs"]![0]!["webhook"]!.AsObject();
    }

    private static async Task<JsonArray> RecordsAsync(LocalHostProcess host, string connection, string query, string? cursor = null)
    {
        var all = new JsonArray();
        do
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"records?model=GithubIssue&limit=2&{query}" + (cursor is null ? "" : $"&cursor={cursor}"));
            request.Headers.Add("Connection-Id", connection);
            request.Headers.Add("Provider-Config-Key", "github");
            using var response = await host.Client.SendAsync(request);
            var page = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.True(response.IsSuccessStatusCode, page.ToJsonString());
            foreach (var record in page["records"]!.AsArray())
            {
                all.Add(record!.DeepClone());
            }
            cursor = page["next_cursor"]?.GetValue<string>();
        }
        while (cursor is not null);
        return all;
    }

    private static string[] Ids(IEnumerable<JsonNode?> records) => [.. records.Select(r => r!["id"]!.GetValue<string>()).Order()];

    [Fact]
    public async Task A_run_sends_one_signed_webhook_per_changed_model_whose_modifiedAfter_and_cursorRange_give_exactly_its_changes()
    {
        await using var setup = await StartAsync();
        setup.Engine.Github.SetIssues("o/r", Enumerable.Range(0, 5).Select(i => FakeGithub.Issue(100 + i, $"2026-01-01T00:00:0{i}Z")));
        var connection = await ImportAsync(setup.Host);
        await RunsAsync(setup, connection, 1);
        await RunsAsync(setup, connection, 1, "labels");
        var first = (await HooksAsync(setup, connection, 1)).Single();

        // The signature headers, as @nangohq/node checks them, with the first secret key (no SigningKey set).
        var key = Encoding.UTF8.GetBytes(TestEnvironment.SecretKey);
        var body = Encoding.UTF8.GetBytes(first.Body);
        Assert.Equal(Convert.ToHexStringLower(HMACSHA256.HashData(key, body)), first.Header("X-Nango-Hmac-Sha256"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData([.. key, .. body])), first.Header("X-Nango-Signature"));
        Assert.True(Guid.TryParse(first.DeliveryId, out _));
        Assert.StartsWith("SyncHub/", first.Header("User-Agent"));
        Assert.Equal("application/json", first.Header("Content-Type"));
        // Compact, as JSON.stringify prints it.
        Assert.Equal(first.Json.ToJsonString(Core.Model.JsonOutput.Options), first.Body);

        var json = first.Json;
        Assert.Equal("nango", (string?)json["from"]);
        Assert.Equal("sync", (string?)json["type"]);
        Assert.Equal(connection, (string?)json["connectionId"]);
        Assert.Equal("github", (string?)json["providerConfigKey"]);
        Assert.Equal("issues", (string?)json["syncName"]);
        Assert.Equal("base", (string?)json["syncVariant"]);
        Assert.Equal("GithubIssue", (string?)json["model"]);
        Assert.Equal("INITIAL", (string?)json["syncType"]);
        Assert.True((bool)json["success"]!);
        Assert.Equal(5, (int)json["responseResults"]!["added"]!);
        Assert.Equal(0, (int)json["responseResults"]!["updated"]!);
        Assert.Equal(json["modifiedAfter"]!.GetValue<string>(), json["queryTimeStamp"]!.GetValue<string>());
        Assert.True(json.ContainsKey("checkpoints") && json["checkpoints"] is null);
        // The labels sync had nothing: no webhook for it.
        Assert.DoesNotContain(setup.Receiver.Of(connection), r => (string?)r.Json["syncName"] == "labels");

        // An incremental run changing 2 issues and adding 1.
        setup.Engine.Github.SetIssues("o/r", [
            .. Enumerable.Range(0, 3).Select(i => FakeGithub.Issue(100 + i, $"2026-01-01T00:00:0{i}Z")),
            FakeGithub.Issue(103, "2099-01-01T00:00:00Z", "changed"), FakeGithub.Issue(104, "2099-01-01T00:00:01Z", "changed"), FakeGithub.Issue(105, "2099-01-01T00:00:02Z")]);
        await TriggerAsync(setup.Host, connection);
        await RunsAsync(setup, connection, 2);
        var second = (await HooksAsync(setup, connection, 2))[1].Json;
        Assert.Equal("INCREMENTAL", (string?)second["syncType"]);
        Assert.Equal(1, (int)second["responseResults"]!["added"]!);
        Assert.Equal(2, (int)second["responseResults"]!["updated"]!);

        var since = await RecordsAsync(setup.Host, connection, "modified_after=" + Uri.EscapeDataString(second["modifiedAfter"]!.GetValue<string>()));
        Assert.Equal(["103", "104", "105"], Ids(since));
        var range = second["cursorRange"]!;
        var paged = new List<JsonNode?>();
        foreach (var record in await RecordsAsync(setup.Host, connection, "", range["from"]!.GetValue<string>()))
        {
            paged.Add(record);
            if (record!["_nango_metadata"]!["cursor"]!.GetValue<string>() == range["to"]!.GetValue<string>())
            {
                break;
            }
        }
        Assert.Equal(["103", "104", "105"], Ids(paged));
        Assert.Equal(range["to"]!.GetValue<string>(), paged[^1]!["_nango_metadata"]!["cursor"]!.GetValue<string>());

        // A run without changes sends nothing.
        await TriggerAsync(setup.Host, connection);
        await RunsAsync(setup, connection, 3);
        var webhook = await WebhookStatusAsync(setup.Host, connection);
        Assert.Equal(0, (int)webhook["pending"]!);
        Assert.Equal(2, setup.Receiver.Of(connection).Count);
        Assert.Equal("DELIVERED", (string?)webhook["lastStatus"]);
        Assert.Equal(0, (int)webhook["failing"]!);
    }

    [Fact]
    public async Task OnSyncCompletionAlways_sends_every_model_and_OnAuthCreation_sends_creation_then_override()
    {
        await using var setup = await StartAsync(new() { ["SyncHub__Webhooks__OnSyncCompletionAlways"] = "true", ["SyncHub__Webhooks__OnAuthCreation"] = "true" });
        var connection = await ImportAsync(setup.Host);
        await RunsAsync(setup, connection, 1);
        await RunsAsync(setup, connection, 1, "labels");
        var auth = (await HooksAsync(setup, connection, 1, r => (string?)r.Json["type"] == "auth")).Single().Json;
        Assert.Equal("creation", (string?)auth["operation"]);
        Assert.Equal("API_KEY", (string?)auth["authMode"]);
        Assert.Equal("github", (string?)auth["provider"]);
        Assert.Equal("default", (string?)auth["environment"]);
        Assert.True((bool)auth["success"]!);

        var syncs = await HooksAsync(setup, connection, 2, r => (string?)r.Json["type"] == "sync");
        Assert.Equal(["GithubIssue", "GithubLabel"], syncs.Select(s => (string)s.Json["model"]!).Order());
        Assert.All(syncs, s =>
        {
            Assert.Equal(0, (int)s.Json["responseResults"]!["added"]!);
            Assert.Null(s.Json["cursorRange"]);
        });

        var again = await setup.Host.Client.PostAsJsonAsync("connections", new JsonObject
        {
            ["provider_config_key"] = "github", ["connection_id"] = connection,
            ["credentials"] = new JsonObject { ["type"] = "API_KEY", ["apiKey"] = "k2" }, ["metadata"] = new JsonObject { ["repo"] = "o/r" },
        });
        Assert.Equal(200, (int)again.StatusCode);
        var overridden = await HooksAsync(setup, connection, 2, r => (string?)r.Json["type"] == "auth");
        Assert.Equal("override", (string?)overridden[1].Json["operation"]);
        Assert.DoesNotContain("k2", overridden[1].Body);
    }

    [Fact]
    public async Task An_error_run_sends_the_error_body_retried_with_the_same_delivery_id_after_the_backoff()
    {
        await using var setup = await StartAsync(new() { ["SyncHub__Webhooks__RetryDelays"] = "700ms,700ms,700ms" });
        setup.Receiver.AnswerFor(j => (string?)j["syncName"] == "issues", 500, 500);
        setup.Engine.Github.Fail(Enumerable.Range(0, 20).Select(_ => FakeGithub.Status(404)).ToArray());
        var connection = await ImportAsync(setup.Host);
        var schedule = await RunsAsync(setup, connection, 1);
        var attempts = await HooksAsync(setup, connection, 3, r => (string?)r.Json["syncName"] == "issues");
        Assert.Equal([500, 500, 200], attempts.Select(a => a.AnsweredWith));
        Assert.Single(attempts.Select(a => a.DeliveryId).Distinct());
        Assert.Single(attempts.Select(a => a.Body).Distinct());
        Assert.True(attempts[1].At - attempts[0].At >= TimeSpan.FromMilliseconds(650), $"gap {attempts[1].At - attempts[0].At}");
        Assert.True(attempts[2].At - attempts[1].At >= TimeSpan.FromMilliseconds(650), $"gap {attempts[2].At - attempts[1].At}");

        var json = attempts[2].Json;
        Assert.Equal("ERROR", schedule!.LastStatus);
        Assert.False((bool)json["success"]!);
        Assert.Equal("GithubIssue", (string?)json["model"]);
        Assert.Equal(schedule.LastError, (string?)json["error"]!["description"]);
        Assert.DoesNotContain("\"k\"", attempts[2].Body);
        Assert.True(DateTimeOffset.Parse((string)json["startedAt"]!) <= DateTimeOffset.Parse((string)json["failedAt"]!));
    }

    [Fact]
    public async Task A_receiver_down_for_good_ends_in_a_dead_letter_shown_in_status_and_resendable()
    {
        await using var setup = await StartAsync(receiverUp: false);
        setup.Engine.Github.SetIssues("o/r", [FakeGithub.Issue(1, "2026-01-01T00:00:00Z")]);
        var connection = await ImportAsync(setup.Host);
        await RunsAsync(setup, connection, 1);
        // The dead letter and the summary are two rows written one after the other: wait for both.
        var status = await Eventually.Value(() => WebhookStatusAsync(setup.Host, connection), s => (int)s["failing"]! == 1 && (string?)s["lastStatus"] == "FAILED",
            "the delivery to be dead-lettered", Slow, s => s.ToJsonString() + setup.Host.Output, TimeSpan.FromMilliseconds(200));
        Assert.Equal("FAILED", (string?)status["lastStatus"]);
        Assert.Null(status["lastDeliveryAt"]);

        await setup.Receiver.StartAsync();
        var redeliver = await setup.Host.Client.PostAsJsonAsync("webhooks/redeliver", new JsonObject { ["provider_config_key"] = "github", ["connection_id"] = connection });
        Assert.Equal("{\"redelivered\":1}", await redeliver.Content.ReadAsStringAsync());
        var delivered = (await HooksAsync(setup, connection, 1)).Single();
        Assert.Equal(1, (int)delivered.Json["responseResults"]!["added"]!);
        status = await Eventually.Value(() => WebhookStatusAsync(setup.Host, connection), s => (string?)s["lastStatus"] == "DELIVERED",
            "the status to show the delivery", Slow, s => s.ToJsonString(), TimeSpan.FromMilliseconds(200));
        Assert.Equal(0, (int)status["failing"]!);
        Assert.NotNull(status["lastDeliveryAt"]);

        // By id: unknown (delivered) → 404.
        var again = await setup.Host.Client.PostAsJsonAsync("webhooks/redeliver", new JsonObject { ["delivery_id"] = delivered.DeliveryId });
        Assert.Equal(404, (int)again.StatusCode);
    }

    [Fact]
    public async Task A_host_killed_before_delivery_delivers_once_it_is_back()
    {
        await using var setup = await StartAsync(new() { ["SyncHub__Webhooks__RetryDelays"] = "3s,3s,3s" }, receiverUp: false);
        setup.Engine.Github.SetIssues("o/r", [FakeGithub.Issue(1, "2026-01-01T00:00:00Z"), FakeGithub.Issue(2, "2026-01-01T00:00:01Z")]);
        var connection = await ImportAsync(setup.Host);
        await RunsAsync(setup, connection, 1);
        await Eventually.Until(async () => (string?)(await WebhookStatusAsync(setup.Host, connection))["lastStatus"] == "RETRYING", "a failed first attempt", Slow);
        setup.Host.Kill();
        await setup.Host.DisposeAsync();

        await setup.Receiver.StartAsync();
        setup.Host = await LocalHostProcess.StartAsync(setup.Settings);
        var delivered = (await HooksAsync(setup, connection, 1)).Single();
        Assert.Equal(2, (int)delivered.Json["responseResults"]!["added"]!);
    }

    [Fact]
    public async Task Webhooks_of_two_runs_of_one_sync_arrive_in_run_order()
    {
        await using var setup = await StartAsync(new() { ["SyncHub__Webhooks__RetryDelays"] = "4s,4s" });
        setup.Receiver.Answer(503);
        setup.Engine.Github.SetIssues("o/r", [FakeGithub.Issue(1, "2026-01-01T00:00:00Z")]);
        var connection = await ImportAsync(setup.Host);
        await RunsAsync(setup, connection, 1);
        setup.Engine.Github.SetIssues("o/r", [FakeGithub.Issue(1, "2026-01-01T00:00:00Z"), FakeGithub.Issue(2, "2099-01-01T00:00:00Z")]);
        await TriggerAsync(setup.Host, connection);
        await RunsAsync(setup, connection, 2);
        var hooks = await HooksAsync(setup, connection, 3);
        await Eventually.Until(async () => (int)(await WebhookStatusAsync(setup.Host, connection))["pending"]! == 0, "both delivered", Slow);
        hooks = setup.Receiver.Of(connection);
        Assert.Equal([503, 200, 200], hooks.Select(h => h.AnsweredWith));
        Assert.Equal(hooks[0].DeliveryId, hooks[1].DeliveryId);
        Assert.Equal("INITIAL", (string?)hooks[1].Json["syncType"]);
        Assert.Equal("INCREMENTAL", (string?)hooks[2].Json["syncType"]);
    }

    [Fact]
    public async Task An_outbox_left_on_the_schedule_row_by_a_crash_is_flushed_and_delivered_by_the_safety_net_message()
    {
        await using var receiver = await WebhookReceiver.StartNewAsync();
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?> { ["SyncHub:Webhooks:PrimaryUrl"] = receiver.Url.ToString() });
        var connection = await engine.ImportAsync();
        var key = new Core.Model.SyncKey("github", connection, "issues", "base");
        var end = new RunEnd(key, "run-1", "INITIAL", DateTime.UtcNow.Ticks - 1000, DateTime.UtcNow.Ticks, null, ["GithubIssue"],
            [new RunModelResult("GithubIssue", 1, 0, 0, 5_000, 5_000)]);
        var items = engine.Get<WebhookOutbox>().ForRunEnd(end);
        Assert.Single(items);
        // What the run-end write stores; the process then "dies" before its flush.
        await engine.Get<ScheduleStore>().UpdateAsync(key, s => s with { Outbox = WebhookOutbox.Append(s.Outbox, items) }, default);

        await engine.Get<WebhookDelivery>().DeliverAsync(new WebhookMessage("github", connection, key.RowKey), default);
        var received = Assert.Single(receiver.Of(connection));
        Assert.Equal(items[0].DeliveryId, received.DeliveryId);
        Assert.Equal(items[0].Body, received.Body);
        Assert.Null((await engine.ScheduleAsync(connection, "issues"))!.Outbox);
        // A repeated flush of the same items (crash before the row was cleared) is idempotent in the table.
        await engine.Get<ScheduleStore>().UpdateAsync(key, s => s with { Outbox = WebhookOutbox.Append(s.Outbox, items) }, default);
        await engine.Get<WebhookOutbox>().FlushAsync(key, default, queueDelivery: false);
        await engine.Get<WebhookOutbox>().FlushAsync(key, default, queueDelivery: false);
        Assert.Equal(1, (await engine.Get<WebhookStore>().StatusAsync(key, default)).Pending);
    }
}
