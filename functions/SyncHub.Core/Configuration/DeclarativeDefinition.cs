using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SyncHub.Core.Configuration;

/// <summary>How a declarative sync pages through its endpoint.</summary>
public enum PaginationType
{
    /// <summary>One request.</summary>
    None,
    /// <summary>RFC 8288 <c>Link: &lt;url&gt;; rel="next"</c>.</summary>
    Link,
    /// <summary>A cursor read from the response (or the last record's id) sent back as a query parameter.</summary>
    Cursor,
    /// <summary>An item offset and a page size.</summary>
    Offset,
    /// <summary>A page number.</summary>
    Page,
}

/// <summary>
/// A string of nango.yaml with <c>${metadata.a.b}</c>, <c>${variant}</c>, <c>${env.NAME}</c> (and, in
/// <c>incremental.value</c>, <c>${since}</c>) placeholders, checked when loaded. <see cref="Where"/> is
/// <c>path:line:col</c> of the value in the file.
/// </summary>
public sealed record Template(string Text, string Where)
{
    public static readonly Regex Placeholder = new(@"\$\{([^}]*)\}", RegexOptions.CultureInvariant);

    /// <summary>The placeholders' contents (e.g. <c>metadata.repo</c>), in order.</summary>
    public IEnumerable<string> Placeholders => Placeholder.Matches(Text).Select(m => m.Groups[1].Value);

    /// <summary>The <c>${env.NAME}</c> names used.</summary>
    public IEnumerable<string> EnvironmentVariables =>
        Placeholders.Where(p => p.StartsWith("env.", StringComparison.Ordinal)).Select(p => p["env.".Length..]);
}

/// <summary>The request of a declarative sync: a path relative to base_url, query parameters and headers.</summary>
public sealed record DeclarativeRequest(
    Template Path,
    IReadOnlyList<KeyValuePair<string, Template>> Query,
    IReadOnlyList<KeyValuePair<string, Template>> Headers);

/// <summary>The <c>paginate</c> block. Only the keys of <see cref="Type"/> are set.</summary>
public sealed record DeclarativePagination(PaginationType Type)
{
    /// <summary>The most pages one run may fetch (its invocations together).</summary>
    public const int DefaultMaxPages = 10_000;

    /// <summary>cursor: where the next cursor is in the response (<c>$.paging.next.after</c>).</summary>
    public JsonPathExpression? CursorPath { get; init; }

    /// <summary>cursor: <c>cursor_from: last_record_id</c>: the cursor is the last item's id (Stripe's <c>starting_after</c>).</summary>
    public bool CursorFromLastRecordId { get; init; }

    /// <summary>cursor: the query parameter the cursor is sent as.</summary>
    public string? CursorParam { get; init; }

    /// <summary>cursor: a boolean in the response; false or absent ends the pagination (Stripe's <c>$.has_more</c>).</summary>
    public JsonPathExpression? HasMorePath { get; init; }

    public string? OffsetParam { get; init; }
    public string? PageParam { get; init; }
    public string? LimitParam { get; init; }
    public int? Limit { get; init; }

    /// <summary>offset: the total number of items in the response (Jira's <c>$.total</c>).</summary>
    public JsonPathExpression? TotalPath { get; init; }

    /// <summary>page: the first page's number (default 1); offset: the first offset (default 0).</summary>
    public long Start { get; init; }

    public int MaxPages { get; init; } = DefaultMaxPages;
}

/// <summary><c>skip_when</c>: items for which the field exists (or not), or equals a value, are not saved.</summary>
public sealed record DeclarativeSkip(JsonPathExpression Field, bool? Exists, string? EqualsValue);

/// <summary>The <c>incremental</c> block: how "changed since" is asked for and where a resumed run continues.</summary>
public sealed record DeclarativeIncremental(string QueryParam, string Format, Template? Value, JsonPathExpression? CheckpointField);

/// <summary>A sync nango.yaml describes completely (a <c>request</c> block): run by the SDK's DeclarativeSync.</summary>
public sealed record DeclarativeDefinition(
    DeclarativeRequest Request,
    DeclarativePagination Paginate,
    JsonPathExpression Records,
    JsonPathExpression Id,
    IReadOnlyList<KeyValuePair<string, JsonPathExpression>>? Fields,
    DeclarativeSkip? SkipWhen,
    DeclarativeIncremental? Incremental,
    string Where)
{
    /// <summary>Every template of the definition (to check its <c>${env.X}</c> at start-up).</summary>
    public IEnumerable<Template> Templates =>
        new[] { Request.Path }.Concat(Request.Query.Select(q => q.Value)).Concat(Request.Headers.Select(h => h.Value))
            .Concat(Incremental?.Value is { } value ? [value] : []);
}

/// <summary>
/// The JSONPath subset of declarative syncs: <c>$</c> (the document), <c>$.a.b</c> (members), a trailing
/// <c>[*]</c> (the array itself). A bare <c>a.b</c> is read as <c>$.a.b</c>. Members are any characters but <c>.</c>
/// and <c>[</c>.
/// </summary>
public sealed class JsonPathExpression
{
    private static readonly Regex Member = new(@"^[^.\[\]\s]+$", RegexOptions.CultureInvariant);

    private JsonPathExpression(string text, IReadOnlyList<string> members)
    {
        Text = text;
        Members = members;
    }

    public string Text { get; }
    public IReadOnlyList<string> Members { get; }

    public static bool TryParse(string text, out JsonPathExpression? path)
    {
        path = null;
        var rest = text.Trim();
        if (rest.EndsWith("[*]", StringComparison.Ordinal))
        {
            rest = rest[..^3];
        }
        if (rest == "$")
        {
            path = new JsonPathExpression(text, []);
            return true;
        }
        if (rest.StartsWith("$.", StringComparison.Ordinal))
        {
            rest = rest[2..];
        }
        var members = rest.Split('.');
        if (members.Length == 0 || !members.All(Member.IsMatch) || rest.StartsWith('$'))
        {
            return false;
        }
        path = new JsonPathExpression(text, members);
        return true;
    }

    /// <summary>The node at this path; false when a member on the way is absent (a JSON null is found, as null).</summary>
    public bool TryEvaluate(JsonNode? root, out JsonNode? value)
    {
        value = root;
        foreach (var member in Members)
        {
            if (value is not JsonObject obj || !obj.TryGetPropertyValue(member, out value))
            {
                value = null;
                return false;
            }
        }
        return true;
    }

    public JsonNode? Evaluate(JsonNode? root) => TryEvaluate(root, out var value) ? value : null;

    public override string ToString() => Text;
}
