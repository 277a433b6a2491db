using Microsoft.AspNetCore.Http;

namespace SyncHub.Core.Api;

/// <summary>
/// <c>GET /dashboard</c>: the operations dashboard, one static, dependency-free HTML file (its CSS and script inline)
/// embedded in this assembly (<c>Api/dashboard.html</c>). Public like <c>GET /openapi.json</c>: the page itself holds
/// no data; every data call it makes is an ordinary API call with the secret key the person types in the page (kept in
/// sessionStorage). It takes no query parameters, so an unknown key is 400 <c>invalid_query_params</c> as everywhere
/// else. A strict Content-Security-Policy keeps the page to its own inline code and to calls to this origin.
/// </summary>
public static class DashboardPage
{
    public const string ResourceName = "SyncHub.Core.Api.dashboard.html";

    /// <summary>Inline script and style only, API calls to this origin only, no framing, no forms posted elsewhere.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Lazy<byte[]> Page = new(Load);

    /// <summary>The page's UTF-8 bytes, as served.</summary>
    public static ReadOnlyMemory<byte> Bytes => Page.Value;

    public static Task<IResult> GetAsync(ApiRequest request, CancellationToken ct)
    {
        var validation = Validation.Query();
        request.Query(validation);
        validation.ThrowIfInvalid();
        var headers = request.Http.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        return Task.FromResult(Results.Bytes(Page.Value, "text/html; charset=utf-8"));
    }

    private static byte[] Load()
    {
        using var stream = typeof(DashboardPage).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from {typeof(DashboardPage).Assembly.GetName().Name}.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}
