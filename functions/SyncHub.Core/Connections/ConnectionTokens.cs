using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SyncHub.Core.Configuration;

namespace SyncHub.Core.Connections;

/// <summary>
/// Keeps OAuth connections' access tokens usable. <c>OAUTH2</c> connections of an integration with an <c>oauth</c>
/// client in nango.yaml and a <c>refresh_token</c> are refreshed (RFC 6749 §6) when within the integration's
/// refresh_margin of <c>expires_at</c>, after a provider's 401, or on demand; <c>OAUTH2_CC</c> connections get a token
/// (client credentials grant) when they have none or it is expiring. The new credentials are encrypted on the row.
/// </summary>
/// <remarks>
/// <para>One refresh at a time per connection, across hosts: the refresher first takes a lease on the connection row
/// (<see cref="RefreshLease"/>, an ETag-conditional write; one writer wins), then asks the token endpoint, then writes
/// the new credentials and clears the lease. Everyone else who needs a refresh meanwhile sees the lease, waits for it to
/// be cleared (reading the row every <see cref="OAuthRefreshOptions.PollInterval"/>) and uses the holder's token, so a
/// rotated refresh token is never used twice. A holder that crashed is taken over once its lease expires.</para>
/// <para>A failed refresh marks the connection (<see cref="Connection.AuthError"/>), calls
/// <see cref="IConnectionEvents.OnRefreshFailedAsync"/> once per failure episode and throws
/// <see cref="OAuthRefreshException"/>; the waiters for that refresh fail with the same message without asking again.
/// A later successful refresh, or importing the credentials again, ends the episode. Tokens and secrets are never
/// logged nor put in a message.</para>
/// </remarks>
public sealed partial class ConnectionTokens(
    ConnectionStore store,
    IntegrationCatalog catalog,
    IHttpClientFactory http,
    IConnectionEvents events,
    IOptions<OAuthRefreshOptions> options,
    TimeProvider clock,
    ILogger<ConnectionTokens> logger)
{
    public const string OAuth2 = "OAUTH2";
    public const string OAuth2ClientCredentials = "OAUTH2_CC";

    /// <summary>Fields of a token response never kept in <c>raw</c>.</summary>
    private static readonly string[] SecretFields = ["access_token", "refresh_token", "id_token"];

    /// <summary>Whether SyncHub can get these credentials a new token.</summary>
    public bool CanRefresh(string integration, ConnectionCredentials credentials) => Kind(credentials) switch
    {
        OAuth2 => catalog.Find(integration)?.OAuth is not null && !string.IsNullOrEmpty(credentials.Get("refresh_token")),
        OAuth2ClientCredentials => true,
        _ => false,
    };

    /// <summary>Whether the credentials need a new token before use: none yet, or within the refresh margin of expiry.</summary>
    public bool NeedsRefresh(string integration, ConnectionCredentials credentials)
    {
        if (!CanRefresh(integration, credentials))
        {
            return false;
        }
        if (string.IsNullOrEmpty(credentials.Get("access_token")))
        {
            return true;
        }
        return ExpiresAt(credentials) is { } expiresAt
            && expiresAt - (catalog.Find(integration)?.OAuth?.RefreshMargin ?? OAuthClientDefinition.DefaultRefreshMargin) <= clock.GetUtcNow();
    }

    /// <summary>
    /// The credentials a run should use: <paramref name="credentials"/> (as read with the connection) when their token
    /// is good, otherwise refreshed first (or another host's fresh refresh).
    /// </summary>
    /// <exception cref="OAuthRefreshException">The refresh failed; the connection is marked.</exception>
    public async Task<ConnectionCredentials> EnsureFreshAsync(Connection connection, ConnectionCredentials credentials, CancellationToken ct)
    {
        var integration = connection.ProviderConfigKey;
        if (!NeedsRefresh(integration, credentials))
        {
            return credentials;
        }
        return await RefreshAsync(integration, connection.ConnectionId, (current, _) => NeedsRefresh(integration, current), ct) ?? credentials;
    }

    /// <summary>
    /// The provider rejected <paramref name="rejectedAccessToken"/> (401): refreshes once, unless the stored token is
    /// already another one (someone refreshed meanwhile), and returns the credentials to retry with; null when the
    /// connection is gone.
    /// </summary>
    public Task<ConnectionCredentials?> RefreshRejectedAsync(string integration, string connectionId, string rejectedAccessToken, CancellationToken ct) =>
        RefreshAsync(integration, connectionId, (current, _) => CanRefresh(integration, current) && current.Get("access_token") == rejectedAccessToken, ct);

    /// <summary>Refreshes now (<c>force_refresh=true</c>), unless a refresh by someone else ended while this one waited. Null when the connection is gone.</summary>
    public Task<ConnectionCredentials?> ForceRefreshAsync(string integration, string connectionId, CancellationToken ct) =>
        RefreshAsync(integration, connectionId, (current, waited) => !waited && CanRefresh(integration, current), ct);

    /// <param name="needed">Given the stored credentials and whether this call waited for another's refresh: refresh still needed?</param>
    private async Task<ConnectionCredentials?> RefreshAsync(
        string integration, string connectionId, Func<ConnectionCredentials, bool, bool> needed, CancellationToken ct)
    {
        var settings = options.Value;
        var started = clock.GetUtcNow();
        var waited = false;
        while (true)
        {
            if (await store.GetRowAsync(integration, connectionId, ct) is not var (row, credentials))
            {
                return null;
            }
            var now = clock.GetUtcNow();
            if (row.Value.Refresh is { } lease && lease.Until > now)
            {
                // Another host (or call) is refreshing: wait for its token rather than spend the refresh token twice.
                waited = true;
                await Task.Delay(settings.PollInterval, clock, ct);
                continue;
            }
            if (waited && row.Value.Connection.AuthError is { } failed && failed.At >= started)
            {
                // The refresh waited for failed: asking again at once would fail the same way.
                throw new OAuthRefreshException(failed.Message);
            }
            if (!needed(credentials, waited))
            {
                return credentials;
            }
            var leaseId = Guid.NewGuid().ToString("N");
            var leased = row.Value with { Refresh = new RefreshLease(leaseId, now + settings.LeaseDuration) };
            if (await store.TryReplaceRowAsync(leased, row.ETag, ct) is null)
            {
                // Someone wrote the row since it was read (perhaps a lease of their own): look again.
                continue;
            }
            return await RefreshHoldingLeaseAsync(integration, connectionId, credentials, leaseId, ct);
        }
    }

    private async Task<ConnectionCredentials> RefreshHoldingLeaseAsync(
        string integration, string connectionId, ConnectionCredentials credentials, string leaseId, CancellationToken ct)
    {
        TokenOutcome outcome;
        try
        {
            outcome = await RequestTokenAsync(integration, credentials, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await ReleaseAsync(integration, connectionId, leaseId);
            throw;
        }
        if (outcome.Credentials is { } fresh)
        {
            var written = await store.UpdateRowAsync(integration, connectionId, current =>
                current?.Refresh?.Id == leaseId
                    ? store.WithCredentials(current, fresh) with { Refresh = null, Connection = current.Connection with { AuthError = null } }
                    : null, CancellationToken.None);
            if (written is null)
            {
                logger.LogWarning(
                    "Connection {Integration} {ConnectionId}: its credentials were imported again (or it was deleted) during a token refresh; the refreshed token is discarded",
                    integration, connectionId);
                return (await store.GetRowAsync(integration, connectionId, CancellationToken.None))?.Credentials ?? fresh;
            }
            logger.LogInformation("Connection {Integration} {ConnectionId}: OAuth token refreshed; it expires {ExpiresAt}",
                integration, connectionId, fresh.Get("expires_at") ?? "never (no expires_in)");
            return fresh;
        }

        var message = "OAuth refresh failed: " + outcome.Error;
        ConnectionAuthError? error = null;
        Connection? marked = null;
        var episodeStarted = false;
        var authMode = "";
        await store.UpdateRowAsync(integration, connectionId, current =>
        {
            if (current?.Refresh?.Id != leaseId)
            {
                marked = null;
                return null;
            }
            episodeStarted = current.Connection.AuthError is null;
            authMode = current.CredentialsType;
            error = new ConnectionAuthError(current.Connection.AuthError?.LogId ?? NewLogId(), message, clock.GetUtcNow());
            marked = current.Connection with { AuthError = error };
            return current with { Connection = marked, Refresh = null };
        }, CancellationToken.None);
        logger.LogWarning("Connection {Integration} {ConnectionId}: {Error}", integration, connectionId, message);
        if (episodeStarted && marked is not null && error is not null)
        {
            try
            {
                await events.OnRefreshFailedAsync(marked, authMode, error, CancellationToken.None);
            }
            catch (Exception e)
            {
                logger.LogWarning("Connection {Integration} {ConnectionId}: the refresh failure could not be reported: {Type}", integration, connectionId, e.GetType().Name);
            }
        }
        throw new OAuthRefreshException(message);
    }

    private async Task ReleaseAsync(string integration, string connectionId, string leaseId)
    {
        try
        {
            await store.UpdateRowAsync(integration, connectionId,
                current => current?.Refresh?.Id == leaseId ? current with { Refresh = null } : null, CancellationToken.None);
        }
        catch (Exception e)
        {
            // The lease expires on its own.
            logger.LogWarning("Connection {Integration} {ConnectionId}: the refresh lease could not be released: {Type}", integration, connectionId, e.GetType().Name);
        }
    }

    private sealed record TokenOutcome(ConnectionCredentials? Credentials, string Error);

    private async Task<TokenOutcome> RequestTokenAsync(string integration, ConnectionCredentials credentials, CancellationToken ct)
    {
        var form = new List<KeyValuePair<string, string>>();
        Uri? tokenUrl;
        string clientId;
        string clientSecret;
        OAuthAuthStyle style;
        if (Kind(credentials) == OAuth2)
        {
            var client = catalog.Find(integration)?.OAuth ?? throw new OAuthRefreshException("OAuth refresh failed: the integration has no oauth client in nango.yaml");
            (tokenUrl, clientId, clientSecret, style) = (client.TokenUrl, client.ClientId, client.ClientSecret, client.AuthStyle);
            form.Add(new("grant_type", "refresh_token"));
            form.Add(new("refresh_token", credentials.Get("refresh_token") ?? ""));
        }
        else
        {
            Uri.TryCreate(credentials.Get("token_url"), UriKind.Absolute, out tokenUrl);
            (clientId, clientSecret, style) = (credentials.Get("client_id") ?? "", credentials.Get("client_secret") ?? "", OAuthAuthStyle.Body);
            form.Add(new("grant_type", "client_credentials"));
            if (credentials.Get("scopes") is { Length: > 0 } scopes)
            {
                form.Add(new("scope", string.Join(' ', scopes.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))));
            }
        }
        if (tokenUrl is null || tokenUrl.Scheme is not ("http" or "https"))
        {
            return new TokenOutcome(null, "the token_url is not an absolute http(s) URL");
        }
        if (style == OAuthAuthStyle.Body)
        {
            form.Add(new("client_id", clientId));
            form.Add(new("client_secret", clientSecret));
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, tokenUrl) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (style == OAuthAuthStyle.Basic)
        {
            // RFC 6749 §2.3.1: each part form-encoded, then Basic.
            var pair = Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(clientSecret);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
        }
        var client2 = http.CreateClient(ConnectionTokenServices.HttpClientName);
        client2.Timeout = Timeout.InfiniteTimeSpan;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.TotalTimeout);
        HttpResponseMessage response;
        try
        {
            response = await client2.SendAsync(request, timeout.Token);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is OperationCanceledException or Polly.Timeout.TimeoutRejectedException)
        {
            return new TokenOutcome(null, "the token endpoint did not answer in time");
        }
        catch (HttpRequestException e)
        {
            return new TokenOutcome(null, $"the token endpoint could not be reached ({e.HttpRequestError})");
        }
        using (response)
        {
            string body;
            try
            {
                body = await response.Content.ReadAsStringAsync(timeout.Token);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is OperationCanceledException or HttpRequestException or IOException)
            {
                return new TokenOutcome(null, "the token endpoint's answer could not be read");
            }
            var json = TryParseObject(body);
            var status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                // RFC 6749 §5.2: { "error": "invalid_grant" }. Only a code-like value is repeated, never a description.
                var code = json?["error"] is JsonValue v && v.TryGetValue<string>(out var text) && ErrorCode().IsMatch(text) ? text : null;
                return new TokenOutcome(null, code ?? $"the token endpoint answered {status.ToString(CultureInfo.InvariantCulture)}");
            }
            if (json?["access_token"] is not JsonValue tokenValue || !tokenValue.TryGetValue<string>(out var accessToken) || accessToken.Length == 0)
            {
                return new TokenOutcome(null, "the token endpoint's answer has no access_token");
            }
            return new TokenOutcome(Refreshed(credentials, json, accessToken), "");
        }
    }

    private ConnectionCredentials Refreshed(ConnectionCredentials credentials, JsonObject response, string accessToken)
    {
        var values = credentials.Values.DeepClone().AsObject();
        values["access_token"] = accessToken;
        if (response["refresh_token"] is JsonValue r && r.TryGetValue<string>(out var rotated) && rotated.Length > 0)
        {
            values["refresh_token"] = rotated;
        }
        if (ExpiresIn(response["expires_in"]) is { } seconds)
        {
            values["expires_at"] = clock.GetUtcNow().AddSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        }
        else
        {
            values.Remove("expires_at");
        }
        var raw = new JsonObject();
        foreach (var (key, value) in response)
        {
            if (!SecretFields.Contains(key))
            {
                raw[key] = value?.DeepClone();
            }
        }
        values["raw"] = raw;
        return new ConnectionCredentials(credentials.Type, values);
    }

    private static double? ExpiresIn(JsonNode? node)
    {
        double seconds;
        if (node is not JsonValue value)
        {
            return null;
        }
        if (value.GetValueKind() == JsonValueKind.Number)
        {
            seconds = value.GetValue<double>();
        }
        else if (!value.TryGetValue<string>(out var text) || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds))
        {
            return null;
        }
        return seconds > 0 && seconds < 10 * 365 * 86400 ? seconds : null;
    }

    private static DateTimeOffset? ExpiresAt(ConnectionCredentials credentials) =>
        DateTimeOffset.TryParse(credentials.Get("expires_at"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    private static string? Kind(ConnectionCredentials credentials) => credentials.Type?.Trim().ToUpperInvariant();

    private static JsonObject? TryParseObject(string body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string NewLogId() => Guid.NewGuid().ToString("N")[..20];

    [GeneratedRegex("^[A-Za-z0-9_.:-]{1,64}$")]
    private static partial Regex ErrorCode();
}
