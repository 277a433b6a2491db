using SyncHub.Core.Configuration;

namespace SyncHub.Tests.Configuration;

/// <summary>An integration's <c>oauth</c> client in nango.yaml: its settings, resolved by position, and its errors.</summary>
public sealed class OAuthConfigTests
{
    private const string Path = "/cfg/nango.yaml";

    private static string Yaml(string clientId = "${HUBSPOT_CLIENT_ID}", string clientSecret = "${HUBSPOT_CLIENT_SECRET}", string extra = "") => $"""
        integrations:
          hubspot:
            provider: hubspot
            base_url: https://api.hubapi.com
            oauth:
              token_url: https://api.hubapi.com/oauth/v1/token
              client_id: {clientId}
              client_secret: {clientSecret}
        {extra}
        """;

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["SyncHub__Integrations__hubspot__ClientId"] = "the-id",
        ["SyncHub__Integrations__hubspot__ClientSecret"] = "the-secret",
    };

    [Fact]
    public void Placeholders_resolve_by_position_from_the_integrations_settings_with_defaults()
    {
        var oauth = NangoYamlLoader.Parse(Yaml(), Path, Settings.GetValueOrDefault).Find("hubspot")!.OAuth!;
        Assert.Equal(new Uri("https://api.hubapi.com/oauth/v1/token"), oauth.TokenUrl);
        Assert.Equal("the-id", oauth.ClientId);
        Assert.Equal("the-secret", oauth.ClientSecret);
        Assert.Equal(OAuthAuthStyle.Body, oauth.AuthStyle);
        Assert.Equal(TimeSpan.FromMinutes(5), oauth.RefreshMargin);
        Assert.DoesNotContain("the-secret", oauth.ToString());
    }

    [Fact]
    public void Auth_style_and_refresh_margin_are_read_and_a_literal_client_id_is_allowed()
    {
        var yaml = Yaml(clientId: "public-id", extra: "      auth_style: basic\n      refresh_margin: 90 seconds");
        var oauth = NangoYamlLoader.Parse(yaml, Path, Settings.GetValueOrDefault).Find("hubspot")!.OAuth!;
        Assert.Equal("public-id", oauth.ClientId);
        Assert.Equal(OAuthAuthStyle.Basic, oauth.AuthStyle);
        Assert.Equal(TimeSpan.FromSeconds(90), oauth.RefreshMargin);
    }

    [Fact]
    public void An_unset_setting_stops_start_up_naming_the_setting_and_the_line()
    {
        var error = Assert.Throws<ConfigurationException>(() =>
            NangoYamlLoader.Parse(Yaml(), Path, name => name.EndsWith("ClientId", StringComparison.Ordinal) ? "the-id" : null));
        Assert.StartsWith($"{Path}:8:", error.Message);
        Assert.Contains("SyncHub__Integrations__hubspot__ClientSecret", error.Message);
        Assert.Contains("not set", error.Message);
        Assert.DoesNotContain("the-id", error.Message);
    }

    [Fact]
    public void A_client_secret_written_in_the_file_is_refused()
    {
        var error = Assert.Throws<ConfigurationException>(() => NangoYamlLoader.Parse(Yaml(clientSecret: "hunter2"), Path, Settings.GetValueOrDefault));
        Assert.Contains("secrets never live in nango.yaml", error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public void An_unresolved_key_vault_reference_is_named()
    {
        var settings = new Dictionary<string, string>(Settings) { ["SyncHub__Integrations__hubspot__ClientSecret"] = "@Microsoft.KeyVault(SecretUri=https://v/secrets/x)" };
        var error = Assert.Throws<ConfigurationException>(() => NangoYamlLoader.Parse(Yaml(), Path, settings.GetValueOrDefault));
        Assert.Contains("SyncHub__Integrations__hubspot__ClientSecret is a Key Vault reference that was not resolved", error.Message);
    }

    [Theory]
    [InlineData("      auth_style: header", "auth_style")]
    [InlineData("      refresh_margin: soon", "refresh_margin")]
    [InlineData("      scopes: x", "unknown key 'scopes'")]
    public void Bad_oauth_keys_are_errors_with_their_line(string extra, string expected)
    {
        var error = Assert.Throws<ConfigurationException>(() => NangoYamlLoader.Parse(Yaml(extra: extra), Path, Settings.GetValueOrDefault));
        Assert.StartsWith($"{Path}:9:", error.Message);
        Assert.Contains(expected, error.Message);
    }
}
