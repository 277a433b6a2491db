# Sourced by scripts/test.sh (and by tests/scripts/test-summary.test.mjs, so the real runner is what gets tested).
# Each run_* function runs one phase under a time limit, keeps its whole output in a log file of its own, and
# appends "KIND NAME LOG STATUS" to the array `results`, which scripts/test-summary.sh turns into the final line.
# Status 124 means the phase hung and was stopped at its limit.

results=()
# The phase running now, so an interrupted scripts/test.sh can stop it (see run_limited).
phase_pid=""
# The whole run's deadline (in bash's SECONDS) and one phase's longest time; scripts/test.sh may set both first.
test_deadline=${test_deadline:-$((SECONDS + ${SYNCHUB_TEST_TIMEOUT:-2400}))}
phase_limit_max=${SYNCHUB_TEST_PHASE_TIMEOUT:-1500}

# The time a phase may take: its own cap, but never past the whole run's deadline.
phase_limit() {
  local cap=${1:-$phase_limit_max} left=$((test_deadline - SECONDS))
  if [ "$left" -lt "$cap" ]; then echo "$left"; else echo "$cap"; fi
}

# run_limited NAME LOG LIMIT CMD...: CMD with its output in LOG and no stdin; returns its status, 124 when it hung.
# `timeout` signals the command's whole process group, so a hung test host or LocalHost child goes too.
run_limited() {
  local name=$1 log=$2 limit=$3 start=$SECONDS status
  shift 3
  mkdir -p "$(dirname "$log")"
  if [ "$limit" -le 0 ]; then
    echo "$name: not started: the run's time limit (SYNCHUB_TEST_TIMEOUT) is used up" | tee "$log" >&2
    return 124
  fi
  # In the background and waited for, so that a trapped Ctrl-C or TERM is handled at once, not after the phase.
  timeout -k 30 "$limit" "$@" >"$log" 2>&1 </dev/null &
  phase_pid=$!
  wait "$phase_pid"
  status=$?
  phase_pid=""
  # 137 after the limit: it ignored SIGTERM and was killed; either way it hung.
  if [ "$status" = 124 ] || { [ "$status" = 137 ] && [ $((SECONDS - start)) -ge "$limit" ]; }; then
    echo "$name hung: stopped after its time limit of $limit s (log: $log)" | tee -a "$log" >&2
    status=124
  fi
  return "$status"
}

# run_step NAME LOG LIMIT CMD...: a step that counts no tests (npm ci, a build) but fails the run if it fails.
run_step() {
  local name=$1 log=$2 status
  run_limited "$@"
  status=$?
  results+=(step "$name" "$log" "$status")
  return "$status"
}

# run_dotnet_project NAME CSPROJ LOGDIR [LIMIT]: `dotnet test` of one built project (Release, no build).
run_dotnet_project() {
  local name=$1 project=$2 log="$3/$1.log" limit=${4:-$(phase_limit)} status
  run_limited "$name" "$log" "$limit" \
    dotnet test "$project" -c Release --no-build -nologo --logger "console;verbosity=minimal"
  status=$?
  results+=(dotnet "$name" "$log" "$status")
  return "$status"
}

# run_node_suite NAME LOG LIMIT CMD...: a node:test suite whose output ends in "# pass N" / "# fail N".
run_node_suite() {
  local name=$1 log=$2 status
  run_limited "$@"
  status=$?
  results+=(tap "$name" "$log" "$status")
  return "$status"
}

# The test projects of a solution: its .csproj files that say IsTestProject=true or use Microsoft.NET.Test.Sdk
# (and do not say IsTestProject=false, as the benchmark harness does).
test_projects() {
  local sln=$1 dir project
  dir=$(dirname "$sln")
  sed -n 's/^Project("[^"]*") = "[^"]*", "\([^"]*\.csproj\)".*/\1/p' "$sln" | tr '\\' '/' | while read -r project; do
    [ "$dir" = . ] || project="$dir/$project"
    [ -f "$project" ] || continue
    grep -qi '<IsTestProject>false</IsTestProject>' "$project" && continue
    if grep -qiE '<IsTestProject>true</IsTestProject>|Include="Microsoft\.NET\.Test\.Sdk"' "$project"; then
      echo "$project"
    fi
  done
}
