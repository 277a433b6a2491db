using System.Text.Json;
using System.Text.Json.Nodes;

namespace SyncHub.Core.Model;

/// <summary>How error messages name the kind of a JSON value ("an object", "a string", ...).</summary>
public static class JsonKinds
{
    public static string Describe(JsonNode? node) => node is null ? "null" : node.GetValueKind() switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
