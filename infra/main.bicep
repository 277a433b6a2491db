// SyncHub on Azure, provisioned by `azd up` (see infra/README.md): a resource group holding a Flex Consumption
// function app, one user-assigned managed identity, storage without shared keys, Application Insights without local
// auth, a Key Vault for the secret key and the encryption key (created there once by infra/hooks/postprovision, never
// by this template), alerts and a workbook. No key or connection string with a key anywhere.
targetScope = 'subscription'

@description('Name of the azd environment; names the resource group and seeds the unique resource names.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Azure region of every resource: one that offers Flex Consumption (az functionapp list-flexconsumption-locations; the list of the Azure-Samples Flex Consumption quickstart).')
@minLength(1)
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the deploying principal (azd sets AZURE_PRINCIPAL_ID): a user, or the service principal of a CI login; gets data access to storage and the secrets. Empty to skip.')
param principalId string = ''

@description('Kind of principal principalId is: User for `azd auth login`, ServicePrincipal for a CI login (AZURE_PRINCIPAL_TYPE, set by infra/hooks/preprovision from the signed-in account).')
param principalType 'User' | 'ServicePrincipal' = 'User'

@description('Memory per instance in MB (infra/README.md, "What it costs at rest").')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Email address that receives the alerts; empty for none (the alerts still fire and show in the portal).')
param alertEmail string = ''

@description('The "failed runs" alert fires when more than this many runs failed in 15 minutes.')
@minValue(0)
param failedRunsThreshold int = 3

@description('Resource name prefixes (Cloud Adoption Framework abbreviations).')
var abbrs = loadJsonContent('abbreviations.json')

@description('Short token that keeps globally unique names unique per subscription, environment and region.')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))

@description('Tags on every resource; azd finds the environment\'s resources by azd-env-name.')
var tags = { 'azd-env-name': environmentName }

@description('Name of the function app.')
var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'

@description('Name of the user-assigned managed identity.')
var identityName = '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'

@description('Name of the storage account.')
var storageAccountName = '${abbrs.storageStorageAccounts}${resourceToken}'

@description('Name of the Application Insights component.')
var applicationInsightsName = '${abbrs.insightsComponents}${resourceToken}'

@description('Name of the Key Vault.')
var keyVaultName = '${abbrs.keyVaultVaults}${resourceToken}'

@description('Blob container for the Flex Consumption deployment package.')
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'

@description('Poison queue of the run queue sync-runs (the Functions host appends -poison); the poison alert watches it.')
var poisonQueueName = 'sync-runs-poison'

@description('Key Vault secret holding SyncHub__SecretKeys.')
var secretKeySecretName = 'synchub-secret-key'

@description('Key Vault secret holding SyncHub__EncryptionKey.')
var encryptionKeySecretName = 'synchub-encryption-key'

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  scope: rg
  params: {
    name: identityName
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  scope: rg
  params: {
    name: storageAccountName
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    // SyncHub's fixed queues and tables: exactly StorageNames.Queues and StorageNames.FixedTables in
    // functions/SyncHub.Core/Storage/StorageNames.cs (tests/SyncHub.Infra.Tests keeps the two in step).
    queueNames: ['sync-runs', 'sync-runs-poison', 'webhooks', 'webhooks-poison']
    tableNames: ['connections', 'recordsets', 'schedules', 'dueruns', 'runseen', 'webhooks', 'runhistory']
  }
}

module monitoring 'app/monitoring.bicep' = {
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: applicationInsightsName
    location: location
    tags: tags
  }
}

module keyVault 'app/keyvault.bicep' = {
  scope: rg
  params: {
    name: keyVaultName
    location: location
    tags: tags
  }
}

// The app's identity: host and SyncHub storage, telemetry ingestion, and reading the two secrets.
module identityRoles 'app/rbac.bicep' = {
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    principalSeed: identityName
    storageAccountName: storageAccountName
    storageRoles: ['Storage Blob Data Owner', 'Storage Queue Data Contributor', 'Storage Table Data Contributor']
    applicationInsightsName: applicationInsightsName
    applicationInsightsRoles: ['Monitoring Metrics Publisher']
    keyVaultName: keyVaultName
    keyVaultRoles: ['Key Vault Secrets User']
  }
  dependsOn: [
    storage
    monitoring
    keyVault
  ]
}

// The deploying user: the same storage data roles (to inspect tables and queues) and Key Vault Secrets Officer (to
// read the secret key and rotate it).
module userRoles 'app/rbac.bicep' = if (!empty(principalId)) {
  scope: rg
  params: {
    principalId: principalId
    principalType: principalType
    principalSeed: principalId
    storageAccountName: storageAccountName
    storageRoles: ['Storage Blob Data Owner', 'Storage Queue Data Contributor', 'Storage Table Data Contributor']
    applicationInsightsName: applicationInsightsName
    applicationInsightsRoles: []
    keyVaultName: keyVaultName
    keyVaultRoles: ['Key Vault Secrets Officer']
  }
  dependsOn: [
    storage
    monitoring
    keyVault
  ]
}

module api 'app/api.bicep' = {
  scope: rg
  params: {
    name: functionAppName
    location: location
    tags: tags
    planName: '${abbrs.webServerFarms}${resourceToken}'
    identityName: identityName
    storageAccountName: storageAccountName
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: applicationInsightsName
    keyVaultName: keyVaultName
    secretKeySecretName: secretKeySecretName
    encryptionKeySecretName: encryptionKeySecretName
    instanceMemoryMB: instanceMemoryMB
  }
  // The app starts as soon as it exists: its identity must already reach storage, Key Vault and telemetry.
  dependsOn: [
    identityRoles
  ]
}

module alerts 'app/alerts.bicep' = {
  scope: rg
  params: {
    actionGroupName: '${abbrs.insightsActionGroups}${resourceToken}'
    alertNamePrefix: '${abbrs.insightsScheduledQueryRules}${resourceToken}-'
    location: location
    tags: tags
    applicationInsightsName: applicationInsightsName
    alertEmail: alertEmail
    failedRunsThreshold: failedRunsThreshold
    poisonQueueName: poisonQueueName
    schedulerFunctionName: 'EnqueueDueSyncs'
  }
  dependsOn: [
    monitoring
  ]
}

module workbook 'app/workbook.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    displayName: 'SyncHub runs and records (${environmentName})'
    applicationInsightsName: applicationInsightsName
  }
  dependsOn: [
    monitoring
  ]
}

@description('Region the environment is deployed to.')
output AZURE_LOCATION string = location

@description('Tenant of the subscription.')
output AZURE_TENANT_ID string = tenant().tenantId

@description('Resource group holding every SyncHub resource.')
output AZURE_RESOURCE_GROUP string = rg.name

@description('Name of the function app (azd deploys the api service to it).')
output SERVICE_API_NAME string = api.outputs.name

@description('Resource id of the function app (infra/hooks/postprovision refreshes its Key Vault references).')
output SERVICE_API_RESOURCE_ID string = api.outputs.id

@description('HTTPS base URL of SyncHub.')
output SERVICE_API_URI string = 'https://${api.outputs.defaultHostName}'

@description('Name of the Key Vault holding the secret key and the encryption key (infra/hooks/postprovision creates them there once).')
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name

@description('Command that prints the secret key (needs Key Vault Secrets Officer or User on the vault).')
output SYNCHUB_SECRET_KEY_COMMAND string = 'az keyvault secret show --vault-name ${keyVaultName} --name ${secretKeySecretName} --query value -o tsv'
