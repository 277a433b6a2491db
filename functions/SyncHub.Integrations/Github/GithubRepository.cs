using System.Text.Json.Nodes;
using SyncHub.Core.Sdk;

namespace SyncHub.Integrations.Github;

/// <summary>
/// The repository a GitHub sync reads: connection metadata <c>repo</c> (<c>"owner/name"</c>) for the base variant,
/// <c>repos.&lt;variant&gt;</c> for a variant, so one connection can sync several repositories.
/// </summary>
public sealed record GithubRepository(string Owner, string Name)
{
    public string Path => $"repos/{Uri.EscapeDataString(Owner)}/{Uri.EscapeDataString(Name)}";

    public static GithubRepository From(SyncContext nango)
    {
        var (node, where) = nango.Variant == "base"
            ? (nango.Metadata["repo"], "metadata 'repo'")
            : (nango.Metadata["repos"]?[nango.Variant], $"metadata 'repos.{nango.Variant}'");
        var text = node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;
        var parts = text?.Split('/') ?? [];
        if (parts.Length != 2 || parts.Any(p => p.Length == 0))
        {
            throw new SyncConfigurationException($"The connection's {where} must name a repository as \"owner/name\".");
        }
        return new GithubRepository(parts[0], parts[1]);
    }
}
