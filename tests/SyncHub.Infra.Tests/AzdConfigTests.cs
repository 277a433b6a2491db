using System.Text.Json.Nodes;
using SyncHub.Core.Configuration;
using YamlDotNet.RepresentationModel;

namespace SyncHub.Infra.Tests;

/// <summary>azure.yaml, main.parameters.json and the hooks: keys created once in Key Vault, never in the azd environment.</summary>
public class AzdConfigTests
{
    private static YamlMappingNode AzureYaml()
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Bicep.RepoRoot, "azure.yaml"));
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static string Scalar(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            node = ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        }
        return ((YamlScalarNode)node).Value!;
    }

    [Fact]
    public void Azure_yaml_deploys_the_functions_project_as_service_api()
    {
        var root = AzureYaml();

        Assert.Equal("synchub", Scalar(root, "name"));
        Assert.Equal("dotnet", Scalar(root, "services", "api", "language"));
        Assert.Equal("function", Scalar(root, "services", "api", "host"));
        var project = Scalar(root, "services", "api", "project");
        Assert.True(File.Exists(Path.Combine(Bicep.RepoRoot, project, "SyncHub.Functions.csproj")), project);
    }

    [Theory]
    [InlineData("preprovision")]
    [InlineData("postprovision")]
    public void Azure_yaml_runs_each_hook_on_every_platform(string hook)
    {
        var root = AzureYaml();

        Assert.Equal("sh", Scalar(root, "hooks", hook, "posix", "shell"));
        Assert.Equal("pwsh", Scalar(root, "hooks", hook, "windows", "shell"));
        Assert.Equal($"./infra/hooks/{hook}.sh", Scalar(root, "hooks", hook, "posix", "run"));
        Assert.Equal($"./infra/hooks/{hook}.ps1", Scalar(root, "hooks", hook, "windows", "run"));
        foreach (var platform in new[] { "posix", "windows" })
        {
            var script = Scalar(root, "hooks", hook, platform, "run");
            Assert.True(File.Exists(Path.Combine(Bicep.RepoRoot, script)), script);
            Assert.Equal("false", Scalar(root, "hooks", hook, platform, "continueOnError"));
        }
    }

    [Fact]
    public void Azure_yaml_requires_an_azd_version()
    {
        Assert.Matches(@"^>=\s*1\.\d+\.\d+$", Scalar(AzureYaml(), "requiredVersions", "azd"));
    }

    [Fact]
    public void Parameters_come_from_the_azd_environment_and_carry_no_key()
    {
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(Bicep.RepoRoot, "infra", "main.parameters.json")))!;
        var parameters = file["parameters"]!.AsObject();

        Assert.Equal("${AZURE_ENV_NAME}", (string?)parameters["environmentName"]!["value"]);
        Assert.Equal("${AZURE_LOCATION}", (string?)parameters["location"]!["value"]);
        Assert.Equal("${AZURE_PRINCIPAL_ID}", (string?)parameters["principalId"]!["value"]);
        Assert.Equal("${AZURE_PRINCIPAL_TYPE=User}", (string?)parameters["principalType"]!["value"]);
        var text = file.ToJsonString();
        Assert.DoesNotContain("SYNCHUB_SECRET_KEY", text, StringComparison.Ordinal);
        Assert.DoesNotContain("SYNCHUB_ENCRYPTION_KEY", text, StringComparison.Ordinal);

        // Every parameter main.bicep requires (no default) is bound, and nothing else; none is a secret.
        var declared = Bicep.MainTemplate["parameters"]!.AsObject();
        Assert.All(parameters, p => Assert.True(declared.ContainsKey(p.Key), $"{p.Key} is not a main.bicep parameter"));
        Assert.All(declared.Where(p => p.Value!["defaultValue"] is null), p => Assert.True(parameters.ContainsKey(p.Key), $"{p.Key} is not bound"));
        Assert.All(declared, p => Assert.NotEqual("securestring", (string?)p.Value!["type"]));
    }

    public static TheoryData<string> Shells => new() { "sh", "pwsh" };

    private const string SecretKey = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b";
    private const string EncryptionKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    /// <summary>What azd hands a postprovision hook: the outputs of the deployment it just ran (process environment).</summary>
    private static HookSandbox AfterProvision(string shell, bool outputs = true)
    {
        var sandbox = new HookSandbox(shell);
        sandbox.Env("AZURE_RESOURCE_GROUP", HookSandbox.ResourceGroup);
        if (outputs)
        {
            sandbox.Env("AZURE_KEY_VAULT_NAME", HookSandbox.Vault);
            sandbox.Env("SERVICE_API_NAME", HookSandbox.App);
            sandbox.Env("SERVICE_API_RESOURCE_ID", HookSandbox.AppId);
        }
        return sandbox;
    }

    private static void AssertSucceeded(ProcessResult result) =>
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.StdOut}\n{result.StdErr}");

    private static void AssertNoKeyOutsideTheVault(HookSandbox sandbox, ProcessResult result)
    {
        foreach (var value in sandbox.VaultSecrets().Values)
        {
            Assert.DoesNotContain(value, sandbox.AzdFile(), StringComparison.Ordinal);
            Assert.DoesNotContain(value, result.StdOut + result.StdErr, StringComparison.Ordinal);
            Assert.All(sandbox.Log("az"), call => Assert.DoesNotContain(value, call, StringComparison.Ordinal));
        }
    }

    // The data-loss path of the issue: a new machine or CI runner (no .azure folder) provisions an environment whose
    // vault already holds the keys. The template writes no secret, and the hook keeps both.
    [Theory]
    [MemberData(nameof(Shells))]
    public void A_fresh_azd_environment_with_an_existing_vault_keeps_the_keys(string shell)
    {
        using var sandbox = AfterProvision(shell, outputs: false);
        sandbox.ExistingVault(("synchub-secret-key", SecretKey), ("synchub-encryption-key", EncryptionKey));

        var result = sandbox.Run("postprovision");

        AssertSucceeded(result);
        Assert.Equal(SecretKey, sandbox.VaultSecrets()["synchub-secret-key"]);
        Assert.Equal(EncryptionKey, sandbox.VaultSecrets()["synchub-encryption-key"]);
        Assert.Empty(sandbox.Log("set"));
        Assert.Empty(sandbox.Log("azd-set"));
        Assert.Contains($"keyvault list -g {HookSandbox.ResourceGroup} --query [0].name -o tsv", sandbox.Log("az"));
        AssertNoKeyOutsideTheVault(sandbox, result);
        Assert.Empty(Arm.Resources(Bicep.MainTemplate).OfType("Microsoft.KeyVault/vaults/secrets"));
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void An_empty_vault_gets_valid_keys_once_and_they_are_kept(string shell)
    {
        using var sandbox = AfterProvision(shell);
        sandbox.ExistingVault();

        var first = sandbox.Run("postprovision");

        AssertSucceeded(first);
        var secrets = sandbox.VaultSecrets();
        var options = new SyncHubOptions { SecretKeys = secrets["synchub-secret-key"], EncryptionKey = secrets["synchub-encryption-key"] };
        Assert.Empty(options.Problems());
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", secrets["synchub-secret-key"]);
        Assert.Equal(["synchub-secret-key", "synchub-encryption-key"], sandbox.Log("set"));
        Assert.Empty(sandbox.Log("azd-set"));
        AssertNoKeyOutsideTheVault(sandbox, first);

        var second = sandbox.Run("postprovision");

        AssertSucceeded(second);
        Assert.Equal(secrets, sandbox.VaultSecrets());
        Assert.Equal(2, sandbox.Log("set").Length);
        Assert.Empty(sandbox.Log("overwritten"));
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void Only_a_missing_secret_is_created(string shell)
    {
        using var sandbox = AfterProvision(shell);
        sandbox.ExistingVault(("synchub-encryption-key", EncryptionKey));

        var result = sandbox.Run("postprovision");

        AssertSucceeded(result);
        Assert.Equal(EncryptionKey, sandbox.VaultSecrets()["synchub-encryption-key"]);
        Assert.Equal(["synchub-secret-key"], sandbox.Log("set"));
        Assert.Empty(sandbox.Log("overwritten"));
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void A_vault_it_cannot_read_is_never_written(string shell)
    {
        using var sandbox = AfterProvision(shell);
        sandbox.ExistingVault(("synchub-secret-key", SecretKey), ("synchub-encryption-key", EncryptionKey));
        sandbox.Env("FAKE_AZ_BROKEN", "1");

        var result = sandbox.Run("postprovision");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"could not list the secrets of Key Vault {HookSandbox.Vault} after 2 attempts", result.StdErr, StringComparison.Ordinal);
        Assert.Empty(sandbox.Log("set"));
        Assert.Empty(sandbox.Log("restart"));
        Assert.Equal(2, sandbox.Log("az").Count(c => c.StartsWith("keyvault secret list", StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void The_app_reloads_its_key_vault_references_after_provisioning(string shell)
    {
        using var sandbox = AfterProvision(shell);
        sandbox.ExistingVault(("synchub-secret-key", SecretKey), ("synchub-encryption-key", EncryptionKey));

        AssertSucceeded(sandbox.Run("postprovision"));

        Assert.Equal([$"{HookSandbox.AppId}/config/configreferences/appsettings/refresh?api-version=2022-03-01"], sandbox.Log("refresh"));
        Assert.Equal([HookSandbox.App], sandbox.Log("restart"));
    }

    // Environments made by earlier versions kept the keys in .azure/<env>/.env too: the vault's value wins, a value the
    // vault lacks is moved there (never a new one generated), and the copy in .env is blanked.
    [Theory]
    [MemberData(nameof(Shells))]
    public void Keys_left_in_the_azd_environment_by_earlier_versions_move_to_the_vault(string shell)
    {
        using var sandbox = AfterProvision(shell);
        const string legacySecretKey = "9d8c7b6a-5f4e-4d3c-9b2a-1f0e9d8c7b6a";
        sandbox.ExistingVault(("synchub-secret-key", SecretKey));
        sandbox.Preset("SYNCHUB_SECRET_KEY", legacySecretKey);
        sandbox.Preset("SYNCHUB_ENCRYPTION_KEY", EncryptionKey);

        var result = sandbox.Run("postprovision");

        AssertSucceeded(result);
        Assert.Equal(SecretKey, sandbox.VaultSecrets()["synchub-secret-key"]);
        Assert.Equal(EncryptionKey, sandbox.VaultSecrets()["synchub-encryption-key"]);
        Assert.Equal("", sandbox.AzdValues()["SYNCHUB_SECRET_KEY"]);
        Assert.Equal("", sandbox.AzdValues()["SYNCHUB_ENCRYPTION_KEY"]);
        Assert.DoesNotContain(EncryptionKey, result.StdOut + result.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void Preprovision_sets_the_principal_type_from_the_signed_in_account_and_writes_no_key(string shell)
    {
        foreach (var (kind, expected) in new[] { ("servicePrincipal", "ServicePrincipal"), ("user", "User") })
        {
            using var sandbox = new HookSandbox(shell);
            sandbox.Env("FAKE_AZ_USER_TYPE", kind);

            var result = sandbox.Run("preprovision");

            AssertSucceeded(result);
            Assert.Equal(new Dictionary<string, string> { ["AZURE_PRINCIPAL_TYPE"] = expected }, sandbox.AzdValues());
        }
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void Preprovision_keeps_a_principal_type_that_is_set(string shell)
    {
        using var sandbox = new HookSandbox(shell);
        sandbox.Preset("AZURE_PRINCIPAL_TYPE", "ServicePrincipal");
        sandbox.Env("FAKE_AZ_USER_TYPE", "user");

        AssertSucceeded(sandbox.Run("preprovision"));

        Assert.Empty(sandbox.Log("azd-set"));
        Assert.Equal("ServicePrincipal", sandbox.AzdValues()["AZURE_PRINCIPAL_TYPE"]);
    }
}
