// An Azure Monitor workbook over SyncHub's custom metrics: runs, failures and records per integration over time.
// The metric names and their dimensions are a contract with the app's telemetry (infra/README.md, "Telemetry names").

@description('Azure region of the workbook.')
param location string

@description('Tags applied to the workbook.')
param tags { *: string }

@description('Name shown in the portal.')
param displayName string

@description('Name of the Application Insights component the workbook queries.')
param applicationInsightsName string

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

@description('One time chart per query: title and KQL over customMetrics (integration is the customDimensions key).')
var charts = [
  {
    title: 'Runs started per integration'
    query: 'customMetrics | where name == "synchub.runs.started" | extend integration = tostring(customDimensions.integration) | summarize runs = sum(valueSum) by integration, bin(timestamp, {TimeRange:grain})'
  }
  {
    title: 'Runs succeeded and failed'
    query: 'customMetrics | where name in ("synchub.runs.succeeded", "synchub.runs.failed") | summarize runs = sum(valueSum) by name, bin(timestamp, {TimeRange:grain})'
  }
  {
    title: 'Failed runs per integration'
    query: 'customMetrics | where name == "synchub.runs.failed" | extend integration = tostring(customDimensions.integration) | summarize failed = sum(valueSum) by integration, bin(timestamp, {TimeRange:grain})'
  }
  {
    title: 'Records added, updated and deleted per integration'
    query: 'customMetrics | where name in ("synchub.records.added", "synchub.records.updated", "synchub.records.deleted") | extend integration = tostring(customDimensions.integration) | summarize records = sum(valueSum) by series = strcat(integration, " ", name), bin(timestamp, {TimeRange:grain})'
  }
]

@description('The workbook definition (Notebook/1.0): a time range parameter, then one chart per query.')
var content = {
  version: 'Notebook/1.0'
  items: concat(
    [
      {
        type: 9
        name: 'parameters'
        content: {
          version: 'KqlParameterItem/1.0'
          parameters: [
            {
              id: 'time-range'
              version: 'KqlParameterItem/1.0'
              name: 'TimeRange'
              label: 'Time range'
              type: 4
              isRequired: true
              value: {
                durationMs: 86400000
              }
              typeSettings: {
                selectableValues: [
                  { durationMs: 3600000 }
                  { durationMs: 14400000 }
                  { durationMs: 86400000 }
                  { durationMs: 604800000 }
                  { durationMs: 2592000000 }
                ]
              }
            }
          ]
        }
      }
    ],
    map(charts, chart => {
      type: 3
      name: chart.title
      content: {
        version: 'KqlItem/1.0'
        title: chart.title
        query: chart.query
        queryType: 0
        resourceType: 'microsoft.insights/components'
        visualization: 'timechart'
        timeContextFromParameter: 'TimeRange'
        size: 0
      }
    })
  )
  isLocked: false
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(applicationInsights.id, 'synchub-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: string(content)
  }
}

@description('Resource id of the workbook.')
output id string = workbook.id
