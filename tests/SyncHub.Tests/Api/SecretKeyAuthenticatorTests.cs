using Microsoft.Extensions.Options;
using SyncHub.Core.Api;
using SyncHub.Core.Configuration;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Api;

public sealed class SecretKeyAuthenticatorTests
{
    private readonly SecretKeyAuthenticator _auth = new(Options.Create(new SyncHubOptions
    {
        SecretKeys = $" {TestEnvironment.SecretKey} , {TestEnvironment.OtherSecretKey.ToUpperInvariant()}",
    }));

    [Theory]
    [InlineData(null, "missing_auth_header")]
    [InlineData("", "missing_auth_header")]
    [InlineData("Basic abc", "malformed_auth_header")]
    [InlineData("Bearer ", "malformed_auth_header")]
    [InlineData("Bearer    ", "malformed_auth_header")]
    [InlineData("Bearer", "malformed_auth_header")]
    [InlineData("Token " + TestEnvironment.SecretKey, "malformed_auth_header")]
    [InlineData(TestEnvironment.SecretKey, "malformed_auth_header")]
    [InlineData("Bearer {" + TestEnvironment.SecretKey + "}", "invalid_secret_key_format")]
    [InlineData("Bearer " + TestEnvironment.SecretKey + "0", "invalid_secret_key_format")]
    [InlineData("Bearer not-a-uuid", "invalid_secret_key_format")]
    [InlineData("Bearer 5f3e1c2a-9b7d-1e6f-8a1b-2c3d4e5f6a7b", "invalid_secret_key_format")]
    [InlineData("Bearer 11111111-2222-4333-8444-555555555555", "unknown_account")]
    public void Rejects_with_the_four_auth_codes(string? header, string code)
    {
        var error = Assert.Throws<ApiException>(() => _auth.Authenticate(header));
        Assert.Equal(401, error.Status);
        Assert.Equal(code, error.Code);
    }

    [Theory]
    [InlineData("Bearer " + TestEnvironment.SecretKey)]
    [InlineData("bearer " + TestEnvironment.OtherSecretKey)]
    [InlineData("Bearer 5F3E1C2A-9B7D-4E6F-8A1B-2C3D4E5F6A7B")]
    public void Accepts_every_configured_key_in_any_case(string header) => _auth.Authenticate(header);

    [Fact]
    public void A_key_that_is_not_configured_is_refused_even_if_it_differs_by_one_character()
    {
        var almost = TestEnvironment.SecretKey[..^1] + (TestEnvironment.SecretKey[^1] == 'b' ? 'c' : 'b');
        Assert.Equal("unknown_account", Assert.Throws<ApiException>(() => _auth.Authenticate("Bearer " + almost)).Code);
    }
}
