using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace SyncHub.Tests.Infrastructure;

/// <summary>
/// The OpenAPI document as a test oracle: finds the response a document declares for an operation and status, and
/// validates a body against its JSON Schema with JsonSchema.Net (2020-12, formats asserted). Component references
/// (<c>#/components/schemas/X</c>) are resolved by giving each evaluated schema the components as <c>$defs</c>.
/// </summary>
public sealed class OpenApiContract(JsonObject document)
{
    private static readonly string[] HttpMethods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    private readonly Dictionary<string, JsonSchema> _schemas = new();

    public JsonObject Document { get; } = document;

    public static OpenApiContract Parse(string json) => new(JsonNode.Parse(json)!.AsObject());

    /// <summary>"METHOD /path" for every operation of the document.</summary>
    public IEnumerable<(string Method, string Path, JsonObject Operation)> Operations() =>
        Document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject()
            .Where(o => HttpMethods.Contains(o.Key))
            .Select(o => (o.Key.ToUpperInvariant(), p.Key, o.Value!.AsObject())));

    public JsonObject Operation(string method, string path) =>
        Document["paths"]?[path]?[method.ToLowerInvariant()]?.AsObject() ?? throw new Xunit.Sdk.XunitException($"the document has no operation {method} {path}");

    /// <summary>The response object for a status (a <c>$ref</c> to components/responses resolved), or null.</summary>
    public JsonObject? Response(string method, string path, int status)
    {
        var response = Operation(method, path)["responses"]?[status.ToString(System.Globalization.CultureInfo.InvariantCulture)]?.AsObject();
        return response?["$ref"] is { } reference ? Resolve(reference.GetValue<string>()).AsObject() : response;
    }

    public JsonNode Resolve(string reference)
    {
        Assert.StartsWith("#/", reference);
        JsonNode? node = Document;
        foreach (var segment in reference[2..].Split('/'))
        {
            node = node?[segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)];
        }
        return node ?? throw new Xunit.Sdk.XunitException($"{reference} does not resolve");
    }

    /// <summary>
    /// Checks a real response against the document: the status is declared for the operation, and the body is empty
    /// when the document declares no content, else JSON that its <c>application/json</c> schema accepts.
    /// </summary>
    public void AssertConforms(string method, string path, int status, string? contentType, string body)
    {
        var response = Response(method, path, status)
            ?? throw new Xunit.Sdk.XunitException($"{method} {path} answered {status}, a status the document does not declare: {body}");
        if (response["content"]?["text/html"] is not null)
        {
            // A page (GET /dashboard): HTML, not JSON.
            Assert.True(contentType is not null && contentType.StartsWith("text/html", StringComparison.Ordinal), $"{method} {path} {status}: Content-Type {contentType}");
            Assert.StartsWith("<!doctype html>", body, StringComparison.OrdinalIgnoreCase);
            return;
        }
        var schema = response["content"]?["application/json"]?["schema"];
        if (schema is null)
        {
            Assert.True(body.Length == 0, $"{method} {path} {status}: the document declares no body, got {body}");
            return;
        }
        Assert.True(contentType is not null && contentType.StartsWith("application/json", StringComparison.Ordinal), $"{method} {path} {status}: Content-Type {contentType}");
        var results = Evaluate(schema, body);
        Assert.True(results.IsValid, $"{method} {path} {status}: the body does not match the document's schema:\n{Describe(results)}\nbody: {Clip(body)}");
    }

    /// <summary>Evaluates a body against a schema of the document (a schema object, usually a <c>$ref</c>).</summary>
    public EvaluationResults Evaluate(JsonNode schema, string body)
    {
        var key = schema.ToJsonString();
        if (!_schemas.TryGetValue(key, out var built))
        {
            // The definitions before the schema's own keywords: references resolve as the schema is built.
            var baseUri = new Uri($"https://synchub.test/openapi/{Guid.NewGuid():N}");
            var root = new JsonObject
            {
                ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
                ["$id"] = baseUri.ToString(),
                ["$defs"] = Rewrite(Document["components"]!["schemas"]!.DeepClone()),
            };
            foreach (var (name, value) in ((JsonObject)Rewrite(schema.DeepClone())!).ToArray())
            {
                root[name] = value?.DeepClone();
            }
            built = JsonSchema.FromText(root.ToJsonString(), new BuildOptions { SchemaRegistry = new SchemaRegistry() }, baseUri);
            _schemas[key] = built;
        }
        using var instance = JsonDocument.Parse(body);
        return built.Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
    }

    public EvaluationResults EvaluateComponent(string name, string body) =>
        Evaluate(new JsonObject { ["$ref"] = $"#/components/schemas/{name}" }, body);

    public static string Describe(EvaluationResults results) =>
        string.Join("\n", (results.Details ?? []).Prepend(results)
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"  {d.InstanceLocation} ({d.EvaluationPath}): {e.Key}: {e.Value}")));

    private static string Clip(string body) => body.Length > 2000 ? body[..2000] + "..." : body;

    /// <summary><c>#/components/schemas/X</c> becomes <c>#/$defs/X</c>, everywhere in a schema.</summary>
    private static JsonNode? Rewrite(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToArray())
                {
                    if (name == "$ref" && obj[name] is JsonValue value && value.GetValue<string>() is var reference && reference.StartsWith("#/components/schemas/", StringComparison.Ordinal))
                    {
                        obj[name] = "#/$defs/" + reference["#/components/schemas/".Length..];
                    }
                    else
                    {
                        Rewrite(obj[name]);
                    }
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Rewrite(item);
                }
                break;
        }
        return node;
    }
}
