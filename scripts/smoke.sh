#!/usr/bin/env bash
# Smoke test of a running SyncHub (a deployment, or LocalHost): every read endpoint answers as documented, and with
# --write a throwaway connection is imported, read, given metadata, shown in status and deleted again.
# Usage: scripts/smoke.sh <url> <secret key> [--write]
#   e.g. scripts/smoke.sh "$SERVICE_API_URI" "$(az keyvault secret show ... --query value -o tsv)" --write
# Prints one line per check and "smoke: N passed, N failed" last; exits 1 on any failure. Needs curl; never prints the key.
set -uo pipefail
if [ $# -lt 2 ]; then echo "usage: scripts/smoke.sh <url> <secret key> [--write]" >&2; exit 2; fi
url="${1%/}"
key="$2"
write="${3:-}"
passed=0
failed=0
body="$(mktemp)"
trap 'rm -f "$body"' EXIT

# check NAME EXPECTED_STATUS METHOD PATH [CURL ARGS...]: one request; passes when the status is the expected one.
check() {
  local name=$1 expected=$2 method=$3 path=$4 status
  shift 4
  status=$(curl -sS -o "$body" -w '%{http_code}' -X "$method" --max-time 30 -H "Authorization: Bearer ${auth:-$key}" "$@" "$url$path" 2>/dev/null) || status=000
  if [ "$status" = "$expected" ]; then
    passed=$((passed + 1)); echo "ok    $name ($status)"
  else
    failed=$((failed + 1)); echo "FAIL  $name: expected $expected, got $status: $(head -c 300 "$body")"
  fi
}
# contains TEXT: the last answer's body holds TEXT.
contains() {
  if grep -qF -- "$1" "$body"; then passed=$((passed + 1)); echo "ok    ... holds $1"
  else failed=$((failed + 1)); echo "FAIL  ... does not hold $1: $(head -c 300 "$body")"; fi
}

check "GET /openapi.json (public)" 200 GET /openapi.json
contains '"openapi"'
check "GET /integrations" 200 GET /integrations
contains '"data"'
integration=$(sed -n 's/.*"unique_key":"\([^"]*\)".*/\1/p' "$body" | head -1)
check "GET /environment-variables" 200 GET /environment-variables
check "GET /connections" 200 GET /connections
contains '"connections"'
auth=00000000-0000-4000-8000-000000000000 check "a wrong key is refused" 401 GET /integrations
check "an unknown query key is refused" 400 GET "/integrations?zz=1"
contains 'invalid_query_params'

if [ "$write" = "--write" ]; then
  if [ -z "$integration" ]; then
    failed=$((failed + 1)); echo "FAIL  --write: the deployment has no integration to import a connection for"
  else
    connection="smoke-$(date +%s)-$RANDOM"
    json=(-H "Content-Type: application/json")
    check "POST /connections (throwaway $connection)" 200 POST /connections "${json[@]}" \
      --data "{\"provider_config_key\":\"$integration\",\"connection_id\":\"$connection\",\"credentials\":{\"type\":\"API_KEY\",\"apiKey\":\"smoke-test-not-a-real-key\"},\"metadata\":{\"smoke\":true}}"
    check "POST /sync/pause (its syncs)" 200 POST /sync/pause "${json[@]}" \
      --data "{\"provider_config_key\":\"$integration\",\"connection_id\":\"$connection\",\"syncs\":[]}"
    check "GET /connections/{id}" 200 GET "/connections/$connection?provider_config_key=$integration"
    contains "\"connection_id\":\"$connection\""
    check "PATCH /connections/metadata" 200 PATCH /connections/metadata "${json[@]}" \
      --data "{\"provider_config_key\":\"$integration\",\"connection_id\":\"$connection\",\"metadata\":{\"checked\":1}}"
    check "GET /sync/status" 200 GET "/sync/status?provider_config_key=$integration&syncs=*&connection_id=$connection"
    contains '"syncs"'
    check "DELETE /connections/{id}" 200 DELETE "/connections/$connection?provider_config_key=$integration"
    check "the connection is gone" 404 GET "/connections/$connection?provider_config_key=$integration"
  fi
fi

echo "smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
