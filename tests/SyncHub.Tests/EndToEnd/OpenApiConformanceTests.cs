using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using SyncHub.Core.Scheduling;
using SyncHub.Tests.Infrastructure;
using SyncHub.Tests.Scheduling;

namespace SyncHub.Tests.EndToEnd;

/// <summary>
/// Real responses against the schemas of the served OpenAPI document: a LocalHost whose github integration syncs from a
/// fake GitHub, a connection imported and synced, then every operation called, each 200 body (and a representative
/// 4xx of each kind) validated with JsonSchema.Net against the schema the document gives for that operation and status.
/// </summary>
public sealed class OpenApiConformanceTests
{
    private sealed record Reply(int Status, string? ContentType, string Body)
    {
        public JsonNode Json => JsonNode.Parse(Body)!;
    }

    private sealed class Api(LocalHostProcess host, OpenApiContract contract)
    {
        public List<string> Checked { get; } = [];

        /// <summary>Sends, then checks the answer against the document's operation <paramref name="template"/>.</summary>
        public async Task<Reply> CallAsync(string method, string template, string path, JsonNode? body = null, IDictionary<string, string>? headers = null,
            int expect = 200, HttpClient? client = null, string? rawBody = null, string contentType = "application/json")
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (body is not null || rawBody is not null)
            {
                request.Content = new StringContent(rawBody ?? body!.ToJsonString(), Encoding.UTF8);
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            }
            foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
            using var response = await (client ?? host.Client).SendAsync(request);
            var reply = new Reply((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsStringAsync());
            Assert.True(reply.Status == expect, $"{method} {path}: expected {expect}, got {reply.Status}: {reply.Body}\nLocalHost said:\n{host.Output}");
            contract.AssertConforms(method, template, reply.Status, reply.ContentType, reply.Body);
            Checked.Add($"{method} {template} {reply.Status}");
            return reply;
        }
    }

    private static Dictionary<string, string> ConnectionHeaders(string connectionId) => new() { ["Connection-Id"] = connectionId, ["Provider-Config-Key"] = "github" };

    [Fact]
    public async Task Every_operation_answers_in_the_shapes_the_document_declares()
    {
        var runQueue = "openapi-runs-" + Guid.NewGuid().ToString("N")[..12];
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?> { ["SyncHubRunQueue"] = runQueue });
        engine.Github.SetIssues("o/r", Enumerable.Range(0, 5).Select(i => FakeGithub.Issue(100 + i, $"2026-01-01T00:00:0{i}Z", labels: "bug")));
        engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug"), FakeGithub.Label(2, "docs", "Documentation")]);
        await using var host = await LocalHostProcess.StartAsync(new Dictionary<string, string?>
        {
            ["SyncHub__ConfigPath"] = engine.ConfigPath,
            ["SyncHubRunQueue"] = runQueue,
        });

        // The document as served, not as embedded: what a user's tooling reads.
        using var anonymous = host.CreateClient(null);
        var served = await anonymous.GetStringAsync("openapi.json");
        var contract = OpenApiContract.Parse(served);
        var api = new Api(host, contract);
        await api.CallAsync("GET", "/openapi.json", "/openapi.json", client: anonymous);
        await api.CallAsync("GET", "/dashboard", "/dashboard", client: anonymous);

        // Connections.
        var id = TestEnvironment.Unique("openapi") + "/team";
        var escaped = Uri.EscapeDataString(id);
        await api.CallAsync("POST", "/connections", "/connections", new JsonObject
        {
            ["provider_config_key"] = "github",
            ["connection_id"] = id,
            ["credentials"] = new JsonObject { ["type"] = "OAUTH2", ["access_token"] = "gho_x", ["refresh_token"] = "r", ["expires_at"] = "2099-01-01T00:00:00Z" },
            ["metadata"] = new JsonObject { ["repo"] = "o/r" },
            ["connection_config"] = new JsonObject { ["org"] = "o" },
        });
        await api.CallAsync("GET", "/connections", $"/connections?connectionId={escaped}&integrationId=github");
        await api.CallAsync("GET", "/connections", "/connections?limit=5&page=0");
        await api.CallAsync("GET", "/connections/{connectionId}", $"/connections/{escaped}?provider_config_key=github&force_refresh=false");
        await api.CallAsync("POST", "/connections/metadata", "/connections/metadata",
            new JsonObject { ["connection_id"] = id, ["provider_config_key"] = "github", ["metadata"] = new JsonObject { ["repo"] = "o/r", ["n"] = 1 } });
        await api.CallAsync("PATCH", "/connections/metadata", "/connections/metadata",
            new JsonObject { ["connection_id"] = new JsonArray(id), ["provider_config_key"] = "github", ["metadata"] = new JsonObject { ["n"] = 2 } });

        // Configuration.
        await api.CallAsync("GET", "/integrations", "/integrations");
        await api.CallAsync("GET", "/environment-variables", "/environment-variables");

        // Records, once the import's first runs have written them and ended.
        await Eventually.Until(async () =>
            await engine.ScheduleAsync(id, "issues") is { RunState: RunStates.Idle, Successes: >= 1 }
            && await engine.ScheduleAsync(id, "labels") is { RunState: RunStates.Idle, Successes: >= 1 },
            "the import's first runs of issues and labels ended", state: () => "LocalHost said:\n" + host.Output);
        var first = await api.CallAsync("GET", "/records", "/records?model=GithubIssue&limit=2", headers: ConnectionHeaders(id));
        Assert.Equal(2, first.Json["records"]!.AsArray().Count);
        var next = first.Json["next_cursor"]!.GetValue<string>();
        await api.CallAsync("GET", "/records", $"/records/?model=GithubIssue&cursor={next}&filter=added,updated&ids=102&ids=103", headers: ConnectionHeaders(id));
        await api.CallAsync("GET", "/records", "/records?model=GithubLabel&variant=base&modified_after=2000-01-01T00:00:00Z", headers: ConnectionHeaders(id));
        var oldest = first.Json["records"]![0]!["_nango_metadata"]!["cursor"]!.GetValue<string>();
        var prune = await api.CallAsync("PATCH", "/records/prune", "/records/prune",
            new JsonObject { ["model"] = "GithubIssue", ["until_cursor"] = oldest, ["limit"] = 1 }, ConnectionHeaders(id));
        Assert.Equal(1, prune.Json["count"]!.GetValue<int>());
        // A pruned record (only id and _nango_metadata) in a page.
        var pruned = await api.CallAsync("GET", "/records", "/records?model=GithubIssue", headers: ConnectionHeaders(id));
        Assert.Contains(pruned.Json["records"]!.AsArray(), r => r!["_nango_metadata"]!["pruned_at"] is not null);

        // Syncs: status after finished runs, then the control operations.
        var status = await api.CallAsync("GET", "/sync/status", $"/sync/status?provider_config_key=github&syncs=*&connection_id={escaped}");
        Assert.Equal(2, status.Json["syncs"]!.AsArray().Count);
        Assert.All(status.Json["syncs"]!.AsArray(), s => Assert.NotNull(s!["finishedAt"]));
        var runs = await api.CallAsync("GET", "/sync/runs", $"/sync/runs?provider_config_key=github&connection_id={escaped}&sync=issues&limit=10");
        Assert.NotEmpty(runs.Json["runs"]!.AsArray());
        await api.CallAsync("GET", "/sync/runs", $"/sync/runs?provider_config_key=github&connection_id={escaped}&sync=labels&variant=base");
        await api.CallAsync("PUT", "/sync/update-connection-frequency", "/sync/update-connection-frequency",
            new JsonObject { ["provider_config_key"] = "github", ["connection_id"] = id, ["sync_name"] = "labels", ["frequency"] = "every 2 hours" });
        await api.CallAsync("PUT", "/sync/update-connection-frequency", "/sync/update-connection-frequency",
            new JsonObject { ["provider_config_key"] = "github", ["connection_id"] = id, ["sync_name"] = "labels", ["frequency"] = null });
        await api.CallAsync("POST", "/sync/pause", "/sync/pause", new JsonObject { ["provider_config_key"] = "github", ["connection_id"] = id, ["syncs"] = new JsonArray("labels") });
        await api.CallAsync("GET", "/sync/status", $"/sync/status?provider_config_key=github&syncs=labels,issues::base&connection_id={escaped}");
        await api.CallAsync("POST", "/sync/start", "/sync/start", new JsonObject
        {
            ["provider_config_key"] = "github", ["connection_id"] = id, ["syncs"] = new JsonArray("labels", new JsonObject { ["name"] = "issues", ["variant"] = "base" }),
        });
        await api.CallAsync("POST", "/sync/trigger", "/sync/trigger", new JsonObject
        {
            ["provider_config_key"] = "github", ["connection_id"] = id, ["syncs"] = new JsonArray("labels"), ["opts"] = new JsonObject { ["reset"] = true },
        });

        // Variants.
        var variantBody = new JsonObject { ["provider_config_key"] = "github", ["connection_id"] = id };
        await api.CallAsync("POST", "/sync/{name}/variant/{variant}", "/sync/labels/variant/v1", variantBody);
        await api.CallAsync("GET", "/sync/status", $"/sync/status?provider_config_key=github&syncs=labels::v1&connection_id={escaped}");
        await api.CallAsync("DELETE", "/sync/{name}/variant/{variant}", "/sync/labels/variant/v1", variantBody);

        // Representative errors, each against the schema the document gives for its status.
        using var unauthenticated = host.CreateClient(null);
        await api.CallAsync("GET", "/records", "/records?model=GithubIssue", headers: ConnectionHeaders(id), expect: 401, client: unauthenticated);
        await api.CallAsync("GET", "/records", "/records?model=GithubIssue&modifiedAfter=2026-01-01T00:00:00Z", headers: ConnectionHeaders(id), expect: 400);
        await api.CallAsync("GET", "/records", "/records?model=GithubIssue", headers: ConnectionHeaders(id + "-missing"), expect: 400);
        await api.CallAsync("PATCH", "/records/prune", "/records/prune", rawBody: "{\"model\":", headers: ConnectionHeaders(id), expect: 400);
        await api.CallAsync("POST", "/connections", "/connections", rawBody: "{}", contentType: "text/plain", expect: 415);
        await api.CallAsync("GET", "/connections/{connectionId}", $"/connections/{escaped}-missing?provider_config_key=github", expect: 404);
        await api.CallAsync("POST", "/sync/trigger", "/sync/trigger", new JsonObject { ["provider_config_key"] = "github", ["connection_id"] = id + "-missing", ["syncs"] = new JsonArray() }, expect: 404);
        await api.CallAsync("GET", "/sync/status", "/sync/status?provider_config_key=gitlab&syncs=*", expect: 400);
        await api.CallAsync("GET", "/sync/runs", $"/sync/runs?provider_config_key=github&connection_id={escaped}&sync=nope", expect: 400);
        await api.CallAsync("GET", "/sync/runs", $"/sync/runs?provider_config_key=github&connection_id={escaped}-missing&sync=issues", expect: 404);
        await api.CallAsync("DELETE", "/sync/{name}/variant/{variant}", "/sync/labels/variant/v2", variantBody, expect: 404);
        await api.CallAsync("POST", "/sync/{name}/variant/{variant}", "/sync/labels/variant/base", variantBody, expect: 400);
        await api.CallAsync("GET", "/openapi.json", "/openapi.json?format=yaml", expect: 400, client: anonymous);
        await api.CallAsync("GET", "/dashboard", "/dashboard?key=x", expect: 400, client: anonymous);

        // Webhooks: nothing dead-lettered to re-send (no URL configured here), and an unknown delivery id.
        await api.CallAsync("POST", "/webhooks/redeliver", "/webhooks/redeliver", new JsonObject { ["provider_config_key"] = "github", ["connection_id"] = id });
        await api.CallAsync("POST", "/webhooks/redeliver", "/webhooks/redeliver", new JsonObject { ["delivery_id"] = Guid.NewGuid().ToString() }, expect: 404);

        // Last: deleting the connection.
        await api.CallAsync("DELETE", "/connections/{connectionId}", $"/connections/{escaped}?provider_config_key=github");

        // Every operation of the document had its 200 checked.
        var okChecked = api.Checked.Where(c => c.EndsWith(" 200", StringComparison.Ordinal)).Select(c => c[..^4]).ToHashSet();
        Assert.Equal(contract.Operations().Select(o => $"{o.Method} {o.Path}").Order(), okChecked.Order());
    }
}
