using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using SyncHub.Core.Records;
using SyncHub.Core.Model;

namespace SyncHub.Benchmarks;

/// <summary>Deterministic GithubIssue-shaped records of about 1 KB of JSON, and raw rows shaped like the store's.</summary>
public static class Payloads
{
    private static readonly string Filler = string.Concat(Enumerable.Repeat(
        "Steps to reproduce: open the settings page, change the sync frequency, save, and reload. Expected the new value; got the old one. ", 5))[..620];

    private static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static string Id(int i) => "issue-" + i.ToString("D7", CultureInfo.InvariantCulture);

    /// <summary>Record <paramref name="i"/> at <paramref name="version"/>: a new version changes title, state, updated_at and body.</summary>
    public static JsonObject Issue(int i, int version) => new()
    {
        ["id"] = Id(i),
        ["number"] = i,
        ["title"] = $"Sync frequency setting is not persisted after reload (case {i}, rev {version})",
        ["state"] = version % 2 == 0 ? "open" : "closed",
        ["author"] = "user" + (i % 997).ToString(CultureInfo.InvariantCulture),
        ["labels"] = new JsonArray("bug", "area-" + (i % 13).ToString(CultureInfo.InvariantCulture), "triage"),
        ["created_at"] = Epoch.AddMinutes(i).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        ["updated_at"] = Epoch.AddMinutes(i).AddDays(version).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        ["closed_at"] = null,
        ["html_url"] = "https://github.com/acme/widgets/issues/" + i.ToString(CultureInfo.InvariantCulture),
        ["body"] = $"rev {version}: " + Filler,
    };

    public static List<JsonObject> Batch(IEnumerable<int> indices, int version) => indices.Select(i => Issue(i, version)).ToList();

    /// <summary>The records the "changed" cases modify: <paramref name="count"/> of <paramref name="n"/>, spread evenly.</summary>
    public static int[] Sample(int n, int count) => Enumerable.Range(0, count).Select(k => (int)((long)k * n / count)).ToArray();

    public static byte[] Json(int i, int version) => JsonSerializer.SerializeToUtf8Bytes(Issue(i, version));

    /// <summary>A 1 KB entity shaped like a record row: the same properties, the payload as one binary property.</summary>
    public static TableEntity RawRecordRow(long key, int i, int version)
    {
        var json = Json(i, version);
        return new TableEntity(RecordRows.PartitionKey, new Cursor(key).RowKey)
        {
            ["Id"] = Id(i),
            ["Action"] = "ADDED",
            ["FirstSeen"] = key,
            ["Hash"] = RecordPayload.HashOf(json),
            ["Size"] = json.Length,
            ["Pruned"] = false,
            ["P00"] = json,
            ["N"] = 1,
        };
    }

    /// <summary>A row shaped like an index row (<c>i:</c> + hash of the id).</summary>
    public static TableEntity RawIndexRow(long cursor, int i) => new(RecordRows.PartitionKey, RecordRows.IndexRowKey(Id(i)))
    {
        ["Id"] = Id(i),
        ["Cursor"] = cursor,
        ["Hash"] = "AAAAAAAAAAAAAAAAAAAAAA==",
        ["FirstSeen"] = cursor,
        ["Deleted"] = false,
        ["PrunedAt"] = 0L,
        ["Action"] = "ADDED",
        ["Size"] = 1024,
    };
}
