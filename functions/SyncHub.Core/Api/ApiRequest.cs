using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace SyncHub.Core.Api;

/// <summary>The request as a handler sees it: validated access to query, headers, body and path values.</summary>
public sealed class ApiRequest(HttpRequest http)
{
    /// <summary>Bodies beyond this are refused before parsing; no endpoint needs more.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    private bool _queryRead;

    public HttpRequest Http { get; } = http;

    /// <summary>The query, with <paramref name="allowed"/> its only keys (others are errors in <paramref name="validation"/>).</summary>
    public QueryInput Query(Validation validation, params string[] allowed)
    {
        _queryRead = true;
        return new(Http.Query, validation, allowed);
    }

    /// <summary>
    /// API.md validates the query before the body on every endpoint: an endpoint that reads its body without having
    /// read its query takes no query keys, so any key is 400 <c>invalid_query_params</c> before the body is looked at.
    /// Reading the body calls this; an endpoint that checks path values first calls it before them.
    /// </summary>
    public void RejectUnreadQuery()
    {
        if (_queryRead)
        {
            return;
        }
        var validation = Validation.Query();
        Query(validation);
        validation.ThrowIfInvalid();
    }

    public string? Header(string name)
    {
        var values = Http.Headers[name];
        return values.Count == 0 ? null : values[0];
    }

    /// <summary>
    /// A path value. Clients percent-encode ids (<c>%2F</c> for <c>/</c>); the host decodes everything but <c>%2F</c>,
    /// so decode here. Names cannot contain <c>%</c>, so decoding an already-decoded value is harmless.
    /// </summary>
    public string Route(string name)
    {
        var raw = Http.RouteValues.TryGetValue(name, out var value) ? value?.ToString() ?? "" : "";
        try
        {
            return Uri.UnescapeDataString(raw);
        }
        catch (UriFormatException)
        {
            return raw;
        }
    }

    /// <summary>Reads the body as a JSON object: 400 <c>invalid_json</c> when it does not parse.</summary>
    public async Task<JsonObject> JsonObjectAsync(CancellationToken ct)
    {
        var node = await JsonAsync(ct);
        return node as JsonObject
            ?? throw ApiException.BadRequest("invalid_body", $"The request body must be a JSON object, got {BodyInput.Kind(node)}.");
    }

    public async Task<JsonNode?> JsonAsync(CancellationToken ct)
    {
        RejectUnreadQuery();
        if (Http.ContentLength > MaxBodyBytes)
        {
            throw TooLarge();
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await Http.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                throw TooLarge();
            }
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0)
        {
            throw ApiException.BadRequest("invalid_body", "A JSON request body is required.");
        }
        // The parser checks UTF-8 only when a string is read, deep in a handler (a 500): refuse it here instead.
        if (!System.Text.Unicode.Utf8.IsValid(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)))
        {
            throw ApiException.BadRequest("invalid_json", "The request body is not valid UTF-8.");
        }
        try
        {
            var node = JsonNode.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
            ForceMaterialize(node);
            return node;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            // ArgumentException: a duplicate key, found when the object is materialized.
            throw ApiException.BadRequest("invalid_json", "The request body is not valid JSON.");
        }
    }

    private static ApiException TooLarge() =>
        new(413, "payload_too_large", $"The request body exceeds the limit of {MaxBodyBytes / 1024} KiB.");

    private static void ForceMaterialize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, child) in obj)
                {
                    ForceMaterialize(child);
                }
                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    ForceMaterialize(child);
                }
                break;
        }
    }
}
