// The SyncHub function app on a Flex Consumption (FC1) plan: .NET 10 isolated worker, one user-assigned identity for
// everything, identity-based storage (no keys), Key Vault references for the secrets, Entra ID-only telemetry.

@description('Name of the function app.')
param name string

@description('Azure region of the plan and the app.')
param location string

@description('Tags applied to the plan and the app (the app also gets azd-service-name).')
param tags { *: string }

@description('azd service name this app hosts (azure.yaml).')
param serviceName string = 'api'

@description('Name of the Flex Consumption plan.')
param planName string

@description('Name of the user-assigned managed identity the app runs as.')
param identityName string

@description('Name of the storage account (host storage, SyncHub tables and queues, deployment package).')
param storageAccountName string

@description('Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Name of the Key Vault holding the secrets.')
param keyVaultName string

@description('Key Vault secret referenced by SyncHub__SecretKeys.')
param secretKeySecretName string

@description('Key Vault secret referenced by SyncHub__EncryptionKey.')
param encryptionKeySecretName string

@description('NCRONTAB (with seconds) of the scheduler tick.')
param schedulerCron string = '*/30 * * * * *'

@description('Memory per instance in MB (infra/README.md, "What it costs at rest").')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

@description('Upper bound on instances the plan scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource storage 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

// Setting names are a contract with the app (DESIGN.md, StorageClients.cs); tests/SyncHub.Infra.Tests checks them.
// FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION are not set: Flex Consumption takes the runtime from
// functionAppConfig. The Key Vault references name the vault and the secret without a version, so they always resolve
// the latest version; they do not look the secrets up at deployment time because the postprovision hook creates them
// after the first deployment (until then, and until the identity's role has propagated, the app reports the reference
// as unresolved and the hook refreshes the references and restarts it).
@description('App settings of the function app.')
var appSettings = [
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
  { name: 'AzureWebJobsStorage__blobServiceUri', value: storage.properties.primaryEndpoints.blob }
  { name: 'AzureWebJobsStorage__queueServiceUri', value: storage.properties.primaryEndpoints.queue }
  { name: 'AzureWebJobsStorage__tableServiceUri', value: storage.properties.primaryEndpoints.table }
  { name: 'SyncHubStorage__credential', value: 'managedidentity' }
  { name: 'SyncHubStorage__clientId', value: identity.properties.clientId }
  { name: 'SyncHubStorage__tableServiceUri', value: storage.properties.primaryEndpoints.table }
  { name: 'SyncHubStorage__queueServiceUri', value: storage.properties.primaryEndpoints.queue }
  { name: 'SyncHub__SecretKeys', value: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretKeySecretName})' }
  { name: 'SyncHub__EncryptionKey', value: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${encryptionKeySecretName})' }
  { name: 'SyncHubSchedulerCron', value: schedulerCron }
  { name: 'SyncHubRunQueue', value: 'sync-runs' }
  { name: 'SyncHubWebhookQueue', value: 'webhooks' }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsights.properties.ConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.properties.clientId};Authorization=AAD' }
]

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: appSettings
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

// No publishing with user names and passwords: azd deploys with an Entra ID token.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

@description('Name of the function app.')
output name string = site.name

@description('Resource id of the function app (for the postprovision hook\'s Key Vault reference refresh).')
output id string = site.id

@description('Default host name of the function app (may be a unique regional host name, so read it, do not build it).')
output defaultHostName string = site.properties.defaultHostName
