using System.Text.Json.Nodes;
using SyncHub.Core.Sdk;

namespace SyncHub.Integrations.Github;

/// <summary>
/// Labels of the connection's repository. A full sync with <c>track_deletes</c>: every run lists them all, and labels
/// missing from a complete run are marked deleted by the runner.
/// </summary>
[Sync("github", "labels")]
public sealed class GithubLabels : ISync
{
    public const string Model = "GithubLabel";

    public async Task ExecuteAsync(SyncContext nango, CancellationToken ct)
    {
        var repository = GithubRepository.From(nango);
        await foreach (var page in Pagination.LinkHeaderAsync(nango.Proxy.WithGithubMediaType(), $"{repository.Path}/labels?per_page=100", ct))
        {
            var items = page as JsonArray ?? throw new ProviderResponseException("GET", $"/{repository.Path}/labels", $"GET /{repository.Path}/labels did not return a list.");
            await nango.BatchSaveAsync(items.OfType<JsonObject>().Select(label => new JsonObject
            {
                ["id"] = GithubApi.Id(label["id"]),
                ["name"] = label["name"]?.DeepClone(),
                ["color"] = label["color"]?.DeepClone(),
                ["description"] = label["description"]?.DeepClone(),
            }), Model, ct);
        }
    }
}
