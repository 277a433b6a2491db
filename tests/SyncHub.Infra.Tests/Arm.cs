using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SyncHub.Infra.Tests;

/// <summary>A resource in a compiled ARM template, with the nested deployment (module) that declares it.</summary>
public sealed record ArmResource(string SymbolicName, JsonObject Resource, Deployment Deployment)
{
    public string Type => (string)Resource["type"]!;

    public JsonObject Properties => Resource["properties"]!.AsObject();
}

/// <summary>A template and the parameter values passed to it (a module call, with its condition if any), or the root template.</summary>
public sealed partial record Deployment(string Name, JsonObject Template, JsonObject? Parameters, string? Condition)
{
    /// <summary>The literal value passed for a module parameter, or the parameter's default when none is passed.</summary>
    public JsonNode? ParameterValue(string name)
    {
        if (Parameters?[name] is JsonObject passed)
        {
            return passed["value"];
        }
        return Template["parameters"]?[name]?["defaultValue"];
    }

    /// <summary>Resolves an ARM expression of the form <c>[parameters('x')]</c> to the value it names; other values are returned as they are.</summary>
    public JsonNode? Resolve(JsonNode? value)
    {
        if (value is JsonValue v && v.TryGetValue<string>(out var s) && ParameterExpression().Match(s) is { Success: true } m)
        {
            return ParameterValue(m.Groups[1].Value);
        }
        return value;
    }

    [GeneratedRegex(@"^\[parameters\('([^']+)'\)\]$")]
    private static partial Regex ParameterExpression();
}

public static class Arm
{
    public const string DeploymentType = "Microsoft.Resources/deployments";

    public static Deployment Root(JsonObject template) => new("(root)", template, null, null);

    /// <summary>Every resource of the template and, recursively, of its modules (nested deployments), existing ones excluded.</summary>
    public static IEnumerable<ArmResource> Resources(JsonObject template) => Resources(Root(template));

    public static IEnumerable<ArmResource> Resources(Deployment deployment)
    {
        foreach (var (name, resource) in Entries(deployment.Template["resources"]))
        {
            if (resource["existing"]?.GetValue<bool>() == true)
            {
                continue;
            }
            yield return new ArmResource(name, resource, deployment);
            if ((string?)resource["type"] == DeploymentType)
            {
                var properties = resource["properties"]!.AsObject();
                var nested = new Deployment(name, properties["template"]!.AsObject(), properties["parameters"]?.AsObject(),
                    (string?)resource["condition"]);
                foreach (var inner in Resources(nested))
                {
                    yield return inner;
                }
            }
        }
    }

    public static IEnumerable<ArmResource> OfType(this IEnumerable<ArmResource> resources, string type) =>
        resources.Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase));

    /// <summary>The module (nested deployment) resource with the given symbolic name in the root template.</summary>
    public static Deployment Module(JsonObject template, string name)
    {
        var resource = Resources(template).Single(r => r.Type == DeploymentType && r.SymbolicName == name && r.Deployment.Parameters is null);
        var properties = resource.Properties;
        return new Deployment(name, properties["template"]!.AsObject(), properties["parameters"]?.AsObject(),
            (string?)resource.Resource["condition"]);
    }

    public static string[] Strings(JsonNode? node) =>
        node is JsonArray array ? array.Select(n => (string)n!).ToArray() : throw new InvalidOperationException($"Not a literal array: {node?.ToJsonString()}");

    // languageVersion 2.0 templates keep resources in an object keyed by symbolic name; 1.0 templates in an array.
    private static IEnumerable<(string Name, JsonObject Resource)> Entries(JsonNode? resources) => resources switch
    {
        JsonObject byName => byName.Select(p => (p.Key, p.Value!.AsObject())),
        JsonArray list => list.Select((r, i) => ((string?)r!["name"] ?? $"#{i}", r!.AsObject())),
        _ => [],
    };
}
