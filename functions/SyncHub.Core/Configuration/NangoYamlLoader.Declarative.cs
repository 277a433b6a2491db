using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace SyncHub.Core.Configuration;

/// <summary>The declarative part of a sync: <c>request</c>, <c>paginate</c>, <c>records</c>, <c>id</c> and the rest.</summary>
public static partial class NangoYamlLoader
{
    private static readonly string[] DeclarativeKeys = ["request", "paginate", "records", "id", "fields", "skip_when", "incremental"];
    private static readonly string[] RequestKeys = ["path", "query", "headers"];
    private static readonly string[] SkipKeys = ["field", "exists", "equals"];
    private static readonly string[] IncrementalKeys = ["query_param", "format", "value", "checkpoint_field"];
    private static readonly string[] TimeFormats = ["iso8601", "unix", "unix_ms"];

    private static readonly Dictionary<PaginationType, string[]> PaginationKeys = new()
    {
        [PaginationType.None] = ["type", "max_pages"],
        [PaginationType.Link] = ["type", "max_pages"],
        [PaginationType.Cursor] = ["type", "max_pages", "cursor_path", "cursor_param", "cursor_from", "has_more_path", "limit_param", "limit"],
        [PaginationType.Offset] = ["type", "max_pages", "offset_param", "limit_param", "limit", "total_path", "start"],
        [PaginationType.Page] = ["type", "max_pages", "page_param", "limit_param", "limit", "start"],
    };

    private static DeclarativeDefinition? ReadDeclarative(
        Reader reader, string where, YamlNode nameNode, YamlMappingNode sync, YamlNode output, List<string> models, SyncType type,
        HashSet<string>? declaredModels)
    {
        var requestNode = reader.Node(sync, "request");
        if (requestNode is null)
        {
            foreach (var key in DeclarativeKeys)
            {
                if (reader.Node(sync, key) is not null)
                {
                    throw reader.Error(sync.Children.Keys.First(k => reader.Scalar(k) == key),
                        $"{where}: '{key}' belongs to a declarative sync, which needs a 'request' block.");
                }
            }
            return null;
        }
        if (models.Count != 1)
        {
            throw reader.Error(output, $"{where}: a declarative sync writes one model; output names {models.Count}.");
        }
        if (declaredModels is null || !declaredModels.Contains(models[0]))
        {
            throw reader.Error(output, $"{where}: output model '{models[0]}' is not declared under 'models'.");
        }

        var request = reader.AsMapping(requestNode, $"{where}: request");
        reader.OnlyKeys(request, RequestKeys, $"{where}: request");
        var pathNode = reader.Node(request, "path") ?? throw reader.Error(request, $"{where}: request needs 'path' (relative to base_url).");
        var path = ReadTemplate(reader, where, pathNode, allowSince: false);
        var query = ReadPairs(reader, where, request, "query");
        var headers = ReadPairs(reader, where, request, "headers");

        var paginate = ReadPagination(reader, where, reader.Node(sync, "paginate"));

        var records = ReadPath(reader, where, reader.Node(sync, "records"), "records") ?? Parsed("$");
        var id = ReadPath(reader, where, reader.Node(sync, "id"), "id") ?? Parsed("id");
        if (paginate.CursorFromLastRecordId && paginate.CursorPath is not null)
        {
            throw reader.Error(reader.Node(sync, "paginate")!, $"{where}: paginate has both cursor_path and cursor_from; give one.");
        }

        List<KeyValuePair<string, JsonPathExpression>>? fields = null;
        if (reader.Node(sync, "fields") is { } fieldsNode)
        {
            fields = [];
            foreach (var (keyNode, valueNode) in reader.AsMapping(fieldsNode, $"{where}: fields").Children)
            {
                var name = reader.Scalar(keyNode);
                fields.Add(new(name, ReadPath(reader, where, valueNode, $"fields.{name}")!));
            }
        }

        DeclarativeSkip? skip = null;
        if (reader.Node(sync, "skip_when") is { } skipNode)
        {
            var mapping = reader.AsMapping(skipNode, $"{where}: skip_when");
            reader.OnlyKeys(mapping, SkipKeys, $"{where}: skip_when");
            var field = ReadPath(reader, where, reader.Node(mapping, "field"), "skip_when.field")
                ?? throw reader.Error(skipNode, $"{where}: skip_when needs 'field'.");
            var exists = reader.Boolean(mapping, "exists");
            var equals = reader.String(mapping, "equals");
            if ((exists is null) == (equals is null))
            {
                throw reader.Error(skipNode, $"{where}: skip_when needs one of 'exists' (true or false) or 'equals'.");
            }
            skip = new DeclarativeSkip(field, exists, equals);
        }

        DeclarativeIncremental? incremental = null;
        if (reader.Node(sync, "incremental") is { } incrementalNode)
        {
            if (type != SyncType.Incremental)
            {
                throw reader.Error(incrementalNode, $"{where}: 'incremental' needs sync_type: incremental.");
            }
            var mapping = reader.AsMapping(incrementalNode, $"{where}: incremental");
            reader.OnlyKeys(mapping, IncrementalKeys, $"{where}: incremental");
            var param = reader.String(mapping, "query_param") ?? throw reader.Error(incrementalNode, $"{where}: incremental needs 'query_param'.");
            var format = reader.String(mapping, "format") ?? "iso8601";
            if (!TimeFormats.Contains(format) && !IsDatePattern(format))
            {
                throw reader.Error(reader.Node(mapping, "format")!,
                    $"{where}: incremental.format must be one of {string.Join(", ", TimeFormats)} or a date pattern such as 'yyyy-MM-dd HH:mm'.");
            }
            var value = reader.Node(mapping, "value") is { } valueNode ? ReadTemplate(reader, where, valueNode, allowSince: true) : null;
            if (value is not null && !value.Placeholders.Contains("since"))
            {
                throw reader.Error(reader.Node(mapping, "value")!, $"{where}: incremental.value must use ${{since}}.");
            }
            var checkpoint = ReadPath(reader, where, reader.Node(mapping, "checkpoint_field"), "incremental.checkpoint_field");
            incremental = new DeclarativeIncremental(param, format, value, checkpoint);
        }
        else if (type == SyncType.Incremental)
        {
            throw reader.Error(nameNode, $"{where}: a declarative incremental sync needs an 'incremental' block (query_param, format).");
        }

        return new DeclarativeDefinition(new DeclarativeRequest(path, query, headers), paginate, records, id, fields, skip, incremental, reader.Where(requestNode));
    }

    private static bool IsDatePattern(string format)
    {
        if (!format.Contains("yyyy", StringComparison.Ordinal))
        {
            return false;
        }
        try
        {
            _ = DateTimeOffset.UnixEpoch.ToString(format, CultureInfo.InvariantCulture);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static JsonPathExpression Parsed(string text) => JsonPathExpression.TryParse(text, out var path) ? path! : throw new InvalidOperationException(text);

    private static JsonPathExpression? ReadPath(Reader reader, string where, YamlNode? node, string what)
    {
        if (node is null)
        {
            return null;
        }
        var text = reader.Scalar(node);
        return JsonPathExpression.TryParse(text, out var path)
            ? path
            : throw reader.Error(node, $"{where}: {what} '{text}' is not a supported path: $, $.a.b, $.a[*] or a.b.");
    }

    private static List<KeyValuePair<string, Template>> ReadPairs(Reader reader, string where, YamlMappingNode request, string key)
    {
        var pairs = new List<KeyValuePair<string, Template>>();
        if (reader.Node(request, key) is { } node)
        {
            foreach (var (name, value) in reader.AsMapping(node, $"{where}: request.{key}").Children)
            {
                pairs.Add(new(reader.Scalar(name), ReadTemplate(reader, where, value, allowSince: false)));
            }
        }
        return pairs;
    }

    private static Template ReadTemplate(Reader reader, string where, YamlNode node, bool allowSince)
    {
        var template = new Template(reader.Scalar(node), reader.Where(node));
        foreach (var placeholder in template.Placeholders)
        {
            var valid = placeholder == "variant"
                || (allowSince && placeholder == "since")
                || (placeholder.StartsWith("metadata.", StringComparison.Ordinal) && JsonPathExpression.TryParse(placeholder["metadata.".Length..], out _))
                || (placeholder.StartsWith("env.", StringComparison.Ordinal) && placeholder.Length > "env.".Length);
            if (!valid)
            {
                throw reader.Error(node,
                    $"{where}: unknown substitution '${{{placeholder}}}'; expected ${{metadata.<key>}}, ${{variant}}, ${{env.<NAME>}}{(allowSince ? " or ${since}" : "")}.");
            }
        }
        return template;
    }

    private static DeclarativePagination ReadPagination(Reader reader, string where, YamlNode? node)
    {
        if (node is null)
        {
            return new DeclarativePagination(PaginationType.None);
        }
        var mapping = reader.AsMapping(node, $"{where}: paginate");
        var typeText = reader.String(mapping, "type") ?? throw reader.Error(node, $"{where}: paginate needs 'type' (link, cursor, offset or page).");
        var type = typeText switch
        {
            "link" => PaginationType.Link,
            "cursor" => PaginationType.Cursor,
            "offset" => PaginationType.Offset,
            "page" => PaginationType.Page,
            "none" => PaginationType.None,
            _ => throw reader.Error(reader.Node(mapping, "type")!, $"{where}: paginate.type must be link, cursor, offset, page or none."),
        };
        reader.OnlyKeys(mapping, PaginationKeys[type], $"{where}: paginate (type {typeText})");
        int? Int(string key, int min, int max)
        {
            if (reader.String(mapping, key) is not { } text)
            {
                return null;
            }
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
                ? n
                : throw reader.Error(reader.Node(mapping, key)!, $"{where}: paginate.{key} must be a whole number from {min} to {max}.");
        }
        string Required(string key) => reader.String(mapping, key) ?? throw reader.Error(node, $"{where}: paginate (type {typeText}) needs '{key}'.");

        var pagination = new DeclarativePagination(type) { MaxPages = Int("max_pages", 1, DeclarativePagination.DefaultMaxPages) ?? DeclarativePagination.DefaultMaxPages };
        switch (type)
        {
            case PaginationType.Cursor:
                var from = reader.String(mapping, "cursor_from");
                if (from is not null and not "last_record_id")
                {
                    throw reader.Error(reader.Node(mapping, "cursor_from")!, $"{where}: paginate.cursor_from must be last_record_id.");
                }
                var cursorPath = ReadPath(reader, where, reader.Node(mapping, "cursor_path"), "paginate.cursor_path");
                if (cursorPath is null && from is null)
                {
                    throw reader.Error(node, $"{where}: paginate (type cursor) needs 'cursor_path' (e.g. $.paging.next.after) or 'cursor_from: last_record_id'.");
                }
                return pagination with
                {
                    CursorPath = cursorPath,
                    CursorFromLastRecordId = from is not null,
                    CursorParam = Required("cursor_param"),
                    HasMorePath = ReadPath(reader, where, reader.Node(mapping, "has_more_path"), "paginate.has_more_path"),
                    LimitParam = reader.String(mapping, "limit_param"),
                    Limit = Int("limit", 1, 100_000),
                };
            case PaginationType.Offset:
                return pagination with
                {
                    OffsetParam = Required("offset_param"),
                    LimitParam = Required("limit_param"),
                    Limit = Int("limit", 1, 100_000) ?? throw reader.Error(node, $"{where}: paginate (type offset) needs 'limit'."),
                    TotalPath = ReadPath(reader, where, reader.Node(mapping, "total_path"), "paginate.total_path"),
                    Start = Int("start", 0, int.MaxValue) ?? 0,
                };
            case PaginationType.Page:
                return pagination with
                {
                    PageParam = Required("page_param"),
                    LimitParam = reader.String(mapping, "limit_param"),
                    Limit = Int("limit", 1, 100_000),
                    Start = Int("start", 0, int.MaxValue) ?? 1,
                };
            default:
                return pagination;
        }
    }
}
