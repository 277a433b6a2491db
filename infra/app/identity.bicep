// The one user-assigned managed identity SyncHub uses for everything: storage (host and app data), Application
// Insights ingestion, Key Vault references and the deployment package container.

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region of the identity.')
param location string

@description('Tags applied to the identity.')
param tags { *: string }

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

@description('Object (principal) id of the identity, for role assignments.')
output principalId string = identity.properties.principalId

@description('Client (application) id of the identity, for the app settings that select it.')
output clientId string = identity.properties.clientId
