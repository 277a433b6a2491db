# azd preprovision hook (PowerShell twin of preprovision.sh): tells main.bicep what kind of principal deploys, so the
# deployer's role assignments carry the right principalType (User for `azd auth login` on a workstation,
# ServicePrincipal for a CI login). AZURE_PRINCIPAL_TYPE is kept if already set (in the azd environment or the process
# environment); otherwise it is read from the Azure CLI's signed-in account and stored in the azd environment.
# SyncHub's keys are not handled here: infra/hooks/postprovision creates them in Key Vault once (infra/README.md).
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Get-AzdValue([string] $Name) {
    try {
        $value = (& azd env get-value $Name 2>$null | Out-String).Trim()
        if ($LASTEXITCODE -ne 0) { return '' }
        return $value
    } catch {
        return ''
    }
}

$current = $env:AZURE_PRINCIPAL_TYPE
if (-not $current) { $current = Get-AzdValue 'AZURE_PRINCIPAL_TYPE' }
if ($current -ceq 'User' -or $current -ceq 'ServicePrincipal') {
    Write-Host "AZURE_PRINCIPAL_TYPE is $current; keeping it."
    exit 0
}
if ($current) {
    [Console]::Error.WriteLine("AZURE_PRINCIPAL_TYPE is '$current'; it must be User or ServicePrincipal: azd env set AZURE_PRINCIPAL_TYPE User")
    exit 1
}

$kind = ''
if (Get-Command az -ErrorAction SilentlyContinue) {
    try {
        $kind = (& az account show --query user.type -o tsv 2>$null | Out-String).Trim()
        if ($LASTEXITCODE -ne 0) { $kind = '' }
    } catch {
        $kind = ''
    }
}
switch -CaseSensitive ($kind) {
    'servicePrincipal' { $type = 'ServicePrincipal' }
    'user' { $type = 'User' }
    default {
        Write-Host "Could not tell the signed-in account's kind (az account show); assuming User. For a CI login set AZURE_PRINCIPAL_TYPE=ServicePrincipal."
        exit 0
    }
}
& azd env set AZURE_PRINCIPAL_TYPE $type | Out-Null
if ($LASTEXITCODE -ne 0) { throw 'azd env set AZURE_PRINCIPAL_TYPE failed.' }
Write-Host "AZURE_PRINCIPAL_TYPE set to $type (from the signed-in account)."
exit 0
