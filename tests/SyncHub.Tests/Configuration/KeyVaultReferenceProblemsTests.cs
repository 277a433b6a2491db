using SyncHub.Core.Configuration;

namespace SyncHub.Tests.Configuration;

/// <summary>
/// In Azure the two keys are Key Vault references; until App Service resolves them (the identity's role on the vault
/// may still be propagating) the app sees the literal <c>@Microsoft.KeyVault(...)</c>. Start-up must say exactly that,
/// naming the setting, never echoing the value, and not report it as a malformed key.
/// </summary>
public sealed class KeyVaultReferenceProblemsTests
{
    private const string Reference = "@Microsoft.KeyVault(VaultName=kv-abc123;SecretName=synchub-secret-key)";
    private const string EncryptionReference = "@Microsoft.KeyVault(SecretUri=https://kv-abc123.vault.azure.net/secrets/synchub-encryption-key/)";
    private const string ValidSecretKey = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b";
    private const string ValidEncryptionKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    [Fact]
    public void An_unresolved_secret_key_reference_says_the_reference_was_not_resolved_and_to_restart()
    {
        var options = new SyncHubOptions { SecretKeys = Reference, EncryptionKey = ValidEncryptionKey };

        var problem = Assert.Single(options.Problems());

        Assert.StartsWith("SyncHub__SecretKeys is a Key Vault reference that was not resolved", problem, StringComparison.Ordinal);
        Assert.Contains("role", problem, StringComparison.Ordinal);
        Assert.Contains("propagate", problem, StringComparison.Ordinal);
        Assert.Contains("restart the app", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("UUID", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("kv-abc123", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("@Microsoft.KeyVault", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_unresolved_references_are_named_and_nothing_else_is_reported()
    {
        var options = new SyncHubOptions { SecretKeys = Reference, EncryptionKey = EncryptionReference };

        var problems = options.Problems().ToList();

        Assert.Equal(2, problems.Count);
        Assert.StartsWith("SyncHub__SecretKeys is a Key Vault reference that was not resolved", problems[0], StringComparison.Ordinal);
        Assert.StartsWith("SyncHub__EncryptionKey is a Key Vault reference that was not resolved", problems[1], StringComparison.Ordinal);
        Assert.All(problems, p => Assert.DoesNotContain("kv-abc123", p, StringComparison.Ordinal));
    }

    [Fact]
    public void An_unresolved_environment_variable_reference_names_its_setting()
    {
        var options = new SyncHubOptions { SecretKeys = ValidSecretKey, EncryptionKey = ValidEncryptionKey };
        options.EnvironmentVariables["API_TOKEN"] = " @microsoft.keyvault(VaultName=kv-abc123;SecretName=api-token)";

        var problem = Assert.Single(options.Problems());

        Assert.StartsWith("SyncHub__EnvironmentVariables__API_TOKEN is a Key Vault reference that was not resolved", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("api-token", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolved_values_are_not_mistaken_for_references()
    {
        var options = new SyncHubOptions { SecretKeys = ValidSecretKey, EncryptionKey = ValidEncryptionKey };
        options.EnvironmentVariables["NOTE"] = "see @Microsoft.KeyVault( docs";

        Assert.Empty(options.Problems());
        Assert.Null(SyncHubOptions.UnresolvedKeyVaultReference("X", null));
    }
}
