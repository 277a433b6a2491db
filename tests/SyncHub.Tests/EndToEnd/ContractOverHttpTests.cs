using System.Text;
using System.Text.Json.Nodes;
using SyncHub.Core.Scheduling;
using SyncHub.LocalHost;
using SyncHub.Tests.Infrastructure;
using SyncHub.Tests.Reliability;
using SyncHub.Tests.Scheduling;

namespace SyncHub.Tests.EndToEnd;

/// <summary>
/// API.md's common rules on every route, over HTTP on a LocalHost child process whose github integration is a fake
/// GitHub: auth first, unknown query keys refused before the body is read, unknown body keys refused, and a refused
/// request changes nothing. Then the rules of start/pause (<c>syncs</c> required) and of the status <c>type</c>.
/// </summary>
public sealed class ContractOverHttpTests : IAsyncLifetime
{
    private const string Integration = "github";
    private const string KeptVariant = "kept";
    private SyncEngine _engine = null!;
    private LocalHostProcess _host = null!;

    public async Task InitializeAsync()
    {
        var runQueue = "contract-" + Guid.NewGuid().ToString("N")[..12];
        _engine = await SyncEngine.StartAsync(new Dictionary<string, string?> { ["SyncHubRunQueue"] = runQueue });
        _engine.Github.SetIssues("o/r", Reliability.Api.Issues(5));
        _engine.Github.SetIssues("o/r2", Reliability.Api.Issues(2));
        _engine.Github.SetLabels("o/r", [FakeGithub.Label(1, "bug")]);
        _host = await LocalHostProcess.StartAsync(new Dictionary<string, string?>
        {
            ["SyncHub__ConfigPath"] = _engine.ConfigPath,
            ["SyncHubRunQueue"] = runQueue,
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _engine.DisposeAsync();
    }

    private HttpClient Client => _host.Client;

    /// <summary>A request that the route would accept: path values, query, headers and body (null: the route takes none).</summary>
    /// <param name="Public">A route served without a key (the OpenAPI document, the dashboard page): 200 without auth.</param>
    private sealed record ValidRequest(string Path, string Query, JsonObject? Body, Dictionary<string, string>? Headers = null, bool Public = false);

    /// <summary>
    /// A valid request for each route, by "METHOD route". The routes come from the [HttpTrigger] attributes; a route
    /// missing here fails the test, so a new endpoint is covered as soon as it exists.
    /// </summary>
    private static Dictionary<string, ValidRequest> ValidRequests(string connection, string cursor)
    {
        var id = Uri.EscapeDataString(connection);
        var recordHeaders = new Dictionary<string, string> { ["Connection-Id"] = connection, ["Provider-Config-Key"] = Integration };
        JsonObject Control() => new() { ["provider_config_key"] = Integration, ["connection_id"] = connection, ["syncs"] = new JsonArray("issues") };
        JsonObject Owner() => new() { ["provider_config_key"] = Integration, ["connection_id"] = connection };
        return new()
        {
            ["GET openapi.json"] = new("openapi.json", "", null, Public: true),
            ["GET dashboard"] = new("dashboard", "", null, Public: true),
            ["GET integrations"] = new("integrations", "", null),
            ["GET environment-variables"] = new("environment-variables", "", null),
            ["POST connections"] = new("connections", "", new JsonObject
            {
                ["provider_config_key"] = Integration,
                ["connection_id"] = connection,
                ["credentials"] = new JsonObject { ["type"] = "OAUTH2", ["access_token"] = "gho_other" },
                ["metadata"] = new JsonObject { ["repo"] = "o/other" },
            }),
            ["GET connections"] = new("connections", $"connectionId={id}", null),
            ["GET connections/{connectionId}"] = new($"connections/{id}", $"provider_config_key={Integration}", null),
            ["DELETE connections/{connectionId}"] = new($"connections/{id}", $"provider_config_key={Integration}", null),
            ["POST connections/metadata"] = new("connections/metadata", "", new JsonObject
            {
                ["connection_id"] = connection, ["provider_config_key"] = Integration, ["metadata"] = new JsonObject { ["repo"] = "o/other" },
            }),
            ["PATCH connections/metadata"] = new("connections/metadata", "", new JsonObject
            {
                ["connection_id"] = connection, ["provider_config_key"] = Integration, ["metadata"] = new JsonObject { ["extra"] = 1 },
            }),
            ["GET records"] = new("records", "model=GithubIssue", null, recordHeaders),
            ["PATCH records/prune"] = new("records/prune", "", new JsonObject { ["model"] = "GithubIssue", ["until_cursor"] = cursor }, recordHeaders),
            ["POST sync/trigger"] = new("sync/trigger", "", Control()),
            ["POST sync/start"] = new("sync/start", "", Control()),
            ["POST sync/pause"] = new("sync/pause", "", Control()),
            ["GET sync/status"] = new("sync/status", $"provider_config_key={Integration}&syncs=*&connection_id={id}", null),
            ["GET sync/runs"] = new("sync/runs", $"provider_config_key={Integration}&connection_id={id}&sync=issues&limit=5", null),
            ["PUT sync/update-connection-frequency"] = new("sync/update-connection-frequency", "", new JsonObject
            {
                ["provider_config_key"] = Integration, ["connection_id"] = connection, ["sync_name"] = "issues", ["frequency"] = "every 2 hours",
            }),
            ["POST sync/{name}/variant/{variant}"] = new("sync/issues/variant/fresh", "", Owner()),
            ["DELETE sync/{name}/variant/{variant}"] = new($"sync/issues/variant/{KeptVariant}", "", Owner()),
            ["POST webhooks/redeliver"] = new("webhooks/redeliver", "", Owner()),
        };
    }

    [Fact]
    public async Task Every_route_refuses_a_missing_key_an_unknown_query_key_and_an_unknown_body_key_and_changes_nothing()
    {
        var connection = await ConnectionWithFinishedRunsAsync();
        var variant = await SendAsync("POST", $"sync/issues/variant/{KeptVariant}", "", new JsonObject { ["provider_config_key"] = Integration, ["connection_id"] = connection });
        Assert.Equal(200, variant.Status);
        await WaitForSuccessAsync(connection, $"issues::{KeptVariant}", runs: 1);
        var cursor = (await Reliability.Api.AllRecordsAsync(Client, connection))[^1].Json["_nango_metadata"]!["cursor"]!.GetValue<string>();
        var before = await SnapshotAsync(connection);

        var requests = ValidRequests(connection, cursor);
        var routes = FunctionCatalog.Discover(typeof(SyncHub.Functions.ConnectionFunctions).Assembly).Http
            .SelectMany(f => f.Methods.Select(m => $"{m.ToUpperInvariant()} {f.Route}")).ToList();
        Assert.NotEmpty(routes);
        var problems = new List<string>();
        foreach (var route in routes)
        {
            if (!requests.TryGetValue(route, out var valid))
            {
                problems.Add($"{route}: no valid request in this test's table; add one");
                continue;
            }
            var method = route.Split(' ')[0];
            void Expect(Reply reply, int status, string code, string[]? path, string what)
            {
                if (reply.Status != status || reply.ErrorCode != code || (path is not null && !reply.HasOnlyErrorAt(path)))
                {
                    problems.Add($"{route} {what}: expected {status} {code}{(path is null ? "" : " at " + string.Join('.', path))}, got {reply.Status} {reply.Body}");
                }
            }

            var anonymous = await SendAsync(method, valid.Path, valid.Query, valid.Body, valid.Headers, authorize: false);
            if (valid.Public)
            {
                if (anonymous.Status != 200)
                {
                    problems.Add($"{route} without a key: expected 200 (a public route), got {anonymous.Status} {anonymous.Body}");
                }
            }
            else
            {
                Expect(anonymous, 401, "missing_auth_header", null, "without a key");
            }
            var unknownQuery = valid.Query.Length == 0 ? "zz=1" : valid.Query + "&zz=1";
            Expect(await SendAsync(method, valid.Path, unknownQuery, valid.Body, valid.Headers), 400, "invalid_query_params", ["zz"], "with ?zz=1");
            if (valid.Body is not null)
            {
                var extra = valid.Body.DeepClone().AsObject();
                extra["zz"] = 1;
                Expect(await SendAsync(method, valid.Path, valid.Query, extra, valid.Headers), 400, "invalid_body", ["zz"], "with body key zz");
                // Both wrong: the query is validated first.
                Expect(await SendAsync(method, valid.Path, unknownQuery, extra, valid.Headers), 400, "invalid_query_params", ["zz"], "with ?zz=1 and body key zz");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Equal(before, await SnapshotAsync(connection));
    }

    [Theory]
    [InlineData("start")]
    [InlineData("pause")]
    public async Task Start_and_pause_need_syncs_and_a_malformed_one_changes_nothing(string action)
    {
        var connection = await ConnectionWithFinishedRunsAsync();
        if (action == "start")
        {
            Assert.Equal(200, (await SendAsync("POST", "sync/pause", "", Control(connection, new JsonArray()))).Status);
        }
        var before = await SnapshotAsync(connection);

        foreach (var syncs in new JsonNode?[] { null, JsonValue.Create("issues"), JsonValue.Create(1), new JsonObject { ["name"] = "issues" } })
        {
            var body = Control(connection, syncs);
            if (syncs is null)
            {
                body.Remove("syncs");
            }
            var reply = await SendAsync("POST", $"sync/{action}", "", body);
            Assert.True(reply.Status == 400 && reply.ErrorCode == "invalid_body" && reply.HasOnlyErrorAt(["syncs"]), $"syncs {syncs?.ToJsonString() ?? "(missing)"}: {reply.Status} {reply.Body}");
            Assert.Contains("'syncs'", reply.Json!["error"]!["message"]!.GetValue<string>());
        }
        Assert.Equal(before, await SnapshotAsync(connection));

        // An empty list means every sync of the connection.
        Assert.Equal(200, (await SendAsync("POST", $"sync/{action}", "", Control(connection, new JsonArray()))).Status);
        var expected = action == "pause" ? ScheduleStates.Paused : ScheduleStates.Started;
        foreach (var sync in new[] { "issues", "labels" })
        {
            Assert.Equal(expected, (await _engine.ScheduleAsync(connection, sync))!.State);
        }
    }

    [Fact]
    public async Task Status_type_is_the_type_of_the_latest_run()
    {
        var connection = TestEnvironment.Unique("type");
        await Reliability.Api.ImportAsync(Client, connection);
        await WaitForSuccessAsync(connection, "issues", runs: 1);
        Assert.Equal("INITIAL", (await Reliability.Api.StatusAsync(Client, connection))["type"]!.GetValue<string>());

        Assert.Equal(200, (await SendAsync("POST", "sync/trigger", "", Control(connection, new JsonArray("issues")))).Status);
        await WaitForSuccessAsync(connection, "issues", runs: 2);
        Assert.Equal("INCREMENTAL", (await Reliability.Api.StatusAsync(Client, connection))["type"]!.GetValue<string>());

        // A reset run starts with no last sync date again.
        var reset = Control(connection, new JsonArray("issues"));
        reset["opts"] = new JsonObject { ["reset"] = true };
        Assert.Equal(200, (await SendAsync("POST", "sync/trigger", "", reset)).Status);
        await WaitForSuccessAsync(connection, "issues", runs: 3);
        Assert.Equal("INITIAL", (await Reliability.Api.StatusAsync(Client, connection))["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Requests_over_the_size_limits_get_the_error_envelope()
    {
        // Over the URI limit: 414 from SyncHub (Kestrel's own 414 has no body).
        var longQuery = "model=GithubIssue&ids=" + new string('x', RequestLimits.MaxTargetBytes);
        var tooLong = await SendAsync("GET", "records", longQuery, null, null);
        Assert.True(tooLong.Status == 414 && tooLong.ErrorCode == "uri_too_long", $"{tooLong.Status} {tooLong.Body}");
        Assert.Contains("128 KiB", tooLong.Json!["error"]!["message"]!.GetValue<string>());

        // Longer than Kestrel's default 8 KiB request line but within SyncHub's limit: the API's own validation answers.
        var longButAllowed = await SendAsync("GET", "records", "model=GithubIssue&ids=" + new string('x', 20_000), null, null);
        Assert.True(longButAllowed.Status == 400 && longButAllowed.ErrorCode == "invalid_query_params", $"{longButAllowed.Status} {longButAllowed.Body}");

        var manyHeaders = Enumerable.Range(0, RequestLimits.MaxHeaderCount + 1).ToDictionary(i => $"X-Extra-{i}", _ => "1");
        var tooMany = await SendAsync("GET", "integrations", "", null, manyHeaders);
        Assert.True(tooMany.Status == 431 && tooMany.ErrorCode == "headers_too_large", $"{tooMany.Status} {tooMany.Body}");

        var bigHeader = new Dictionary<string, string> { ["X-Big"] = new('b', RequestLimits.MaxHeaderBytes) };
        var tooBig = await SendAsync("GET", "integrations", "", null, bigHeader);
        Assert.True(tooBig.Status == 431 && tooBig.ErrorCode == "headers_too_large", $"{tooBig.Status} {tooBig.Body}");
    }

    private static JsonObject Control(string connection, JsonNode? syncs) => new()
    {
        ["provider_config_key"] = Integration, ["connection_id"] = connection, ["syncs"] = syncs,
    };

    /// <summary>A connection whose first runs have finished, so nothing changes its rows while a test looks.</summary>
    private async Task<string> ConnectionWithFinishedRunsAsync()
    {
        var connection = TestEnvironment.Unique("contract");
        using (var response = await Client.PostAsync("connections", Json(new JsonObject
        {
            ["provider_config_key"] = Integration,
            ["connection_id"] = connection,
            ["credentials"] = new JsonObject { ["type"] = "OAUTH2", ["access_token"] = "gho_contract" },
            ["metadata"] = new JsonObject { ["repo"] = "o/r", ["repos"] = new JsonObject { [KeptVariant] = "o/r2" } },
        })))
        {
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }
        await WaitForSuccessAsync(connection, "issues", runs: 1);
        await WaitForSuccessAsync(connection, "labels", runs: 1);
        return connection;
    }

    private async Task WaitForSuccessAsync(string connection, string sync, int runs)
    {
        var (name, variant) = sync.Contains("::", StringComparison.Ordinal) ? (sync.Split("::")[0], sync.Split("::")[1]) : (sync, "base");
        Schedule? last = null;
        await Eventually.Until(async () =>
        {
            last = await _engine.ScheduleAsync(connection, name, variant);
            return last is { RunState: RunStates.Idle } && last.Successes >= runs;
        }, $"{sync} of {connection}: {runs} successful run(s)", state: () => $"{last?.RunState} {last?.LastStatus} {last?.Successes} {last?.LastError}");
    }

    /// <summary>Everything a refused request could have changed: the connection, every schedule row (by ETag), the records.</summary>
    private async Task<string> SnapshotAsync(string connection)
    {
        var text = new StringBuilder();
        text.AppendLine((await SendAsync("GET", $"connections/{Uri.EscapeDataString(connection)}", $"provider_config_key={Integration}", null)).Body);
        text.AppendLine((await SendAsync("GET", "sync/status", $"provider_config_key={Integration}&syncs=*&connection_id={Uri.EscapeDataString(connection)}", null)).Body);
        foreach (var schedule in (await _engine.Get<ScheduleStore>().ListAsync(Integration, connection, CancellationToken.None)).OrderBy(s => s.Key.RowKey, StringComparer.Ordinal))
        {
            text.AppendLine($"{schedule.Key.RowKey} {schedule.ETag}");
        }
        foreach (var (model, variant) in new[] { ("GithubIssue", "base"), ("GithubLabel", "base"), ("GithubIssue", KeptVariant) })
        {
            var page = await SendAsync("GET", "records", $"model={model}&variant={variant}&limit=500", null,
                new Dictionary<string, string> { ["Connection-Id"] = connection, ["Provider-Config-Key"] = Integration });
            text.AppendLine(page.Body);
        }
        return text.ToString();
    }

    private sealed record Reply(int Status, string Body)
    {
        public JsonNode? Json { get; } = Parse(Body);

        public string? ErrorCode => Json is JsonObject o ? o["error"]?["code"]?.GetValue<string>() : null;

        /// <summary>The envelope lists exactly one field error, at <paramref name="path"/>: the rest of the request was valid.</summary>
        public bool HasOnlyErrorAt(string[] path) =>
            Json?["error"]?["errors"] is JsonArray { Count: 1 } errors
            && errors[0]!["path"]!.AsArray().Select(p => p!.ToString()).SequenceEqual(path);

        private static JsonNode? Parse(string body)
        {
            try
            {
                return body.Length == 0 ? null : JsonNode.Parse(body);
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
        }
    }

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private async Task<Reply> SendAsync(string method, string path, string query, JsonNode? body, Dictionary<string, string>? headers = null, bool authorize = true)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path + (query.Length == 0 ? "" : "?" + query));
        if (body is not null)
        {
            request.Content = Json(body);
        }
        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        using var client = _host.CreateClient(authorize ? TestEnvironment.SecretKey : null);
        using var response = await client.SendAsync(request);
        return new Reply((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
