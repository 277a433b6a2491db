#!/usr/bin/env bash
# The golden deployment snapshot of infra/main.bicep: `bicep snapshot` (Bicep CLI 0.49) of
# infra/tests/main.test.bicepparam, for a fixed subscription, tenant, region and deployment name, in
# infra/tests/main.test.snapshot.json. It lists every resource the template would deploy, names and ids expanded, so a
# renamed resource or a changed role assignment shows up as a diff in review.
#   scripts/infra-snapshot.sh            regenerate the golden file (after an intended change to infra/; commit it)
#   scripts/infra-snapshot.sh validate   compare the template with the golden file (tests/SyncHub.Infra.Tests does)
# BICEP is the Bicep CLI to use; default: the one restored for tests/SyncHub.Infra.Tests (Directory.Packages.props).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=Overwrite
case "${1:-}" in
  "") ;;
  validate) mode=Validate ;;
  *) echo "usage: scripts/infra-snapshot.sh [validate]" >&2; exit 2 ;;
esac
if [ -z "${BICEP:-}" ]; then
  version=$(sed -n 's/.*"Azure.Bicep.CommandLine.linux-x64" Version="\([^"]*\)".*/\1/p' Directory.Packages.props)
  BICEP="${NUGET_PACKAGES:-$HOME/.nuget/packages}/azure.bicep.commandline.linux-x64/$version/tools/bicep"
  if [ ! -e "$BICEP" ]; then
    dotnet restore tests/SyncHub.Infra.Tests > /dev/null
  fi
  chmod +x "$BICEP"
fi
exec "$BICEP" snapshot infra/tests/main.test.bicepparam --mode "$mode" \
  --subscription-id 00000000-0000-4000-8000-000000000001 \
  --tenant-id 00000000-0000-4000-8000-000000000002 \
  --location westeurope \
  --deployment-name synchub-test
