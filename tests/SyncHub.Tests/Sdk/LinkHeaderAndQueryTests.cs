using SyncHub.Core.Sdk;

namespace SyncHub.Tests.Sdk;

public sealed class LinkHeaderAndQueryTests
{
    [Theory]
    [InlineData("<https://api.github.com/repositories/1/issues?page=2>; rel=\"next\", <https://api.github.com/repositories/1/issues?page=5>; rel=\"last\"", "https://api.github.com/repositories/1/issues?page=2")]
    [InlineData("<https://h/x?page=1>; rel=\"prev\", <https://h/x?page=3>; rel=\"next\"", "https://h/x?page=3")]
    [InlineData("<https://h/x?page=3>; rel=\"next last\"", "https://h/x?page=3")]
    [InlineData("<https://h/x?page=3>; rel=\"last next\"", "https://h/x?page=3")]
    [InlineData("  < https://h/x?a=1,2 >  ;  rel = next  ", "https://h/x?a=1,2")]
    [InlineData("<https://h/x?page=3>; rel=NEXT", "https://h/x?page=3")]
    [InlineData("<https://h/a>; title=\"rel=next, really\"; rel=\"prev\", <https://h/b>; rel=\"next\"", "https://h/b")]
    [InlineData("<https://h/a>; crossorigin; rel=\"next\"; type=\"application/json\"", "https://h/a")]
    [InlineData("</relative?page=2>; rel=\"next\"", "/relative?page=2")]
    [InlineData("<https://h/a>; rel=\"prev\"; rel=\"next\"", null)]
    [InlineData("<https://h/a>; rel=\"nextpage\"", null)]
    [InlineData("<https://h/a>; rel=\"prev\", <https://h/b>; rel=\"first\"", null)]
    [InlineData("garbage, <https://h/b>; rel=\"next\"", "https://h/b")]
    [InlineData("", null)]
    public void The_next_link_is_found(string header, string? expected)
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("Link", header);

        Assert.Equal(expected, LinkHeader.Next(response.Headers));
    }

    [Fact]
    public void The_next_link_is_found_across_several_Link_headers()
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("Link", "<https://h/first>; rel=\"first\"");
        response.Headers.TryAddWithoutValidation("Link", "<https://h/next>; rel=\"next\"");

        Assert.Equal("https://h/next", LinkHeader.Next(response.Headers));
    }

    [Theory]
    [InlineData("items", "cursor", "a b", "items?cursor=a%20b")]
    [InlineData("items?x=1", "cursor", "c", "items?x=1&cursor=c")]
    [InlineData("items?cursor=old&x=1&cursor=older", "cursor", "new", "items?cursor=new&x=1")]
    [InlineData("/v1/items?a=%2F&page%5Bafter%5D=1#frag", "page[after]", "2", "/v1/items?a=%2F&page%5Bafter%5D=2#frag")]
    [InlineData("https://h/api/items?", "offset", "10", "https://h/api/items?offset=10")]
    [InlineData("items?flag&offset=5", "offset", "10", "items?flag&offset=10")]
    public void A_query_parameter_is_added_or_replaced(string url, string name, string value, string expected)
    {
        Assert.Equal(expected, QueryParameters.With(url, name, value));
    }

    [Theory]
    [InlineData("items?offset=40&limit=2", "offset", "40")]
    [InlineData("items?limit=2", "offset", null)]
    [InlineData("items?q=a+b", "q", "a b")]
    [InlineData("items?flag", "flag", "")]
    public void A_query_parameter_is_read(string url, string name, string? expected)
    {
        Assert.Equal(expected, QueryParameters.Get(url, name));
    }
}
