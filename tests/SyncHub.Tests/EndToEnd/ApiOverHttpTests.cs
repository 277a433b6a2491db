using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.EndToEnd;

/// <summary>The foundation endpoints over HTTP, on a LocalHost child process against Azurite.</summary>
[Collection(LocalHostCollection.Name)]
public sealed class ApiOverHttpTests(LocalHostFixture fixture)
{
    private HttpClient Client => fixture.Host.Client;

    private sealed record Reply(HttpStatusCode Status, string Body, HttpResponseMessage Message)
    {
        public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);

        public string? ErrorCode => Json is JsonObject o ? o["error"]?["code"]?.GetValue<string>() : null;
    }

    private async Task<Reply> SendAsync(string method, string path, string? body = null, string contentType = "application/json", HttpClient? client = null,
        IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        var response = await (client ?? Client).SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new Reply(response.StatusCode, text, response);
    }

    private Task<Reply> GetAsync(string path) => SendAsync("GET", path);

    private Task<Reply> PostAsync(string path, JsonNode body) => SendAsync("POST", path, body.ToJsonString());

    private static string Unique(string prefix = "e2e") => TestEnvironment.Unique(prefix);

    private static JsonObject Import(string connectionId, string key = "github", JsonObject? credentials = null, JsonObject? metadata = null)
    {
        var body = new JsonObject
        {
            ["provider_config_key"] = key,
            ["connection_id"] = connectionId,
            ["credentials"] = credentials ?? new JsonObject { ["type"] = "API_KEY", ["apiKey"] = "sk-" + connectionId },
        };
        if (metadata is not null)
        {
            body["metadata"] = metadata;
        }
        return body;
    }

    private static string ConnectionPath(string connectionId, string query = "provider_config_key=github") =>
        $"/connections/{Uri.EscapeDataString(connectionId)}?{query}";

    private static void AssertError(Reply reply, HttpStatusCode status, string code)
    {
        Assert.True(reply.Status == status && reply.ErrorCode == code, $"expected {(int)status} {code}, got {(int)reply.Status}: {reply.Body}");
        Assert.StartsWith("application/json", reply.Message.Content.Headers.ContentType?.ToString());
        Assert.NotEmpty(reply.Json!["error"]!["message"]!.GetValue<string>());
        Assert.DoesNotContain("   at ", reply.Body);
    }

    private static IEnumerable<string> AllKeys(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => AllKeys(p.Value).Prepend(p.Key)),
        JsonArray a => a.SelectMany(AllKeys),
        _ => [],
    };

    // ---- auth and common rules ----

    [Fact]
    public async Task Environment_variables_are_served_to_an_authenticated_caller()
    {
        var reply = await GetAsync("/environment-variables");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var list = reply.Json!.AsArray();
        Assert.Contains(list, v => v!["name"]!.GetValue<string>() == "GREETING" && v["value"]!.GetValue<string>() == "hello");
        Assert.Contains(list, v => v!["name"]!.GetValue<string>() == "API_BASE" && v["value"]!.GetValue<string>() == "https://example.test/v1?x=1&y=2");
        Assert.All(list, v => Assert.Equal(["name", "value"], v!.AsObject().Select(p => p.Key)));
    }

    [Fact]
    public async Task The_second_configured_key_works_too()
    {
        using var client = fixture.Host.CreateClient(TestEnvironment.OtherSecretKey);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync("GET", "/environment-variables", client: client)).Status);
    }

    [Theory]
    [InlineData(null, "missing_auth_header")]
    [InlineData("Basic dXNlcjpwYXNz", "malformed_auth_header")]
    [InlineData("Bearer not-a-uuid", "invalid_secret_key_format")]
    [InlineData("Bearer 11111111-2222-4333-8444-555555555555", "unknown_account")]
    public async Task Bad_auth_is_401_with_its_code_on_every_endpoint(string? authorization, string code)
    {
        using var client = fixture.Host.CreateClient(null);
        var headers = authorization is null ? null : new Dictionary<string, string> { ["Authorization"] = authorization };
        foreach (var (method, path) in new[] { ("GET", "/environment-variables"), ("GET", "/integrations"), ("GET", "/connections"), ("POST", "/connections"), ("DELETE", "/connections/x?provider_config_key=github") })
        {
            var reply = await SendAsync(method, path, method == "POST" ? "{}" : null, client: client, headers: headers);
            AssertError(reply, HttpStatusCode.Unauthorized, code);
        }
    }

    [Theory]
    [InlineData("/environment-variables/")]
    [InlineData("/integrations/")]
    [InlineData("/connections/")]
    public async Task A_trailing_slash_is_accepted(string path)
    {
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(path)).Status);
    }

    [Theory]
    [InlineData("/environment-variables?foo=1")]
    [InlineData("/integrations?limit=1")]
    [InlineData("/connections?connection_id=x")]
    [InlineData("/connections/x?provider_config_key=github&providerConfigKey=github")]
    public async Task Unknown_query_keys_are_400(string path)
    {
        var reply = await GetAsync(path);
        AssertError(reply, HttpStatusCode.BadRequest, "invalid_query_params");
        Assert.Equal("unrecognized_keys", reply.Json!["error"]!["errors"]![0]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task What_the_node_client_sends_on_get_is_accepted()
    {
        var id = Unique();
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/connections", Import(id))).Status);
        var headers = new Dictionary<string, string> { ["Nango-Is-Sync"] = "false", ["Nango-Is-Dry-Run"] = "false", ["Nango-Is-Script"] = "false" };
        var reply = await SendAsync("GET", ConnectionPath(id, "provider_config_key=github&force_refresh=false&refresh_token=false&refresh_github_app_jwt_token=false"),
            headers: headers);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        // Content-Type: application/json on a GET with no body.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/environment-variables") { Content = new ByteArrayContent([]) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_body_with_a_non_json_content_type_is_415()
    {
        var reply = await SendAsync("POST", "/connections", Import(Unique()).ToJsonString(), "text/plain");
        AssertError(reply, HttpStatusCode.UnsupportedMediaType, "invalid_content_type");
    }

    [Theory]
    [InlineData("{\"provider_config_key\":")]
    [InlineData("{\"provider_config_key\":\"github\",\"provider_config_key\":\"github\"}")]
    [InlineData("<xml/>")]
    public async Task Bodies_that_are_not_json_are_400_invalid_json(string body)
    {
        AssertError(await SendAsync("POST", "/connections", body), HttpStatusCode.BadRequest, "invalid_json");
        AssertError(await SendAsync("PATCH", "/connections/metadata", body), HttpStatusCode.BadRequest, "invalid_json");
    }

    [Fact]
    public async Task Unknown_routes_get_the_404_envelope()
    {
        AssertError(await GetAsync("/no-such-endpoint"), HttpStatusCode.NotFound, "not_found");
        AssertError(await SendAsync("PUT", "/connections", "{}"), HttpStatusCode.NotFound, "not_found");
    }

    // ---- integrations ----

    [Fact]
    public async Task Integrations_are_listed_in_nangos_shape()
    {
        var reply = await GetAsync("/integrations");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var data = reply.Json!["data"]!.AsArray();
        var github = Assert.Single(data)!.AsObject();
        Assert.Equal("github", github["unique_key"]!.GetValue<string>());
        Assert.Equal("github", github["provider"]!.GetValue<string>());
        Assert.Equal("GitHub", github["display_name"]!.GetValue<string>());
        var syncs = github["syncs"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()).ToArray();
        Assert.Equal(["issues", "labels"], syncs);
    }

    // ---- connections ----

    [Fact]
    public async Task An_imported_connection_is_returned_without_credentials()
    {
        var id = Unique();
        var secret = "sk-" + Guid.NewGuid().ToString("N");
        var import = await PostAsync("/connections", Import(id, credentials: new JsonObject { ["type"] = "API_KEY", ["apiKey"] = secret },
            metadata: new JsonObject { ["repo"] = "octo/hello" }));
        Assert.Equal(HttpStatusCode.OK, import.Status);
        Assert.DoesNotContain(secret, import.Body);
        Assert.DoesNotContain("credentials", AllKeys(import.Json));

        var reply = await GetAsync(ConnectionPath(id));
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var connection = reply.Json!.AsObject();
        Assert.Equal(id, connection["connection_id"]!.GetValue<string>());
        Assert.Equal("github", connection["provider_config_key"]!.GetValue<string>());
        Assert.Equal("github", connection["provider"]!.GetValue<string>());
        Assert.Equal("octo/hello", connection["metadata"]!["repo"]!.GetValue<string>());
        Assert.Equal(import.Json!["id"]!.GetValue<long>(), connection["id"]!.GetValue<long>());
        Assert.True(DateTimeOffset.TryParse(connection["created_at"]!.GetValue<string>(), out _));
        Assert.DoesNotContain(secret, reply.Body);
        Assert.DoesNotContain("credentials", AllKeys(reply.Json));

        var list = await GetAsync($"/connections?connectionId={Uri.EscapeDataString(id)}");
        Assert.DoesNotContain(secret, list.Body);
        Assert.DoesNotContain("credentials", AllKeys(list.Json));
    }

    [Theory]
    [InlineData("org/team")]
    [InlineData(@"domain\user")]
    [InlineData("a/b\\c d@e:f;g=h+i~j[k]l|m$n{o}p\"q'r,s.t_u-v")]
    public async Task Ids_with_slashes_and_punctuation_work_percent_encoded_in_the_path(string suffix)
    {
        var id = Unique() + suffix;
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/connections", Import(id))).Status);

        var reply = await GetAsync(ConnectionPath(id));
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(id, reply.Json!["connection_id"]!.GetValue<string>());

        var list = await GetAsync($"/connections?connectionId={Uri.EscapeDataString(id)}");
        Assert.Equal(id, Assert.Single(list.Json!["connections"]!.AsArray())!["connection_id"]!.GetValue<string>());

        var delete = await SendAsync("DELETE", ConnectionPath(id));
        Assert.Equal(HttpStatusCode.OK, delete.Status);
        AssertError(await GetAsync(ConnectionPath(id)), HttpStatusCode.NotFound, "unknown_connection");
    }

    [Fact]
    public async Task An_unknown_integration_is_400_unknown_provider_config()
    {
        AssertError(await PostAsync("/connections", Import(Unique(), key: "gitlab")), HttpStatusCode.BadRequest, "unknown_provider_config");
        AssertError(await GetAsync(ConnectionPath("x", "provider_config_key=gitlab")), HttpStatusCode.BadRequest, "unknown_provider_config");
        AssertError(await SendAsync("DELETE", ConnectionPath("x", "provider_config_key=gitlab")), HttpStatusCode.BadRequest, "unknown_provider_config");
        AssertError(await PostAsync("/connections/metadata", new JsonObject { ["provider_config_key"] = "gitlab", ["connection_id"] = "x", ["metadata"] = new JsonObject() }),
            HttpStatusCode.BadRequest, "unknown_provider_config");
    }

    [Fact]
    public async Task An_unknown_connection_is_404_unknown_connection()
    {
        var id = Unique();
        AssertError(await GetAsync(ConnectionPath(id)), HttpStatusCode.NotFound, "unknown_connection");
        AssertError(await SendAsync("DELETE", ConnectionPath(id)), HttpStatusCode.NotFound, "unknown_connection");
        AssertError(await PostAsync("/connections/metadata", new JsonObject { ["provider_config_key"] = "github", ["connection_id"] = id, ["metadata"] = new JsonObject() }),
            HttpStatusCode.NotFound, "unknown_connection");
    }

    [Fact]
    public async Task Delete_accepts_a_json_content_type_and_removes_the_connection()
    {
        var id = Unique();
        await PostAsync("/connections", Import(id));
        using var request = new HttpRequestMessage(HttpMethod.Delete, ConnectionPath(id)) { Content = new ByteArrayContent([]) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertError(await GetAsync(ConnectionPath(id)), HttpStatusCode.NotFound, "unknown_connection");
        Assert.Empty((await GetAsync($"/connections?connectionId={id}")).Json!["connections"]!.AsArray());
    }

    [Fact]
    public async Task Listing_filters_by_connection_id_and_integration()
    {
        var id = Unique();
        await PostAsync("/connections", Import(id, metadata: new JsonObject { ["n"] = 1 }));
        var byId = await GetAsync($"/connections?connectionId={id}");
        var summary = Assert.Single(byId.Json!["connections"]!.AsArray())!.AsObject();
        Assert.Equal("github", summary["provider_config_key"]!.GetValue<string>());
        Assert.Equal(1, summary["metadata"]!["n"]!.GetValue<int>());
        Assert.NotNull(summary["created"]);

        Assert.Single((await GetAsync($"/connections?connectionId={id}&integrationId=github")).Json!["connections"]!.AsArray());
        Assert.Empty((await GetAsync($"/connections?connectionId={id}&integrationId=gitlab")).Json!["connections"]!.AsArray());
        Assert.Contains((await GetAsync("/connections?integrationId=github")).Json!["connections"]!.AsArray(),
            c => c!["connection_id"]!.GetValue<string>() == id);
    }

    [Fact]
    public async Task Metadata_post_replaces_and_patch_merges()
    {
        var id = Unique();
        await PostAsync("/connections", Import(id, metadata: new JsonObject { ["a"] = 1, ["b"] = new JsonObject { ["c"] = 2 } }));
        JsonObject Body(JsonObject metadata) => new() { ["connection_id"] = id, ["provider_config_key"] = "github", ["metadata"] = metadata };
        async Task<string> Stored() => (await GetAsync(ConnectionPath(id))).Json!["metadata"]!.ToJsonString();

        var patch = await SendAsync("PATCH", "/connections/metadata", Body(new JsonObject { ["b"] = 3, ["d"] = "x" }).ToJsonString());
        Assert.Equal(HttpStatusCode.OK, patch.Status);
        Assert.Equal("""{"a":1,"b":3,"d":"x"}""", await Stored());

        var post = await PostAsync("/connections/metadata", Body(new JsonObject { ["z"] = true }));
        Assert.Equal(HttpStatusCode.OK, post.Status);
        Assert.Equal(id, post.Json!["connection_id"]!.GetValue<string>());
        Assert.Equal("""{"z":true}""", await Stored());
    }

    [Fact]
    public async Task Metadata_can_target_several_connections_at_once()
    {
        var (first, second) = (Unique(), Unique());
        await PostAsync("/connections", Import(first));
        await PostAsync("/connections", Import(second));
        var reply = await SendAsync("PATCH", "/connections/metadata",
            new JsonObject { ["connection_id"] = new JsonArray(first, second), ["provider_config_key"] = "github", ["metadata"] = new JsonObject { ["k"] = 1 } }.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        foreach (var id in new[] { first, second })
        {
            Assert.Equal(1, (await GetAsync(ConnectionPath(id))).Json!["metadata"]!["k"]!.GetValue<int>());
        }
    }

    public static TheoryData<string, string> BadImports => new()
    {
        { """{"provider_config_key":"github","connection_id":"c","credentials":{"type":"API_KEY"}}""", "credentials.apiKey" },
        { """{"provider_config_key":"github","connection_id":"c","credentials":{"type":"API_KEY","apiKey":""}}""", "credentials.apiKey" },
        { """{"provider_config_key":"github","connection_id":"c","credentials":{"type":"BASIC","username":"u"}}""", "credentials.password" },
        { """{"provider_config_key":"github","connection_id":"c","credentials":{"type":"OAUTH2","access_token":"t","expires_at":"soon"}}""", "credentials.expires_at" },
        { """{"provider_config_key":"github","connection_id":"c","credentials":{"type":"OAUTH1"}}""", "credentials.type" },
        { """{"provider_config_key":"github","connection_id":"c","credentials":{"type":"API_KEY","apiKey":"k","extra":1}}""", "credentials.extra" },
        { """{"provider_config_key":"github","connection_id":"c","credentials":"k"}""", "credentials" },
        { """{"provider_config_key":"github","connection_id":"c"}""", "credentials" },
        { """{"provider_config_key":"github","connection_id":"a#b","credentials":{"type":"API_KEY","apiKey":"k"}}""", "connection_id" },
        { """{"provider_config_key":"github","connection_id":"","credentials":{"type":"API_KEY","apiKey":"k"}}""", "connection_id" },
        { """{"provider_config_key":"git/hub","connection_id":"c","credentials":{"type":"API_KEY","apiKey":"k"}}""", "provider_config_key" },
        { """{"provider_config_key":"github","connection_id":5,"credentials":{"type":"API_KEY","apiKey":"k"}}""", "connection_id" },
        { """{"provider_config_key":"github","connection_id":"c","credentials":{"type":"API_KEY","apiKey":"k"},"metadata":[1]}""", "metadata" },
        { """{"provider_config_key":"github","connection_id":"c","credentials":{"type":"API_KEY","apiKey":"k"},"connectionId":"c"}""", "connectionId" },
    };

    [Theory]
    [MemberData(nameof(BadImports))]
    public async Task Bad_imports_are_400_invalid_body_naming_the_field(string body, string path)
    {
        var reply = await SendAsync("POST", "/connections", body);
        AssertError(reply, HttpStatusCode.BadRequest, "invalid_body");
        var paths = reply.Json!["error"]!["errors"]!.AsArray().Select(e => string.Join('.', e!["path"]!.AsArray().Select(p => p!.GetValue<string>())));
        Assert.Contains(path, paths);
    }

    [Fact]
    public async Task A_256_character_connection_id_is_rejected_and_255_accepted()
    {
        AssertError(await PostAsync("/connections", Import(new string('x', 256))), HttpStatusCode.BadRequest, "invalid_body");
        var id = Unique() + new string('y', 255 - Unique().Length);
        Assert.Equal(255, id.Length);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/connections", Import(id))).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(ConnectionPath(id))).Status);
        AssertError(await GetAsync(ConnectionPath(new string('x', 256))), HttpStatusCode.BadRequest, "invalid_uri_params");
    }

    [Fact]
    public async Task Path_and_query_problems_get_their_own_codes()
    {
        AssertError(await GetAsync("/connections/x"), HttpStatusCode.BadRequest, "invalid_query_params");
        AssertError(await GetAsync("/connections/x?provider_config_key=github&force_refresh=maybe"), HttpStatusCode.BadRequest, "invalid_query_params");
        AssertError(await GetAsync("/connections/a%23b?provider_config_key=github"), HttpStatusCode.BadRequest, "invalid_uri_params");
        AssertError(await GetAsync("/connections?limit=0"), HttpStatusCode.BadRequest, "invalid_query_params");
    }

    [Fact]
    public async Task Bad_input_never_gets_a_500()
    {
        var bodies = new[] { "", "null", "[]", "1", "\"s\"", "{}", "{\"metadata\":{}}", "{\"connection_id\":[],\"provider_config_key\":\"github\",\"metadata\":{}}",
            "{\"connection_id\":[1,2],\"provider_config_key\":\"github\",\"metadata\":{}}", new string('[', 5000) + new string(']', 5000) };
        foreach (var (method, path) in new[] { ("POST", "/connections"), ("POST", "/connections/metadata"), ("PATCH", "/connections/metadata") })
        {
            foreach (var body in bodies)
            {
                var reply = await SendAsync(method, path, body);
                Assert.True((int)reply.Status is >= 400 and < 500, $"{method} {path} {body[..Math.Min(body.Length, 40)]} -> {(int)reply.Status} {reply.Body}");
                Assert.NotNull(reply.ErrorCode);
            }
        }
        foreach (var path in new[] { "/connections/%FF?provider_config_key=github", "/connections/x?provider_config_key=%00", "/connections?limit=abc&page=-1",
                     "/connections/x?provider_config_key=github&provider_config_key=github" })
        {
            var reply = await GetAsync(path);
            Assert.True((int)reply.Status is >= 400 and < 500, $"GET {path} -> {(int)reply.Status} {reply.Body}");
        }
    }
}
