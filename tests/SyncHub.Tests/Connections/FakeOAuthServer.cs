using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Connections;

/// <summary>What the token endpoint received: the form fields and the Authorization header.</summary>
public sealed record TokenRequest(IReadOnlyDictionary<string, string> Form, string? Authorization)
{
    public string? this[string field] => Form.GetValueOrDefault(field);
}

/// <summary>
/// An OAuth 2 token endpoint (Kestrel on 127.0.0.1, <c>POST /token</c>) that rotates refresh tokens: each refresh
/// token is good once; a reused one is answered <c>invalid_grant</c> (and counted in <see cref="Reuses"/>). Issues
/// access tokens <c>at-secret-N</c> and refresh tokens <c>rt-secret-N</c>; also the client credentials grant.
/// Checks the client id and secret (body or Basic). <see cref="Answer"/> overrides the answer (faults).
/// </summary>
public sealed class FakeOAuthServer : IAsyncDisposable
{
    public const string ClientId = "client-id-1";
    public const string ClientSecret = "client-secret-value";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<TokenRequest> _requests = new();
    private readonly ConcurrentDictionary<string, bool> _liveRefreshTokens = new();
    private int _issued;

    private FakeOAuthServer(WebApplication app) => _app = app;

    public Uri TokenUrl { get; private set; } = null!;

    public IReadOnlyList<TokenRequest> Requests => _requests.ToArray();

    /// <summary>Refresh tokens presented again after they were used.</summary>
    public int Reuses;

    /// <summary>How long each answer takes (widens the window for concurrent refreshes).</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>expires_in of issued tokens (null: none sent).</summary>
    public int? ExpiresIn { get; set; } = 3600;

    /// <summary>When set, answers every request this way: (status, JSON body).</summary>
    public Func<TokenRequest, (int Status, string Body)?>? Answer { get; set; }

    /// <summary>Makes a refresh token good (what a connection was imported with).</summary>
    public string Grant(string refreshToken)
    {
        _liveRefreshTokens[refreshToken] = true;
        return refreshToken;
    }

    public static async Task<FakeOAuthServer> StartAsync()
    {
        FakeOAuthServer? server = null;
        var (app, address) = await LoopbackServer.StartAsync(context => server!.HandleAsync(context));
        server = new FakeOAuthServer(app) { TokenUrl = new Uri(address, "/token") };
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var form = context.Request.HasFormContentType
            ? (await context.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString())
            : new Dictionary<string, string>();
        var request = new TokenRequest(form, context.Request.Headers.Authorization.FirstOrDefault());
        _requests.Enqueue(request);
        if (Delay > TimeSpan.Zero)
        {
            // The fake's latency.
            await Task.Delay(Delay);
        }
        var (status, body) = Answer?.Invoke(request) ?? Respond(request);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body);
    }

    private (int, string) Respond(TokenRequest request)
    {
        var (id, secret) = (request["client_id"], request["client_secret"]);
        if (request.Authorization is { } basic && basic.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var pair = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(basic[6..])).Split(':', 2);
            (id, secret) = (Uri.UnescapeDataString(pair[0]), Uri.UnescapeDataString(pair[1]));
        }
        if (id != ClientId || secret != ClientSecret)
        {
            return (401, """{"error":"invalid_client"}""");
        }
        var n = Interlocked.Increment(ref _issued);
        var token = new JsonObject { ["access_token"] = $"at-secret-{n}", ["token_type"] = "bearer", ["scope"] = request["scope"] ?? "repo" };
        if (ExpiresIn is { } expiresIn)
        {
            token["expires_in"] = expiresIn;
        }
        switch (request["grant_type"])
        {
            case "client_credentials":
                return (200, token.ToJsonString());
            case "refresh_token":
                if (request["refresh_token"] is not { } presented || !_liveRefreshTokens.TryRemove(presented, out _))
                {
                    Interlocked.Increment(ref Reuses);
                    return (400, """{"error":"invalid_grant","error_description":"refresh token already used"}""");
                }
                var rotated = Grant($"rt-secret-{n}");
                token["refresh_token"] = rotated;
                return (200, token.ToJsonString());
            default:
                return (400, """{"error":"unsupported_grant_type"}""");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
