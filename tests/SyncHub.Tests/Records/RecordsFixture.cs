using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.Core.Connections;
using SyncHub.Core.Records;
using SyncHub.Tests.Infrastructure;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Records;

/// <summary>The real service graph on Azurite, with helpers to make connections and records.</summary>
public sealed class RecordsFixture : IDisposable
{
    public ServiceProvider Services { get; } = TestEnvironment.Services();

    public RecordWriter Writer => Services.GetRequiredService<RecordWriter>();
    public RecordReader Reader => Services.GetRequiredService<RecordReader>();

    /// <summary>A fresh connection of the sample github integration, so its partitions are empty.</summary>
    public async Task<string> NewConnectionAsync(string? connectionId = null)
    {
        connectionId ??= TestEnvironment.Unique("conn");
        await Services.GetRequiredService<ConnectionStore>().UpsertAsync("github", connectionId, "github",
            new ConnectionCredentials("API_KEY", new JsonObject { ["type"] = "API_KEY", ["apiKey"] = "k" }), null, null, CancellationToken.None);
        return connectionId;
    }

    public static RecordPartition Issues(string connectionId, string variant = "base") => new("github", connectionId, "GithubIssue", variant);

    public static JsonObject Issue(object id, string title = "t", int number = 1) =>
        new() { ["id"] = JsonValue.Create(id), ["title"] = title, ["number"] = number };

    public static List<JsonObject> Issues(int count, int from = 0, string title = "t") =>
        Enumerable.Range(from, count).Select(i => Issue($"issue-{i:D6}", title, i)).ToList();

    /// <summary>Reads every record of the partition, page by page, from the start.</summary>
    public async Task<List<StoredRecord>> ReadAllAsync(RecordPartition partition, int limit = 500, Cursor? from = null, long? modifiedAfter = null, IReadOnlyCollection<string>? actions = null)
    {
        var all = new List<StoredRecord>();
        var cursor = from;
        while (true)
        {
            var page = await Reader.ReadAsync(partition, new RecordQuery(cursor, modifiedAfter, actions, null, limit), CancellationToken.None);
            all.AddRange(page.Records);
            Assert.True(page.Records.Count <= limit);
            if (page.Next is null)
            {
                return all;
            }
            Assert.Equal(page.Records[^1].Cursor, page.Next);
            cursor = page.Next;
        }
    }

    public static JsonObject Json(StoredRecord record) => JsonNode.Parse(record.Payload)!.AsObject();

    public void Dispose() => Services.Dispose();
}

[CollectionDefinition("records")]
public sealed class RecordsCollection : ICollectionFixture<RecordsFixture>;
