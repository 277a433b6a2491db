using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;

namespace SyncHub.LocalHost;

/// <summary>
/// local.settings.json <c>Values</c> as configuration, the way the Functions host hands them to the worker:
/// as environment-style names where <c>__</c> separates sections. Real environment variables override them.
/// </summary>
public static class LocalSettings
{
    public static IConfigurationBuilder AddLocalSettings(this IConfigurationBuilder builder, string path)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (File.Exists(path) && JsonNode.Parse(File.ReadAllText(path))?["Values"] is JsonObject settings)
        {
            foreach (var (name, value) in settings)
            {
                values[name.Replace("__", ConfigurationPath.KeyDelimiter)] = value?.ToString();
            }
        }
        return builder.AddInMemoryCollection(values);
    }

    /// <summary>Resolves each <c>%NAME%</c> in a trigger attribute (e.g. <c>%Queue%-poison</c>) from settings, as the host does.</summary>
    public static string Resolve(IConfiguration configuration, string value) =>
        System.Text.RegularExpressions.Regex.Replace(value, "%([^%]+)%", match =>
        {
            var name = match.Groups[1].Value;
            return configuration[name.Replace("__", ConfigurationPath.KeyDelimiter)]
                ?? throw new InvalidOperationException($"The setting '{name}' used by a trigger attribute is not set.");
        });
}
