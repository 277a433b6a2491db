using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace SyncHub.Integrations.Github;

/// <summary>GitHub's conventions shared by its syncs.</summary>
internal static class GithubApi
{
    /// <summary>GitHub's recommended media type, on every request of the run.</summary>
    public static HttpClient WithGithubMediaType(this HttpClient client)
    {
        client.DefaultRequestHeaders.Accept.Clear();
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.github+json"));
        return client;
    }

    /// <summary>Record ids are strings: GitHub's numeric ids as their digits.</summary>
    public static string Id(JsonNode? id) =>
        id is JsonValue value && value.TryGetValue<string>(out var text) ? text : id?.ToJsonString() ?? throw new InvalidDataException("An item from GitHub has no id.");
}
