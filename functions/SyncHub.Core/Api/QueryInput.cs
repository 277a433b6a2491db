using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace SyncHub.Core.Api;

/// <summary>Typed, validated access to a query string. Unknown keys are errors so typos fail loudly.</summary>
public sealed class QueryInput
{
    private readonly IQueryCollection _query;
    private readonly Validation _validation;

    public QueryInput(IQueryCollection query, Validation validation, IReadOnlyCollection<string> allowed)
    {
        _query = query;
        _validation = validation;
        foreach (var key in query.Keys)
        {
            if (!allowed.Contains(key, StringComparer.Ordinal))
            {
                var expected = allowed.Count == 0 ? "this endpoint takes no query parameters" : $"expected one of: {string.Join(", ", allowed)}";
                validation.Add("unrecognized_keys", $"unknown query parameter '{key}'; {expected}", key);
            }
        }
    }

    /// <summary>A parameter that may appear at most once.</summary>
    public string? Single(string name)
    {
        if (!_query.TryGetValue(name, out var values) || values.Count == 0)
        {
            return null;
        }
        if (values.Count > 1)
        {
            _validation.Add("invalid_type", "must be given once", name);
            return null;
        }
        return values[0];
    }

    public string? Required(string name)
    {
        var value = Single(name);
        if (value is null && !_query.ContainsKey(name))
        {
            _validation.Add("invalid_type", "is required", name);
        }
        return value;
    }

    public string? Name(string name, Regex pattern, string describe, bool required)
    {
        var value = required ? Required(name) : Single(name);
        return _validation.Name(value, pattern, describe, name);
    }

    public int? Integer(string name, int min, int max)
    {
        var raw = Single(name);
        if (raw is null)
        {
            return null;
        }
        if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            // Distinguish "a number that is too big" from "not a number" for a helpful message.
            if (raw.Length > 0 && raw.All(char.IsAsciiDigit))
            {
                _validation.Add("too_big", $"must be at most {max}", name);
            }
            else
            {
                _validation.Add("invalid_type", "must be an integer", name);
            }
            return null;
        }
        if (value < min)
        {
            _validation.Add("too_small", $"must be at least {min}", name);
            return null;
        }
        if (value > max)
        {
            _validation.Add("too_big", $"must be at most {max}", name);
            return null;
        }
        return value;
    }

    public IReadOnlyList<string> Repeated(string name) =>
        _query.TryGetValue(name, out var values) ? values.Where(v => v is not null).Select(v => v!).ToArray() : [];

    /// <summary>Accepts the boolean spellings clients send (<c>true</c>/<c>false</c>, <c>1</c>/<c>0</c>).</summary>
    public bool? Boolean(string name)
    {
        var raw = Single(name);
        switch (raw?.ToLowerInvariant())
        {
            case null:
                return null;
            case "true" or "1":
                return true;
            case "false" or "0" or "":
                return false;
            default:
                _validation.Add("invalid_type", "must be true or false", name);
                return null;
        }
    }
}
