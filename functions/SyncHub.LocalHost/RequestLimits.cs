using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SyncHub.Core.Api;

namespace SyncHub.LocalHost;

/// <summary>
/// The size limits on a request's target and headers. Kestrel answers its own limits with a bare status and no body,
/// before any app code runs (not customisable), so Kestrel's limits are raised far above these and the limits are
/// enforced here instead, where the answer can carry the error envelope (found by the fuzzer: a long query was a 414
/// with an empty body). Beyond Kestrel's raised caps (1 MiB) a request still gets Kestrel's bare answer.
/// </summary>
public static class RequestLimits
{
    /// <summary>Path and query, as sent: room for GET /records with 100 ids of 256 characters, percent-encoded.</summary>
    public const int MaxTargetBytes = 128 * 1024;

    /// <summary>All header names and values together; Kestrel's default.</summary>
    public const int MaxHeaderBytes = 32 * 1024;

    public const int MaxHeaderCount = 100;

    private const int KestrelCap = 1024 * 1024;

    public static void Raise(KestrelServerLimits limits)
    {
        limits.MaxRequestLineSize = KestrelCap;
        limits.MaxRequestHeadersTotalSize = KestrelCap;
        limits.MaxRequestHeaderCount = 10 * MaxHeaderCount;
    }

    public static IApplicationBuilder UseRequestLimits(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
            if (target.Length > MaxTargetBytes)
            {
                return Reject(context, 414, "uri_too_long",
                    $"The request URI is {target.Length} characters long; the limit is {MaxTargetBytes / 1024} KiB.");
            }
            var headers = context.Request.Headers;
            if (headers.Count > MaxHeaderCount)
            {
                return Reject(context, 431, "headers_too_large",
                    $"The request has {headers.Count} headers; the limit is {MaxHeaderCount}.");
            }
            var bytes = 0L;
            foreach (var (name, values) in headers)
            {
                foreach (var value in values)
                {
                    // As on the wire: "name: value\r\n".
                    bytes += name.Length + (value?.Length ?? 0) + 4;
                }
            }
            return bytes > MaxHeaderBytes
                ? Reject(context, 431, "headers_too_large", $"The request headers total {bytes} bytes; the limit is {MaxHeaderBytes / 1024} KiB.")
                : next(context);
        });

    private static Task Reject(HttpContext context, int status, string code, string message) =>
        ErrorEnvelope.Result(new ApiException(status, code, message)).ExecuteAsync(context);
}
