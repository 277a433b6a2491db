using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SyncHub.Core.Api;
using SyncHub.Core.Configuration;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Api;

public sealed class ApiPipelineTests
{
    private readonly TestLogger<ApiPipeline> _logger = new();
    private readonly ApiPipeline _pipeline;
    private int _handlerCalls;

    public ApiPipelineTests()
    {
        var options = Options.Create(new SyncHubOptions { SecretKeys = TestEnvironment.SecretKey });
        _pipeline = new ApiPipeline(new SecretKeyAuthenticator(options), _logger);
    }

    private async Task<CapturedResponse> RunAsync(HttpRequest request, ApiHandler handler)
    {
        var result = await _pipeline.RunAsync(request, handler, CancellationToken.None);
        return await HttpRequests.ExecuteAsync(result, request);
    }

    private Task<IResult> Ok(ApiRequest request, CancellationToken ct)
    {
        _handlerCalls++;
        return Task.FromResult(ApiResults.Json(new JsonObject { ["ok"] = true }));
    }

    private async Task<IResult> ReadsBody(ApiRequest request, CancellationToken ct)
    {
        _handlerCalls++;
        var body = await request.JsonObjectAsync(ct);
        return ApiResults.Json(new JsonObject { ["keys"] = body.Count });
    }

    [Fact]
    public async Task A_handler_result_is_returned_as_json()
    {
        var response = await RunAsync(HttpRequests.Create(), Ok);
        Assert.Equal(200, response.Status);
        Assert.StartsWith("application/json", response.ContentType);
        Assert.True(response.Json!["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Auth_runs_before_the_handler()
    {
        var response = await RunAsync(HttpRequests.Create(authorization: null), Ok);
        Assert.Equal(401, response.Status);
        Assert.Equal("missing_auth_header", response.ErrorCode);
        Assert.Equal(0, _handlerCalls);
    }

    [Fact]
    public async Task The_public_pipeline_skips_auth_and_nothing_else()
    {
        var anonymous = HttpRequests.Create(authorization: null);
        var response = await HttpRequests.ExecuteAsync(await _pipeline.RunPublicAsync(anonymous, Ok, CancellationToken.None), anonymous);
        Assert.Equal(200, response.Status);
        Assert.Equal(1, _handlerCalls);

        var request = HttpRequests.Create("POST", body: "{}", contentType: "text/plain", authorization: null);
        response = await HttpRequests.ExecuteAsync(await _pipeline.RunPublicAsync(request, ReadsBody, CancellationToken.None), request);
        Assert.Equal(415, response.Status);
        Assert.Equal("invalid_content_type", response.ErrorCode);
        Assert.Equal(1, _handlerCalls);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/jsonp")]
    [InlineData("text/json")]
    [InlineData("not a media type")]
    public async Task A_body_with_a_non_json_content_type_is_415(string contentType)
    {
        var response = await RunAsync(HttpRequests.Create("POST", body: "{}", contentType: contentType), ReadsBody);
        Assert.Equal(415, response.Status);
        Assert.Equal("invalid_content_type", response.ErrorCode);
        Assert.Equal(0, _handlerCalls);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON;charset=UTF-8")]
    [InlineData(null)]
    public async Task A_json_body_is_accepted_with_or_without_a_json_content_type(string? contentType)
    {
        var response = await RunAsync(HttpRequests.Create("POST", body: """{"a":1,"b":2}""", contentType: contentType), ReadsBody);
        Assert.Equal(200, response.Status);
        Assert.Equal(2, response.Json!["keys"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("DELETE")]
    public async Task Content_type_json_on_a_request_without_a_body_is_accepted(string method)
    {
        // What @nangohq/node sends on every GET and DELETE.
        var response = await RunAsync(HttpRequests.Create(method, contentType: "application/json"), Ok);
        Assert.Equal(200, response.Status);
        Assert.Equal(1, _handlerCalls);
    }

    [Fact]
    public async Task Any_content_type_on_a_request_without_a_body_is_accepted()
    {
        var request = HttpRequests.Create("GET", contentType: "text/plain");
        request.ContentLength = 0;
        var response = await RunAsync(request, Ok);
        Assert.Equal(200, response.Status);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("{'a':1}")]
    [InlineData("{\"a\":1,}")]
    [InlineData("not json")]
    [InlineData("{\"a\":1} trailing")]
    public async Task Invalid_json_is_400_invalid_json(string body)
    {
        var response = await RunAsync(HttpRequests.Create("POST", body: body, contentType: "application/json"), ReadsBody);
        Assert.Equal(400, response.Status);
        Assert.Equal("invalid_json", response.ErrorCode);
    }

    [Theory]
    [InlineData("""{"a":1,"a":2}""")]
    [InlineData("""{"outer":{"b":1,"b":1}}""")]
    [InlineData("""{"list":[{"c":1,"c":2}]}""")]
    public async Task Duplicate_keys_are_invalid_json(string body)
    {
        var response = await RunAsync(HttpRequests.Create("POST", body: body, contentType: "application/json"), ReadsBody);
        Assert.Equal(400, response.Status);
        Assert.Equal("invalid_json", response.ErrorCode);
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("null")]
    [InlineData("")]
    public async Task A_body_that_is_not_an_object_is_invalid_body(string body)
    {
        var response = await RunAsync(HttpRequests.Create("POST", body: body, contentType: "application/json"), ReadsBody);
        Assert.Equal(400, response.Status);
        Assert.Equal("invalid_body", response.ErrorCode);
    }

    [Fact]
    public async Task A_body_over_one_mebibyte_is_refused_with_413()
    {
        var body = "{\"a\":\"" + new string('x', ApiRequest.MaxBodyBytes) + "\"}";
        var response = await RunAsync(HttpRequests.Create("POST", body: body, contentType: "application/json"), ReadsBody);
        Assert.Equal(413, response.Status);
        Assert.Equal("payload_too_large", response.ErrorCode);
    }

    [Fact]
    public async Task An_ApiException_becomes_the_envelope_with_its_field_errors()
    {
        var response = await RunAsync(HttpRequests.Create(), (_, _) =>
            throw ApiException.BadRequest("invalid_query_params", "Invalid query parameters: 'limit' must be at most 500",
                new FieldError("too_big", "must be at most 500", ["limit"])));
        Assert.Equal(400, response.Status);
        var error = response.Json!["error"]!;
        Assert.Equal("invalid_query_params", error["code"]!.GetValue<string>());
        var field = error["errors"]![0]!;
        Assert.Equal("too_big", field["code"]!.GetValue<string>());
        Assert.Equal("limit", field["path"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unexpected_exception_is_a_500_with_a_logged_correlation_id_and_no_stack_trace()
    {
        var response = await RunAsync(HttpRequests.Create(path: "/records"), (_, _) =>
            throw new InvalidOperationException("secret internal detail from deep inside"));

        Assert.Equal(500, response.Status);
        Assert.Equal("server_error", response.ErrorCode);
        var message = response.Json!["error"]!["message"]!.GetValue<string>();
        var correlationId = Regex.Match(message, "[0-9a-f]{32}").Value;
        Assert.NotEmpty(correlationId);
        Assert.DoesNotContain("secret internal detail", response.Body);
        Assert.DoesNotContain(" at ", response.Body);
        Assert.DoesNotContain("InvalidOperationException", response.Body);

        var logged = Assert.Single(_logger.Entries, e => e.Level == LogLevel.Error);
        Assert.Contains(correlationId, logged.Message);
        Assert.IsType<InvalidOperationException>(logged.Exception);
    }

    [Fact]
    public async Task Each_500_gets_its_own_correlation_id()
    {
        ApiHandler fails = (_, _) => throw new InvalidOperationException("boom");
        var first = await RunAsync(HttpRequests.Create(), fails);
        var second = await RunAsync(HttpRequests.Create(), fails);
        Assert.NotEqual(first.Json!["error"]!["message"]!.GetValue<string>(), second.Json!["error"]!["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(StatusCodes.Status413PayloadTooLarge, 413, "payload_too_large")]
    [InlineData(StatusCodes.Status400BadRequest, 400, "invalid_body")]
    public async Task A_request_the_server_refused_to_read_is_a_4xx_not_a_500(int serverStatus, int status, string code)
    {
        var response = await RunAsync(HttpRequests.Create("POST", body: "{}"), (_, _) =>
            throw new BadHttpRequestException("Request body too large.", serverStatus));
        Assert.Equal(status, response.Status);
        Assert.Equal(code, response.ErrorCode);
    }

    [Fact]
    public async Task A_cancelled_request_produces_no_error_body()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var request = HttpRequests.Create();
        var result = await _pipeline.RunAsync(request, (_, ct) => Task.FromException<IResult>(new OperationCanceledException(ct)), cts.Token);
        var response = await HttpRequests.ExecuteAsync(result, request);
        Assert.Equal("", response.Body);
        Assert.DoesNotContain(_logger.Entries, e => e.Level == LogLevel.Error);
    }
}

public sealed class ApiRequestTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("org%2Fteam", "org/team")]
    [InlineData("org%2fteam", "org/team")]
    [InlineData(@"domain\user", @"domain\user")]
    [InlineData("a b", "a b")]
    public void Route_values_are_percent_decoded(string raw, string expected)
    {
        var request = new ApiRequest(HttpRequests.Create(routeValues: new Dictionary<string, string> { ["connectionId"] = raw }));
        Assert.Equal(expected, request.Route("connectionId"));
    }

    [Fact]
    public void A_missing_route_value_is_empty()
    {
        Assert.Equal("", new ApiRequest(HttpRequests.Create()).Route("connectionId"));
    }

    [Fact]
    public void Headers_are_read_case_insensitively()
    {
        var http = HttpRequests.Create();
        http.Headers["connection-id"] = "c1";
        var request = new ApiRequest(http);
        Assert.Equal("c1", request.Header("Connection-Id"));
        Assert.Null(request.Header("Provider-Config-Key"));
    }
}
