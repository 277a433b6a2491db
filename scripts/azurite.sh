#!/usr/bin/env bash
# Starts Azurite (from the repo's package.json/lock, installed on first use) on 127.0.0.1 if nothing listens yet.
# Prints the PID it started, or nothing when Azurite was already running. Usage: scripts/azurite.sh [data-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ ! -x node_modules/.bin/azurite ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
listening() { (exec 3<>/dev/tcp/127.0.0.1/10002) 2>/dev/null; }
if listening; then
  exit 0
fi
log="${AZURITE_LOG:-$root/.synchub/azurite.log}"
mkdir -p "$(dirname "$log")"
node_modules/.bin/azurite --silent --disableTelemetry --inMemoryPersistence --skipApiVersionCheck \
  --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  if listening; then echo "$pid"; exit 0; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "Azurite failed to start; see $log" >&2; exit 1; fi
  sleep 0.1
done
echo "Azurite did not start listening within 10 s; see $log" >&2
kill "$pid" 2>/dev/null || true
exit 1
