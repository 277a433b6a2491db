#!/usr/bin/env bash
# Starts Azurite (from the repo's package.json/lock, installed on first use) on 127.0.0.1 if nothing listens yet.
# Prints the PID it started, or nothing when Azurite was already running. Usage: scripts/azurite.sh [data-dir]
# With a data dir its data is kept there across restarts (--location); without one it lives in memory.
# AZURITE_START_TIMEOUT: seconds to wait for it to listen (default 60: on a loaded machine it took ~15 s).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data_dir="${1:-}"
# Resolve a relative data dir against the caller's directory, before the cd below.
if [ -n "$data_dir" ]; then mkdir -p "$data_dir" && data_dir="$(cd "$data_dir" && pwd)"; fi
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
if [ -n "$data_dir" ]; then storage=(--location "$data_dir"); else storage=(--inMemoryPersistence); fi
node_modules/.bin/azurite --silent --disableTelemetry "${storage[@]}" --skipApiVersionCheck \
  --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 >"$log" 2>&1 &
pid=$!
limit="${AZURITE_START_TIMEOUT:-60}"
echo "waiting for Azurite to listen on 127.0.0.1:10002 (table), up to $limit s..." >&2
deadline=$((SECONDS + limit))
while [ "$SECONDS" -lt "$deadline" ]; do
  if listening; then echo "$pid"; exit 0; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "Azurite failed to start; see $log" >&2; exit 1; fi
  sleep 0.2
done
echo "Azurite did not start listening on 127.0.0.1:10002 within $limit s; see $log" >&2
kill "$pid" 2>/dev/null || true
exit 1
