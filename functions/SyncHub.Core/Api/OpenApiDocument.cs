using Microsoft.AspNetCore.Http;

namespace SyncHub.Core.Api;

/// <summary>
/// <c>GET /openapi.json</c>: the OpenAPI 3.1 description of the API, a static JSON file embedded in this assembly
/// (<c>Api/openapi.json</c>). The only route served without authentication (through
/// <see cref="ApiPipeline.RunPublicAsync"/>); it takes no query parameters, so an unknown key is 400
/// <c>invalid_query_params</c> as everywhere else.
/// </summary>
public static class OpenApiDocument
{
    public const string ResourceName = "SyncHub.Core.Api.openapi.json";

    private static readonly Lazy<byte[]> Document = new(Load);

    /// <summary>The document's UTF-8 bytes, as served.</summary>
    public static ReadOnlyMemory<byte> Bytes => Document.Value;

    public static Task<IResult> GetAsync(ApiRequest request, CancellationToken ct)
    {
        var validation = Validation.Query();
        request.Query(validation);
        validation.ThrowIfInvalid();
        return Task.FromResult(Results.Bytes(Document.Value, "application/json; charset=utf-8"));
    }

    private static byte[] Load()
    {
        using var stream = typeof(OpenApiDocument).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from {typeof(OpenApiDocument).Assembly.GetName().Name}.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}
