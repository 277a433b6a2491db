# azd postprovision hook (PowerShell twin of postprovision.sh): creates SyncHub's two secrets in the environment's Key
# Vault when, and only when, they do not exist there, then makes the function app read them.
#   synchub-secret-key      a UUID v4 (SyncHub__SecretKeys; may later hold "new,old" during a rotation)
#   synchub-encryption-key  base64 of 32 random bytes (SyncHub__EncryptionKey; stored connection credentials are
#                           encrypted with it: this hook never replaces it)
# The vault is the only copy: no key is written to the azd environment (.azure/<env>/.env) or printed. An existing
# secret is never overwritten, whichever machine runs this and whatever its .azure folder holds. Rotation is a
# separate, explicit operation (infra/README.md). Then it refreshes the app's Key Vault references and restarts it once.
# Reads AZURE_RESOURCE_GROUP, AZURE_KEY_VAULT_NAME, SERVICE_API_NAME, SERVICE_API_RESOURCE_ID (process environment,
# then `azd env get-value`); SYNCHUB_HOOK_ATTEMPTS (default 12) and SYNCHUB_HOOK_RETRY_SECONDS (default 10).
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$attempts = if ($env:SYNCHUB_HOOK_ATTEMPTS) { [int]$env:SYNCHUB_HOOK_ATTEMPTS } else { 12 }
$delay = if ($env:SYNCHUB_HOOK_RETRY_SECONDS) { [int]$env:SYNCHUB_HOOK_RETRY_SECONDS } else { 10 }

function Get-AzdValue([string] $Name) {
    try {
        $value = (& azd env get-value $Name 2>$null | Out-String).Trim()
        if ($LASTEXITCODE -ne 0) { return '' }
        return $value
    } catch {
        return ''
    }
}

function Get-Setting([string] $Name) {
    $value = [Environment]::GetEnvironmentVariable($Name)
    if ($value) { return $value }
    return Get-AzdValue $Name
}

function Stop-Hook([string[]] $Lines) {
    foreach ($line in $Lines) { [Console]::Error.WriteLine($line) }
    exit 1
}

function New-UuidV4 {
    # Guid.NewGuid() is a random (version 4) UUID.
    return [guid]::NewGuid().ToString()
}

function New-EncryptionKey {
    return [Convert]::ToBase64String([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(32))
}

# Runs az with the given arguments; returns @{ Ok; Out; Err } and never throws.
function Invoke-Az([string[]] $Arguments) {
    $errFile = [System.IO.Path]::GetTempFileName()
    try {
        $out = (& az @Arguments 2>$errFile | Out-String).Trim()
        $ok = $LASTEXITCODE -eq 0
    } catch {
        $out = ''
        $ok = $false
    }
    $err = (Get-Content -Raw -ErrorAction SilentlyContinue $errFile)
    Remove-Item -Force -ErrorAction SilentlyContinue $errFile
    return @{ Ok = $ok; Out = $out; Err = if ($err) { $err.Trim() } else { '' } }
}

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    Stop-Hook @("postprovision: the Azure CLI (az) is needed to create SyncHub's secrets in Key Vault.",
        "Install it, sign in with 'az login' (the same account as azd) and run 'azd provision' again.")
}

$rg = Get-Setting 'AZURE_RESOURCE_GROUP'
$vault = Get-Setting 'AZURE_KEY_VAULT_NAME'
if (-not $vault -and $rg) {
    # The environment's vault, found through its resource group (one vault per SyncHub resource group).
    $found = Invoke-Az @('keyvault', 'list', '-g', $rg, '--query', '[0].name', '-o', 'tsv')
    if ($found.Ok) { $vault = $found.Out }
}
if (-not $vault) {
    Stop-Hook @("postprovision: no Key Vault found for this environment (AZURE_KEY_VAULT_NAME is empty and",
        "resource group '$(if ($rg) { $rg } else { '?' })' holds none). Run 'azd provision' first.")
}

# The names of the secrets in the vault. Retried: the deployer's role on the vault may still be propagating. A failure
# never counts as "absent".
$existing = @()
for ($i = 1; ; $i++) {
    $list = Invoke-Az @('keyvault', 'secret', 'list', '--vault-name', $vault, '--query', '[].name', '-o', 'tsv')
    if ($list.Ok) {
        $existing = @($list.Out -split "`r?`n" | Where-Object { $_ })
        break
    }
    if ($i -ge $attempts) {
        Stop-Hook @("postprovision: could not list the secrets of Key Vault $vault after $attempts attempts: $($list.Err)",
            "Sign in with 'az login' as the account azd deploys with (it gets Key Vault Secrets Officer on the vault; a new",
            "role assignment can take a few minutes) and run 'azd provision' again. No secret was created or changed.")
    }
    Write-Host "postprovision: cannot read Key Vault $vault yet (attempt $i of $attempts); retrying in ${delay}s."
    Start-Sleep -Seconds $delay
}

function Confirm-Secret([string] $SecretName, [scriptblock] $Generate, [string] $ContentType, [string] $LegacyName) {
    $legacy = Get-AzdValue $LegacyName
    if ($existing -ccontains $SecretName) {
        Write-Host "Key Vault $vault already holds $SecretName; keeping it."
    } else {
        if ($legacy) {
            # An environment set up by an earlier version whose vault lacks the secret: keep the value it already uses.
            $value = $legacy
            $how = "copied from $LegacyName of the azd environment"
        } else {
            $value = & $Generate
            $how = 'generated once; it is never overwritten'
        }
        # --file keeps the value off the command line (process list); the file is removed at once.
        $file = [System.IO.Path]::GetTempFileName()
        try {
            if (-not $IsWindows) { & chmod 600 $file }
            [System.IO.File]::WriteAllText($file, $value)
            $set = Invoke-Az @('keyvault', 'secret', 'set', '--vault-name', $vault, '--name', $SecretName, '--file', $file,
                '--encoding', 'utf-8', '--content-type', $ContentType, '--query', 'id', '-o', 'none')
        } finally {
            Remove-Item -Force -ErrorAction SilentlyContinue $file
        }
        if (-not $set.Ok) {
            Stop-Hook @("postprovision: could not create $SecretName in Key Vault ${vault}: $($set.Err)",
                "If the secret was deleted, recover it (az keyvault secret recover --vault-name $vault --name $SecretName) rather than",
                "creating a new one: purge protection keeps it for 90 days, and the encryption key in it is the only way to read",
                "the stored credentials.")
        }
        Write-Host "Key Vault ${vault}: $SecretName created ($how)."
    }
    if ($legacy) {
        # Earlier versions kept the key in .azure/<env>/.env as well; the vault is now its only home.
        & azd env set $LegacyName '' | Out-Null
        Write-Host "Removed $LegacyName from the azd environment (the key lives in Key Vault $vault only)."
    }
}

Confirm-Secret 'synchub-secret-key' { New-UuidV4 } 'text/plain; comma-separated UUID v4 API keys' 'SYNCHUB_SECRET_KEY'
Confirm-Secret 'synchub-encryption-key' { New-EncryptionKey } 'text/plain; base64 of 32 bytes' 'SYNCHUB_ENCRYPTION_KEY'

# Make the app read the references now: refresh them, then restart once.
$app = Get-Setting 'SERVICE_API_NAME'
$appId = Get-Setting 'SERVICE_API_RESOURCE_ID'
if ($appId) {
    $refresh = Invoke-Az @('rest', '--method', 'post', '--url', "$appId/config/configreferences/appsettings/refresh?api-version=2022-03-01", '-o', 'none')
    if ($refresh.Ok) {
        Write-Host "Refreshed the Key Vault references of $app."
    } else {
        [Console]::Error.WriteLine("postprovision: could not refresh the Key Vault references of $app; the restart below reloads them.")
    }
}
if ($app -and $rg) {
    $restart = Invoke-Az @('functionapp', 'restart', '-g', $rg, '-n', $app, '-o', 'none')
    if (-not $restart.Ok) {
        Stop-Hook @("postprovision: could not restart $app. Restart it yourself: az functionapp restart -g $rg -n $app")
    }
    Write-Host "Restarted $app so it reads its Key Vault references."
}
exit 0
