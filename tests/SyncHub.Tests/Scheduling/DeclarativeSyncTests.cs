using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using SyncHub.Core.Model;
using SyncHub.Core.Records;
using SyncHub.Core.Scheduling;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Scheduling;

/// <summary>
/// Declarative syncs (nango.yaml alone) through the real engine, against fakes of GitHub, HubSpot, Jira and Stripe:
/// full and incremental runs, continuation over a tiny run budget, a takeover of a crashed run, track_deletes, and
/// the declarative GitHub labels sync against the coded one.
/// </summary>
public sealed class DeclarativeSyncTests
{
    /// <summary>The four declarative syncs, as in the sample nango.yaml, with the fakes' base URLs.</summary>
    public static string Yaml(Uri github, Uri saas, string extraHubspot = "") => $$"""
          github-declarative:
            provider: github
            base_url: {{github}}
            syncs:
              labels-declarative:
                runs: every hour
                output: GithubLabel
                sync_type: full
                track_deletes: true
                request:
                  path: /repos/${metadata.repo}/labels
                  query: { per_page: 100 }
                  headers: { Accept: application/vnd.github+json }
                paginate: { type: link }
                records: $
                id: id
                fields:
                  id: id
                  name: name
                  color: color
                  description: description
          hubspot:
            provider: hubspot
            base_url: {{saas}}
            syncs:
              contacts:
                runs: every hour
                output: HubspotContact
                sync_type: incremental
                request:
                  path: /crm/v3/objects/contacts
                  query: { properties: "email,firstname,lastname,lastmodifieddate" }
                paginate: { type: cursor, cursor_path: $.paging.next.after, cursor_param: after, limit_param: limit, limit: 100 }
                records: $.results
                id: id
                fields:
                  id: id
                  email: properties.email
                  first_name: properties.firstname
                  last_name: properties.lastname
                  last_modified: properties.lastmodifieddate
                incremental:
                  query_param: updatedAfter
                  format: unix_ms
        {{extraHubspot}}
          jira:
            provider: jira
            base_url: {{saas}}
            syncs:
              issues:
                runs: every hour
                output: JiraIssue
                sync_type: incremental
                request:
                  path: /rest/api/3/search
                  query:
                    jql: project = ${metadata.project} ORDER BY updated ASC
                    fields: summary,status,updated
                paginate: { type: offset, offset_param: startAt, limit_param: maxResults, limit: 50, total_path: $.total }
                records: $.issues
                id: id
                fields: { id: id, key: key, summary: fields.summary, status: fields.status.name, updated: fields.updated }
                incremental:
                  query_param: jql
                  value: 'project = ${metadata.project} AND updated >= "${since}" ORDER BY updated ASC'
                  format: yyyy-MM-dd HH:mm
                  checkpoint_field: fields.updated
          stripe:
            provider: stripe
            base_url: {{saas}}
            syncs:
              customers:
                runs: every hour
                output: StripeCustomer
                sync_type: incremental
                request: { path: /v1/customers }
                paginate: { type: cursor, cursor_from: last_record_id, cursor_param: starting_after, has_more_path: $.has_more, limit_param: limit, limit: 100 }
                records: $.data
                id: id
                fields: { id: id, email: email, name: name, created: created }
                skip_when: { field: deleted, exists: true }
                incremental: { query_param: "created[gte]", format: unix }
        models:
          GithubLabel: { id: string, name: string, color: string, description: string | null }
          HubspotContact: { id: string, email: string, first_name: string, last_name: string, last_modified: string }
          JiraIssue: { id: string, key: string, summary: string, status: string, updated: string }
          StripeCustomer: { id: string, email: string, name: string, created: number }
          Other: { id: string }

        """;

    private sealed class Rig : IAsyncDisposable
    {
        public required SyncEngine Engine { get; init; }
        public required FakeSaas Saas { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Engine.DisposeAsync();
            await Saas.DisposeAsync();
        }
    }

    private static async Task<Rig> StartAsync(Dictionary<string, string?>? settings = null, string extraHubspot = "")
    {
        var saas = await FakeSaas.StartAsync();
        var engine = await SyncEngine.StartAsync(settings, moreYaml: github => Yaml(github, saas.BaseUrl, extraHubspot));
        return new Rig { Engine = engine, Saas = saas };
    }

    private static async Task<int> RunAsync(SyncEngine engine, string integration, string connection, string sync)
    {
        return await engine.PumpUntilAsync(async () => (await engine.ScheduleAsync(connection, sync, integration: integration))?.LastStatus is "SUCCESS" or "ERROR",
            $"the {integration}.{sync} run to end");
    }

    private static async Task TriggerAsync(SyncEngine engine, string integration, string connection, string sync)
    {
        var before = (await engine.ScheduleAsync(connection, sync, integration: integration))!.Successes;
        await engine.Get<SyncSchedules>().TriggerAsync(new SyncKey(integration, connection, sync, "base"), reset: false, emptyCache: false, default);
        await engine.PumpUntilAsync(async () => (await engine.ScheduleAsync(connection, sync, integration: integration))!.Successes > before
            || (await engine.ScheduleAsync(connection, sync, integration: integration))!.LastStatus == "ERROR", $"a new {sync} run to end");
    }

    private static Dictionary<string, string> Records(List<StoredRecord> records) =>
        records.Where(r => r.DeletedAt == 0).ToDictionary(r => r.Id, r => Encoding.UTF8.GetString(r.Payload));

    private static async Task AssertSuccess(SyncEngine engine, string integration, string connection, string sync)
    {
        var schedule = await engine.ScheduleAsync(connection, sync, integration: integration);
        Assert.True(schedule!.LastStatus == "SUCCESS", $"{integration}.{sync}: {schedule.LastStatus} {schedule.LastError}");
    }

    [Fact]
    public async Task The_declarative_github_labels_sync_gives_the_same_records_as_the_coded_one()
    {
        await using var rig = await StartAsync();
        var engine = rig.Engine;
        engine.Github.SetLabels("o/r", Enumerable.Range(1, 250).Select(i => FakeGithub.Label(i, "label " + i, i % 3 == 0 ? null : "about " + i)));
        var coded = await engine.ImportAsync();
        var declarative = await engine.ImportAsync(integration: "github-declarative");
        await engine.PumpAsync();
        await AssertSuccess(engine, "github", coded, "labels");
        await AssertSuccess(engine, "github-declarative", declarative, "labels-declarative");

        async Task CompareAsync(int live)
        {
            var a = await engine.RecordsAsync(coded, "GithubLabel");
            var b = await engine.RecordsAsync(declarative, "GithubLabel", integration: "github-declarative");
            Assert.Equal(a.Select(r => (r.Id, r.Action, r.DeletedAt > 0, Convert.ToBase64String(r.Payload))).OrderBy(r => r.Id),
                b.Select(r => (r.Id, r.Action, r.DeletedAt > 0, Convert.ToBase64String(r.Payload))).OrderBy(r => r.Id));
            Assert.Equal(live, Records(b).Count);
            var sa = (await engine.ScheduleAsync(coded, "labels"))!.LastResult["GithubLabel"];
            var sb = (await engine.ScheduleAsync(declarative, "labels-declarative", integration: "github-declarative"))!.LastResult["GithubLabel"];
            Assert.Equal(Counts(sa), Counts(sb));
        }
        await CompareAsync(250);
        Assert.Equal("""{"id":"3","name":"label 3","color":"00ff00","description":null}""",
            Encoding.UTF8.GetString((await engine.RecordsAsync(declarative, "GithubLabel", integration: "github-declarative")).Single(r => r.Id == "3").Payload));
        Assert.Contains(engine.Github.Requests, r => r.PathAndQuery == "/repos/o/r/labels?per_page=100" && r.Accept == "application/vnd.github+json");

        // Labels removed, one renamed: deletes and updates alike.
        engine.Github.SetLabels("o/r", Enumerable.Range(1, 240).Select(i => FakeGithub.Label(i, i == 7 ? "renamed" : "label " + i, i % 3 == 0 ? null : "about " + i)));
        await TriggerAsync(engine, "github", coded, "labels");
        await TriggerAsync(engine, "github-declarative", declarative, "labels-declarative");
        await CompareAsync(240);
    }

    [Fact]
    public async Task HubSpot_contacts_full_then_incremental_with_a_continuation()
    {
        await using var rig = await StartAsync(new() { ["SyncHub:Scheduling:RunBudget"] = "00:00:01.500" });
        var (engine, saas) = (rig.Engine, rig.Saas);
        saas.HubspotContacts = Enumerable.Range(0, 450).Select(i => FakeSaas.HubspotContact(i)).ToList();
        saas.PageDelay = TimeSpan.FromMilliseconds(400);
        var connection = await engine.ImportAsync(integration: "hubspot", metadata: []);
        var delivered = await RunAsync(engine, "hubspot", connection, "contacts");

        await AssertSuccess(engine, "hubspot", connection, "contacts");
        Assert.True(delivered >= 2, $"the run did not continue ({delivered} invocation)");
        var records = Records(await engine.RecordsAsync(connection, "HubspotContact", integration: "hubspot"));
        Assert.Equal(450, records.Count);
        Assert.Equal("""{"id":"1005","email":"contact5@example.com","first_name":"First5","last_name":"Last5","last_modified":"2026-01-01T00:00:05.000Z"}""", records["1005"]);
        var requests = saas.RequestsTo("/crm/v3/objects/contacts").ToList();
        // Each invocation resumed at its cursor: the first page once, the others at most again when interrupted.
        Assert.Equal(5, requests.Distinct().Count());
        Assert.Single(requests, r => !r.Contains("after=", StringComparison.Ordinal));
        Assert.Equal(450, (await engine.ScheduleAsync(connection, "contacts", integration: "hubspot"))!.LastResult["HubspotContact"].Added);

        // Incremental: only what changed since the last sync date, sent as ms since the epoch.
        var lastSyncDate = (await engine.ScheduleAsync(connection, "contacts", integration: "hubspot"))!.LastSyncDate;
        saas.PageDelay = TimeSpan.Zero;
        saas.Requests.Clear();
        var changed = FakeSaas.HubspotContact(3);
        changed["properties"]!["email"] = "changed@example.com";
        changed["properties"]!["lastmodifieddate"] = DateTime.UtcNow.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        saas.HubspotContacts[3] = changed;
        await TriggerAsync(engine, "hubspot", connection, "contacts");
        var request = Assert.Single(saas.Requests);
        var since = new DateTimeOffset(lastSyncDate, TimeSpan.Zero).ToUnixTimeMilliseconds();
        Assert.Contains("updatedAfter=" + since, request);
        var schedule = await engine.ScheduleAsync(connection, "contacts", integration: "hubspot");
        Assert.Equal((0, 1, 0), Counts(schedule!.LastResult["HubspotContact"]));
        Assert.Contains("changed@example.com", Records(await engine.RecordsAsync(connection, "HubspotContact", integration: "hubspot"))["1003"]);
    }

    [Fact]
    public async Task Jira_issues_full_then_incremental_with_a_continuation_that_resumes_from_the_checkpoint_field()
    {
        await using var rig = await StartAsync(new() { ["SyncHub:Scheduling:RunBudget"] = "00:00:01.500" });
        var (engine, saas) = (rig.Engine, rig.Saas);
        saas.JiraIssues = Enumerable.Range(0, 260).Select(i => FakeSaas.JiraIssue(i, minutes: i)).ToList();
        saas.PageDelay = TimeSpan.FromMilliseconds(400);
        var connection = await engine.ImportAsync(integration: "jira", metadata: new JsonObject { ["project"] = "PROJ" });
        var delivered = await RunAsync(engine, "jira", connection, "issues");

        await AssertSuccess(engine, "jira", connection, "issues");
        Assert.True(delivered >= 2, $"the run did not continue ({delivered} invocation)");
        var records = Records(await engine.RecordsAsync(connection, "JiraIssue", integration: "jira"));
        Assert.Equal(260, records.Count);
        Assert.Equal("""{"id":"10002","key":"PROJ-2","summary":"Summary 2","status":"To Do","updated":"2026-01-01T00:02:02.000+0000"}""", records["10002"]);
        var requests = saas.RequestsTo("/rest/api/3/search").Select(Uri.UnescapeDataString).ToList();
        Assert.StartsWith("/rest/api/3/search?jql=project = PROJ ORDER BY updated ASC&fields=summary,status,updated&maxResults=50&startAt=0", requests[0].Replace('+', ' '));
        // The continuation asked again from the latest `updated` it had saved.
        Assert.Contains(requests, r => r.Replace('+', ' ').Contains("AND updated >= \"2026-01-01 ", StringComparison.Ordinal));
        Assert.Equal(260, (await engine.ScheduleAsync(connection, "issues", integration: "jira"))!.LastResult["JiraIssue"].Added);

        saas.PageDelay = TimeSpan.Zero;
        saas.Requests.Clear();
        saas.JiraIssues.Add(FakeSaas.JiraIssue(999, minutes: (int)(DateTime.UtcNow.AddDays(1) - new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalMinutes, summary: "New"));
        await TriggerAsync(engine, "jira", connection, "issues");
        var request = Uri.UnescapeDataString(Assert.Single(saas.Requests)).Replace('+', ' ');
        Assert.Contains("AND updated >= \"", request);
        Assert.Equal((1, 0, 0), Counts((await engine.ScheduleAsync(connection, "issues", integration: "jira"))!.LastResult["JiraIssue"]));
        Assert.Equal(261, Records(await engine.RecordsAsync(connection, "JiraIssue", integration: "jira")).Count);
    }

    [Fact]
    public async Task Stripe_customers_full_then_incremental_with_a_continuation()
    {
        await using var rig = await StartAsync(new() { ["SyncHub:Scheduling:RunBudget"] = "00:00:01.500" });
        var (engine, saas) = (rig.Engine, rig.Saas);
        saas.StripeCustomers = Enumerable.Range(0, 430).Select(i => FakeSaas.StripeCustomer(i)).ToList();
        saas.StripeCustomers.Add(new JsonObject { ["id"] = "cus_deleted", ["object"] = "customer", ["deleted"] = true, ["created"] = 1L });
        saas.PageDelay = TimeSpan.FromMilliseconds(400);
        var connection = await engine.ImportAsync(integration: "stripe", metadata: []);
        var delivered = await RunAsync(engine, "stripe", connection, "customers");

        await AssertSuccess(engine, "stripe", connection, "customers");
        Assert.True(delivered >= 2, $"the run did not continue ({delivered} invocation)");
        var records = Records(await engine.RecordsAsync(connection, "StripeCustomer", integration: "stripe"));
        Assert.Equal(430, records.Count);
        Assert.DoesNotContain("cus_deleted", records.Keys);
        Assert.Equal("""{"id":"cus_000007","email":"customer7@example.com","name":"Customer 7","created":1767225607}""", records["cus_000007"]);
        var requests = saas.RequestsTo("/v1/customers").ToList();
        Assert.Equal(5, requests.Distinct().Count());
        Assert.Single(requests, r => r == "/v1/customers?limit=100");
        Assert.Equal("/v1/customers?limit=100", requests[0]);
        Assert.Equal("/v1/customers?limit=100&starting_after=cus_000330", requests[1]);

        saas.PageDelay = TimeSpan.Zero;
        saas.Requests.Clear();
        var lastSyncDate = new DateTimeOffset((await engine.ScheduleAsync(connection, "customers", integration: "stripe"))!.LastSyncDate, TimeSpan.Zero);
        saas.StripeCustomers.Add(FakeSaas.StripeCustomer(5000, createdOffset: DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds() - 1767225600 - 5000));
        await TriggerAsync(engine, "stripe", connection, "customers");
        Assert.Equal("/v1/customers?limit=100&created%5Bgte%5D=" + lastSyncDate.ToUnixTimeSeconds(), Assert.Single(saas.Requests));
        Assert.Equal((1, 0, 0), Counts((await engine.ScheduleAsync(connection, "customers", integration: "stripe"))!.LastResult["StripeCustomer"]));
    }

    /// <summary>A run that "crashed" after its first page (schedule and checkpoint as it left them) is taken over from its checkpoint.</summary>
    [Theory]
    [InlineData("hubspot", "contacts", "HubspotContact")]
    [InlineData("jira", "issues", "JiraIssue")]
    [InlineData("stripe", "customers", "StripeCustomer")]
    [InlineData("github-declarative", "labels-declarative", "GithubLabel")]
    public async Task A_crashed_declarative_run_is_taken_over_from_its_checkpoint(string integration, string sync, string model)
    {
        await using var rig = await StartAsync(new() { ["SyncHub:Scheduling:LeaseDuration"] = "00:00:01" });
        var (engine, saas) = (rig.Engine, rig.Saas);
        saas.HubspotContacts = Enumerable.Range(0, 250).Select(i => FakeSaas.HubspotContact(i)).ToList();
        saas.JiraIssues = Enumerable.Range(0, 120).Select(i => FakeSaas.JiraIssue(i, minutes: i)).ToList();
        saas.StripeCustomers = Enumerable.Range(0, 250).Select(i => FakeSaas.StripeCustomer(i)).ToList();
        engine.Github.SetLabels("o/r", Enumerable.Range(1, 250).Select(i => FakeGithub.Label(i, "l" + i)));
        var (position, checkpointValue, expected, firstRequest) = integration switch
        {
            "hubspot" => ((JsonNode?)"1100", (string?)null, 150, "after=1100"),
            "jira" => (null, "2026-01-01T00:50:00.0000000Z", 70, "updated%20%3E%3D%20%222026-01-01%2000%3A50%22"),
            "stripe" => ("cus_000150", null, 150, "starting_after=cus_000150"),
            _ => (engine.Github.BaseUrl + "repos/o/r/labels?per_page=100&page=2", null, 150, "page=2"),
        };
        var connection = await engine.ImportAsync(integration: integration, metadata: new JsonObject { ["repo"] = "o/r", ["project"] = "PROJ" });
        var key = new SyncKey(integration, connection, sync, "base");
        var crashed = await engine.Get<ScheduleStore>().UpdateAsync(key, s => s with
        {
            RunState = RunStates.Running, RunId = "crashed", LeaseUntil = DateTime.UtcNow.AddSeconds(1).Ticks, RunStartedAt = DateTime.UtcNow.Ticks,
            Checkpoint = new JsonObject { ["run"] = "crashed", ["pages"] = 1, ["position"] = position, ["checkpoint"] = checkpointValue }.ToJsonString(),
        }, default);
        Assert.NotNull(crashed);

        await RunAsync(engine, integration, connection, sync);

        await AssertSuccess(engine, integration, connection, sync);
        var schedule = await engine.ScheduleAsync(connection, sync, integration: integration);
        Assert.Equal("crashed", schedule!.RunId);
        var first = integration == "github-declarative"
            ? engine.Github.Requests.First(r => r.PathAndQuery.Contains("/labels", StringComparison.Ordinal)).PathAndQuery
            : saas.Requests.First();
        Assert.Contains(firstRequest, first);
        Assert.Equal(expected, Records(await engine.RecordsAsync(connection, model, integration: integration)).Count);
    }

    [Theory]
    [InlineData("records: $.results", """{"results":{"id":"1"}}""", "GET /bad returned no array at '$.results' (sync hubspot.bad's records path): found an object")]
    [InlineData("records: $.results", """{"items":[]}""", "GET /bad returned no array at '$.results' (sync hubspot.bad's records path): nothing is there")]
    [InlineData("records: $.results", """{"results":[{"id":"1"},{"name":"x"}]}""", "GET /bad returned an item without its id field 'id' (item 2 of the page, sync hubspot.bad: absent)")]
    [InlineData("records: $.results", """{"results":[{"id":"1"}],"paging":{"next":{"after":"same"}}}""", "GET /bad gave the same next page (cursor 'same') twice: the pagination does not advance (sync hubspot.bad)")]
    [InlineData("records: $.results\n        paginate: { type: cursor, cursor_path: $.paging.next.after, cursor_param: after, max_pages: 3 }", """{"results":[{"id":"1"}],"paging":{"next":{"after":"more"}}}""", "GET /bad: sync hubspot.bad reached the limit of 3 pages per run and stopped.")]
    public async Task Responses_a_declarative_sync_cannot_use_end_in_ERROR_with_a_clear_message(string records, string body, string error)
    {
        var paginate = records.Contains("paginate", StringComparison.Ordinal) ? "" : "\n        paginate: { type: cursor, cursor_path: $.paging.next.after, cursor_param: after }";
        var extra = $$"""
                  bad:
                    runs: every hour
                    output: Other
                    request: { path: /bad }
                    {{records}}{{paginate}}
            """;
        await using var rig = await StartAsync(extraHubspot: extra);
        var (engine, saas) = (rig.Engine, rig.Saas);
        var cursors = 0;
        saas.Custom["/bad"] = request => JsonNode.Parse(body.Replace("\"more\"", "\"c" + Interlocked.Increment(ref cursors) + "\"", StringComparison.Ordinal))!;
        var connection = await engine.ImportAsync(integration: "hubspot", metadata: []);
        await RunAsync(engine, "hubspot", connection, "bad");
        var schedule = await engine.ScheduleAsync(connection, "bad", integration: "hubspot");
        Assert.Equal("ERROR", schedule!.LastStatus);
        Assert.Contains(error, schedule.LastError);
    }

    /// <summary>What a run did, without the cursors it wrote (those differ between two record sets).</summary>
    private static (int Added, int Updated, int Deleted) Counts(ModelCounts counts) => (counts.Added, counts.Updated, counts.Deleted);
}
