# azd preprovision hook (Windows twin of preprovision.sh): makes sure the azd environment holds SyncHub's two secrets,
# generating each one only if it is missing, so they are created once per environment and kept across deploys.
#   SYNCHUB_SECRET_KEY      a UUID v4 (SyncHub__SecretKeys; may later hold "new,old" during a rotation)
#   SYNCHUB_ENCRYPTION_KEY  base64 of 32 random bytes (SyncHub__EncryptionKey; never rotate it casually: stored
#                           connection credentials are encrypted with it)
# main.parameters.json passes both to main.bicep, which writes them to Key Vault. Values are never printed.
# If a value is missing from the azd environment but the environment was provisioned before (a new machine, a
# re-created .azure folder), it is read back from the Key Vault first: generating a new encryption key there would
# make every stored connection credential unreadable.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function New-UuidV4 {
    # Guid.NewGuid() is a random (version 4) UUID.
    return [guid]::NewGuid().ToString()
}

function New-EncryptionKey {
    $bytes = New-Object byte[] 32
    $rng = [System.Security.Cryptography.RandomNumberGenerator]::Create()
    try { $rng.GetBytes($bytes) } finally { $rng.Dispose() }
    return [Convert]::ToBase64String($bytes)
}

function Get-AzdValue([string] $Name) {
    try {
        $value = (& azd env get-value $Name 2>$null | Out-String).Trim()
        if ($LASTEXITCODE -ne 0) { return '' }
        return $value
    } catch {
        return ''
    }
}

function Get-KeyVaultSecret([string] $Vault, [string] $SecretName) {
    if (-not (Get-Command az -ErrorAction SilentlyContinue)) { return '' }
    try {
        $value = (& az keyvault secret show --vault-name $Vault --name $SecretName --query value -o tsv 2>$null | Out-String).Trim()
        if ($LASTEXITCODE -ne 0) { return '' }
        return $value
    } catch {
        return ''
    }
}

function Set-AzdValue([string] $Name, [string] $Value) {
    & azd env set $Name $Value | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "azd env set $Name failed." }
}

function Confirm-AzdValue([string] $Name, [string] $SecretName, [scriptblock] $Generate) {
    if (Get-AzdValue $Name) {
        Write-Host "$Name is already set in the azd environment; keeping it."
        return
    }
    $vault = Get-AzdValue 'AZURE_KEY_VAULT_NAME'
    if ($vault) {
        # Provisioned before: the Key Vault holds the value in use. Never replace it with a new one silently.
        $restored = Get-KeyVaultSecret $vault $SecretName
        if ($restored) {
            Set-AzdValue $Name $restored
            Write-Host "$Name restored from Key Vault $vault (secret $SecretName)."
            return
        }
        [Console]::Error.WriteLine("$Name is missing from the azd environment and could not be read from Key Vault $vault (secret $SecretName).")
        [Console]::Error.WriteLine("Sign in with 'az login' (you need Key Vault Secrets Officer on the vault) and run again, or set it")
        [Console]::Error.WriteLine("yourself with 'azd env set $Name <value>'. To start over with new secrets: azd env set AZURE_KEY_VAULT_NAME ''")
        exit 1
    }
    Set-AzdValue $Name (& $Generate)
    Write-Host "$Name generated and stored in the azd environment."
}

Confirm-AzdValue 'SYNCHUB_SECRET_KEY' 'synchub-secret-key' { New-UuidV4 }
Confirm-AzdValue 'SYNCHUB_ENCRYPTION_KEY' 'synchub-encryption-key' { New-EncryptionKey }
