using System.Text.Json;
using Microsoft.AspNetCore.Http;
using SyncHub.Core.Model;

namespace SyncHub.Core.Api;

/// <summary>Writes <c>{ "error": { "code", "message", "errors"? } }</c>, the only shape an error ever takes.</summary>
public static class ErrorEnvelope
{
    public static IResult Result(ApiException error) => new EnvelopeResult(error);

    public static byte[] Serialize(ApiException error)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JsonOutput.Encoder }))
        {
            json.WriteStartObject();
            json.WriteStartObject("error");
            json.WriteString("code", error.Code);
            json.WriteString("message", error.Message);
            if (error.Errors.Count > 0)
            {
                json.WriteStartArray("errors");
                foreach (var field in error.Errors)
                {
                    json.WriteStartObject();
                    json.WriteString("code", field.Code);
                    json.WriteString("message", field.Message);
                    json.WriteStartArray("path");
                    foreach (var segment in field.Path)
                    {
                        json.WriteStringValue(segment);
                    }
                    json.WriteEndArray();
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private sealed class EnvelopeResult(ApiException error) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = error.Status;
            response.ContentType = "application/json; charset=utf-8";
            if (error.Headers is not null)
            {
                foreach (var (name, value) in error.Headers)
                {
                    response.Headers[name] = value;
                }
            }
            var body = Serialize(error);
            response.ContentLength = body.Length;
            await response.Body.WriteAsync(body, httpContext.RequestAborted);
        }
    }
}
