using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SyncHub.Infra.Tests;

/// <summary>
/// The golden deployment snapshot (infra/tests/main.test.snapshot.json, from `bicep snapshot` of
/// infra/tests/main.test.bicepparam): the template still produces exactly it, and rules that a subscription would
/// otherwise have to show hold on the resources it predicts. Regenerate after an intended change with
/// scripts/infra-snapshot.sh and commit the diff.
/// </summary>
public sealed partial class SnapshotTests
{
    private static readonly string SnapshotPath = Path.Combine(Bicep.RepoRoot, "infra", "tests", "main.test.snapshot.json");

    private static readonly Lazy<JsonArray> Predicted = new(() =>
        JsonNode.Parse(File.ReadAllText(SnapshotPath))!["predictedResources"]!.AsArray());

    private static IEnumerable<JsonObject> OfType(string type) =>
        Predicted.Value.Select(r => r!.AsObject()).Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase));

    private static readonly string[] SecretReaderRoles =
    [
        "4633458b-17de-408a-b874-0445c86b69e6", // Key Vault Secrets User
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7", // Key Vault Secrets Officer
        "00482a5a-887f-4fb3-b363-3b7fe8e74483", // Key Vault Administrator
    ];

    [GeneratedRegex(@"^@Microsoft\.KeyVault\(VaultName=(?<vault>[^;]+);SecretName=(?<secret>[^;)]+)(;SecretVersion=[^)]*)?\)$")]
    private static partial Regex VaultNameReference();

    [GeneratedRegex(@"^@Microsoft\.KeyVault\(SecretUri=https://(?<vault>[^.]+)\.vault\.[^/]+/secrets/(?<secret>[^/)]+)(/[^)]*)?\)$")]
    private static partial Regex SecretUriReference();

    [Fact]
    public void Template_matches_the_golden_snapshot()
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Bicep.RepoRoot,
        };
        start.ArgumentList.Add(Path.Combine("scripts", "infra-snapshot.sh"));
        start.ArgumentList.Add("validate");
        Bicep.Run("--version"); // makes the restored CLI executable
        start.Environment["BICEP"] = Bicep.CliPath;

        var result = ProcessResult.Run(start, TimeSpan.FromMinutes(3));

        Assert.True(result.ExitCode == 0,
            "infra/ no longer produces infra/tests/main.test.snapshot.json. If the change is intended, run " +
            $"scripts/infra-snapshot.sh and commit the new snapshot.\n{result.StdOut}\n{result.StdErr}");
    }

    [Fact]
    public void Snapshot_predicts_every_kind_of_resource_with_no_diagnostics()
    {
        var snapshot = JsonNode.Parse(File.ReadAllText(SnapshotPath))!;
        Assert.Empty(snapshot["diagnostics"]!.AsArray());
        foreach (var type in new[] { "Microsoft.Web/sites", "Microsoft.KeyVault/vaults", "Microsoft.Storage/storageAccounts", "Microsoft.Insights/components",
            "Microsoft.Insights/actionGroups", "Microsoft.Insights/scheduledQueryRules", "Microsoft.Insights/workbooks", "Microsoft.Authorization/roleAssignments" })
        {
            Assert.NotEmpty(OfType(type));
        }
    }

    [Fact]
    public void Every_key_vault_has_purge_protection_and_rbac()
    {
        Assert.All(OfType("Microsoft.KeyVault/vaults"), vault =>
        {
            Assert.True(vault["properties"]!["enablePurgeProtection"]?.GetValue<bool>(), (string?)vault["name"]);
            Assert.True(vault["properties"]!["enableRbacAuthorization"]?.GetValue<bool>(), (string?)vault["name"]);
        });
        Assert.Empty(OfType("Microsoft.KeyVault/vaults/secrets"));
    }

    [Fact]
    public void Every_storage_account_requires_tls_1_2_https_and_no_shared_key()
    {
        Assert.All(OfType("Microsoft.Storage/storageAccounts"), account =>
        {
            var properties = account["properties"]!;
            Assert.Equal("TLS1_2", (string?)properties["minimumTlsVersion"]);
            Assert.False(properties["allowSharedKeyAccess"]!.GetValue<bool>());
            Assert.True(properties["supportsHttpsTrafficOnly"]!.GetValue<bool>());
            Assert.False(properties["allowBlobPublicAccess"]!.GetValue<bool>());
        });
        Assert.All(OfType("Microsoft.Storage/storageAccounts/blobServices"), service =>
            Assert.True(service["properties"]!["deleteRetentionPolicy"]!["enabled"]!.GetValue<bool>()));
    }

    [Fact]
    public void Every_site_is_https_only_with_tls_1_2_and_ftps_off()
    {
        Assert.All(OfType("Microsoft.Web/sites"), site =>
        {
            var properties = site["properties"]!;
            Assert.True(properties["httpsOnly"]!.GetValue<bool>());
            Assert.Equal("1.2", (string?)properties["siteConfig"]!["minTlsVersion"]);
            Assert.Equal("1.2", (string?)properties["siteConfig"]!["scmMinTlsVersion"]);
            Assert.Equal("Disabled", (string?)properties["siteConfig"]!["ftpsState"]);
        });
        Assert.All(OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies"), policy =>
            Assert.False(policy["properties"]!["allow"]!.GetValue<bool>()));
    }

    // Each @Microsoft.KeyVault(...) app setting names a vault this deployment creates, and the identity the site resolves
    // references with (keyVaultReferenceIdentity, one of its own identities) holds a role on that vault that reads secrets.
    [Fact]
    public void Every_key_vault_reference_is_readable_by_the_identity_that_resolves_it()
    {
        var references = 0;
        foreach (var site in OfType("Microsoft.Web/sites"))
        {
            var identity = (string?)site["properties"]!["keyVaultReferenceIdentity"];
            Assert.False(string.IsNullOrEmpty(identity), $"{site["name"]} has no keyVaultReferenceIdentity (it would use a system identity it does not have)");
            Assert.True(site["identity"]!["userAssignedIdentities"]!.AsObject().ContainsKey(identity!), $"{site["name"]} does not run as {identity}");
            var principal = $"[reference('{identity}', ";

            foreach (var setting in site["properties"]!["siteConfig"]!["appSettings"]!.AsArray())
            {
                var value = (string?)setting!["value"] ?? "";
                if (!value.StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                references++;
                var match = VaultNameReference().Match(value) is { Success: true } m ? m : SecretUriReference().Match(value);
                Assert.True(match.Success, $"{setting["name"]}: unrecognised Key Vault reference {value}");
                var vaultName = match.Groups["vault"].Value;
                var vault = OfType("Microsoft.KeyVault/vaults").SingleOrDefault(v => (string?)v["name"] == vaultName);
                Assert.True(vault is not null, $"{setting["name"]} references vault {vaultName}, which this deployment does not create");
                var vaultId = (string)vault!["id"]!;

                var readers = OfType("Microsoft.Authorization/roleAssignments").Where(a =>
                    ((string)a["id"]!).StartsWith(vaultId + "/providers/Microsoft.Authorization/roleAssignments/", StringComparison.OrdinalIgnoreCase)
                    && ((string?)a["properties"]!["principalId"])?.StartsWith(principal, StringComparison.OrdinalIgnoreCase) == true
                    && ((string?)a["properties"]!["principalId"])?.EndsWith(").principalId]", StringComparison.Ordinal) == true
                    && SecretReaderRoles.Any(role => ((string)a["properties"]!["roleDefinitionId"]!).EndsWith("/" + role, StringComparison.OrdinalIgnoreCase)));
                Assert.True(readers.Any(), $"{setting["name"]}: {identity} has no role that reads secrets on {vaultName}");
            }
        }
        Assert.Equal(2, references);
    }

    [Fact]
    public void The_deployer_in_the_snapshot_is_a_service_principal_with_secrets_officer()
    {
        var deployer = OfType("Microsoft.Authorization/roleAssignments")
            .Where(a => (string?)a["properties"]!["principalId"] == "11111111-1111-4111-8111-111111111111").ToList();

        Assert.Equal(4, deployer.Count);
        Assert.All(deployer, a => Assert.Equal("ServicePrincipal", (string?)a["properties"]!["principalType"]));
        Assert.Contains(deployer, a => ((string)a["properties"]!["roleDefinitionId"]!).EndsWith("/b86a8fe4-44ce-4948-aee5-eccb2c155cd7", StringComparison.Ordinal));
    }
}
