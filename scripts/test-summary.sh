#!/usr/bin/env bash
# Sums up a test run from each phase's log and exit status, and prints the one closing line
# "N passed, N failed, N skipped"; exits 1 on any failure. It never trusts a log alone: a suite that did not run to
# its end (crashed, aborted, hung, no summary, no test at all) is one more failure, whatever its log counted.
# Usage: scripts/test-summary.sh KIND NAME LOG STATUS [KIND NAME LOG STATUS ...]
#   KIND   dotnet (VSTest output of one test project), tap (node:test output), step (no tests: npm ci, a build)
#   STATUS the phase's exit status; 124 = hung and stopped at its time limit; anything not a number = did not run.
set -uo pipefail

passed=0 failed=0 skipped=0 phases=0

# count KEY LOG: the sum of the numbers after "KEY:" on VSTest summary lines ("Passed!  - Failed: 0, Passed: 7, ...").
vstest_sum() {
  awk -v key="$1:" '/^ *(Passed|Failed)! +- +Failed:/ { gsub(/,/, ""); for (i = 1; i < NF; i++) if ($i == key) n += $(i + 1) }
    END { print n + 0 }' "$2"
}
# tap_count KEY LOG: the number on node:test's last top-level "# KEY N" line, or nothing when there is none.
tap_count() { sed -n "s/^# $1 \([0-9][0-9]*\)\$/\1/p" "$2" | tail -1; }

if [ $(($# % 4)) != 0 ]; then
  echo "test-summary: expected KIND NAME LOG STATUS groups, got $# arguments" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

while [ $# -ge 4 ]; do
  kind=$1 name=$2 log=$3 status=$4
  shift 4
  phases=$((phases + 1))
  p=0 f=0 s=0 problem=""
  if ! [[ "$status" =~ ^[0-9]+$ ]]; then
    problem="did not run"
  elif [ "$status" = 124 ]; then
    problem="hung: did not end within its time limit"
  elif [ ! -f "$log" ] && [ "$kind" != step ]; then
    problem="no log: it did not run"
  fi
  if [ -f "$log" ]; then
    case "$kind" in
      dotnet)
        summaries=$(grep -cE '^ *(Passed|Failed)! +- +Failed:' "$log")
        p=$(vstest_sum Passed "$log") f=$(vstest_sum Failed "$log") s=$(vstest_sum Skipped "$log")
        total=$(vstest_sum Total "$log")
        # A crashed test host still gets a "Passed!" line for the tests that ran before it, then this.
        if [ -z "$problem" ] && grep -qE 'Test Run Aborted|The active test run was aborted' "$log"; then
          problem="test run aborted (the test host crashed?)"
        elif [ -z "$problem" ] && { [ "$total" = 0 ] && grep -q 'No test is available' "$log"; }; then
          problem="ran no test"
        elif [ -z "$problem" ] && [ "$summaries" = 0 ]; then
          problem="no test summary: it did not run to its end"
        elif [ -z "$problem" ] && [ "$total" = 0 ]; then
          problem="ran no test"
        fi ;;
      tap)
        p=$(tap_count pass "$log") f=$(tap_count fail "$log") s=$(tap_count skipped "$log")
        todo=$(tap_count todo "$log") cancelled=$(tap_count cancelled "$log") tests=$(tap_count tests "$log")
        # node:test counts a test whose file died as cancelled, not failed: it did not pass either.
        f=$(( ${f:-0} + ${cancelled:-0} )) s=$(( ${s:-0} + ${todo:-0} ))
        if [ -z "$problem" ] && [ -z "$p" ]; then
          problem="no '# pass N' summary: it did not run to its end"
        elif [ -z "$problem" ] && [ "${tests:-$p}" = 0 ]; then
          problem="ran no test"
        fi
        p=${p:-0} ;;
      step) ;;
      *) problem="unknown kind '$kind'" ;;
    esac
  fi
  if [ -z "$problem" ] && [ "$status" != 0 ] && [ "$kind" = step ]; then
    problem="failed with exit status $status"
  elif [ -z "$problem" ] && [ "$status" != 0 ] && [ "$f" = 0 ]; then
    problem="exited with status $status but reported no failed test"
  fi
  # A broken phase is one failure more than the tests it reported as failed.
  if [ -n "$problem" ]; then f=$((f + 1)); fi
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  if [ "$kind" != step ]; then echo "$name: passed $p, failed $f, skipped $s"; fi
  if [ -n "$problem" ]; then
    echo "FAILED $name: $problem (log: $log)"
  elif [ "$f" != 0 ]; then
    echo "FAILED $name: $f failed test(s) (log: $log)"
  fi
done

if [ "$phases" = 0 ]; then
  echo "FAILED: nothing ran"
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
