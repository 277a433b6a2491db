using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.EndToEnd;

/// <summary>
/// <c>GET /openapi.json</c> on a running LocalHost: public (the only route that is), an OpenAPI 3.1 document, the same
/// trailing-slash and unknown-query rules as every route; every other route still demands the secret key.
/// </summary>
[Collection(LocalHostCollection.Name)]
public sealed class OpenApiOverHttpTests(LocalHostFixture fixture)
{
    [Theory]
    [InlineData("/openapi.json")]
    [InlineData("/openapi.json/")]
    public async Task The_document_is_served_without_authorization(string path)
    {
        using var anonymous = fixture.Host.CreateClient(null);
        using var response = await anonymous.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var document = JsonNode.Parse(body)!.AsObject();
        Assert.Equal("3.1.0", document["openapi"]!.GetValue<string>());
        Assert.NotEmpty(document["paths"]!.AsObject());
        OpenApiContract.Parse(body).AssertConforms("GET", "/openapi.json", 200, response.Content.Headers.ContentType?.ToString(), body);
    }

    [Fact]
    public async Task An_unknown_query_key_is_400_in_the_envelope_even_without_auth()
    {
        using var anonymous = fixture.Host.CreateClient(null);
        using var response = await anonymous.GetAsync("/openapi.json?format=yaml");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(body)!["error"]!;
        Assert.Equal("invalid_query_params", error["code"]!.GetValue<string>());
        Assert.Equal("unrecognized_keys", error["errors"]![0]!["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/dashboard")]
    [InlineData("/dashboard/")]
    public async Task The_dashboard_page_is_served_without_authorization_as_static_html(string path)
    {
        using var anonymous = fixture.Host.CreateClient(null);
        using var response = await anonymous.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("<!doctype html>", body, StringComparison.Ordinal);
        // Self-contained: no script, style or font from elsewhere, and the policy says so to the browser too.
        Assert.DoesNotMatch(@"(src|href)=""(https?:)?//", body);
        Assert.Contains("connect-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        // The key lives in sessionStorage only.
        Assert.Contains("sessionStorage", body, StringComparison.Ordinal);
        Assert.DoesNotContain("document.cookie", body, StringComparison.Ordinal);
        Assert.DoesNotContain("localStorage", body, StringComparison.Ordinal);
        OpenApiContract.Parse(await anonymous.GetStringAsync("/openapi.json")).AssertConforms("GET", "/dashboard", 200, response.Content.Headers.ContentType?.ToString(), body);

        using var unknown = await anonymous.GetAsync(path + "?key=" + TestEnvironment.SecretKey);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("invalid_query_params", JsonNode.Parse(await unknown.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Every_other_route_requires_the_secret_key()
    {
        using var anonymous = fixture.Host.CreateClient(null);
        var publicRoutes = new List<string>();
        foreach (var (name, route, methods) in HttpTriggerRoutes.All())
        {
            foreach (var method in methods)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), "/" + Regex.Replace(route, @"\{[^}]+\}", "auth-probe"));
                if (method is "POST" or "PUT" or "PATCH" or "DELETE")
                {
                    request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                }
                using var response = await anonymous.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    var code = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>();
                    Assert.Equal("missing_auth_header", code);
                }
                else
                {
                    publicRoutes.Add($"{name}: {method} /{route} -> {(int)response.StatusCode}");
                }
            }
        }
        Assert.Equal(["Dashboard: GET /dashboard -> 200", "OpenApiDocument: GET /openapi.json -> 200"], publicRoutes.Order(StringComparer.Ordinal));
    }
}
