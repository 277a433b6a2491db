using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;
using SyncHub.Core.Connections;

namespace SyncHub.Core.Sdk;

/// <summary>
/// Builds the <c>Proxy</c> HttpClient a sync calls its provider with: the integration's base URL, the connection's
/// credentials, retries, rate-limit waits and timeouts (<see cref="SyncProxyOptions"/>). Singleton; the clients it
/// returns share IHttpClientFactory's pooled handlers, so create one per run and dispose it when the run ends.
/// </summary>
/// <remarks>
/// <para>URLs. A relative URL is relative to the base URL, whether or not it starts with a slash: with base
/// <c>https://h/api/v3</c>, <c>repos/x</c> and <c>/repos/x</c> both request <c>https://h/api/v3/repos/x</c> (a leading
/// slash does not drop the base path, unlike plain HttpClient, because GitHub Enterprise and many APIs have base URLs
/// with a path). An absolute URL (a <c>Link</c> header's next page) is requested as it is. To do this the client's
/// <see cref="HttpClient.BaseAddress"/> is a placeholder, <see cref="RelativeBase"/>, that the client maps onto the
/// base URL; requests built from it therefore also work.</para>
/// <para>Credentials. <c>OAUTH2</c> and <c>OAUTH2_CC</c> (<c>access_token</c>) and <c>API_KEY</c> (<c>apiKey</c>) are sent as
/// <c>Authorization: Bearer</c>, <c>BASIC</c> as <c>Authorization: Basic base64(username:password)</c>; only to the base
/// URL's origin (scheme, host, port), never to another host an absolute URL or a redirect points to, and not over a
/// request that sets its own Authorization header. Every request has <c>User-Agent: SyncHub</c> unless it sets its own.
/// With a <c>reauthorize</c> callback (OAuth connections SyncHub can refresh), a 401 to a request the client
/// authorized gets the callback's new credentials and one retry of that request; a second 401 is returned as it is.</para>
/// <para>Retries: see <see cref="SyncProxyOptions"/>. GET, PUT, DELETE and the other idempotent methods are retried on
/// 5xx, 408, connection failures and attempt timeouts; POST and PATCH only on 429, on 503 with Retry-After and on a
/// connection that could not be opened (the provider surely did not act on them). 429, and 403 with
/// <c>X-RateLimit-Remaining: 0</c> or <c>Retry-After</c>, wait for <c>Retry-After</c> or <c>X-RateLimit-Reset</c> up to
/// MaxRetryAfter; a longer requested wait returns the 429/403 at once. Other 4xx are returned at once. When the retries
/// are spent the last response is returned (check its status, or use <see cref="Pagination"/>'s helpers, which throw
/// <see cref="ProviderRequestException"/>). A request that never got a response throws <see cref="HttpRequestException"/>,
/// or <see cref="Polly.Timeout.TimeoutRejectedException"/> after the total timeout. Content is re-sent on a retry: use
/// buffered content (string, bytes, JSON), not a one-shot stream.</para>
/// </remarks>
public sealed class SyncProxyFactory(IHttpMessageHandlerFactory handlers, IOptions<SyncProxyOptions> options, TimeProvider time)
{
    /// <summary>The placeholder <see cref="HttpClient.BaseAddress"/> of Proxy clients: relative URLs are resolved against it, then mapped onto the base URL.</summary>
    public static readonly Uri RelativeBase = new("https://proxy-base-url.invalid/");

    private readonly SyncProxyOptions _options = options.Value;

    /// <param name="reauthorize">
    /// Called with the access token a provider rejected (401): returns the credentials to retry with (the same token
    /// when there is no other; null when there are none). Its exceptions fail the request.
    /// </param>
    /// <param name="run">The run's integration and sync: the tags of the client's <c>synchub.provider.*</c> metrics.</param>
    public HttpClient Create(Uri baseUrl, ConnectionCredentials credentials, Func<string, CancellationToken, Task<ConnectionCredentials?>>? reauthorize = null,
        (string Integration, string Sync)? run = null)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        ArgumentNullException.ThrowIfNull(credentials);
        if (!baseUrl.IsAbsoluteUri || (baseUrl.Scheme != Uri.UriSchemeHttps && baseUrl.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException("The base URL must be an absolute http or https URL.", nameof(baseUrl));
        }
        if (baseUrl.Query.Length > 0 || baseUrl.Fragment.Length > 0 || baseUrl.UserInfo.Length > 0)
        {
            throw new ArgumentException("The base URL must have no query string, fragment or user info.", nameof(baseUrl));
        }
        var handler = new ProxyHandler(WithTrailingSlash(baseUrl), Authorization(credentials), reauthorize, time, run)
        {
            InnerHandler = handlers.CreateHandler(SyncProxyServices.HttpClientName),
        };
        // The pooled inner handlers belong to IHttpClientFactory: disposing the client must not dispose them.
        var client = new HttpClient(handler, disposeHandler: false)
        {
            BaseAddress = RelativeBase,
            // The pipeline's total timeout governs; this one also bounds reading a buffered body after the last attempt.
            Timeout = _options.TotalTimeout + _options.AttemptTimeout,
        };
        client.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", "SyncHub");
        return client;
    }

    private static Uri WithTrailingSlash(Uri baseUrl) =>
        baseUrl.AbsolutePath.EndsWith('/') ? baseUrl : new Uri(baseUrl.GetLeftPart(UriPartial.Path) + "/");

    private static AuthenticationHeaderValue Authorization(ConnectionCredentials credentials)
    {
        var type = credentials.Type?.Trim().ToUpperInvariant();
        switch (type)
        {
            case "OAUTH2" or "OAUTH2_CC":
                return new AuthenticationHeaderValue("Bearer", Required(credentials, "access_token", type));
            case "API_KEY":
                return new AuthenticationHeaderValue("Bearer", Required(credentials, "apiKey", type));
            case "BASIC":
                var username = Required(credentials, "username", type);
                var password = credentials.Get("password") ?? "";
                return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(username + ":" + password)));
            default:
                throw new ArgumentException(
                    $"Credentials of type '{credentials.Type}' cannot be used by the proxy: expected OAUTH2, OAUTH2_CC, API_KEY or BASIC.",
                    nameof(credentials));
        }
    }

    private static string Required(ConnectionCredentials credentials, string key, string type)
    {
        var value = credentials.Get(key)?.Trim();
        return string.IsNullOrEmpty(value)
            ? throw new ArgumentException($"{type} credentials have no '{key}'.", nameof(credentials))
            : value;
    }

    /// <summary>Maps placeholder URLs onto the base URL and adds the credentials, once per request, before the retries.</summary>
    private sealed class ProxyHandler(
        Uri baseUrl, AuthenticationHeaderValue authorization, Func<string, CancellationToken, Task<ConnectionCredentials?>>? reauthorize, TimeProvider time,
        (string Integration, string Sync)? run)
        : DelegatingHandler
    {
        private volatile AuthenticationHeaderValue _authorization = authorization;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var ours = Prepare(request);
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode != System.Net.HttpStatusCode.Unauthorized || !ours || reauthorize is null
                || request.Headers.Authorization is not { Scheme: "Bearer", Parameter: { } rejected })
            {
                return response;
            }
            // The provider rejected the token (expired early, revoked, rotated elsewhere): one refresh, one retry.
            var fresh = await reauthorize(rejected, cancellationToken);
            if (fresh is null || Authorization(fresh) is not { Parameter: { } token } next || token == rejected)
            {
                return response;
            }
            response.Dispose();
            Telemetry.SyncHubTelemetry.ProviderRetries.Add(1, ProxyRetryRules.TagsOf(request, "401"));
            _authorization = next;
            request.Headers.Authorization = next;
            request.Options.Set(ProxyRetryRules.StartedAt, time.GetTimestamp());
            return await base.SendAsync(request, cancellationToken);
        }

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Prepare(request);
            return base.Send(request, cancellationToken);
        }

        /// <summary>True when this handler set the request's Authorization header.</summary>
        private bool Prepare(HttpRequestMessage request)
        {
            var ours = false;
            if (request.RequestUri is { IsAbsoluteUri: true } uri && IsPlaceholder(uri))
            {
                request.RequestUri = new Uri(
                    baseUrl.GetLeftPart(UriPartial.Authority) + baseUrl.AbsolutePath + uri.AbsolutePath.TrimStart('/') + uri.Query);
            }
            if (request.Headers.Authorization is null && request.RequestUri is { IsAbsoluteUri: true } target && SameOrigin(target, baseUrl))
            {
                request.Headers.Authorization = _authorization;
                ours = true;
            }
            request.Options.Set(ProxyRetryRules.StartedAt, time.GetTimestamp());
            if (run is { } tags)
            {
                request.Options.Set(ProxyRetryRules.MetricTags, tags);
            }
            return ours;
        }

        private static bool IsPlaceholder(Uri uri) =>
            string.Equals(uri.Host, RelativeBase.Host, StringComparison.OrdinalIgnoreCase);

        private static bool SameOrigin(Uri a, Uri b) =>
            a.Scheme == b.Scheme && a.Port == b.Port && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase);
    }
}
