using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SyncHub.Core.Api;
using SyncHub.Core.Configuration;
using SyncHub.Functions;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Api;

/// <summary>
/// The embedded OpenAPI document (<c>GET /openapi.json</c>) against the function app: exactly the <c>[HttpTrigger]</c>
/// routes and verbs, path parameters as in the templates, every reference resolving, errors in the envelope; and the
/// function that serves it, without auth.
/// </summary>
public sealed partial class OpenApiDocumentTests
{
    private static readonly OpenApiContract Contract = OpenApiContract.Parse(System.Text.Encoding.UTF8.GetString(OpenApiDocument.Bytes.Span));

    [GeneratedRegex(@"\{([^}]+)\}")]
    private static partial Regex TemplateParameter();

    [Fact]
    public void It_is_an_openapi_3_1_document()
    {
        Assert.Equal("3.1.0", Contract.Document["openapi"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(Contract.Document["info"]?["title"]?.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(Contract.Document["info"]?["version"]?.GetValue<string>()));
    }

    [Fact]
    public void Its_paths_and_methods_are_exactly_the_http_trigger_routes()
    {
        var declared = HttpTriggerRoutes.All()
            .SelectMany(r =>
            {
                Assert.True(r.Methods.Length > 0, $"{r.Name} serves every verb: name them on the attribute so the document can list them");
                return r.Methods.Select(m => $"{m} /{r.Route}");
            })
            .Order(StringComparer.Ordinal).ToArray();
        var documented = Contract.Operations().Select(o => $"{o.Method} {o.Path}").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(declared, documented);
    }

    [Fact]
    public void Path_parameters_are_those_of_the_route_template()
    {
        foreach (var (method, path, operation) in Contract.Operations())
        {
            var template = TemplateParameter().Matches(path).Select(m => m.Groups[1].Value).Order().ToArray();
            var parameters = (operation["parameters"]?.AsArray() ?? [])
                .Select(p => p!["$ref"] is { } r ? Contract.Resolve(r.GetValue<string>()) : p!)
                .ToArray();
            var inPath = parameters.Where(p => p["in"]!.GetValue<string>() == "path").ToArray();
            Assert.Equal(template, inPath.Select(p => p["name"]!.GetValue<string>()).Order().ToArray());
            Assert.All(inPath, p => Assert.True(p["required"]!.GetValue<bool>(), $"{method} {path}: path parameter {p["name"]} must be required"));
            // A parameter is declared once per location.
            Assert.Equal(parameters.Length, parameters.Select(p => $"{p["in"]}:{p["name"]}").Distinct().Count());
        }
    }

    [Fact]
    public void Only_the_document_itself_and_the_dashboard_page_are_public()
    {
        Assert.Equal("secretKey", Assert.Single(Contract.Document["security"]!.AsArray())!.AsObject().Single().Key);
        Assert.Equal("bearer", Contract.Document["components"]!["securitySchemes"]!["secretKey"]!["scheme"]!.GetValue<string>());
        foreach (var (method, path, operation) in Contract.Operations())
        {
            if (method == "GET" && path is "/openapi.json" or "/dashboard")
            {
                Assert.Empty(operation["security"]!.AsArray());
                Assert.Null(Contract.Response(method, path, 401));
            }
            else
            {
                Assert.Null(operation["security"]);
                Assert.NotNull(Contract.Response(method, path, 401));
            }
        }
    }

    [Fact]
    public void Every_operation_has_a_200_and_its_errors_are_the_envelope()
    {
        foreach (var (method, path, operation) in Contract.Operations())
        {
            var responses = operation["responses"]!.AsObject();
            Assert.Contains("200", responses.Select(r => r.Key));
            Assert.Contains("400", responses.Select(r => r.Key));
            Assert.Contains("500", responses.Select(r => r.Key));
            foreach (var (status, _) in responses.Where(r => r.Key[0] is '4' or '5'))
            {
                var schema = Contract.Response(method, path, int.Parse(status, System.Globalization.CultureInfo.InvariantCulture))!["content"]!["application/json"]!["schema"]!;
                Assert.Equal("#/components/schemas/Error", schema["$ref"]!.GetValue<string>());
            }
        }
    }

    [Fact]
    public void Every_reference_resolves()
    {
        static IEnumerable<string> References(JsonNode? node) => node switch
        {
            JsonObject o => o.SelectMany(p => p.Key == "$ref" && p.Value is JsonValue v ? [v.GetValue<string>()] : References(p.Value)),
            JsonArray a => a.SelectMany(References),
            _ => [],
        };
        var references = References(Contract.Document).Distinct().ToArray();
        Assert.NotEmpty(references);
        Assert.All(references, r => Contract.Resolve(r));
    }

    [Fact]
    public void The_schemas_are_strict_enough_to_reject_a_wrong_shape()
    {
        const string metadata = """{"first_seen_at":"2026-11-26T10:00:00.1234567+00:00","last_modified_at":"2026-11-26T11:00:00.5+00:00","last_action":"UPDATED","deleted_at":null,"pruned_at":null,"cursor":"AAAAAAAAAAE"}""";
        Assert.True(Contract.EvaluateComponent("RecordsPage", $$"""{"records":[{"id":"1","title":"t","_nango_metadata":{{metadata}}}],"next_cursor":null}""").IsValid);
        Assert.False(Contract.EvaluateComponent("RecordsPage", $$"""{"records":[{"id":"1","_nango_metadata":{{metadata}}}]}""").IsValid); // next_cursor missing
        Assert.False(Contract.EvaluateComponent("RecordsPage", $$"""{"records":[{"id":1,"_nango_metadata":{{metadata}}}],"next_cursor":null}""").IsValid); // numeric id
        Assert.False(Contract.EvaluateComponent("RecordsPage", """{"records":[{"id":"1"}],"next_cursor":null}""").IsValid); // no metadata
        Assert.False(Contract.EvaluateComponent("RecordsPage", $$"""{"records":[{"id":"1","_nango_metadata":{{metadata.Replace("UPDATED", "CHANGED")}}}],"next_cursor":null}""").IsValid);
        Assert.False(Contract.EvaluateComponent("RecordsPage", $$"""{"records":[{"id":"1","_nango_metadata":{{metadata.Replace("}", ",\"extra\":1}")}}}],"next_cursor":null}""").IsValid);
        Assert.False(Contract.EvaluateComponent("RecordsPage", $$"""{"records":[{"id":"1","_nango_metadata":{{metadata.Replace("2026-11-26T10", "yesterday")}}}],"next_cursor":null}""").IsValid);
        Assert.False(Contract.EvaluateComponent("PruneResult", """{"count":1}""").IsValid);
        Assert.False(Contract.EvaluateComponent("PruneResult", """{"count":1,"has_more":false,"pruned":1}""").IsValid);
        Assert.False(Contract.EvaluateComponent("Error", """{"error":{"code":"x"}}""").IsValid);
        Assert.False(Contract.EvaluateComponent("Error", """{"error":{"code":"x","message":"m","stack":"at"}}""").IsValid);
        Assert.False(Contract.EvaluateComponent("Error", """{"error":{"code":"x","message":"m","errors":[{"code":"c","message":"m"}]}}""").IsValid);
        Assert.False(Contract.EvaluateComponent("Connection", """{"id":1,"connection_id":"c","provider_config_key":"github","provider":"github","errors":[],"end_user":null,"tags":{},"metadata":{},"connection_config":{},"created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:00.000Z","last_fetched_at":null,"credentials":{"type":"API_KEY","apiKey":"k"}}""").IsValid);
        Assert.False(Contract.EvaluateComponent("SyncStatus", """{"id":"8a0b5c1e-1111-4222-8333-444455556666","connection_id":"c","name":"issues","variant":"base","status":"DONE","type":"INITIAL","frequency":"every hour","nextScheduledSyncAt":null,"latestResult":{},"recordCount":{},"checkpoint":null}""").IsValid);
    }

    [Fact]
    public async Task The_function_serves_the_document_without_auth_and_refuses_unknown_query_keys()
    {
        var options = Options.Create(new SyncHubOptions { SecretKeys = TestEnvironment.SecretKey });
        var functions = new ApiDocumentFunctions(new ApiPipeline(new SecretKeyAuthenticator(options), NullLogger<ApiPipeline>.Instance));
        using var services = new ServiceCollection().AddLogging().BuildServiceProvider();

        var response = await FunctionCall.SendAsync(services, functions.OpenApi, "GET", secretKey: "");
        Assert.Equal(200, response.Status);
        Assert.Equal("3.1.0", response.Json!["openapi"]!.GetValue<string>());
        Assert.Equal(System.Text.Encoding.UTF8.GetString(OpenApiDocument.Bytes.Span), response.Body);

        // A wrong key is not checked either: there is nothing to authenticate.
        Assert.Equal(200, (await FunctionCall.SendAsync(services, functions.OpenApi, "GET", secretKey: Guid.NewGuid().ToString())).Status);

        var unknown = await FunctionCall.SendAsync(services, functions.OpenApi, "GET", "format=yaml", secretKey: "");
        Assert.Equal(400, unknown.Status);
        Assert.Equal("invalid_query_params", unknown.ErrorCode);
        Assert.True(Contract.EvaluateComponent("Error", unknown.Body).IsValid, unknown.Body);
    }
}
