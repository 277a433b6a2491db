#!/bin/sh
# azd preprovision hook: makes sure the azd environment holds SyncHub's two secrets, generating each one only if it
# is missing, so they are created once per environment and then kept across `azd provision` / `azd up`.
#   SYNCHUB_SECRET_KEY      a UUID v4 (SyncHub__SecretKeys; may later hold "new,old" during a rotation)
#   SYNCHUB_ENCRYPTION_KEY  base64 of 32 random bytes (SyncHub__EncryptionKey; never rotate it casually: stored
#                           connection credentials are encrypted with it)
# main.parameters.json passes both to main.bicep, which writes them to Key Vault. Values are never printed.
# If a value is missing from the azd environment but the environment was provisioned before (a new machine, a
# re-created .azure folder), it is read back from the Key Vault first: generating a new encryption key there would
# make every stored connection credential unreadable.
set -eu

random_hex() { # $1 = number of random bytes; prints them as lowercase hex
  od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

new_uuid_v4() {
  h=$(random_hex 16)
  variant=$(printf '%x' $(( (0x$(printf '%s' "$h" | cut -c17) & 3) | 8 )))
  printf '%s-%s-4%s-%s%s-%s\n' \
    "$(printf '%s' "$h" | cut -c1-8)" "$(printf '%s' "$h" | cut -c9-12)" "$(printf '%s' "$h" | cut -c14-16)" \
    "$variant" "$(printf '%s' "$h" | cut -c18-20)" "$(printf '%s' "$h" | cut -c21-32)"
}

new_encryption_key() {
  dd if=/dev/urandom bs=32 count=1 2>/dev/null | base64 | tr -d '\n'
  echo
}

ensure() { # $1 = azd environment variable, $2 = Key Vault secret, $3 = generator function
  current=$(azd env get-value "$1" 2>/dev/null) || current=""
  if [ -n "$current" ]; then
    echo "$1 is already set in the azd environment; keeping it."
    return 0
  fi
  vault=$(azd env get-value AZURE_KEY_VAULT_NAME 2>/dev/null) || vault=""
  if [ -n "$vault" ]; then
    # Provisioned before: the Key Vault holds the value in use. Never replace it with a new one silently.
    if command -v az > /dev/null 2>&1 &&
      value=$(az keyvault secret show --vault-name "$vault" --name "$2" --query value -o tsv 2>/dev/null) &&
      [ -n "$value" ]; then
      azd env set "$1" "$value" > /dev/null
      echo "$1 restored from Key Vault $vault (secret $2)."
      return 0
    fi
    echo "$1 is missing from the azd environment and could not be read from Key Vault $vault (secret $2)." >&2
    echo "Sign in with 'az login' (you need Key Vault Secrets Officer on the vault) and run again, or set it" >&2
    echo "yourself with 'azd env set $1 <value>'. To start over with new secrets: azd env set AZURE_KEY_VAULT_NAME ''" >&2
    exit 1
  fi
  value=$("$3")
  azd env set "$1" "$value" > /dev/null
  echo "$1 generated and stored in the azd environment."
}

ensure SYNCHUB_SECRET_KEY synchub-secret-key new_uuid_v4
ensure SYNCHUB_ENCRYPTION_KEY synchub-encryption-key new_encryption_key
