// Key Vault (RBAC authorization) holding SyncHub's two secrets. The values come from the azd environment (generated
// once by infra/hooks/preprovision.*), so every `azd provision` writes the same values back instead of rotating them.

@description('Name of the Key Vault (3-24 characters, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the Key Vault.')
param location string

@description('Tags applied to the Key Vault.')
param tags { *: string }

@description('Name of the secret that holds SyncHub__SecretKeys.')
param secretKeySecretName string

@description('Name of the secret that holds SyncHub__EncryptionKey.')
param encryptionKeySecretName string

@description('SyncHub__SecretKeys: one or more comma-separated UUID v4 API keys.')
@secure()
param secretKey string

@description('SyncHub__EncryptionKey: base64 of 32 random bytes (AES-256-GCM key for credentials at rest).')
@secure()
param encryptionKey string

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

resource secretKeySecret 'Microsoft.KeyVault/vaults/secrets@2026-05-15' = {
  parent: vault
  name: secretKeySecretName
  properties: {
    value: secretKey
    contentType: 'text/plain; comma-separated UUID v4 API keys'
    attributes: {
      enabled: true
    }
  }
}

resource encryptionKeySecret 'Microsoft.KeyVault/vaults/secrets@2026-05-15' = {
  parent: vault
  name: encryptionKeySecretName
  properties: {
    value: encryptionKey
    contentType: 'text/plain; base64 of 32 bytes'
    attributes: {
      enabled: true
    }
  }
}

@description('Name of the Key Vault.')
output name string = vault.name
