// Parameters of the golden snapshot (main.test.snapshot.json beside this file): what `azd up` would pass for an
// environment "synchub-test" deployed by a CI service principal with an alert address. Compared by
// tests/SyncHub.Infra.Tests (SnapshotTests); regenerate with scripts/infra-snapshot.sh (infra/README.md, "Checks").
using '../main.bicep'

param environmentName = 'synchub-test'
param location = 'westeurope'
param principalId = '11111111-1111-4111-8111-111111111111'
param principalType = 'ServicePrincipal'
param alertEmail = 'ops@example.com'
