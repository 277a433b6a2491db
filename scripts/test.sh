#!/usr/bin/env bash
# Runs every test: the .NET suites (unit, Azurite integration, LocalHost end-to-end) and the Node client suite
# (the real @nangohq/node against a LocalHost it starts). Installs npm packages and starts Azurite if needed, and
# stops what it started. Ends with one line: "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p .synchub
log=.synchub/test.log
: > "$log"
started=()
cleanup() { for pid in "${started[@]+"${started[@]}"}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

[ -x node_modules/.bin/azurite ] && [ -d node_modules/@nangohq/node ] || npm ci --no-audit --no-fund --loglevel=error || { echo "0 passed, 1 failed"; exit 1; }
# SYNCHUB_TEST_STORAGE (a storage connection string) points every test at another Azurite; otherwise the default
# one on 127.0.0.1:10000-10002 is used, started here if nothing listens there yet.
if [ -z "${SYNCHUB_TEST_STORAGE:-}" ]; then
  azurite_pid="$(scripts/azurite.sh)" || { echo "0 passed, 1 failed"; exit 1; }
  if [ -n "$azurite_pid" ]; then started+=("$azurite_pid"); fi
fi

dotnet build SyncHub.Functions.sln -c Release -nologo -v q > .synchub/build.log 2>&1
build_status=$?
cat .synchub/build.log >> "$log"
grep -E ": error |Build succeeded|Build FAILED" .synchub/build.log | sort -u
if [ "$build_status" != 0 ]; then echo "0 passed, 1 failed"; exit 1; fi

dotnet test SyncHub.Functions.sln -c Release --no-build -nologo --logger "console;verbosity=minimal" 2>&1 | tee -a "$log"

node_passed=0; node_failed=0
if compgen -G "tests/client/*.test.mjs" > /dev/null; then
  node tests/client/run.mjs 2>&1 | tee .synchub/client.log | tee -a "$log"
  client_status=${PIPESTATUS[0]}
  node_passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' .synchub/client.log | tail -1)
  node_failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' .synchub/client.log | tail -1)
  node_failed=${node_failed:-0}
  # No summary (LocalHost did not start, the runner crashed) or a failing exit with no failed test: one failure.
  if [ -z "$node_passed" ]; then node_passed=0; node_failed=$((node_failed + 1));
  elif [ "$client_status" != 0 ] && [ "$node_failed" = 0 ]; then node_failed=1; fi
fi

awk -v np="$node_passed" -v nf="${node_failed:-0}" '
  /^(Passed|Failed)! +- Failed:/ { gsub(/,/,""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } seen = 1 }
  END { if (!seen) f += 1; printf "%d passed, %d failed, %d skipped\n", p + np, f + nf, s; exit (f + nf > 0) }' "$log"
