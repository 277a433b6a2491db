using SyncHub.Core.Api;

namespace SyncHub.LocalHost;

/// <summary>An unknown route answers in the error envelope too, like every other failure.</summary>
public static class NotFound
{
    public static Task WriteAsync(HttpContext context) =>
        ErrorEnvelope.Result(new ApiException(404, "not_found", $"No endpoint {context.Request.Method} {context.Request.Path}.")).ExecuteAsync(context);
}
