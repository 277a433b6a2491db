using SyncHub.Core.Api;

namespace SyncHub.LocalHost;

/// <summary>Every failure LocalHost itself answers is in the error envelope too, like those of the API pipeline.</summary>
public static class ErrorResponses
{
    /// <summary>
    /// A failure outside the API pipeline (a parameter LocalHost cannot bind, an unsupported return type) answers
    /// 500 <c>server_error</c> with a logged correlation id, never a stack trace (the developer exception page would
    /// show one in Development).
    /// </summary>
    public static IApplicationBuilder UseServerErrorEnvelope(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("SyncHub.LocalHost");
        return app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                var correlationId = Guid.NewGuid().ToString("N");
                logger.LogError(e, "Unhandled error {CorrelationId} on {Method} {Path}", correlationId, context.Request.Method, context.Request.Path.Value);
                context.Response.Clear();
                await ErrorEnvelope.Result(new ApiException(500, "server_error",
                    $"An unexpected error occurred in SyncHub. Quote correlation id {correlationId} when reporting it.")).ExecuteAsync(context);
            }
        });
    }

    /// <summary>
    /// A 4xx that ASP.NET itself answers with no body (routing on a path it rejects, a verb it refuses) gets the error
    /// envelope too: found by the reliability fuzzer (empty 404s and 400s on odd paths).
    /// </summary>
    public static IApplicationBuilder UseEmptyErrorEnvelope(this IApplicationBuilder app) =>
        app.UseStatusCodePages(context =>
        {
            var response = context.HttpContext.Response;
            var code = response.StatusCode switch
            {
                404 => "not_found",
                405 => "method_not_allowed",
                413 => "payload_too_large",
                415 => "invalid_content_type",
                >= 500 => "server_error",
                _ => "invalid_request",
            };
            return ErrorEnvelope.Result(new ApiException(response.StatusCode, code,
                $"{context.HttpContext.Request.Method} {context.HttpContext.Request.Path} could not be served ({response.StatusCode}).")).ExecuteAsync(context.HttpContext);
        });

    /// <summary>An unknown route (or a verb no function serves on it) answers 404 <c>not_found</c>.</summary>
    public static Task NotFoundAsync(HttpContext context) =>
        ErrorEnvelope.Result(new ApiException(404, "not_found", $"No endpoint {context.Request.Method} {context.Request.Path}.")).ExecuteAsync(context);
}
