#!/usr/bin/env bash
# Runs SyncHub locally: Azurite + LocalHost on http://127.0.0.1:7071 with the sample config (nango.yaml).
# Azurite keeps its data in .synchub/azurite-data across restarts (rm -rf it, with SyncHub stopped, to start afresh).
# On first use it writes functions/SyncHub.Functions/local.settings.json with a fresh secret key and encryption key.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
settings=functions/SyncHub.Functions/local.settings.json
if [ ! -f "$settings" ]; then
  key="$(cat /proc/sys/kernel/random/uuid)"
  enc="$(head -c 32 /dev/urandom | base64)"
  sed -e "s|<one or more comma-separated UUID v4s; scripts/run.sh generates one>|$key|" \
      -e "s|<base64 of 32 random bytes; scripts/run.sh generates one>|$enc|" local.settings.sample.json > "$settings"
  chmod 600 "$settings"
  echo "Wrote $settings with a new secret key."
fi
# Local data survives restarts: Azurite keeps it on disk under the git-ignored .synchub/.
data=.synchub/azurite-data
azurite_pid="$(scripts/azurite.sh "$data")"
if [ -n "$azurite_pid" ]; then
  echo "Azurite data: $root/$data (kept across restarts; to wipe it, stop SyncHub, then: rm -rf $data)"
else
  echo "Azurite was already listening on 127.0.0.1:10000-10002: using it, with whatever storage it was started with."
fi
cleanup() { if [ -n "$azurite_pid" ]; then kill "$azurite_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT INT TERM
dotnet build functions/SyncHub.LocalHost -c Release -v q -nologo >/dev/null
secret="$(sed -n 's/.*"SyncHub__SecretKeys": *"\([^",]*\).*/\1/p' "$settings")"
echo "SyncHub: http://127.0.0.1:7071   secret key: $secret"
echo "Dashboard: http://127.0.0.1:7071/dashboard   (sign in with the secret key)"
echo "Try: curl -H \"Authorization: Bearer $secret\" http://127.0.0.1:7071/environment-variables"
dotnet functions/SyncHub.LocalHost/bin/Release/net10.0/SyncHub.LocalHost.dll --settings "$root/$settings" "$@"
