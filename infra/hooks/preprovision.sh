#!/bin/sh
# azd preprovision hook: tells main.bicep what kind of principal deploys, so the deployer's role assignments carry
# the right principalType (User for `azd auth login` on a workstation, ServicePrincipal for a CI login).
# AZURE_PRINCIPAL_TYPE is kept if already set (in the azd environment or the process environment); otherwise it is
# read from the Azure CLI's signed-in account and stored in the azd environment. It is not a secret.
# SyncHub's keys are not handled here: infra/hooks/postprovision creates them in Key Vault once (infra/README.md).
set -eu

current=${AZURE_PRINCIPAL_TYPE:-}
if [ -z "$current" ]; then
  current=$(azd env get-value AZURE_PRINCIPAL_TYPE 2>/dev/null) || current=""
fi
case "$current" in
  User | ServicePrincipal)
    echo "AZURE_PRINCIPAL_TYPE is $current; keeping it."
    exit 0
    ;;
  "") ;;
  *)
    echo "AZURE_PRINCIPAL_TYPE is '$current'; it must be User or ServicePrincipal: azd env set AZURE_PRINCIPAL_TYPE User" >&2
    exit 1
    ;;
esac

kind=""
if command -v az > /dev/null 2>&1; then
  kind=$(az account show --query user.type -o tsv 2>/dev/null) || kind=""
fi
case "$kind" in
  servicePrincipal) type=ServicePrincipal ;;
  user) type=User ;;
  *)
    echo "Could not tell the signed-in account's kind (az account show); assuming User. For a CI login set" \
      "AZURE_PRINCIPAL_TYPE=ServicePrincipal."
    exit 0
    ;;
esac
azd env set AZURE_PRINCIPAL_TYPE "$type" > /dev/null
echo "AZURE_PRINCIPAL_TYPE set to $type (from the signed-in account)."
