using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SyncHub.Core.Records;
using SyncHub.Tests.Infrastructure;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Reliability;

/// <summary>
/// Sizes of the reliability suite: CI-sized by default, bigger with <c>SYNCHUB_RELIABILITY=long</c>.
/// </summary>
public static class ReliabilityMode
{
    public static bool Long { get; } = string.Equals(Environment.GetEnvironmentVariable("SYNCHUB_RELIABILITY"), "long", StringComparison.OrdinalIgnoreCase);

    public static int Pick(int shortValue, int longValue) => Long ? longValue : shortValue;

    public static TimeSpan Pick(TimeSpan shortValue, TimeSpan longValue) => Long ? longValue : shortValue;
}

/// <summary>The reliability tests run one at a time: each starts processes and loads the 2-core machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReliabilityCollection
{
    public const string Name = "Reliability";
}

/// <summary>One record as GET /records returned it.</summary>
public sealed record ApiRecord(string Id, Cursor Cursor, JsonObject Json);

/// <summary>The API over HTTP, as a client uses it.</summary>
public static class Api
{
    /// <summary>Distinct, ascending updated_at issues (one second apart), ids 1_000_000 + i.</summary>
    public static IEnumerable<JsonObject> Issues(int count, int version = 0) =>
        Enumerable.Range(0, count).Select(i => FakeGithub.Issue(1_000_000 + i,
            new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(i).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            $"Issue {i} v{version}"));

    public static async Task ImportAsync(HttpClient client, string connection, string repo = "o/r", string token = "gho_reliability_token")
    {
        using var response = await client.PostAsJsonAsync("connections", new JsonObject
        {
            ["provider_config_key"] = "github",
            ["connection_id"] = connection,
            ["credentials"] = new JsonObject { ["type"] = "OAUTH2", ["access_token"] = token },
            ["metadata"] = new JsonObject { ["repo"] = repo },
        });
        Assert.True(response.IsSuccessStatusCode, $"import: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task<JsonObject> PageAsync(HttpClient client, string connection, string model, string? cursor, int limit)
    {
        var url = $"records?model={model}&limit={limit}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("Connection-Id", connection);
        request.Headers.Add("Provider-Config-Key", "github");
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET /records: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    public static ApiRecord Parse(JsonNode? node)
    {
        var json = node!.AsObject();
        var text = json["_nango_metadata"]!["cursor"]!.GetValue<string>();
        Assert.True(Cursor.TryDecode(text, out var cursor), $"undecodable cursor {text}");
        return new ApiRecord(json["id"]!.GetValue<string>(), cursor, json);
    }

    /// <summary>Every record, paging from the start to <c>next_cursor: null</c>; asserts cursors strictly increase.</summary>
    public static async Task<List<ApiRecord>> AllRecordsAsync(HttpClient client, string connection, string model = "GithubIssue", int limit = 500)
    {
        var all = new List<ApiRecord>();
        string? cursor = null;
        do
        {
            var page = await PageAsync(client, connection, model, cursor, limit);
            foreach (var node in page["records"]!.AsArray())
            {
                var record = Parse(node);
                if (all.Count > 0 && record.Cursor <= all[^1].Cursor)
                {
                    Assert.Fail($"cursor {record.Cursor} of {record.Id} does not follow {all[^1].Cursor} of {all[^1].Id}");
                }
                all.Add(record);
            }
            cursor = page["next_cursor"]?.GetValue<string>();
        }
        while (cursor is not null);
        return all;
    }

    public static async Task<JsonObject> StatusAsync(HttpClient client, string connection, string sync = "issues")
    {
        using var response = await client.GetAsync($"sync/status?provider_config_key=github&syncs={sync}&connection_id={Uri.EscapeDataString(connection)}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET /sync/status: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["syncs"]!.AsArray().Single()!.AsObject();
    }

    /// <summary>The source's issues as the GitHub sync stores them: id → title.</summary>
    public static Dictionary<string, string> Expected(IEnumerable<JsonObject> issues) =>
        issues.ToDictionary(i => i["id"]!.GetValue<long>().ToString(CultureInfo.InvariantCulture), i => i["title"]!.GetValue<string>());

    /// <summary>Exactly the source: no missing, no extra, no duplicate id, every payload current, recordCount exact.</summary>
    public static void AssertExact(Dictionary<string, string> expected, List<ApiRecord> records, JsonObject status, string model = "GithubIssue")
    {
        var duplicates = records.GroupBy(r => r.Id).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToList();
        Assert.True(duplicates.Count == 0, "duplicate ids: " + string.Join(", ", duplicates));
        var missing = expected.Keys.Except(records.Select(r => r.Id)).Take(5).ToList();
        Assert.True(missing.Count == 0, $"{expected.Count - records.Count} missing, e.g. " + string.Join(", ", missing));
        Assert.Equal(expected.Count, records.Count);
        foreach (var record in records)
        {
            Assert.Equal(expected[record.Id], record.Json["title"]!.GetValue<string>());
        }
        Assert.Equal(records.Count, status["recordCount"]![model]!.GetValue<int>());
    }
}
