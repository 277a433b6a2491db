using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using SyncHub.Core.Api;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Api;

public sealed class NamesTests
{
    [Theory]
    [InlineData("c1")]
    [InlineData("org/team")]
    [InlineData(@"domain\user")]
    [InlineData("a,b.c;d:e=f+g~h[i]j|k@l$m{n}o\"p'q_r s-t")]
    [InlineData("with space")]
    public void Connection_ids_accept_every_allowed_punctuation(string id)
    {
        Assert.True(Names.IsValid(Names.ConnectionId(), id));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a#b")]
    [InlineData("a?b")]
    [InlineData("a%2Fb")]
    [InlineData("a&b")]
    [InlineData("a\tb")]
    [InlineData("abc\n")]
    [InlineData("é")]
    public void Connection_ids_reject_other_characters(string id)
    {
        Assert.False(Names.IsValid(Names.ConnectionId(), id));
    }

    [Theory]
    [InlineData("github", true)]
    [InlineData("git~hub:v1.2@acme corp_x-y", true)]
    [InlineData("git/hub", false)]
    [InlineData("github,", false)]
    [InlineData("github\n", false)]
    [InlineData("", false)]
    public void Provider_config_keys_follow_their_pattern(string key, bool valid)
    {
        Assert.Equal(valid, Names.IsValid(Names.ProviderConfigKey(), key));
    }

    [Theory]
    [InlineData("GithubIssue", true)]
    [InlineData("Github_Issue-2", true)]
    [InlineData("githubIssue", false)]
    [InlineData("G", false)]
    [InlineData("Github Issue", false)]
    [InlineData("GithubIssue\n", false)]
    public void Models_start_with_a_capital_and_have_two_characters_at_least(string model, bool valid)
    {
        Assert.Equal(valid, Names.IsValid(Names.Model(), model));
    }

    [Theory]
    [InlineData("issues", true)]
    [InlineData("issues_v2-x", true)]
    [InlineData("i", true)]
    [InlineData("issues::v1", false)]
    [InlineData("issues v1", false)]
    [InlineData("issues\n", false)]
    [InlineData("issues.v1", false)]
    public void Sync_names_and_variants_follow_their_pattern(string name, bool valid)
    {
        Assert.Equal(valid, Names.IsValid(Names.SyncName(), name));
    }

    [Fact]
    public void Every_name_is_at_most_255_characters()
    {
        Assert.True(Names.IsValid(Names.ConnectionId(), new string('a', 255)));
        Assert.False(Names.IsValid(Names.ConnectionId(), new string('a', 256)));
        Assert.True(Names.IsValid(Names.ProviderConfigKey(), new string('k', 255)));
        Assert.False(Names.IsValid(Names.ProviderConfigKey(), new string('k', 256)));
        Assert.True(Names.IsValid(Names.Model(), "M" + new string('m', 254)));
        Assert.False(Names.IsValid(Names.Model(), "M" + new string('m', 255)));
        Assert.True(Names.IsValid(Names.SyncName(), new string('s', 255)));
        Assert.False(Names.IsValid(Names.SyncName(), new string('s', 256)));
    }
}

public sealed class ValidationTests
{
    [Fact]
    public void Collects_every_problem_and_throws_one_400_with_the_parts_code()
    {
        var validation = Validation.Query();
        Assert.True(validation.IsValid);
        validation.Add("too_big", "must be at most 500", "limit");
        validation.Add("unrecognized_keys", "unknown query parameter 'modifiedAfter'", "modifiedAfter");
        Assert.False(validation.IsValid);

        var error = Assert.Throws<ApiException>(validation.ThrowIfInvalid);
        Assert.Equal(400, error.Status);
        Assert.Equal("invalid_query_params", error.Code);
        Assert.Equal(2, error.Errors.Count);
        Assert.Equal(["limit"], error.Errors[0].Path);
        Assert.Contains("'limit'", error.Message);
        Assert.Contains("1 more problem", error.Message);
    }

    [Fact]
    public void Does_not_throw_when_valid() => Validation.Body().ThrowIfInvalid();

    [Theory]
    [InlineData("issues", null)]
    [InlineData("", "too_small")]
    [InlineData("issues::v1", "invalid_string")]
    [InlineData("issues\n", "invalid_string")]
    public void Name_reports_the_right_code(string value, string? code)
    {
        var validation = Validation.Body();
        var result = validation.Name(value, Names.SyncName(), "sync name", "syncs", "0");
        if (code is null)
        {
            Assert.Equal(value, result);
            validation.ThrowIfInvalid();
        }
        else
        {
            Assert.Null(result);
            var error = Assert.Throws<ApiException>(validation.ThrowIfInvalid);
            Assert.Equal("invalid_body", error.Code);
            Assert.Equal(code, error.Errors.Single().Code);
            Assert.Equal(["syncs", "0"], error.Errors.Single().Path);
        }
    }

    [Fact]
    public void Name_of_256_characters_is_too_big()
    {
        var validation = Validation.Uri();
        Assert.Null(validation.Name(new string('a', 256), Names.ConnectionId(), "connection id", "connectionId"));
        var error = Assert.Throws<ApiException>(validation.ThrowIfInvalid);
        Assert.Equal("invalid_uri_params", error.Code);
        Assert.Equal("too_big", error.Errors.Single().Code);
    }
}

public sealed class QueryInputTests
{
    private static QueryInput Query(string queryString, Validation validation, params string[] allowed) =>
        new(new QueryCollection(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(queryString)), validation, allowed);

    private static ApiException Fails(Action<Validation> act)
    {
        var validation = Validation.Query();
        act(validation);
        return Assert.Throws<ApiException>(validation.ThrowIfInvalid);
    }

    [Fact]
    public void Unknown_keys_are_rejected_with_unrecognized_keys()
    {
        var error = Fails(v => Query("?model=A&modifiedAfter=2020", v, "model", "modified_after"));
        Assert.Equal("invalid_query_params", error.Code);
        var field = error.Errors.Single();
        Assert.Equal("unrecognized_keys", field.Code);
        Assert.Equal(["modifiedAfter"], field.Path);
        Assert.Contains("modified_after", field.Message);
    }

    [Fact]
    public void Key_names_are_case_sensitive()
    {
        var error = Fails(v => Query("?Model=A", v, "model"));
        Assert.Equal("unrecognized_keys", error.Errors.Single().Code);
    }

    [Fact]
    public void An_endpoint_without_parameters_rejects_any_and_says_so()
    {
        var error = Fails(v => Query("?x=1", v));
        Assert.Contains("takes no query parameters", error.Errors.Single().Message);
    }

    [Fact]
    public void Known_keys_pass_and_a_repeated_key_is_an_array()
    {
        var validation = Validation.Query();
        var query = Query("?ids=a&ids=b&model=A", validation, "ids", "model");
        Assert.Equal(["a", "b"], query.Repeated("ids"));
        Assert.Equal("A", query.Single("model"));
        Assert.Empty(query.Repeated("other"));
        validation.ThrowIfInvalid();
    }

    [Fact]
    public void A_single_valued_key_given_twice_is_an_error()
    {
        var error = Fails(v => Query("?model=A&model=B", v, "model").Single("model"));
        Assert.Equal(["model"], error.Errors.Single().Path);
    }

    [Fact]
    public void A_missing_required_key_is_an_error()
    {
        var error = Fails(v => Query("?", v, "model").Required("model"));
        Assert.Equal("invalid_type", error.Errors.Single().Code);
        Assert.Equal(["model"], error.Errors.Single().Path);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("500", 500)]
    [InlineData("100", 100)]
    public void Integers_within_limits_pass(string raw, int expected)
    {
        var validation = Validation.Query();
        Assert.Equal(expected, Query("?limit=" + raw, validation, "limit").Integer("limit", 1, 500));
        validation.ThrowIfInvalid();
    }

    [Theory]
    [InlineData("0", "too_small")]
    [InlineData("501", "too_big")]
    [InlineData("99999999999999999999", "too_big")]
    [InlineData("-1", "invalid_type")]
    [InlineData("+5", "invalid_type")]
    [InlineData("1.5", "invalid_type")]
    [InlineData("ten", "invalid_type")]
    [InlineData("", "invalid_type")]
    [InlineData("1e2", "invalid_type")]
    public void Integers_outside_limits_or_malformed_fail(string raw, string code)
    {
        var error = Fails(v => Assert.Null(Query("?limit=" + Uri.EscapeDataString(raw), v, "limit").Integer("limit", 1, 500)));
        Assert.Equal(code, error.Errors.Single().Code);
        Assert.Equal(["limit"], error.Errors.Single().Path);
    }

    [Fact]
    public void An_absent_integer_is_null_and_fine()
    {
        var validation = Validation.Query();
        Assert.Null(Query("", validation, "limit").Integer("limit", 1, 500));
        validation.ThrowIfInvalid();
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData("1", true)]
    [InlineData("0", false)]
    [InlineData("TRUE", true)]
    public void Booleans_accept_the_spellings_clients_send(string raw, bool expected)
    {
        var validation = Validation.Query();
        Assert.Equal(expected, Query("?force_refresh=" + raw, validation, "force_refresh").Boolean("force_refresh"));
        validation.ThrowIfInvalid();
    }

    [Fact]
    public void A_bad_boolean_is_an_error()
    {
        var error = Fails(v => Query("?force_refresh=maybe", v, "force_refresh").Boolean("force_refresh"));
        Assert.Equal("invalid_type", error.Errors.Single().Code);
    }

    [Theory]
    [InlineData("c1", null)]
    [InlineData("a%23b", "invalid_string")]
    [InlineData("", "too_small")]
    public void Names_in_queries_are_validated(string raw, string? code)
    {
        var validation = Validation.Query();
        var value = Query("?connection_id=" + raw, validation, "connection_id").Name("connection_id", Names.ConnectionId(), "connection id", required: true);
        if (code is null)
        {
            Assert.Equal(raw, value);
            validation.ThrowIfInvalid();
        }
        else
        {
            Assert.Equal(code, Assert.Throws<ApiException>(validation.ThrowIfInvalid).Errors.Single().Code);
        }
    }

    [Fact]
    public void A_256_character_name_is_too_big()
    {
        var error = Fails(v => Query("?connection_id=" + new string('x', 256), v, "connection_id").Name("connection_id", Names.ConnectionId(), "connection id", required: true));
        Assert.Equal("too_big", error.Errors.Single().Code);
    }

    [Fact]
    public void StringValues_with_a_null_entry_are_skipped()
    {
        var validation = Validation.Query();
        var query = new QueryInput(new QueryCollection(new Dictionary<string, StringValues> { ["ids"] = new(["a", null]) }), validation, ["ids"]);
        Assert.Equal(["a"], query.Repeated("ids"));
    }
}

public sealed class BodyInputTests
{
    private static (BodyInput Input, Validation Validation) Body(string json, params string[] allowed)
    {
        var validation = Validation.Body();
        return (new BodyInput(JsonNode.Parse(json)!.AsObject(), validation, allowed), validation);
    }

    [Fact]
    public void Unknown_keys_are_rejected_with_unrecognized_keys_and_their_path()
    {
        var (_, validation) = Body("""{"model":"A","untilCursor":"x"}""", "model", "until_cursor");
        var error = Assert.Throws<ApiException>(validation.ThrowIfInvalid);
        Assert.Equal("invalid_body", error.Code);
        Assert.Equal("unrecognized_keys", error.Errors.Single().Code);
        Assert.Equal(["untilCursor"], error.Errors.Single().Path);
    }

    [Fact]
    public void Nested_objects_report_the_full_path()
    {
        var validation = Validation.Body();
        _ = new BodyInput(JsonNode.Parse("""{"type":"API_KEY","apiKey":"k","extra":1}""")!.AsObject(), validation, ["type", "apiKey"], "credentials");
        var error = Assert.Throws<ApiException>(validation.ThrowIfInvalid);
        Assert.Equal(["credentials", "extra"], error.Errors.Single().Path);
    }

    [Fact]
    public void Strings_are_typed_and_required()
    {
        var (input, validation) = Body("""{"a":"x","b":5,"n":null}""", "a", "b", "n", "c");
        Assert.Equal("x", input.String("a", required: true));
        Assert.Null(input.String("b", required: true));
        Assert.Null(input.String("c", required: true));
        Assert.Null(input.String("n", required: false));
        var error = Assert.Throws<ApiException>(validation.ThrowIfInvalid);
        Assert.Equal(new[] { "b", "c" }, error.Errors.Select(e => e.Path.Single()));
        Assert.All(error.Errors, e => Assert.Equal("invalid_type", e.Code));
    }

    [Fact]
    public void A_string_over_its_maximum_is_too_big()
    {
        var (input, validation) = Body("""{"a":"xxxx"}""", "a");
        Assert.Null(input.String("a", required: true, maxLength: 3));
        Assert.Equal("too_big", Assert.Throws<ApiException>(validation.ThrowIfInvalid).Errors.Single().Code);
    }

    [Theory]
    [InlineData("1", 1L, null)]
    [InlineData("10000", 10000L, null)]
    [InlineData("0", null, "too_small")]
    [InlineData("10001", null, "too_big")]
    [InlineData("1.5", null, "invalid_type")]
    [InlineData("\"5\"", null, "invalid_type")]
    [InlineData("true", null, "invalid_type")]
    [InlineData("1e40", null, "invalid_type")]
    public void Integers_respect_their_limits(string json, long? expected, string? code)
    {
        var (input, validation) = Body($$"""{"limit":{{json}}}""", "limit");
        Assert.Equal(expected, input.Integer("limit", 1, 10_000));
        if (code is null)
        {
            validation.ThrowIfInvalid();
        }
        else
        {
            var error = Assert.Throws<ApiException>(validation.ThrowIfInvalid);
            Assert.Equal(code, error.Errors.Single().Code);
            Assert.Equal(["limit"], error.Errors.Single().Path);
        }
    }

    [Fact]
    public void Booleans_objects_and_arrays_are_typed()
    {
        var (input, validation) = Body("""{"b":true,"o":{},"a":[],"wrongB":"yes","wrongO":[],"wrongA":{}}""", "b", "o", "a", "wrongB", "wrongO", "wrongA", "missing");
        Assert.True(input.Boolean("b"));
        Assert.NotNull(input.Object("o", required: true));
        Assert.NotNull(input.Array("a", required: true));
        Assert.Null(input.Boolean("wrongB"));
        Assert.Null(input.Object("wrongO", required: true));
        Assert.Null(input.Array("wrongA", required: true));
        Assert.Null(input.Object("missing", required: true));
        var error = Assert.Throws<ApiException>(validation.ThrowIfInvalid);
        Assert.Equal(new[] { "wrongB", "wrongO", "wrongA", "missing" }, error.Errors.Select(e => e.Path.Single()));
    }

    [Theory]
    [InlineData("github", null)]
    [InlineData("git/hub", "invalid_string")]
    [InlineData("", "too_small")]
    public void Names_in_bodies_are_validated(string key, string? code)
    {
        var (input, validation) = Body(new JsonObject { ["provider_config_key"] = key }.ToJsonString(), "provider_config_key");
        var value = input.Name("provider_config_key", Names.ProviderConfigKey(), "provider config key", required: true);
        if (code is null)
        {
            Assert.Equal(key, value);
            validation.ThrowIfInvalid();
        }
        else
        {
            Assert.Null(value);
            Assert.Equal(code, Assert.Throws<ApiException>(validation.ThrowIfInvalid).Errors.Single().Code);
        }
    }

    [Fact]
    public void A_255_character_connection_id_passes_and_256_does_not()
    {
        var (input, validation) = Body(new JsonObject { ["ok"] = new string('a', 255), ["long"] = new string('a', 256) }.ToJsonString(), "ok", "long");
        Assert.NotNull(input.Name("ok", Names.ConnectionId(), "connection id", required: true));
        Assert.Null(input.Name("long", Names.ConnectionId(), "connection id", required: true));
        var error = Assert.Throws<ApiException>(validation.ThrowIfInvalid);
        Assert.Equal("too_big", error.Errors.Single().Code);
        Assert.Equal(["long"], error.Errors.Single().Path);
    }
}
