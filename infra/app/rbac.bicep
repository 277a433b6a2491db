// Reusable role assignments: gives one principal a set of built-in roles on the storage account, the Application
// Insights component and the Key Vault. Roles are named (not GUIDs) at the call site; the ids live here.

@description('Built-in roles this module knows how to assign.')
type roleName =
  | 'Storage Blob Data Owner'
  | 'Storage Queue Data Contributor'
  | 'Storage Table Data Contributor'
  | 'Monitoring Metrics Publisher'
  | 'Key Vault Secrets User'
  | 'Key Vault Secrets Officer'

@description('Object (principal) id that receives the roles.')
param principalId string

@description('Kind of principal; ServicePrincipal for managed identities (avoids replication-delay failures).')
param principalType 'ServicePrincipal' | 'User' | 'Group'

@description('A value known at deployment start that identifies the principal; seeds the role assignment names so they stay the same on every deployment.')
param principalSeed string

@description('Name of the storage account the storage roles apply to.')
param storageAccountName string

@description('Roles on the storage account.')
param storageRoles roleName[]

@description('Name of the Application Insights component the monitoring roles apply to.')
param applicationInsightsName string

@description('Roles on the Application Insights component.')
param applicationInsightsRoles roleName[]

@description('Name of the Key Vault the Key Vault roles apply to.')
param keyVaultName string

@description('Roles on the Key Vault.')
param keyVaultRoles roleName[]

@description('Built-in role definition ids (identical in every tenant).')
var roleIds = {
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb'
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6'
  'Key Vault Secrets Officer': 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

resource storage 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' existing = {
  name: keyVaultName
}

resource storageAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in storageRoles: {
    name: guid(storage.id, principalSeed, roleIds[role])
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds[role])
      principalId: principalId
      principalType: principalType
      description: '${role} for SyncHub'
    }
  }
]

resource applicationInsightsAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in applicationInsightsRoles: {
    name: guid(applicationInsights.id, principalSeed, roleIds[role])
    scope: applicationInsights
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds[role])
      principalId: principalId
      principalType: principalType
      description: '${role} for SyncHub'
    }
  }
]

resource keyVaultAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in keyVaultRoles: {
    name: guid(vault.id, principalSeed, roleIds[role])
    scope: vault
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds[role])
      principalId: principalId
      principalType: principalType
      description: '${role} for SyncHub'
    }
  }
]
