using System.Net;

namespace SyncHub.Core.Sdk;

/// <summary>
/// A provider request that failed: a non-success status (<see cref="HttpRequestException.StatusCode"/> set) once the
/// Proxy client's retries were spent, or no response at all (connection failure, timeout; StatusCode null). The message
/// names the method, the URL path and the status, never the query string (it may hold secrets), headers or the body,
/// so it can be recorded as a run's error as it is.
/// </summary>
public sealed class ProviderRequestException : HttpRequestException
{
    public ProviderRequestException(string method, string path, HttpStatusCode? statusCode, string message, Exception? innerException = null)
        : base(message, innerException, statusCode)
    {
        Method = method;
        Path = path;
    }

    /// <summary>The HTTP method, e.g. <c>GET</c>.</summary>
    public string Method { get; }

    /// <summary>The URL path that was requested, without its query string.</summary>
    public string Path { get; }

    /// <summary>"GET /repos/o/r/issues answered 401 Unauthorized", plus a note when the provider rate-limited the request.</summary>
    internal static ProviderRequestException FromResponse(HttpResponseMessage response, HttpRequestMessage request)
    {
        var method = request.Method.Method;
        var path = ProviderRequests.PathOf(response.RequestMessage?.RequestUri ?? request.RequestUri);
        var code = (int)response.StatusCode;
        var reason = ReasonPhrase(response.StatusCode);
        var status = reason.Length == 0 ? code.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{code} {reason}";
        var note = ProxyRetryRules.RateLimitNote(response);
        return new ProviderRequestException(method, path, response.StatusCode, $"{method} {path} answered {status}{note}");
    }

    /// <summary>"GET /repos/o/r/issues failed: ..." for a request that got no response.</summary>
    internal static ProviderRequestException NoResponse(HttpRequestMessage request, string what, Exception innerException)
    {
        var method = request.Method.Method;
        var path = ProviderRequests.PathOf(request.RequestUri);
        return new ProviderRequestException(method, path, null, $"{method} {path} {what}", innerException);
    }

    /// <summary>"Bad Gateway" for 502: the status code's name with its words spaced; empty for a code with no name.</summary>
    private static string ReasonPhrase(HttpStatusCode code) =>
        Enum.IsDefined(code) ? System.Text.RegularExpressions.Regex.Replace(code.ToString(), "(?<=[a-z])(?=[A-Z])", " ") : "";
}
