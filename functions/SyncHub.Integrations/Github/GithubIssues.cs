using System.Globalization;
using System.Text.Json.Nodes;
using SyncHub.Core.Sdk;

namespace SyncHub.Integrations.Github;

/// <summary>
/// Issues of the connection's repository (pull requests skipped), oldest update first. Incremental: after the first
/// successful run it asks only for issues updated since the last sync date; the checkpoint (last <c>updated_at</c>
/// saved) lets a continued or taken-over run resume where it stopped.
/// </summary>
[Sync("github", "issues")]
public sealed class GithubIssues : ISync
{
    public const string Model = "GithubIssue";

    public async Task ExecuteAsync(SyncContext nango, CancellationToken ct)
    {
        var repository = GithubRepository.From(nango);
        var since = Since(nango);
        var url = $"{repository.Path}/issues?state=all&sort=updated&direction=asc&per_page=100";
        if (since is not null)
        {
            url += "&since=" + Uri.EscapeDataString(since);
        }
        await foreach (var page in Pagination.LinkHeaderAsync(nango.Proxy.WithGithubMediaType(), url, ct))
        {
            var items = page as JsonArray ?? throw new ProviderResponseException("GET", $"/{repository.Path}/issues", $"GET /{repository.Path}/issues did not return a list.");
            var records = items.OfType<JsonObject>().Where(i => !i.ContainsKey("pull_request")).Select(ToRecord).ToList();
            await nango.BatchSaveAsync(records, Model, ct);
            // Pull requests advance the position too: they share the issues' updated_at order.
            if (items.OfType<JsonObject>().LastOrDefault()?["updated_at"]?.GetValue<string>() is { } updatedAt)
            {
                await nango.SaveCheckpointAsync(new JsonObject { ["updated_at"] = updatedAt }, ct);
            }
        }
    }

    /// <summary>The later of the checkpoint (a resumed run) and the last sync date (a new incremental run).</summary>
    private static string? Since(SyncContext nango)
    {
        var checkpoint = nango.Checkpoint?["updated_at"]?.GetValue<string>();
        var last = nango.LastSyncDate?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        if (checkpoint is null || last is null)
        {
            return checkpoint ?? last;
        }
        return DateTimeOffset.Parse(checkpoint, CultureInfo.InvariantCulture) > nango.LastSyncDate ? checkpoint : last;
    }

    private static JsonObject ToRecord(JsonObject issue) => new()
    {
        ["id"] = GithubApi.Id(issue["id"]),
        ["number"] = issue["number"]?.DeepClone(),
        ["title"] = issue["title"]?.DeepClone(),
        ["state"] = issue["state"]?.DeepClone(),
        ["author"] = issue["user"]?["login"]?.DeepClone(),
        ["labels"] = new JsonArray((issue["labels"] as JsonArray ?? []).Select(l => (JsonNode?)(l is JsonObject o ? o["name"]?.DeepClone() : l?.DeepClone())).ToArray()),
        ["created_at"] = issue["created_at"]?.DeepClone(),
        ["updated_at"] = issue["updated_at"]?.DeepClone(),
        ["closed_at"] = issue["closed_at"]?.DeepClone(),
        ["html_url"] = issue["html_url"]?.DeepClone(),
    };
}
