using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace SyncHub.Tests.Infrastructure;

/// <summary>What an <see cref="IResult"/> wrote: status, content type and body.</summary>
public sealed record CapturedResponse(int Status, string? ContentType, string Body)
{
    public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);

    /// <summary>The <c>error.code</c> of an error envelope (asserting the envelope's shape on the way).</summary>
    public string ErrorCode
    {
        get
        {
            var error = Json?["error"] as JsonObject ?? throw new Xunit.Sdk.XunitException($"Not an error envelope ({Status}): {Body}");
            Assert.NotNull(error["message"]?.GetValue<string>());
            return error["code"]!.GetValue<string>();
        }
    }
}

/// <summary>Builds in-memory <see cref="HttpRequest"/>s (no server) and runs results against them.</summary>
public static class HttpRequests
{
    private static readonly IServiceProvider Services = new ServiceCollection().AddLogging().BuildServiceProvider();

    public static HttpRequest Create(
        string method = "GET", string path = "/", string? query = null, string? body = null, string? contentType = null,
        string? authorization = "Bearer " + TestEnvironment.SecretKey, IDictionary<string, string>? routeValues = null)
    {
        var context = new DefaultHttpContext { RequestServices = Services };
        var request = context.Request;
        request.Method = method;
        request.Path = path;
        if (query is not null)
        {
            request.QueryString = new QueryString(query.StartsWith('?') ? query : "?" + query);
        }
        if (authorization is not null)
        {
            request.Headers.Authorization = authorization;
        }
        if (contentType is not null)
        {
            request.ContentType = contentType;
        }
        if (body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            request.Body = new MemoryStream(bytes);
            request.ContentLength = bytes.Length;
        }
        foreach (var (name, value) in routeValues ?? new Dictionary<string, string>())
        {
            request.RouteValues[name] = value;
        }
        context.Response.Body = new MemoryStream();
        return request;
    }

    public static async Task<CapturedResponse> ExecuteAsync(IResult result, HttpRequest request)
    {
        var context = request.HttpContext;
        await result.ExecuteAsync(context);
        context.Response.Body.Position = 0;
        var body = await new StreamReader(context.Response.Body, Encoding.UTF8).ReadToEndAsync();
        return new CapturedResponse(context.Response.StatusCode, context.Response.ContentType, body);
    }
}
