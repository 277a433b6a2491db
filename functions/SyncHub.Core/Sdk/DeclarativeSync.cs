using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SyncHub.Core.Configuration;

namespace SyncHub.Core.Sdk;

/// <summary>
/// A sync described by nango.yaml alone (a <c>request</c> block): an <see cref="ISync"/> like any other, so the engine
/// runs it through the same path (checkpoints, continuation, takeover, retries, rate limits, track_deletes).
/// Each page: GET through the Proxy, the items at <c>records</c>, <c>skip_when</c>, the <c>id</c> as a string,
/// <c>fields</c> (or the whole item), one BatchSave, then a checkpoint holding where the next page is, so a continued
/// or taken-over run resumes there (incremental syncs with a <c>checkpoint_field</c> resume from the latest value of
/// that field instead, asking again with it as "since").
/// </summary>
public sealed partial class DeclarativeSync : ISync
{
    private readonly SyncDefinition _definition;
    private readonly DeclarativeDefinition _d;

    public DeclarativeSync(SyncDefinition definition)
    {
        _definition = definition;
        _d = definition.Declarative ?? throw new ArgumentException($"Sync '{definition.Integration}.{definition.Name}' has no request block.", nameof(definition));
    }

    private string Name => $"{_definition.Integration}.{_definition.Name}";

    public async Task ExecuteAsync(SyncContext nango, CancellationToken ct)
    {
        var paginate = _d.Paginate;
        var headers = _d.Request.Headers.Select(h => new KeyValuePair<string, string>(h.Key, Substitute(h.Value, nango, null, path: false))).ToList();
        var baseUrl = Substitute(_d.Request.Path, nango, null, path: true);
        var requestPath = baseUrl;
        foreach (var (name, value) in _d.Request.Query)
        {
            baseUrl = QueryParameters.With(baseUrl, name, Substitute(value, nango, null, path: false));
        }
        if (paginate.LimitParam is { } limitParam && paginate.Limit is { } limit)
        {
            baseUrl = QueryParameters.With(baseUrl, limitParam, limit.ToString(CultureInfo.InvariantCulture));
        }

        // A checkpoint outlives its run: only this run's own (a continuation or a takeover) is resumed.
        var saved = nango.Checkpoint;
        var resuming = saved is not null && nango.RunId is not null && Text(saved["run"]) == nango.RunId;
        var pages = resuming && saved!["pages"] is JsonValue p && p.TryGetValue<int>(out var n) ? n : 0;
        var latest = resuming ? ParseTime(saved!["checkpoint"], "iso8601") : null;
        var byField = _d.Incremental?.CheckpointField is not null;
        JsonNode? position = resuming && !byField ? saved!["position"]?.DeepClone() : null;

        string? since = null;
        if (_definition.Type == SyncType.Incremental && _d.Incremental is { } incremental)
        {
            if (resuming && !byField && Text(saved!["since"]) is { } savedSince)
            {
                since = savedSince;
            }
            else
            {
                var from = Max(latest, nango.LastSyncDate);
                since = from is null ? null : FormatTime(from.Value, incremental.Format);
            }
            if (since is not null)
            {
                baseUrl = QueryParameters.With(baseUrl, incremental.QueryParam,
                    incremental.Value is { } value ? Substitute(value, nango, since, path: false) : since);
            }
        }

        var positions = new HashSet<string>(StringComparer.Ordinal);
        if (position is not null)
        {
            positions.Add(position.ToJsonString());
        }
        while (true)
        {
            if (pages >= paginate.MaxPages)
            {
                throw new ProviderResponseException("GET", requestPath,
                    $"GET /{requestPath.TrimStart('/')}: sync {Name} reached the limit of {paginate.MaxPages.ToString("N0", CultureInfo.InvariantCulture)} pages per run and stopped.");
            }
            var url = UrlAt(baseUrl, position);
            var page = await ProviderRequests.GetPageAsync(nango.Proxy, url, ct, headers).ConfigureAwait(false);
            pages++;
            var items = _d.Records.Evaluate(page.Body) as JsonArray
                ?? throw page.Problem($"returned no array at '{_d.Records}' (sync {Name}'s records path): {Kind(_d.Records.Evaluate(page.Body), _d.Records.TryEvaluate(page.Body, out _))}");

            var records = new List<JsonObject>(items.Count);
            string? lastId = null;
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i] is not JsonObject item)
                {
                    throw page.Problem($"returned an item that is not an object at '{_d.Records}' (item {i + 1} of the page, sync {Name})");
                }
                lastId = Id(item, page, i);
                if (_byField(item) is { } time && (latest is null || time > latest))
                {
                    latest = time;
                }
                if (!Skip(item))
                {
                    records.Add(Project(item, lastId));
                }
            }
            if (records.Count > 0)
            {
                await nango.BatchSaveAsync(records, _definition.Models[0], ct).ConfigureAwait(false);
            }

            var next = Next(page, items, position, lastId);
            if (next is not null && !positions.Add(next.ToJsonString()))
            {
                throw page.Problem($"gave the same next page ({Describe(next)}) twice: the pagination does not advance (sync {Name})");
            }
            var checkpoint = new JsonObject
            {
                ["run"] = nango.RunId,
                ["pages"] = pages,
                ["since"] = since,
                ["checkpoint"] = latest?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                ["position"] = next?.DeepClone(),
            };
            await nango.SaveCheckpointAsync(checkpoint, ct).ConfigureAwait(false);
            if (next is null)
            {
                return;
            }
            position = next;
        }
    }

    private DateTimeOffset? _byField(JsonObject item) =>
        _d.Incremental?.CheckpointField is { } field ? ParseTime(field.Evaluate(item), _d.Incremental.Format) : null;

    /// <summary>The URL of the page at <paramref name="position"/> (null: the first page).</summary>
    private string UrlAt(string baseUrl, JsonNode? position)
    {
        var p = _d.Paginate;
        switch (p.Type)
        {
            case PaginationType.Link:
                return position is null ? baseUrl : position.GetValue<string>();
            case PaginationType.Cursor:
                return position is null ? baseUrl : QueryParameters.With(baseUrl, p.CursorParam!, position.GetValue<string>());
            case PaginationType.Offset:
                return QueryParameters.With(baseUrl, p.OffsetParam!, (position?.GetValue<long>() ?? p.Start).ToString(CultureInfo.InvariantCulture));
            case PaginationType.Page:
                return QueryParameters.With(baseUrl, p.PageParam!, (position?.GetValue<long>() ?? p.Start).ToString(CultureInfo.InvariantCulture));
            default:
                return baseUrl;
        }
    }

    /// <summary>Where the page after this one is, or null when this was the last.</summary>
    private JsonNode? Next(ProviderRequests.Page page, JsonArray items, JsonNode? position, string? lastId)
    {
        var p = _d.Paginate;
        switch (p.Type)
        {
            case PaginationType.Link:
                var link = LinkHeader.Next(page.Headers);
                if (link is null)
                {
                    return null;
                }
                return Uri.TryCreate(page.RequestUri, link, out var target)
                    ? JsonValue.Create(target.AbsoluteUri)
                    : throw page.Problem($"has a Link header whose next URL is not valid (sync {Name})");
            case PaginationType.Cursor:
                if (p.HasMorePath is not null && !(p.HasMorePath.Evaluate(page.Body) is JsonValue more && more.TryGetValue<bool>(out var hasMore) && hasMore))
                {
                    return null;
                }
                var cursor = p.CursorFromLastRecordId ? lastId : Text(p.CursorPath!.Evaluate(page.Body));
                return string.IsNullOrEmpty(cursor) ? null : JsonValue.Create(cursor);
            case PaginationType.Offset:
                var offset = position?.GetValue<long>() ?? p.Start;
                var nextOffset = offset + items.Count;
                if (items.Count == 0)
                {
                    return null;
                }
                if (p.TotalPath is not null)
                {
                    var total = p.TotalPath.Evaluate(page.Body) is JsonValue t && t.TryGetValue<long>(out var v)
                        ? v
                        : throw page.Problem($"returned no number at '{p.TotalPath}' (sync {Name}'s total_path)");
                    return nextOffset >= total ? null : JsonValue.Create(nextOffset);
                }
                return items.Count < p.Limit ? null : JsonValue.Create(nextOffset);
            case PaginationType.Page:
                return items.Count == 0 ? null : JsonValue.Create((position?.GetValue<long>() ?? p.Start) + 1);
            default:
                return null;
        }
    }

    private string Id(JsonObject item, ProviderRequests.Page page, int index)
    {
        var found = _d.Id.TryEvaluate(item, out var value);
        var id = value is JsonValue v ? (v.TryGetValue<string>(out var s) ? s : v.ToJsonString()) : null;
        return string.IsNullOrEmpty(id)
            ? throw page.Problem($"returned an item without its id field '{_d.Id}' (item {index + 1} of the page, sync {Name}: {(found ? Kind(value, true) : "absent")})")
            : id;
    }

    private bool Skip(JsonObject item)
    {
        if (_d.SkipWhen is not { } skip)
        {
            return false;
        }
        var found = skip.Field.TryEvaluate(item, out var value);
        if (skip.Exists is { } exists)
        {
            return found == exists;
        }
        return found && value is JsonValue v && (v.ToString() == skip.EqualsValue || v.ToJsonString() == skip.EqualsValue);
    }

    private JsonObject Project(JsonObject item, string id)
    {
        JsonObject record;
        if (_d.Fields is null)
        {
            record = item.DeepClone().AsObject();
            record["id"] = id;
            return record;
        }
        record = [];
        if (!_d.Fields.Any(f => f.Key == "id"))
        {
            record["id"] = id;
        }
        foreach (var (name, path) in _d.Fields)
        {
            record[name] = name == "id" ? id : path.Evaluate(item)?.DeepClone();
        }
        return record;
    }

    private string Substitute(Template template, SyncContext nango, string? since, bool path) =>
        Template.Placeholder.Replace(template.Text, match =>
        {
            var placeholder = match.Groups[1].Value;
            string value;
            if (placeholder == "variant")
            {
                value = nango.Variant;
            }
            else if (placeholder == "since")
            {
                value = since ?? "";
            }
            else if (placeholder.StartsWith("env.", StringComparison.Ordinal))
            {
                var name = placeholder["env.".Length..];
                value = nango.EnvironmentVariables.TryGetValue(name, out var env)
                    ? env
                    : throw new SyncConfigurationException($"Sync {Name} needs the environment variable '{name}' ({template.Where}); set SyncHub__EnvironmentVariables__{name}.");
            }
            else
            {
                var key = placeholder["metadata.".Length..];
                _ = JsonPathExpression.TryParse(key, out var keyPath);
                value = Text(keyPath!.Evaluate(nango.Metadata)) is { Length: > 0 } text
                    ? text
                    : throw new SyncConfigurationException($"The connection's metadata '{key}' is missing or empty: sync {Name} needs it ({template.Where}).");
            }
            if (!path)
            {
                return value;
            }
            // In a path a value may name several segments ("owner/name"); each is escaped, and none may climb out.
            return string.Join('/', value.Split('/').Select(segment => segment is "" or "." or ".."
                ? throw new SyncConfigurationException($"Sync {Name}: the value of '${{{placeholder}}}' has an empty, '.' or '..' path segment ({template.Where}).")
                : Uri.EscapeDataString(segment)));
        });

    private static string? Text(JsonNode? node) =>
        node is JsonValue value ? (value.TryGetValue<string>(out var s) ? s : value.ToJsonString()) : null;

    private static string Kind(JsonNode? node, bool found) => !found ? "nothing is there" : node switch
    {
        null => "found null",
        JsonObject => "found an object",
        JsonArray => "found an array",
        _ => "found " + node.GetValueKind().ToString().ToLowerInvariant(),
    };

    private static string Describe(JsonNode next)
    {
        if (next.GetValueKind() != System.Text.Json.JsonValueKind.String)
        {
            return "offset or page " + next.ToJsonString();
        }
        var text = next.GetValue<string>();
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? "next link to " + ProviderRequests.PathOf(uri)
            : "cursor '" + text + "'";
    }

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private static string FormatTime(DateTimeOffset time, string format) => format switch
    {
        "iso8601" => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        "unix" => time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
        "unix_ms" => time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
        _ => time.UtcDateTime.ToString(format, CultureInfo.InvariantCulture),
    };

    /// <summary>A time from JSON: an ISO 8601 string (also with a <c>+0000</c> offset), or a number of seconds (ms for unix_ms).</summary>
    private static DateTimeOffset? ParseTime(JsonNode? node, string format)
    {
        if (node is not JsonValue value)
        {
            return null;
        }
        if (value.TryGetValue<string>(out var text))
        {
            if (DateTimeOffset.TryParse(CompactOffset().Replace(text, "$1:$2"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return parsed;
            }
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? FromNumber(number, format) : null;
        }
        return value.TryGetValue<long>(out var n) ? FromNumber(n, format) : null;
    }

    private static DateTimeOffset FromNumber(long number, string format) =>
        format == "unix_ms" ? DateTimeOffset.FromUnixTimeMilliseconds(number) : DateTimeOffset.FromUnixTimeSeconds(number);

    [GeneratedRegex(@"([+-]\d{2})(\d{2})$")]
    private static partial Regex CompactOffset();
}
