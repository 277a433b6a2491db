using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SyncHub.Core.Api;
using SyncHub.Core.Connections;
using SyncHub.Core.Model;
using SyncHub.Core.Scheduling;
using SyncHub.Functions;
using SyncHub.Tests.Infrastructure;
using SyncHub.Tests.Scheduling;

namespace SyncHub.Tests.Connections;

/// <summary>
/// OAuth2 connections that stay connected: the real service graph (<see cref="SyncEngine"/>, a fake GitHub) with the
/// github integration's <c>oauth</c> client pointed at a <see cref="FakeOAuthServer"/> that rotates refresh tokens.
/// Every test also checks that no token or secret reached a log line.
/// </summary>
public sealed class OAuthRefreshTests : IAsyncLifetime
{
    private const string OldToken = "old-secret-token";
    private const string FirstRefreshToken = "rt-secret-0";

    private readonly CapturedLogs _logs = new();
    private readonly RecordingEvents _events = new();
    private FakeOAuthServer _oauth = null!;
    private SyncEngine _engine = null!;

    public async Task InitializeAsync()
    {
        _oauth = await FakeOAuthServer.StartAsync();
        _oauth.Grant(FirstRefreshToken);
        _engine = await StartEngineAsync("body");
    }

    private Task<SyncEngine> StartEngineAsync(string authStyle) => SyncEngine.StartAsync(
        settings: Settings(),
        configure: s =>
        {
            s.AddSingleton<ILoggerProvider>(_logs);
            s.AddSingleton<IConnectionEvents>(_events);
        },
        integrationYaml: $"""
            oauth:
              token_url: {_oauth.TokenUrl}
              client_id: ${"{"}GITHUB_CLIENT_ID{"}"}
              client_secret: ${"{"}GITHUB_CLIENT_SECRET{"}"}
              auth_style: {authStyle}
              refresh_margin: 5 minutes
            """);

    private static Dictionary<string, string?> Settings() => new()
    {
        ["SyncHub:Integrations:github:ClientId"] = FakeOAuthServer.ClientId,
        ["SyncHub:Integrations:github:ClientSecret"] = FakeOAuthServer.ClientSecret,
        ["SyncHub:OAuth:BaseDelay"] = "00:00:00.050",
        ["SyncHub:OAuth:PollInterval"] = "00:00:00.050",
    };

    public async Task DisposeAsync()
    {
        // No token, refresh token or client secret in anything logged.
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("secret-", StringComparison.Ordinal));
        await _engine.DisposeAsync();
        await _oauth.DisposeAsync();
    }

    private static string In(TimeSpan delta) =>
        DateTimeOffset.UtcNow.Add(delta).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static JsonObject OAuth2(string expiresAt, string accessToken = OldToken, string refreshToken = FirstRefreshToken) => new()
    {
        ["type"] = "OAUTH2",
        ["access_token"] = accessToken,
        ["refresh_token"] = refreshToken,
        ["expires_at"] = expiresAt,
    };

    private async Task<string> ImportAsync(JsonObject credentials, string? connectionId = null)
    {
        connectionId ??= TestEnvironment.Unique("oauth");
        var body = new JsonObject
        {
            ["provider_config_key"] = _engine.Integration,
            ["connection_id"] = connectionId,
            ["credentials"] = credentials,
            ["metadata"] = new JsonObject { ["repo"] = "o/r" },
        };
        var response = await FunctionCall.SendAsync(_engine.Services, Functions.Import, "POST", body: body.ToJsonString());
        Assert.True(response.Status == 200, response.Body);
        return connectionId;
    }

    private ConnectionFunctions Functions => new(_engine.Get<ApiPipeline>(), _engine.Get<ConnectionsEndpoints>());

    private async Task<JsonObject> GetConnectionAsync(string connectionId, string query = "")
    {
        var response = await FunctionCall.SendAsync(_engine.Services, Functions.Get, "GET", "provider_config_key=github" + query,
            route: new Dictionary<string, string> { ["connectionId"] = connectionId });
        Assert.True(response.Status == 200, response.Body);
        Assert.DoesNotContain("secret-", response.Body, StringComparison.Ordinal);
        return response.Json!.AsObject();
    }

    private async Task<JsonObject> ListedAsync(string connectionId)
    {
        var response = await FunctionCall.SendAsync(_engine.Services, Functions.List, "GET", "connectionId=" + Uri.EscapeDataString(connectionId));
        Assert.Equal(200, response.Status);
        return response.Json!["connections"]!.AsArray().Single()!.AsObject();
    }

    private async Task<ConnectionCredentials> StoredAsync(string connectionId) =>
        (await _engine.Get<ConnectionStore>().GetCredentialsAsync("github", connectionId, default))!;

    private Task TriggerAsync(string connectionId, string sync = "issues") =>
        _engine.Get<SyncSchedules>().TriggerAsync(new SyncKey("github", connectionId, sync, "base"), reset: false, emptyCache: false, default);

    private IEnumerable<string?> GithubAuthorizations => _engine.Github.Requests.Select(r => r.Authorization);

    [Fact]
    public async Task A_token_within_the_refresh_margin_is_refreshed_before_the_run_and_the_rotated_refresh_token_stored()
    {
        _engine.Github.SetIssues("o/r", [FakeGithub.Issue(1, "2026-01-01T00:00:00Z")]);
        var connection = await ImportAsync(OAuth2(In(TimeSpan.FromMinutes(1))));
        await _engine.PumpAsync();

        var request = Assert.Single(_oauth.Requests);
        Assert.Equal("refresh_token", request["grant_type"]);
        Assert.Equal(FirstRefreshToken, request["refresh_token"]);
        Assert.Equal(FakeOAuthServer.ClientId, request["client_id"]);
        Assert.Equal(FakeOAuthServer.ClientSecret, request["client_secret"]);
        Assert.NotEmpty(_engine.Github.Requests);
        Assert.All(GithubAuthorizations, a => Assert.Equal("Bearer at-secret-1", a));
        Assert.Equal("SUCCESS", (await _engine.ScheduleAsync(connection, "issues"))!.LastStatus);
        Assert.Equal("SUCCESS", (await _engine.ScheduleAsync(connection, "labels"))!.LastStatus);

        var stored = await StoredAsync(connection);
        Assert.Equal("at-secret-1", stored.Get("access_token"));
        Assert.Equal("rt-secret-1", stored.Get("refresh_token"));
        var expiresAt = DateTimeOffset.Parse(stored.Get("expires_at")!, CultureInfo.InvariantCulture);
        Assert.InRange(expiresAt, DateTimeOffset.UtcNow.AddMinutes(55), DateTimeOffset.UtcNow.AddMinutes(61));
        var raw = stored.Values["raw"]!.AsObject();
        Assert.Equal("bearer", raw["token_type"]!.GetValue<string>());
        Assert.False(raw.ContainsKey("access_token") || raw.ContainsKey("refresh_token"));
        Assert.Empty((await GetConnectionAsync(connection))["errors"]!.AsArray());
    }

    [Fact]
    public async Task A_401_during_a_run_refreshes_once_and_retries_the_request()
    {
        _engine.Github.SetIssues("o/r", [FakeGithub.Issue(1, "2026-01-01T00:00:00Z")]);
        // The provider starts rejecting the old token though it has a day left.
        _engine.Github.Fail(Enumerable.Range(0, 6).Select(_ => (Func<HttpContext, Task<bool>>)(async context =>
        {
            if (context.Request.Headers.Authorization.ToString() != "Bearer " + OldToken)
            {
                return false;
            }
            context.Response.StatusCode = 401;
            await context.Response.WriteAsync("""{"message":"Bad credentials"}""");
            return true;
        })).ToArray());
        var connection = await ImportAsync(OAuth2(In(TimeSpan.FromDays(1))));
        await _engine.PumpAsync();

        Assert.Single(_oauth.Requests);
        Assert.Equal(1, _engine.Github.Exchanges.Count(e => e.Status == 401));
        Assert.Equal("SUCCESS", (await _engine.ScheduleAsync(connection, "issues"))!.LastStatus);
        Assert.Equal("SUCCESS", (await _engine.ScheduleAsync(connection, "labels"))!.LastStatus);
        Assert.Single(await _engine.RecordsAsync(connection, "GithubIssue"));
        Assert.Equal("Bearer at-secret-1", GithubAuthorizations.Last());
        Assert.Equal("rt-secret-1", (await StoredAsync(connection)).Get("refresh_token"));
    }

    [Fact]
    public async Task A_second_401_after_the_refresh_fails_the_run_as_before()
    {
        _engine.Github.Fail(FakeGithub.Status(401), FakeGithub.Status(401), FakeGithub.Status(401), FakeGithub.Status(401));
        var connection = await ImportAsync(OAuth2(In(TimeSpan.FromDays(1))));
        await _engine.PumpAsync();

        foreach (var sync in new[] { "issues", "labels" })
        {
            var schedule = (await _engine.ScheduleAsync(connection, sync))!;
            Assert.Equal("ERROR", schedule.LastStatus);
            Assert.Contains("answered 401 Unauthorized", schedule.LastError);
        }
        // One refresh per run (each run's first 401), each followed by exactly one retry.
        Assert.Equal(2, _oauth.Requests.Count);
        Assert.Equal(4, _engine.Github.Exchanges.Count(e => e.Status == 401));
        Assert.Equal(0, _oauth.Reuses);
    }

    [Fact]
    public async Task Eight_hosts_needing_a_refresh_at_once_make_exactly_one_token_request_and_all_use_its_token()
    {
        _oauth.Delay = TimeSpan.FromMilliseconds(400);
        var connection = await ImportAsync(OAuth2(In(TimeSpan.FromMinutes(-1))));
        // Eight service graphs: eight hosts, each with its own store, HTTP clients and refresher.
        var hosts = Enumerable.Range(0, 8).Select(_ =>
        {
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddSingleton<ILoggerProvider>(_logs);
            services.AddFunctionApp(TestEnvironment.Configuration(new Dictionary<string, string?>(Settings()) { ["SyncHub:ConfigPath"] = _engine.ConfigPath }));
            return services.BuildServiceProvider();
        }).ToList();
        try
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var runs = hosts.Select(host => Task.Run(async () =>
            {
                // Each host has read the expired credentials before any refresh starts.
                var (read, credentials) = (await host.GetRequiredService<ConnectionStore>().GetWithCredentialsAsync("github", connection, default))!.Value;
                await start.Task;
                return await host.GetRequiredService<ConnectionTokens>().EnsureFreshAsync(read, credentials, default);
            })).ToList();
            start.SetResult();
            var results = await Task.WhenAll(runs);

            Assert.Single(_oauth.Requests);
            Assert.Equal(0, _oauth.Reuses);
            Assert.All(results, r => Assert.Equal("at-secret-1", r.Get("access_token")));
            Assert.Equal("rt-secret-1", (await StoredAsync(connection)).Get("refresh_token"));
            Assert.Empty((await GetConnectionAsync(connection))["errors"]!.AsArray());
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Concurrent_401s_of_several_runs_share_one_refresh()
    {
        _oauth.Delay = TimeSpan.FromMilliseconds(300);
        var connection = await ImportAsync(OAuth2(In(TimeSpan.FromDays(1))));
        var tokens = _engine.Get<ConnectionTokens>();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => tokens.RefreshRejectedAsync("github", connection, OldToken, default))));

        Assert.Single(_oauth.Requests);
        Assert.All(results, r => Assert.Equal("at-secret-1", r!.Get("access_token")));
    }

    [Fact]
    public async Task A_refused_refresh_marks_the_connection_fails_its_runs_and_is_reported_once_per_episode()
    {
        _oauth.Answer = _ => (400, """{"error":"invalid_grant","error_description":"Token rt-secret-0 was revoked"}""");
        var connection = await ImportAsync(OAuth2(In(TimeSpan.FromMinutes(-5))));
        await _engine.PumpAsync();

        foreach (var sync in new[] { "issues", "labels" })
        {
            var schedule = (await _engine.ScheduleAsync(connection, sync))!;
            Assert.Equal("ERROR", schedule.LastStatus);
            Assert.Equal("OAuth refresh failed: invalid_grant", schedule.LastError);
        }
        Assert.Empty(_engine.Github.Requests);
        var error = Assert.Single((await GetConnectionAsync(connection))["errors"]!.AsArray())!.AsObject();
        Assert.Equal("auth", error["type"]!.GetValue<string>());
        Assert.Equal("OAuth refresh failed: invalid_grant", error["message"]!.GetValue<string>());
        var logId = error["log_id"]!.GetValue<string>();
        Assert.NotEmpty(logId);
        Assert.Equal(error.ToJsonString(), Assert.Single((await ListedAsync(connection))["errors"]!.AsArray())!.ToJsonString());
        // Both runs failed, one episode: one report.
        var call = Assert.Single(_events.Calls);
        Assert.Equal(connection, call.Connection.ConnectionId);
        Assert.Equal(logId, call.Error.LogId);

        // The provider accepts the refresh token again: a forced refresh ends the episode.
        _oauth.Answer = null;
        Assert.Empty((await GetConnectionAsync(connection, "&force_refresh=true"))["errors"]!.AsArray());
        Assert.Equal("at-secret-1", (await StoredAsync(connection)).Get("access_token"));

        // A new failure is a new episode: reported again, under a new log id.
        _oauth.Answer = _ => (503, """{"error":"temporarily_unavailable"}""");
        var again = Assert.Single((await GetConnectionAsync(connection, "&force_refresh=true"))["errors"]!.AsArray())!.AsObject();
        Assert.Equal("OAuth refresh failed: temporarily_unavailable", again["message"]!.GetValue<string>());
        Assert.NotEqual(logId, again["log_id"]!.GetValue<string>());
        Assert.Equal(2, _events.Calls.Count);
        // 503 was retried (MaxRetries 2) before it counted as a failure.
        Assert.Equal(2 + 1 + 3, _oauth.Requests.Count);
    }

    [Fact]
    public async Task Importing_the_credentials_again_clears_the_auth_error_and_the_runs_succeed()
    {
        _oauth.Answer = _ => (400, """{"error":"invalid_grant"}""");
        var connection = await ImportAsync(OAuth2(In(TimeSpan.FromMinutes(-5))));
        await _engine.PumpAsync();
        Assert.Single((await GetConnectionAsync(connection))["errors"]!.AsArray());

        await ImportAsync(OAuth2(In(TimeSpan.FromDays(1)), accessToken: "new-secret-token", refreshToken: "rt-secret-new"), connection);
        Assert.Empty((await GetConnectionAsync(connection))["errors"]!.AsArray());
        Assert.Empty((await ListedAsync(connection))["errors"]!.AsArray());
        await TriggerAsync(connection);
        await _engine.PumpAsync();

        Assert.Equal("SUCCESS", (await _engine.ScheduleAsync(connection, "issues"))!.LastStatus);
        Assert.All(GithubAuthorizations, a => Assert.Equal("Bearer new-secret-token", a));
        Assert.Single(_events.Calls);
    }

    [Fact]
    public async Task Force_refresh_refreshes_now_with_basic_client_authentication_and_answers_without_credentials()
    {
        await _engine.DisposeAsync();
        _engine = await StartEngineAsync("basic");
        var connection = await ImportAsync(OAuth2(In(TimeSpan.FromDays(1))));
        Assert.Empty(_oauth.Requests);

        var body = await GetConnectionAsync(connection, "&force_refresh=true");
        Assert.Equal(connection, body["connection_id"]!.GetValue<string>());
        Assert.False(body.ContainsKey("credentials"));
        var request = Assert.Single(_oauth.Requests);
        Assert.StartsWith("Basic ", request.Authorization);
        Assert.Null(request["client_secret"]);
        Assert.Equal("at-secret-1", (await StoredAsync(connection)).Get("access_token"));

        await GetConnectionAsync(connection);
        await GetConnectionAsync(connection, "&force_refresh=false");
        Assert.Single(_oauth.Requests);
    }

    [Fact]
    public async Task A_client_credentials_connection_gets_its_token_once_and_keeps_it_encrypted_until_it_expires()
    {
        _engine.Github.SetIssues("o/r", [FakeGithub.Issue(1, "2026-01-01T00:00:00Z")]);
        var connection = await ImportAsync(new JsonObject
        {
            ["type"] = "OAUTH2_CC",
            ["client_id"] = FakeOAuthServer.ClientId,
            ["client_secret"] = FakeOAuthServer.ClientSecret,
            ["token_url"] = _oauth.TokenUrl.ToString(),
            ["scopes"] = "issues:read,labels:read",
        });
        await _engine.PumpAsync();

        var request = Assert.Single(_oauth.Requests);
        Assert.Equal("client_credentials", request["grant_type"]);
        Assert.Equal("issues:read labels:read", request["scope"]);
        Assert.All(GithubAuthorizations, a => Assert.Equal("Bearer at-secret-1", a));
        Assert.Equal("SUCCESS", (await _engine.ScheduleAsync(connection, "issues"))!.LastStatus);
        Assert.Single(await _engine.RecordsAsync(connection, "GithubIssue"));

        // Cached on the connection: the next run uses it.
        await TriggerAsync(connection);
        await _engine.PumpAsync();
        Assert.Single(_oauth.Requests);
        Assert.Equal("OAUTH2_CC", (await StoredAsync(connection)).Type);

        // Expiring (imported again with a token about to expire is not possible; make the server's next token short-lived).
        _oauth.ExpiresIn = 60;
        await GetConnectionAsync(connection, "&force_refresh=true");
        Assert.Equal(2, _oauth.Requests.Count);
        await TriggerAsync(connection);
        await _engine.PumpAsync();
        Assert.Equal(3, _oauth.Requests.Count);
        Assert.Equal("Bearer at-secret-3", GithubAuthorizations.Last());
    }

    [Fact]
    public async Task A_client_credentials_connection_with_a_wrong_secret_fails_its_runs_with_invalid_client()
    {
        var connection = await ImportAsync(new JsonObject
        {
            ["type"] = "OAUTH2_CC",
            ["client_id"] = FakeOAuthServer.ClientId,
            ["client_secret"] = "wrong-secret-value",
            ["token_url"] = _oauth.TokenUrl.ToString(),
        });
        await _engine.PumpAsync();

        Assert.Equal("OAuth refresh failed: invalid_client", (await _engine.ScheduleAsync(connection, "issues"))!.LastError);
        Assert.Equal("auth", (await GetConnectionAsync(connection))["errors"]![0]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Import_validates_client_credentials()
    {
        var body = new JsonObject
        {
            ["provider_config_key"] = "github",
            ["connection_id"] = TestEnvironment.Unique("oauth"),
            ["credentials"] = new JsonObject { ["type"] = "OAUTH2_CC", ["client_id"] = "", ["token_url"] = "ftp://x", ["extra"] = 1 },
        };
        var response = await FunctionCall.SendAsync(_engine.Services, Functions.Import, "POST", body: body.ToJsonString());
        Assert.Equal(400, response.Status);
        Assert.Equal("invalid_body", response.ErrorCode);
        var paths = response.Json!["error"]!["errors"]!.AsArray().Select(e => string.Join('.', e!["path"]!.AsArray().Select(p => p!.ToString()))).ToList();
        Assert.Contains("credentials.client_id", paths);
        Assert.Contains("credentials.client_secret", paths);
        Assert.Contains("credentials.token_url", paths);
        Assert.Contains("credentials.extra", paths);
    }

    private sealed class RecordingEvents : IConnectionEvents
    {
        public ConcurrentQueue<(Connection Connection, ConnectionAuthError Error)> Calls { get; } = new();

        public Task OnRefreshFailedAsync(Connection connection, string authMode, ConnectionAuthError error, CancellationToken ct)
        {
            Calls.Enqueue((connection, error));
            return Task.CompletedTask;
        }
    }
}

/// <summary>Every log line of a service graph (all categories, with exceptions), for asserting what never appears.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs._lines.Enqueue($"{category} {logLevel}: {formatter(state, exception)} {exception}");
    }
}
