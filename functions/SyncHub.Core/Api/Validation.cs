using SyncHub.Core.Model;
namespace SyncHub.Core.Api;

/// <summary>
/// Collects the field errors of one part of a request (query, headers, body or path) so the caller hears about
/// every problem at once, then throws them as one 400 with that part's code (e.g. <c>invalid_query_params</c>).
/// </summary>
public sealed class Validation(string code, string part)
{
    private readonly List<FieldError> _errors = [];

    public static Validation Query() => new("invalid_query_params", "query parameters");
    public static Validation Headers() => new("invalid_headers", "headers");
    public static Validation Body() => new("invalid_body", "body");
    public static Validation Uri() => new("invalid_uri_params", "path parameters");

    public bool IsValid => _errors.Count == 0;

    public void Add(string errorCode, string message, params string[] path) => _errors.Add(new FieldError(errorCode, message, path));

    public void ThrowIfInvalid()
    {
        if (_errors.Count == 0)
        {
            return;
        }
        var first = _errors[0];
        var where = first.Path.Count > 0 ? $"'{string.Join('.', first.Path)}' " : "";
        var more = _errors.Count > 1 ? $" ({_errors.Count - 1} more problem{(_errors.Count > 2 ? "s" : "")} listed in errors)" : "";
        throw new ApiException(400, code, $"Invalid {part}: {where}{first.Message}{more}", _errors.ToArray());
    }

    /// <summary>Checks a name against its API.md pattern and the 255-character limit; returns it when valid.</summary>
    public string? Name(string? value, System.Text.RegularExpressions.Regex pattern, string describe, params string[] path)
    {
        if (value is null)
        {
            return null;
        }
        if (value.Length == 0)
        {
            Add("too_small", "must not be empty", path);
            return null;
        }
        if (value.Length > Names.MaxLength)
        {
            Add("too_big", $"must be at most {Names.MaxLength} characters", path);
            return null;
        }
        if (!pattern.IsMatch(value))
        {
            Add("invalid_string", $"must be a valid {describe} (pattern {pattern})", path);
            return null;
        }
        return value;
    }
}
