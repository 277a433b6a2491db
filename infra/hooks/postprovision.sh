#!/bin/sh
# azd postprovision hook: creates SyncHub's two secrets in the environment's Key Vault when, and only when, they do
# not exist there, then makes the function app read them.
#   synchub-secret-key      a UUID v4 (SyncHub__SecretKeys; may later hold "new,old" during a rotation)
#   synchub-encryption-key  base64 of 32 random bytes (SyncHub__EncryptionKey; stored connection credentials are
#                           encrypted with it: this hook never replaces it)
# The vault is the only copy: no key is written to the azd environment (.azure/<env>/.env) or printed. An existing
# secret is never overwritten, whichever machine runs this and whatever its .azure folder holds, so a new machine or a
# CI runner keeps the keys. Rotation is a separate, explicit operation (infra/README.md).
# Then it refreshes the app's Key Vault references and restarts it once: on a first deployment the app starts before
# the secrets exist and before its identity's role on the vault has propagated, and would keep the unresolved
# @Microsoft.KeyVault(...) value until the next refresh.
# Reads (azd passes them to hooks): AZURE_RESOURCE_GROUP, AZURE_KEY_VAULT_NAME, SERVICE_API_NAME,
# SERVICE_API_RESOURCE_ID; each falls back to `azd env get-value`. SYNCHUB_HOOK_ATTEMPTS (default 12) and
# SYNCHUB_HOOK_RETRY_SECONDS (default 10) bound the wait for the deployer's own role on the vault.
set -eu

attempts=${SYNCHUB_HOOK_ATTEMPTS:-12}
delay=${SYNCHUB_HOOK_RETRY_SECONDS:-10}

value_of() { # $1 = variable name: the process environment first, then the azd environment
  eval "v=\${$1:-}"
  if [ -z "$v" ]; then
    v=$(azd env get-value "$1" 2>/dev/null) || v=""
  fi
  printf '%s' "$v"
}

fail() {
  for line in "$@"; do echo "$line" >&2; done
  exit 1
}

random_hex() { # $1 = number of random bytes; prints them as lowercase hex
  od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

new_uuid_v4() {
  h=$(random_hex 16)
  variant=$(printf '%x' $(( (0x$(printf '%s' "$h" | cut -c17) & 3) | 8 )))
  printf '%s-%s-4%s-%s%s-%s' \
    "$(printf '%s' "$h" | cut -c1-8)" "$(printf '%s' "$h" | cut -c9-12)" "$(printf '%s' "$h" | cut -c14-16)" \
    "$variant" "$(printf '%s' "$h" | cut -c18-20)" "$(printf '%s' "$h" | cut -c21-32)"
}

new_encryption_key() {
  dd if=/dev/urandom bs=32 count=1 2>/dev/null | base64 | tr -d '\n'
}

command -v az > /dev/null 2>&1 || fail "postprovision: the Azure CLI (az) is needed to create SyncHub's secrets in Key Vault." \
  "Install it, sign in with 'az login' (the same account as azd) and run 'azd provision' again."

rg=$(value_of AZURE_RESOURCE_GROUP)
vault=$(value_of AZURE_KEY_VAULT_NAME)
if [ -z "$vault" ] && [ -n "$rg" ]; then
  # The environment's vault, found through its resource group (one vault per SyncHub resource group).
  vault=$(az keyvault list -g "$rg" --query "[0].name" -o tsv 2>/dev/null) || vault=""
fi
[ -n "$vault" ] || fail "postprovision: no Key Vault found for this environment (AZURE_KEY_VAULT_NAME is empty and" \
  "resource group '${rg:-?}' holds none). Run 'azd provision' first."

# The names of the secrets in the vault. Retried: the deployer's Key Vault Secrets Officer role was assigned by this
# very deployment and can take a few minutes to propagate. A failure never counts as "absent".
existing=""
i=1
while :; do
  if existing=$(az keyvault secret list --vault-name "$vault" --query "[].name" -o tsv 2>/tmp/synchub-az-err.$$); then
    rm -f /tmp/synchub-az-err.$$
    break
  fi
  if [ "$i" -ge "$attempts" ]; then
    err=$(cat /tmp/synchub-az-err.$$ 2>/dev/null || true)
    rm -f /tmp/synchub-az-err.$$
    fail "postprovision: could not list the secrets of Key Vault $vault after $attempts attempts: $err" \
      "Sign in with 'az login' as the account azd deploys with (it gets Key Vault Secrets Officer on the vault; a new" \
      "role assignment can take a few minutes) and run 'azd provision' again. No secret was created or changed."
  fi
  echo "postprovision: cannot read Key Vault $vault yet (attempt $i of $attempts); retrying in ${delay}s."
  sleep "$delay"
  i=$((i + 1))
done

ensure_secret() { # $1 = secret name, $2 = generator, $3 = content type, $4 = azd variable of earlier versions
  legacy=$(azd env get-value "$4" 2>/dev/null) || legacy=""
  if printf '%s\n' "$existing" | grep -qx "$1"; then
    echo "Key Vault $vault already holds $1; keeping it."
  else
    create_secret "$@"
  fi
  if [ -n "$legacy" ]; then
    # Earlier versions kept the key in .azure/<env>/.env as well; the vault is now its only home.
    azd env set "$4" "" > /dev/null
    echo "Removed $4 from the azd environment (the key lives in Key Vault $vault only)."
  fi
}

create_secret() {
  old_umask=$(umask)
  umask 077
  file=$(mktemp)
  umask "$old_umask"
  if [ -n "$legacy" ]; then
    # An environment set up by an earlier version whose vault lacks the secret: keep the value it already uses.
    printf '%s' "$legacy" > "$file"
    how="copied from $4 of the azd environment"
  else
    "$2" > "$file"
    how="generated once; it is never overwritten"
  fi
  # --file keeps the value off the command line (process list); the file is private and removed at once.
  if ! az keyvault secret set --vault-name "$vault" --name "$1" --file "$file" --encoding utf-8 \
    --content-type "$3" --query id -o none > /dev/null 2>/tmp/synchub-az-err.$$; then
    rm -f "$file"
    err=$(cat /tmp/synchub-az-err.$$ 2>/dev/null || true)
    rm -f /tmp/synchub-az-err.$$
    fail "postprovision: could not create $1 in Key Vault $vault: $err" \
      "If the secret was deleted, recover it (az keyvault secret recover --vault-name $vault --name $1) rather than" \
      "creating a new one: purge protection keeps it for 90 days, and the encryption key in it is the only way to read" \
      "the stored credentials."
  fi
  rm -f "$file" /tmp/synchub-az-err.$$
  echo "Key Vault $vault: $1 created ($how)."
}

ensure_secret synchub-secret-key new_uuid_v4 "text/plain; comma-separated UUID v4 API keys" SYNCHUB_SECRET_KEY
ensure_secret synchub-encryption-key new_encryption_key "text/plain; base64 of 32 bytes" SYNCHUB_ENCRYPTION_KEY

# Make the app read the references now: refresh them, then restart once.
app=$(value_of SERVICE_API_NAME)
app_id=$(value_of SERVICE_API_RESOURCE_ID)
if [ -n "$app_id" ]; then
  if az rest --method post --url "${app_id}/config/configreferences/appsettings/refresh?api-version=2022-03-01" -o none > /dev/null 2>&1; then
    echo "Refreshed the Key Vault references of $app."
  else
    echo "postprovision: could not refresh the Key Vault references of $app; the restart below reloads them." >&2
  fi
fi
if [ -n "$app" ] && [ -n "$rg" ]; then
  az functionapp restart -g "$rg" -n "$app" -o none > /dev/null ||
    fail "postprovision: could not restart $app. Restart it yourself: az functionapp restart -g $rg -n $app"
  echo "Restarted $app so it reads its Key Vault references."
fi
