#!/usr/bin/env bash
# Runs every test: each .NET test project of SyncHub.Functions.sln on its own (unit, Azurite integration, LocalHost
# end-to-end), the runner's own tests (tests/scripts) and the Node client suite (the real @nangohq/node against a
# LocalHost it starts). Installs npm packages and starts Azurite if needed, and stops what it started.
# Every phase keeps its whole log in .synchub/test-logs/ and runs under a time limit: SYNCHUB_TEST_TIMEOUT for the
# whole run (default 2400 s), SYNCHUB_TEST_PHASE_TIMEOUT for one phase (default 1500 s). scripts/test-summary.sh
# judges the logs and exit statuses and prints the last line, "N passed, N failed, N skipped"; exit status 1 on any
# failure, including a suite that crashed, hung, printed no summary or ran no test.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
test_deadline=$((SECONDS + ${SYNCHUB_TEST_TIMEOUT:-2400}))
source scripts/test-lib.sh
logs=.synchub/test-logs
rm -rf "$logs"
mkdir -p "$logs"

started=()
cleanup() {
  # timeout passes the TERM on to the phase's whole process group.
  if [ -n "$phase_pid" ]; then kill "$phase_pid" 2>/dev/null; wait "$phase_pid" 2>/dev/null; phase_pid=""; fi
  for pid in "${started[@]+"${started[@]}"}"; do kill "$pid" 2>/dev/null || true; done
  started=()
}
summarise() { cleanup; bash scripts/test-summary.sh "${results[@]+"${results[@]}"}"; exit $?; }
# Interrupted: what ran so far, plus one failure for the interruption.
trap 'results+=(step interrupted "" 130); summarise' INT TERM
trap cleanup EXIT

# show LOG STATUS: after a phase, the lines worth reading, and the log's end when it failed (all of it stays in LOG).
show() {
  grep -E '^ *(Passed|Failed)! +- |^ *Failed |: error |Test Run Aborted|test run was aborted|hung:|^# (pass|fail|cancelled) |^not ok ' "$1" | head -200
  if [ "$2" != 0 ]; then echo "--- the last lines of $1 (exit status $2) ---"; tail -n 40 "$1"; echo "---"; fi
}

if [ ! -x node_modules/.bin/azurite ] || [ ! -d node_modules/@nangohq/node ] || [ ! -d node_modules/playwright-core ]; then
  run_step npm-ci "$logs/npm-ci.log" "$(phase_limit 600)" npm ci --no-audit --no-fund --loglevel=error || summarise
fi
# SYNCHUB_TEST_STORAGE (a storage connection string) points every test at another Azurite; otherwise the default
# one on 127.0.0.1:10000-10002 is used, started here (in memory) if nothing listens there yet.
if [ -z "${SYNCHUB_TEST_STORAGE:-}" ]; then
  azurite_pid="$(scripts/azurite.sh)"
  status=$?
  results+=(step azurite .synchub/azurite.log "$status")
  [ "$status" = 0 ] || summarise
  if [ -n "$azurite_pid" ]; then started+=("$azurite_pid"); fi
fi

echo "Building SyncHub.Functions.sln (Release)..."
run_step build "$logs/build.log" "$(phase_limit)" dotnet build SyncHub.Functions.sln -c Release -nologo -v q
build_status=$?
grep -E ": error |Build succeeded|Build FAILED" "$logs/build.log" | sort -u
if [ "$build_status" != 0 ]; then show "$logs/build.log" "$build_status"; summarise; fi

mapfile -t projects < <(test_projects SyncHub.Functions.sln)
if [ "${#projects[@]}" = 0 ]; then
  echo "No test project found in SyncHub.Functions.sln" >&2
  results+=(step "test projects" "" none)
fi
for project in "${projects[@]+"${projects[@]}"}"; do
  name=$(basename "$project" .csproj)
  echo "Testing $name..."
  run_dotnet_project "$name" "$project" "$logs"
  show "$logs/$name.log" $?
done

# The runner's own tests: the summariser on sample logs, and a real crashing test host (tests/runner-check).
echo "Testing the test runner (tests/scripts)..."
run_node_suite scripts "$logs/scripts.log" "$(phase_limit 300)" node --test --test-reporter=tap tests/scripts/*.test.mjs
show "$logs/scripts.log" $?

# The client suite must exist and end with its summary: a missing run.mjs is a failure, not a skip.
echo "Testing the Node client (tests/client)..."
if [ -f tests/client/run.mjs ]; then
  run_node_suite client "$logs/client.log" "$(phase_limit 900)" node tests/client/run.mjs
  show "$logs/client.log" $?
else
  echo "tests/client/run.mjs is missing" >&2
  results+=(tap client "$logs/client.log" missing)
fi

summarise
