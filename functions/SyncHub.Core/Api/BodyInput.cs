using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using SyncHub.Core.Model;

namespace SyncHub.Core.Api;

/// <summary>Typed, validated access to a JSON object body. Unknown keys are errors so typos fail loudly.</summary>
public sealed class BodyInput
{
    private readonly JsonObject _body;
    private readonly Validation _validation;
    private readonly string[] _prefix;

    public BodyInput(JsonObject body, Validation validation, IReadOnlyCollection<string> allowed, params string[] prefix)
    {
        _body = body;
        _validation = validation;
        _prefix = prefix;
        foreach (var (key, _) in body)
        {
            if (!allowed.Contains(key, StringComparer.Ordinal))
            {
                validation.Add("unrecognized_keys", $"unknown key '{key}'; expected one of: {string.Join(", ", allowed)}", Path(key));
            }
        }
    }

    public Validation Validation => _validation;

    public string[] Path(string key) => [.. _prefix, key];

    /// <summary>True when the key is present, even with a null value.</summary>
    public bool Has(string key) => _body.ContainsKey(key);

    public JsonNode? Node(string key) => _body.TryGetPropertyValue(key, out var node) ? node : null;

    public string? String(string key, bool required, int maxLength = 4096)
    {
        if (!_body.TryGetPropertyValue(key, out var node) || node is null)
        {
            if (required)
            {
                _validation.Add("invalid_type", "is required", Path(key));
            }
            return null;
        }
        if (node.GetValueKind() != JsonValueKind.String)
        {
            _validation.Add("invalid_type", $"must be a string, got {Kind(node)}", Path(key));
            return null;
        }
        var value = node.GetValue<string>();
        if (value.Length > maxLength)
        {
            _validation.Add("too_big", $"must be at most {maxLength} characters", Path(key));
            return null;
        }
        return value;
    }

    public string? Name(string key, Regex pattern, string describe, bool required) =>
        _validation.Name(String(key, required, int.MaxValue), pattern, describe, Path(key));

    public bool? Boolean(string key)
    {
        var node = Node(key);
        if (node is null)
        {
            return null;
        }
        var kind = node.GetValueKind();
        if (kind is JsonValueKind.True or JsonValueKind.False)
        {
            return kind == JsonValueKind.True;
        }
        _validation.Add("invalid_type", $"must be a boolean, got {Kind(node)}", Path(key));
        return null;
    }

    public long? Integer(string key, long min, long max)
    {
        var node = Node(key);
        if (node is null)
        {
            return null;
        }
        if (node.GetValueKind() != JsonValueKind.Number || !node.AsValue().TryGetValue<long>(out var value))
        {
            _validation.Add("invalid_type", $"must be an integer, got {Kind(node)}", Path(key));
            return null;
        }
        if (value < min)
        {
            _validation.Add("too_small", $"must be at least {min}", Path(key));
            return null;
        }
        if (value > max)
        {
            _validation.Add("too_big", $"must be at most {max}", Path(key));
            return null;
        }
        return value;
    }

    public JsonObject? Object(string key, bool required)
    {
        var node = Node(key);
        if (node is null)
        {
            if (required)
            {
                _validation.Add("invalid_type", "is required", Path(key));
            }
            return null;
        }
        if (node is not JsonObject obj)
        {
            _validation.Add("invalid_type", $"must be an object, got {Kind(node)}", Path(key));
            return null;
        }
        return obj;
    }

    public JsonArray? Array(string key, bool required)
    {
        var node = Node(key);
        if (node is null)
        {
            if (required)
            {
                _validation.Add("invalid_type", "is required", Path(key));
            }
            return null;
        }
        if (node is not JsonArray array)
        {
            _validation.Add("invalid_type", $"must be an array, got {Kind(node)}", Path(key));
            return null;
        }
        return array;
    }

    public static string Kind(JsonNode? node) => JsonKinds.Describe(node);
}
