using System.Text.Json.Nodes;
using SyncHub.Core.Storage;

namespace SyncHub.Infra.Tests;

/// <summary>What infra/main.bicep deploys, checked on the compiled ARM template.</summary>
public class MainTemplateTests
{
    private static readonly string[] ExpectedAppSettings =
    [
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        "AzureWebJobsStorage__blobServiceUri",
        "AzureWebJobsStorage__queueServiceUri",
        "AzureWebJobsStorage__tableServiceUri",
        "SyncHubStorage__credential",
        "SyncHubStorage__clientId",
        "SyncHubStorage__tableServiceUri",
        "SyncHubStorage__queueServiceUri",
        "SyncHub__SecretKeys",
        "SyncHub__EncryptionKey",
        "SyncHubSchedulerCron",
        "SyncHubRunQueue",
        "SyncHubWebhookQueue",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    ];

    private const string StorageBlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    private const string StorageQueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";
    private const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";
    private const string KeyVaultSecretsOfficer = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";

    private static readonly string[] StorageDataRoles = [StorageBlobDataOwner, StorageQueueDataContributor, StorageTableDataContributor];

    private static JsonObject Main => Bicep.MainTemplate;

    private static ArmResource Single(string type) => Arm.Resources(Main).OfType(type).Single();

    private static ArmResource FunctionApp => Single("Microsoft.Web/sites");

    internal static IReadOnlyCollection<string> EmittedAppSettings() => AppSettings().Keys;

    private static Dictionary<string, JsonNode?> AppSettings()
    {
        var settings = FunctionApp.Properties["siteConfig"]!["appSettings"]!.AsArray();
        var byName = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var setting in settings)
        {
            var name = (string)setting!["name"]!;
            Assert.True(byName.TryAdd(name, FunctionApp.Deployment.Resolve(setting["value"])), $"{name} is set twice");
        }
        return byName;
    }

    [Fact]
    public void Resource_group_is_named_after_the_environment_at_subscription_scope()
    {
        Assert.Contains("subscriptionDeploymentTemplate.json", (string)Main["$schema"]!);
        var rg = Single("Microsoft.Resources/resourceGroups");
        Assert.Equal("[format('{0}{1}', variables('abbrs').resourcesResourceGroups, parameters('environmentName'))]", (string)rg.Resource["name"]!);
        var abbreviations = JsonNode.Parse(File.ReadAllText(Path.Combine(Bicep.RepoRoot, "infra", "abbreviations.json")))!;
        Assert.Equal("rg-", (string)abbreviations["resourcesResourceGroups"]!);
    }

    [Fact]
    public void Function_app_has_exactly_the_contract_app_settings()
    {
        Assert.Equal(ExpectedAppSettings.Order(StringComparer.Ordinal), AppSettings().Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void App_settings_use_the_identity_and_key_vault_references_and_no_keys()
    {
        var settings = AppSettings();

        Assert.Equal("managedidentity", (string?)settings["AzureWebJobsStorage__credential"]);
        Assert.Equal("managedidentity", (string?)settings["SyncHubStorage__credential"]);
        Assert.Equal("*/30 * * * * *", (string?)settings["SyncHubSchedulerCron"]);
        foreach (var name in new[] { "AzureWebJobsStorage__clientId", "SyncHubStorage__clientId" })
        {
            Assert.Equal("[reference('identity').clientId]", (string?)settings[name]);
        }
        Assert.Equal("[format('ClientId={0};Authorization=AAD', reference('identity').clientId)]",
            (string?)settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
        Assert.Equal("[format('@Microsoft.KeyVault(VaultName={0};SecretName={1})', parameters('keyVaultName'), parameters('secretKeySecretName'))]",
            (string?)settings["SyncHub__SecretKeys"]);
        Assert.Equal("[format('@Microsoft.KeyVault(VaultName={0};SecretName={1})', parameters('keyVaultName'), parameters('encryptionKeySecretName'))]",
            (string?)settings["SyncHub__EncryptionKey"]);
        foreach (var name in settings.Keys.Where(n => n.EndsWith("ServiceUri", StringComparison.Ordinal)))
        {
            Assert.StartsWith("[reference('storage').primaryEndpoints.", (string?)settings[name]);
        }

        var json = Main.ToJsonString();
        foreach (var forbidden in new[] { "listKeys", "AccountKey=", "DefaultEndpointsProtocol", "SharedAccessSignature", "InstrumentationKey=" })
        {
            Assert.DoesNotContain(forbidden, json, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void Function_app_is_dotnet_10_isolated_on_flex_consumption_with_identity_based_deployment()
    {
        var plan = Single("Microsoft.Web/serverfarms").Resource;
        Assert.Equal("FC1", (string?)plan["sku"]!["name"]);
        Assert.Equal("FlexConsumption", (string?)plan["sku"]!["tier"]);
        Assert.True(plan["properties"]!["reserved"]!.GetValue<bool>());

        var site = FunctionApp;
        Assert.Equal("functionapp,linux", (string?)site.Resource["kind"]);
        Assert.Equal("api", (string?)site.Deployment.ParameterValue("serviceName"));
        Assert.Contains("'azd-service-name', parameters('serviceName')", (string?)site.Resource["tags"]);
        Assert.Equal("UserAssigned", (string?)site.Resource["identity"]!["type"]);
        Assert.True(site.Properties["httpsOnly"]!.GetValue<bool>());

        var identityId = "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('identityName'))]";
        Assert.Equal(identityId, (string?)site.Properties["keyVaultReferenceIdentity"]);
        var config = site.Properties["functionAppConfig"]!;
        Assert.Equal("dotnet-isolated", (string?)config["runtime"]!["name"]);
        Assert.Equal("10.0", (string?)config["runtime"]!["version"]);
        var storage = config["deployment"]!["storage"]!;
        Assert.Equal("blobContainer", (string?)storage["type"]);
        Assert.Equal("UserAssignedIdentity", (string?)storage["authentication"]!["type"]);
        Assert.Equal(identityId, (string?)storage["authentication"]!["userAssignedIdentityResourceId"]);

        foreach (var policy in Arm.Resources(Main).OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies"))
        {
            Assert.False(policy.Properties["allow"]!.GetValue<bool>());
        }
    }

    [Fact]
    public void Storage_account_allows_no_shared_keys_and_no_public_blobs()
    {
        var properties = Single("Microsoft.Storage/storageAccounts").Properties;

        Assert.False(properties["allowSharedKeyAccess"]!.GetValue<bool>());
        Assert.False(properties["allowBlobPublicAccess"]!.GetValue<bool>());
        Assert.Equal("TLS1_2", (string?)properties["minimumTlsVersion"]);
        Assert.Single(Arm.Resources(Main).OfType("Microsoft.Storage/storageAccounts/blobServices/containers"));
    }

    [Fact]
    public void Every_fixed_table_is_created()
    {
        Assert.Equal(StorageNames.FixedTables.Order(), CreatedChildren("tableServices/tables", "tableNames").Order());
    }

    [Fact]
    public void Every_queue_is_created()
    {
        Assert.Equal(StorageNames.Queues.Order(), CreatedChildren("queueServices/queues", "queueNames").Order());
    }

    /// <summary>Names of the tables or queues created by the storage module's loop over <paramref name="parameter"/>.</summary>
    private static string[] CreatedChildren(string childType, string parameter)
    {
        var loop = Arm.Resources(Main).OfType("Microsoft.Storage/storageAccounts/" + childType).Single();
        Assert.Equal($"[length(parameters('{parameter}'))]", (string?)loop.Resource["copy"]!["count"]);
        Assert.Contains($"parameters('{parameter}')[copyIndex()]", (string)loop.Resource["name"]!);
        return Arm.Strings(loop.Deployment.ParameterValue(parameter));
    }

    [Fact]
    public void Identity_gets_storage_monitoring_and_key_vault_roles()
    {
        var rbac = Arm.Module(Main, "identityRoles");

        Assert.Null(rbac.Condition);
        Assert.Equal("ServicePrincipal", (string?)rbac.ParameterValue("principalType"));
        Assert.Equal("[reference('identity').outputs.principalId.value]", (string?)rbac.ParameterValue("principalId"));
        Assert.Equal(StorageDataRoles.Order(), RoleIds(rbac, "storageRoles").Order());
        Assert.Equal([MonitoringMetricsPublisher], RoleIds(rbac, "applicationInsightsRoles"));
        Assert.Equal([KeyVaultSecretsUser], RoleIds(rbac, "keyVaultRoles"));
        AssertAssignmentsScoped(rbac);
    }

    [Fact]
    public void Deploying_user_gets_storage_data_roles_and_secrets_officer_when_known()
    {
        var rbac = Arm.Module(Main, "userRoles");

        Assert.Equal("[not(empty(parameters('principalId')))]", rbac.Condition);
        Assert.Equal("[parameters('principalId')]", (string?)rbac.ParameterValue("principalId"));
        Assert.Equal(StorageDataRoles.Order(), RoleIds(rbac, "storageRoles").Order());
        Assert.Equal([KeyVaultSecretsOfficer], RoleIds(rbac, "keyVaultRoles"));
        AssertAssignmentsScoped(rbac);
    }

    /// <summary>Role definition ids an rbac module call assigns through one of its role-name lists.</summary>
    private static string[] RoleIds(Deployment rbac, string parameter)
    {
        var ids = rbac.Template["variables"]!["roleIds"]!.AsObject();
        return Arm.Strings(rbac.ParameterValue(parameter)).Select(role => (string)ids[role]!).ToArray();
    }

    private static void AssertAssignmentsScoped(Deployment rbac)
    {
        var assignments = Arm.Resources(rbac).OfType("Microsoft.Authorization/roleAssignments").ToDictionary(r => r.SymbolicName);
        var expected = new Dictionary<string, (string Parameter, string ScopeType)>
        {
            ["storageAssignments"] = ("storageRoles", "Microsoft.Storage/storageAccounts"),
            ["applicationInsightsAssignments"] = ("applicationInsightsRoles", "Microsoft.Insights/components"),
            ["keyVaultAssignments"] = ("keyVaultRoles", "Microsoft.KeyVault/vaults"),
        };
        Assert.Equal(expected.Keys.Order(), assignments.Keys.Order());
        foreach (var (name, (parameter, scopeType)) in expected)
        {
            var assignment = assignments[name].Resource;
            Assert.Equal($"[length(parameters('{parameter}'))]", (string?)assignment["copy"]!["count"]);
            Assert.StartsWith($"[resourceId('{scopeType}', ", (string?)assignment["scope"]);
            Assert.Equal($"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', variables('roleIds')[parameters('{parameter}')[copyIndex()]])]",
                (string?)assignment["properties"]!["roleDefinitionId"]);
            Assert.Equal("[parameters('principalId')]", (string?)assignment["properties"]!["principalId"]);
        }
    }

    [Fact]
    public void Application_insights_accepts_only_entra_id_telemetry_into_log_analytics()
    {
        var properties = Single("Microsoft.Insights/components").Properties;

        Assert.True(properties["DisableLocalAuth"]!.GetValue<bool>());
        Assert.Contains("Microsoft.OperationalInsights/workspaces", (string?)properties["WorkspaceResourceId"]);
        Assert.Single(Arm.Resources(Main).OfType("Microsoft.OperationalInsights/workspaces"));
    }

    // Must fix 1: the template never writes a key (a redeployment from a fresh machine cannot rotate one); the
    // postprovision hook creates the secrets once. Purge protection keeps a deleted key recoverable.
    [Fact]
    public void Key_vault_uses_rbac_and_purge_protection_and_the_template_writes_no_secret()
    {
        var vault = Single("Microsoft.KeyVault/vaults");
        Assert.True(vault.Properties["enableRbacAuthorization"]!.GetValue<bool>());
        Assert.True(vault.Properties["enablePurgeProtection"]!.GetValue<bool>());
        Assert.True(vault.Properties["enableSoftDelete"]!.GetValue<bool>());

        Assert.Empty(Arm.Resources(Main).OfType("Microsoft.KeyVault/vaults/secrets"));
        Assert.Equal(["synchub-encryption-key", "synchub-secret-key"],
            Main["variables"]!.AsObject().Where(v => v.Key.EndsWith("SecretName", StringComparison.Ordinal)).Select(v => (string)v.Value!).Order());
        Assert.DoesNotContain("securestring", Main.ToJsonString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("newGuid", Main.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Location_is_limited_to_flex_consumption_regions()
    {
        var allowed = Arm.Strings(Main["parameters"]!["location"]!["allowedValues"]);

        Assert.Contains("westeurope", allowed);
        Assert.Contains("eastus", allowed);
        Assert.True(allowed.Length >= 20, string.Join(",", allowed));
        Assert.All(allowed, region => Assert.Matches("^[a-z0-9]+$", region));
        Assert.DoesNotContain("eastus2euap", allowed);
    }

    [Fact]
    public void Principal_type_is_user_or_service_principal_and_reaches_the_deployer_roles()
    {
        Assert.Equal(["ServicePrincipal", "User"], Arm.Strings(Main["parameters"]!["principalType"]!["allowedValues"]).Order());
        Assert.Equal("User", (string?)Main["parameters"]!["principalType"]!["defaultValue"]);
        Assert.Equal("[parameters('principalType')]", (string?)Arm.Module(Main, "userRoles").ParameterValue("principalType"));
    }

    [Fact]
    public void Blob_soft_delete_is_on()
    {
        var blobService = Single("Microsoft.Storage/storageAccounts/blobServices");
        var days = blobService.Deployment.Resolve(blobService.Properties["deleteRetentionPolicy"]!["days"])!.GetValue<int>();

        Assert.True(blobService.Properties["deleteRetentionPolicy"]!["enabled"]!.GetValue<bool>());
        Assert.True(blobService.Properties["containerDeleteRetentionPolicy"]!["enabled"]!.GetValue<bool>());
        Assert.InRange(days, 7, 365);
    }

    [Fact]
    public void Alerts_cover_poison_messages_failed_runs_http_5xx_and_a_stopped_scheduler()
    {
        var alerts = Arm.Module(Main, "alerts");
        var rules = alerts.Template["variables"]!["alerts"]!.ToJsonString();

        Assert.Single(Arm.Resources(Main).OfType("Microsoft.Insights/actionGroups"));
        Assert.Equal("[if(empty(parameters('alertEmail')), createArray(), createArray(createObject('name', 'operator', 'emailAddress', parameters('alertEmail'), 'useCommonAlertSchema', true())))]",
            (string?)Arm.Resources(alerts).OfType("Microsoft.Insights/actionGroups").Single().Properties["emailReceivers"]);
        Assert.Equal("[parameters('alertEmail')]", (string?)alerts.ParameterValue("alertEmail"));
        Assert.Equal("", (string?)Main["parameters"]!["alertEmail"]!["defaultValue"]);
        foreach (var name in new[] { "poison-messages", "failed-runs", "http-5xx", "scheduler-stopped" })
        {
            Assert.Contains($"\"name\":\"{name}\"", rules, StringComparison.Ordinal);
        }
        Assert.Contains("synchub.runs.failed", rules, StringComparison.Ordinal);
        Assert.Equal("EnqueueDueSyncs", (string?)alerts.ParameterValue("schedulerFunctionName"));
        Assert.Contains(typeof(SyncHub.Functions.FunctionAppServices).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods())
            .Select(m => m.GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.FunctionAttribute), false).Cast<Microsoft.Azure.Functions.Worker.FunctionAttribute>().SingleOrDefault()?.Name),
            n => n == "EnqueueDueSyncs");
        Assert.Equal("[variables('poisonQueueName')]", (string?)alerts.ParameterValue("poisonQueueName"));
        Assert.Equal(StorageNames.SyncRunsQueue + "-poison", (string?)Main["variables"]!["poisonQueueName"]);
        Assert.Contains(StorageNames.SyncRunsQueue + "-poison", StorageNames.Queues);
    }

    [Fact]
    public void Workbook_charts_the_runs_and_records_metrics()
    {
        var workbook = Arm.Module(Main, "workbook");
        var charts = workbook.Template["variables"]!["charts"]!.ToJsonString();

        foreach (var metric in new[] { "synchub.runs.started", "synchub.runs.succeeded", "synchub.runs.failed", "synchub.records.added", "synchub.records.updated", "synchub.records.deleted" })
        {
            Assert.Contains(metric, charts, StringComparison.Ordinal);
        }
        Assert.Contains("customDimensions.integration", charts, StringComparison.Ordinal);
        Assert.Single(Arm.Resources(Main).OfType("Microsoft.Insights/workbooks"));
    }

    [Fact]
    public void Outputs_are_what_azd_and_the_readme_use()
    {
        var outputs = Main["outputs"]!.AsObject();

        foreach (var name in new[] { "AZURE_LOCATION", "AZURE_TENANT_ID", "AZURE_RESOURCE_GROUP", "SERVICE_API_NAME", "SERVICE_API_RESOURCE_ID", "SERVICE_API_URI", "AZURE_KEY_VAULT_NAME", "SYNCHUB_SECRET_KEY_COMMAND" })
        {
            Assert.True(outputs.ContainsKey(name), $"missing output {name}");
        }
        Assert.StartsWith("[format('https://{0}'", (string?)outputs["SERVICE_API_URI"]!["value"]);
        Assert.Equal("[format('az keyvault secret show --vault-name {0} --name {1} --query value -o tsv', variables('keyVaultName'), variables('secretKeySecretName'))]",
            (string?)outputs["SYNCHUB_SECRET_KEY_COMMAND"]!["value"]);
    }
}
