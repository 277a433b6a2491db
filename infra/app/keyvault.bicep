// Key Vault (RBAC authorization) for SyncHub's two secrets. The template creates the vault only, never a secret: the
// postprovision hook (infra/hooks/postprovision.*) creates each secret in the vault once, when it does not exist, and
// never overwrites one, so no deployment from any machine can rotate a key by accident. Purge protection is on: a
// deleted secret (or vault) can be recovered for 90 days and cannot be purged before.

@description('Name of the Key Vault (3-24 characters, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the Key Vault.')
param location string

@description('Tags applied to the Key Vault.')
param tags { *: string }

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
    softDeleteRetentionInDays: 90
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

@description('Name of the Key Vault.')
output name string = vault.name
