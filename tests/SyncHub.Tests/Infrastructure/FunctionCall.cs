using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace SyncHub.Tests.Infrastructure;

/// <summary>
/// Calls an HTTP function's method directly with a real <see cref="DefaultHttpContext"/>, the way the worker would
/// (the Functions host itself cannot run here). The response is executed and read back.
/// </summary>
public static class FunctionCall
{
    public sealed record Response(int Status, string Body)
    {
        public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);
        public string? ErrorCode => Json?["error"]?["code"]?.GetValue<string>();
    }

    public static async Task<Response> SendAsync(
        IServiceProvider services,
        Func<HttpRequest, CancellationToken, Task<IResult>> function,
        string method,
        string queryString = "",
        IDictionary<string, string>? headers = null,
        string? body = null,
        string secretKey = TestEnvironment.SecretKey,
        IDictionary<string, string>? route = null)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        var request = context.Request;
        request.Method = method;
        request.QueryString = new QueryString(queryString.Length == 0 || queryString.StartsWith('?') ? queryString : "?" + queryString);
        if (secretKey.Length > 0)
        {
            request.Headers.Authorization = "Bearer " + secretKey;
        }
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers[name] = value;
        }
        foreach (var (name, value) in route ?? new Dictionary<string, string>())
        {
            request.RouteValues[name] = value;
        }
        if (body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            request.Body = new MemoryStream(bytes);
            request.ContentLength = bytes.Length;
            request.ContentType ??= "application/json";
        }
        var responseBody = new MemoryStream();
        context.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>(
            new Microsoft.AspNetCore.Http.StreamResponseBodyFeature(responseBody));
        var result = await function(request, CancellationToken.None);
        await result.ExecuteAsync(context);
        await context.Response.BodyWriter.FlushAsync();
        return new Response(context.Response.StatusCode, Encoding.UTF8.GetString(responseBody.ToArray()));
    }

    public static T Get<T>(this IServiceProvider services) where T : notnull => services.GetRequiredService<T>();
}
