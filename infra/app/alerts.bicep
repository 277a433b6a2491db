// Alerts on SyncHub's Application Insights telemetry, sent to one action group (email when an address is given).
// Each alert, what it means and what to do: infra/README.md ("Alerts"). The custom metric names are a contract with
// the app's telemetry (infra/README.md, "Telemetry names"); tests/SyncHub.Infra.Tests checks the queries use them.

@description('Name of the action group.')
param actionGroupName string

@description('Prefix of the alert rule names.')
param alertNamePrefix string

@description('Azure region of the log alert rules (the action group is global).')
param location string

@description('Tags applied to the action group and the alert rules.')
param tags { *: string }

@description('Name of the Application Insights component the alerts query.')
param applicationInsightsName string

@description('Email address that receives the alerts; empty for none (the alerts still fire and show in the portal).')
param alertEmail string

@description('The "failed runs" alert fires when more than this many runs failed in 15 minutes.')
@minValue(0)
param failedRunsThreshold int

@description('Queue that receives messages the run queue gave up on (StorageNames.PoisonQueue).')
param poisonQueueName string

@description('Function name of the scheduler timer (the [Function] of SyncRunFunctions.Tick).')
param schedulerFunctionName string

@description('A log alert rule: name suffix, text, the query and how its result is compared.')
type logAlert = {
  @description('Suffix of the rule name.')
  name: string

  @description('Display name.')
  displayName: string

  @description('What it means and what to do (infra/README.md has the long form).')
  description: string

  @description('0 (critical) to 4 (verbose).')
  severity: int

  @description('How often the query runs (ISO 8601).')
  evaluationFrequency: string

  @description('The time span the query looks at (ISO 8601).')
  windowSize: string

  @description('KQL over the Application Insights tables.')
  query: string

  @description('Count (rows) or Total (sum of metricMeasureColumn).')
  timeAggregation: 'Count' | 'Total'

  @description('Column summed when timeAggregation is Total.')
  metricMeasureColumn: string?

  @description('Comparison of the aggregate with the threshold.')
  operator: 'GreaterThan' | 'LessThan'

  @description('Threshold of the comparison.')
  threshold: int
}

@description('The alert rules.')
var alerts logAlert[] = [
  {
    name: 'poison-messages'
    displayName: 'SyncHub: run messages moved to the poison queue'
    description: 'A run message failed every delivery attempt and was moved to ${poisonQueueName}: that run never finished. See infra/README.md, Alerts.'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    query: 'traces | where message contains "Moving message to queue \'${poisonQueueName}\'"'
    timeAggregation: 'Count'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'failed-runs'
    displayName: 'SyncHub: sync runs failing'
    description: 'More than ${failedRunsThreshold} sync runs failed in 15 minutes (custom metric synchub.runs.failed). See infra/README.md, Alerts.'
    severity: 2
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    query: 'customMetrics | where name == "synchub.runs.failed" | summarize failed = sum(valueSum)'
    timeAggregation: 'Total'
    metricMeasureColumn: 'failed'
    operator: 'GreaterThan'
    threshold: failedRunsThreshold
  }
  {
    name: 'http-5xx'
    displayName: 'SyncHub: HTTP 5xx responses'
    description: 'The API answered with a server error (5xx). See infra/README.md, Alerts.'
    severity: 2
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    query: 'requests | where toint(resultCode) >= 500'
    timeAggregation: 'Count'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'scheduler-stopped'
    displayName: 'SyncHub: scheduler not ticking'
    description: 'The scheduler timer (${schedulerFunctionName}) has not completed in 5 minutes: no scheduled sync is being enqueued. See infra/README.md, Alerts.'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    query: 'requests | where operation_Name == "${schedulerFunctionName}" and success == true'
    timeAggregation: 'Count'
    operator: 'LessThan'
    threshold: 1
  }
]

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'synchub'
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'operator'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
  }
}

resource rules 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = [
  for alert in alerts: {
    name: '${alertNamePrefix}${alert.name}'
    location: location
    tags: tags
    properties: {
      displayName: alert.displayName
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [applicationInsights.id]
      evaluationFrequency: alert.evaluationFrequency
      windowSize: alert.windowSize
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: alert.timeAggregation
            metricMeasureColumn: alert.?metricMeasureColumn
            operator: alert.operator
            threshold: alert.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: [actionGroup.id]
      }
    }
  }
]

@description('Name of the action group (add receivers to it in the portal or with az monitor action-group update).')
output actionGroupName string = actionGroup.name
