using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.Core.Api;
using SyncHub.Core.Records;
using SyncHub.Functions;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Records;

/// <summary>GET /records and PATCH /records/prune through the real function class, pipeline and store.</summary>
[Collection("records")]
public sealed class RecordsEndpointTests(RecordsFixture fx)
{
    private RecordFunctions Functions => new(fx.Services.GetRequiredService<ApiPipeline>(), fx.Services.GetRequiredService<RecordsEndpoints>());

    private Task<FunctionCall.Response> ListAsync(string query, string? connectionId, string providerConfigKey = "github")
    {
        var headers = new Dictionary<string, string> { ["Content-Type"] = "application/json" };
        if (connectionId is not null)
        {
            headers["Connection-Id"] = connectionId;
            headers["Provider-Config-Key"] = providerConfigKey;
        }
        return FunctionCall.SendAsync(fx.Services, Functions.List, "GET", query, headers);
    }

    private Task<FunctionCall.Response> PruneAsync(string body, string connectionId) =>
        FunctionCall.SendAsync(fx.Services, Functions.Prune, "PATCH", "", new Dictionary<string, string> { ["connection-id"] = connectionId, ["provider-config-key"] = "github" }, body);

    [Fact]
    public async Task Records_come_back_in_the_nango_shape_and_page_to_a_null_cursor()
    {
        var connection = await fx.NewConnectionAsync();
        await fx.Writer.SaveAsync(RecordsFixture.Issues(connection), [RecordsFixture.Issue(1, "ünï \"quoted\""), RecordsFixture.Issue("two"), RecordsFixture.Issue("three")], default);

        var first = await ListAsync("model=GithubIssue&limit=2", connection);
        Assert.Equal(200, first.Status);
        var records = first.Json!["records"]!.AsArray();
        Assert.Equal(2, records.Count);
        var record = records[0]!.AsObject();
        Assert.Equal(["id", "title", "number", "_nango_metadata"], record.Select(p => p.Key));
        Assert.Equal("1", record["id"]!.GetValue<string>());
        Assert.Equal("ünï \"quoted\"", record["title"]!.GetValue<string>());
        var metadata = record["_nango_metadata"]!.AsObject();
        Assert.Equal(["first_seen_at", "last_modified_at", "last_action", "deleted_at", "pruned_at", "cursor"], metadata.Select(p => p.Key));
        Assert.Equal("ADDED", metadata["last_action"]!.GetValue<string>());
        Assert.Null(metadata["deleted_at"]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$", metadata["last_modified_at"]!.GetValue<string>());
        var next = first.Json["next_cursor"]!.GetValue<string>();
        Assert.Equal(records[1]!["_nango_metadata"]!["cursor"]!.GetValue<string>(), next);

        var second = await ListAsync($"model=GithubIssue&limit=2&cursor={next}", connection);
        Assert.Equal(["three"], second.Json!["records"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()));
        Assert.Null(second.Json["next_cursor"]);

        // Every timestamp the API emits is accepted back as modified_after (inclusive).
        var since = Uri.EscapeDataString(records[1]!["_nango_metadata"]!["last_modified_at"]!.GetValue<string>());
        var after = await ListAsync($"model=GithubIssue&modified_after={since}&filter=ADDED,updated", connection);
        Assert.Equal(["two", "three"], after.Json!["records"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("", "model")]
    [InlineData("model=githubIssue", "model")]
    [InlineData("model=GithubIssue&limit=0", "limit")]
    [InlineData("model=GithubIssue&limit=501", "limit")]
    [InlineData("model=GithubIssue&limit=ten", "limit")]
    [InlineData("model=GithubIssue&limit=99999999999999", "limit")]
    [InlineData("model=GithubIssue&modifiedAfter=2026-01-01T00:00:00Z", "modifiedAfter")]
    [InlineData("model=GithubIssue&modified_after=last%20tuesday", "modified_after")]
    [InlineData("model=GithubIssue&filter=added,removed", "filter")]
    [InlineData("model=GithubIssue&cursor=not-a-cursor", "cursor")]
    [InlineData("model=GithubIssue&cursor=AAAAAAAAAAA", "cursor")]
    [InlineData("model=GithubIssue&variant=no/slashes", "variant")]
    [InlineData("model=GithubIssue&limit=1&limit=2", "limit")]
    public async Task Bad_query_parameters_are_400_invalid_query_params_before_headers_are_checked(string query, string field)
    {
        var response = await ListAsync(query, connectionId: null);
        Assert.Equal(400, response.Status);
        Assert.Equal("invalid_query_params", response.ErrorCode);
        Assert.Contains(response.Json!["error"]!["errors"]!.AsArray(), e => e!["path"]![0]!.GetValue<string>() == field);
    }

    [Fact]
    public async Task Too_many_ids_or_an_overlong_id_is_a_400()
    {
        var ids = string.Join('&', Enumerable.Range(0, 101).Select(i => $"ids={i}"));
        Assert.Equal("invalid_query_params", (await ListAsync("model=GithubIssue&" + ids, "c")).ErrorCode);
        Assert.Equal("invalid_query_params", (await ListAsync($"model=GithubIssue&ids={new string('x', 257)}", "c")).ErrorCode);
    }

    [Fact]
    public async Task Headers_then_connection_then_model_are_checked_in_that_order()
    {
        var missing = await ListAsync("model=GithubIssue", connectionId: null);
        Assert.Equal((400, "invalid_headers"), (missing.Status, missing.ErrorCode));

        var unknown = await ListAsync("model=GithubIssue", "no-such-connection");
        Assert.Equal((400, "unknown_connection"), (unknown.Status, unknown.ErrorCode));
        var unknownIntegration = await ListAsync("model=GithubIssue", "x", providerConfigKey: "nope");
        Assert.Equal((400, "unknown_connection"), (unknownIntegration.Status, unknownIntegration.ErrorCode));

        var connection = await fx.NewConnectionAsync();
        var wrongModel = await ListAsync("model=SalesforceContact", connection);
        Assert.Equal((400, "invalid_query_params"), (wrongModel.Status, wrongModel.ErrorCode));
        Assert.Contains("GithubIssue", wrongModel.Json!["error"]!["message"]!.GetValue<string>());

        var empty = await ListAsync("model=GithubLabel&variant=base", connection);
        Assert.Equal(200, empty.Status);
        Assert.Equal("""{"records":[],"next_cursor":null}""", empty.Body);
    }

    [Fact]
    public async Task Prune_answers_count_and_has_more_and_validates_its_body()
    {
        var connection = await fx.NewConnectionAsync();
        await fx.Writer.SaveAsync(RecordsFixture.Issues(connection), RecordsFixture.Issues(5), default);
        var all = await fx.ReadAllAsync(RecordsFixture.Issues(connection));
        var until = all[3].Cursor.Encode();

        var first = await PruneAsync($$"""{"model":"GithubIssue","until_cursor":"{{until}}","limit":3}""", connection);
        Assert.Equal(200, first.Status);
        Assert.Equal("""{"count":3,"has_more":true}""", first.Body);
        var second = await PruneAsync($$"""{"model":"GithubIssue","until_cursor":"{{until}}","variant":"base"}""", connection);
        Assert.Equal("""{"count":1,"has_more":false}""", second.Body);

        var page = await ListAsync("model=GithubIssue", connection);
        var records = page.Json!["records"]!.AsArray();
        Assert.Equal(["id", "_nango_metadata"], records[0]!.AsObject().Select(p => p.Key));
        Assert.NotNull(records[0]!["_nango_metadata"]!["pruned_at"]);
        Assert.Null(records[4]!["_nango_metadata"]!["pruned_at"]);

        Assert.Equal("invalid_body", (await PruneAsync("""{"model":"GithubIssue"}""", connection)).ErrorCode);
        Assert.Equal("invalid_body", (await PruneAsync($$"""{"model":"GithubIssue","until_cursor":"{{until}}","limit":10001}""", connection)).ErrorCode);
        Assert.Equal("invalid_body", (await PruneAsync("""{"model":"GithubIssue","until_cursor":"garbage"}""", connection)).ErrorCode);
        Assert.Equal("invalid_body", (await PruneAsync($$"""{"model":"GithubIssue","until_cursor":"{{until}}","untilCursor":"x"}""", connection)).ErrorCode);
        Assert.Equal("invalid_json", (await PruneAsync("{not json", connection)).ErrorCode);
        Assert.Equal("unknown_connection", (await PruneAsync($$"""{"model":"GithubIssue","until_cursor":"{{until}}"}""", "ghost")).ErrorCode);
    }
}
