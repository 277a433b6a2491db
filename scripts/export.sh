#!/usr/bin/env bash
# Exports SyncHub tables of a deployed environment to JSON lines (one entity per line, PartitionKey and RowKey
# included), with your Entra ID sign-in (`az login`; Storage Table Data Reader or Contributor on the account) and no
# account key. See infra/README.md, "Back up and restore".
#   scripts/export.sh <resource group> <output dir> [table ...]   default tables: connections recordsets schedules
# Writes <output dir>/<table>.jsonl. connections holds credentials encrypted with the environment's encryption key.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: scripts/export.sh <resource group> <output dir> [table ...]" >&2
  exit 2
fi
rg=$1 out=$2
shift 2
tables=("$@")
[ ${#tables[@]} -gt 0 ] || tables=(connections recordsets schedules)
account=$(az storage account list -g "$rg" --query "[0].name" -o tsv)
[ -n "$account" ] || { echo "no storage account in resource group $rg" >&2; exit 1; }
mkdir -p "$out"
for table in "${tables[@]}"; do
  file="$out/$table.jsonl"
  : > "$file"
  marker=()
  count=0
  while :; do
    page=$(az storage entity query --auth-mode login --account-name "$account" --table-name "$table" \
      --num-results 1000 "${marker[@]}" -o json)
    printf '%s' "$page" | jq -c '.items[]' >> "$file"
    count=$((count + $(printf '%s' "$page" | jq '.items | length')))
    next_pk=$(printf '%s' "$page" | jq -r '.nextMarker.nextpartitionkey // empty')
    next_rk=$(printf '%s' "$page" | jq -r '.nextMarker.nextrowkey // empty')
    [ -n "$next_pk" ] || break
    marker=(--marker "nextpartitionkey=$next_pk" "nextrowkey=$next_rk")
  done
  echo "$table: $count entities -> $file"
done
