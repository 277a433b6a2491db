using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace SyncHub.Core.Api;

public delegate Task<IResult> ApiHandler(ApiRequest request, CancellationToken ct);

/// <summary>
/// What every HTTP function runs through: authenticate, apply the content rules, run the handler, and turn failures
/// into the error envelope. An unexpected exception becomes 500 <c>server_error</c> whose correlation id is also logged.
/// </summary>
public sealed class ApiPipeline(SecretKeyAuthenticator authenticator, ILogger<ApiPipeline> logger)
{
    public Task<IResult> RunAsync(HttpRequest request, ApiHandler handler, CancellationToken ct) => RunAsync(request, handler, authenticate: true, ct);

    /// <summary>
    /// The same pipeline without authentication, for the one public route, <c>GET /openapi.json</c>
    /// (<see cref="OpenApiDocument"/>): content rules, query validation and the error envelope still apply.
    /// Every other function calls <see cref="RunAsync(HttpRequest, ApiHandler, CancellationToken)"/>.
    /// </summary>
    public Task<IResult> RunPublicAsync(HttpRequest request, ApiHandler handler, CancellationToken ct) => RunAsync(request, handler, authenticate: false, ct);

    private async Task<IResult> RunAsync(HttpRequest request, ApiHandler handler, bool authenticate, CancellationToken ct)
    {
        try
        {
            if (authenticate)
            {
                authenticator.Authenticate(request.Headers.Authorization.FirstOrDefault());
            }
            CheckContentType(request);
            return await handler(new ApiRequest(request), ct);
        }
        catch (Exception e) when ((e as ApiException ?? DomainErrors.ToApi(e)) is { } error)
        {
            // Path and code only: queries and bodies may carry customer data.
            logger.LogInformation("{Method} {Path} answered {Status} {Code}", request.Method, request.Path.Value, error.Status, error.Code);
            return ErrorEnvelope.Result(error);
        }
        catch (BadHttpRequestException e)
        {
            // The server refused to read the request (too large, malformed framing): the client's fault, not ours.
            var error = e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? new ApiException(413, "payload_too_large", "The request body is too large.")
                : new ApiException(400, "invalid_body", "The request body could not be read.");
            logger.LogInformation("{Method} {Path} answered {Status} {Code}", request.Method, request.Path.Value, error.Status, error.Code);
            return ErrorEnvelope.Result(error);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested || request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (Exception e)
        {
            var correlationId = Guid.NewGuid().ToString("N");
            logger.LogError(e, "Unhandled error {CorrelationId} on {Method} {Path}", correlationId, request.Method, request.Path.Value);
            return ErrorEnvelope.Result(new ApiException(500, "server_error",
                $"An unexpected error occurred in SyncHub. Quote correlation id {correlationId} when reporting it."));
        }
    }

    /// <summary>A body must be JSON; a Content-Type on a body-less GET (the Node client sends one) is fine.</summary>
    private static void CheckContentType(HttpRequest request)
    {
        var hasBody = request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
        var contentType = request.ContentType;
        if (!hasBody || string.IsNullOrEmpty(contentType))
        {
            return;
        }
        // application/json with any parameters (charset); not application/jsonp, text/json or a form.
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            || !mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiException(415, "invalid_content_type", "The request body must be sent with Content-Type: application/json.");
        }
    }
}
