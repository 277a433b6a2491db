using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Polly.Timeout;

namespace SyncHub.Core.Sdk;

/// <summary>
/// JSON GETs and pagination for syncs, over the Proxy client (or any HttpClient). Each helper yields each page's whole
/// JSON document as it arrives; the sync picks its items. URLs may be relative (to the Proxy's base URL) or absolute.
/// Errors: a non-success status (after the Proxy's retries) throws <see cref="ProviderRequestException"/>, no response
/// at all too (StatusCode null); a success whose body is not JSON, or pagination that loops, throws
/// <see cref="ProviderResponseException"/>. Cancellation throws <see cref="OperationCanceledException"/>.
/// </summary>
public static class Pagination
{
    /// <summary>GETs <paramref name="url"/> and parses its JSON body (Accept: application/json unless the client sets an Accept).</summary>
    public static async Task<(JsonNode Body, HttpResponseHeaders Headers)> GetJsonAsync(this HttpClient client, string url, CancellationToken ct = default)
    {
        var page = await ProviderRequests.GetPageAsync(client, url, ct).ConfigureAwait(false);
        return (page.Body, page.Headers);
    }

    /// <summary>
    /// Follows <c>Link: &lt;url&gt;; rel="next"</c> (RFC 8288; a relative target is resolved against the page's URL) until
    /// a page has no next link. GitHub, GitLab and many others.
    /// </summary>
    public static async IAsyncEnumerable<JsonNode> LinkHeaderAsync(this HttpClient client, string url, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var fetched = new HashSet<string>(StringComparer.Ordinal);
        var next = url;
        while (true)
        {
            var page = await ProviderRequests.GetPageAsync(client, next, ct).ConfigureAwait(false);
            fetched.Add(page.RequestUri.AbsoluteUri);
            var link = LinkHeader.Next(page.Headers);
            Uri? target = null;
            if (link is not null && !Uri.TryCreate(page.RequestUri, link, out target))
            {
                throw page.Problem("has a Link header whose next URL is not valid");
            }
            yield return page.Body;
            if (target is null)
            {
                yield break;
            }
            if (fetched.Contains(target.AbsoluteUri))
            {
                throw page.Problem("has a Link header whose next page was already fetched: the pagination loops");
            }
            next = target.AbsoluteUri;
        }
    }

    /// <summary>
    /// Cursor pagination: after each page, <paramref name="nextCursor"/> reads the next cursor from it (null or empty: the
    /// last page) and the next request is <paramref name="url"/> with <paramref name="cursorParameter"/> set to it (added,
    /// or replacing the one in the URL).
    /// </summary>
    public static async IAsyncEnumerable<JsonNode> CursorAsync(
        this HttpClient client, string url, string cursorParameter, Func<JsonNode, string?> nextCursor,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(cursorParameter);
        ArgumentNullException.ThrowIfNull(nextCursor);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var next = url;
        while (true)
        {
            var page = await ProviderRequests.GetPageAsync(client, next, ct).ConfigureAwait(false);
            // Read before yielding: the sync may change the page.
            var cursor = nextCursor(page.Body);
            yield return page.Body;
            if (string.IsNullOrEmpty(cursor))
            {
                yield break;
            }
            if (!seen.Add(cursor))
            {
                throw page.Problem("gave a cursor it had already given: the pagination loops");
            }
            next = QueryParameters.With(url, cursorParameter, cursor);
        }
    }

    /// <summary>
    /// Offset pagination: requests <paramref name="url"/> with <paramref name="limitParameter"/> = <paramref name="limit"/>
    /// and <paramref name="offsetParameter"/> = 0 (or the offset already in the URL), then advances the offset by the
    /// number of items <paramref name="items"/> finds in each page, and stops after a page with fewer than
    /// <paramref name="limit"/> items. <paramref name="items"/> returning null (no items array: not the expected shape)
    /// throws <see cref="ProviderResponseException"/>; return an empty array for an empty page.
    /// </summary>
    public static async IAsyncEnumerable<JsonNode> OffsetAsync(
        this HttpClient client, string url, string offsetParameter, string limitParameter, int limit, Func<JsonNode, JsonArray?> items,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(offsetParameter);
        ArgumentException.ThrowIfNullOrEmpty(limitParameter);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        ArgumentNullException.ThrowIfNull(items);
        var offset = long.TryParse(QueryParameters.Get(url, offsetParameter), NumberStyles.None, CultureInfo.InvariantCulture, out var start) ? start : 0;
        var withLimit = QueryParameters.With(url, limitParameter, limit.ToString(CultureInfo.InvariantCulture));
        while (true)
        {
            var page = await ProviderRequests.GetPageAsync(
                client, QueryParameters.With(withLimit, offsetParameter, offset.ToString(CultureInfo.InvariantCulture)), ct).ConfigureAwait(false);
            var count = (items(page.Body) ?? throw page.Problem("has no items array where the sync expected one")).Count;
            yield return page.Body;
            if (count < limit)
            {
                yield break;
            }
            offset += count;
        }
    }
}

/// <summary>The JSON GET behind <see cref="Pagination"/>, and what its error messages say about a request.</summary>
internal static class ProviderRequests
{
    internal sealed record Page(JsonNode Body, HttpResponseHeaders Headers, Uri RequestUri, string Method)
    {
        public ProviderResponseException Problem(string what)
        {
            var path = PathOf(RequestUri);
            return new ProviderResponseException(Method, path, $"{Method} {path} {what}");
        }
    }

    /// <summary>The path of a URL, never its query string (it may hold secrets) nor fragment.</summary>
    public static string PathOf(Uri? uri)
    {
        if (uri is null)
        {
            return "/";
        }
        if (uri.IsAbsoluteUri)
        {
            return uri.AbsolutePath;
        }
        var text = uri.OriginalString;
        var end = text.IndexOfAny(['?', '#']);
        return end < 0 ? text : text[..end];
    }

    public static async Task<Page> GetPageAsync(HttpClient client, string url, CancellationToken ct, IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(url);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url, UriKind.RelativeOrAbsolute));
        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }
        if (client.DefaultRequestHeaders.Accept.Count == 0 && request.Headers.Accept.Count == 0)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        }
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (TimeoutRejectedException ex)
        {
            throw ProviderRequestException.NoResponse(request, "got no response in time: " + ex.Message, ex);
        }
        catch (TaskCanceledException ex)
        {
            throw ProviderRequestException.NoResponse(request, $"got no response within the client's timeout ({client.Timeout.TotalSeconds:0} s)", ex);
        }
        catch (HttpRequestException ex) when (ex is not ProviderRequestException)
        {
            throw ProviderRequestException.NoResponse(request, "failed: " + ex.Message, ex);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw ProviderRequestException.FromResponse(response, request);
            }
            var requestUri = response.RequestMessage?.RequestUri ?? request.RequestUri!;
            var method = request.Method.Method;
            var body = await ParseAsync(response, ct).ConfigureAwait(false);
            if (body is null)
            {
                var path = PathOf(requestUri);
                throw new ProviderResponseException(method, path, $"{method} {path} returned an empty body or JSON null where a JSON document was expected");
            }
            return new Page(body, response.Headers, requestUri, method);
        }
    }

    private static async Task<JsonNode?> ParseAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var charset = response.Content.Headers.ContentType?.CharSet?.Trim('"', ' ');
        try
        {
            if (charset is null || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            {
                var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
                var json = bytes.AsSpan();
                if (json.StartsWith(Encoding.UTF8.Preamble))
                {
                    json = json[Encoding.UTF8.Preamble.Length..];
                }
                return json.Trim(" \t\r\n"u8).IsEmpty ? null : JsonNode.Parse(json);
            }
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            return string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text);
        }
        catch (JsonException ex)
        {
            // Never the exception itself nor its message: it quotes the body.
            var method = response.RequestMessage?.Method.Method ?? "GET";
            var path = PathOf(response.RequestMessage?.RequestUri);
            var contentType = response.Content.Headers.ContentType?.MediaType ?? "none";
            var where = ex.LineNumber is { } line
                ? $", line {(line + 1).ToString(CultureInfo.InvariantCulture)}, byte {(ex.BytePositionInLine ?? 0).ToString(CultureInfo.InvariantCulture)}"
                : "";
            throw new ProviderResponseException(method, path, $"{method} {path} returned a body that is not valid JSON (content type {contentType}{where})");
        }
    }
}

/// <summary>RFC 8288 <c>Link</c> header parsing: several links, quoted or bare parameters, several relation types.</summary>
internal static class LinkHeader
{
    /// <summary>The target of the first link with relation type <c>next</c> in any of the Link headers, or null.</summary>
    public static string? Next(HttpResponseHeaders headers) =>
        headers.TryGetValues("Link", out var values)
            ? values.SelectMany(Parse).FirstOrDefault(l => HasRel(l.Rel, "next")).Target
            : null;

    public static bool HasRel(string? rel, string type) =>
        rel is not null && rel.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Contains(type, StringComparer.OrdinalIgnoreCase);

    /// <summary>Each <c>&lt;target&gt;; params</c> of one header value, with its (first) <c>rel</c>. Malformed parts are skipped.</summary>
    public static IEnumerable<(string Target, string? Rel)> Parse(string value)
    {
        var s = value;
        var i = 0;
        while (i < s.Length)
        {
            while (i < s.Length && (s[i] == ',' || char.IsWhiteSpace(s[i])))
            {
                i++;
            }
            if (i >= s.Length)
            {
                yield break;
            }
            if (s[i] != '<')
            {
                i = SkipToComma(s, i);
                continue;
            }
            var close = s.IndexOf('>', i + 1);
            if (close < 0)
            {
                yield break;
            }
            var target = s[(i + 1)..close].Trim();
            i = close + 1;
            string? rel = null;
            while (true)
            {
                i = SkipSpaces(s, i);
                if (i >= s.Length || s[i] == ',')
                {
                    break;
                }
                if (s[i] != ';')
                {
                    i = SkipToComma(s, i);
                    break;
                }
                i = SkipSpaces(s, i + 1);
                var nameStart = i;
                while (i < s.Length && s[i] is not ('=' or ';' or ',') && !char.IsWhiteSpace(s[i]))
                {
                    i++;
                }
                var name = s[nameStart..i];
                i = SkipSpaces(s, i);
                string? paramValue = null;
                if (i < s.Length && s[i] == '=')
                {
                    i = SkipSpaces(s, i + 1);
                    if (i < s.Length && s[i] == '"')
                    {
                        var text = new StringBuilder();
                        i++;
                        while (i < s.Length && s[i] != '"')
                        {
                            if (s[i] == '\\' && i + 1 < s.Length)
                            {
                                i++;
                            }
                            text.Append(s[i]);
                            i++;
                        }
                        i = Math.Min(i + 1, s.Length);
                        paramValue = text.ToString();
                    }
                    else
                    {
                        var valueStart = i;
                        while (i < s.Length && s[i] is not (';' or ',') && !char.IsWhiteSpace(s[i]))
                        {
                            i++;
                        }
                        paramValue = s[valueStart..i];
                    }
                }
                if (rel is null && name.Equals("rel", StringComparison.OrdinalIgnoreCase))
                {
                    rel = paramValue;
                }
            }
            yield return (target, rel);
        }
    }

    private static int SkipSpaces(string s, int i)
    {
        while (i < s.Length && char.IsWhiteSpace(s[i]))
        {
            i++;
        }
        return i;
    }

    private static int SkipToComma(string s, int i)
    {
        var quoted = false;
        for (; i < s.Length; i++)
        {
            if (s[i] == '"')
            {
                quoted = !quoted;
            }
            else if (s[i] == ',' && !quoted)
            {
                return i;
            }
        }
        return i;
    }
}

/// <summary>Reads and sets one query parameter of a relative or absolute URL string, keeping the rest as it was written.</summary>
internal static class QueryParameters
{
    public static string? Get(string url, string name)
    {
        var (_, query, _) = Split(url);
        foreach (var part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (Decode(eq < 0 ? part : part[..eq]) == name)
            {
                return eq < 0 ? "" : Decode(part[(eq + 1)..]);
            }
        }
        return null;
    }

    /// <summary>The URL with <paramref name="name"/>=<paramref name="value"/>: replacing the first occurrence (later ones removed), or appended.</summary>
    public static string With(string url, string name, string value)
    {
        var (path, query, fragment) = Split(url);
        var pair = Uri.EscapeDataString(name) + "=" + Uri.EscapeDataString(value);
        var parts = new List<string>();
        var placed = false;
        foreach (var part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (Decode(eq < 0 ? part : part[..eq]) != name)
            {
                parts.Add(part);
            }
            else if (!placed)
            {
                parts.Add(pair);
                placed = true;
            }
        }
        if (!placed)
        {
            parts.Add(pair);
        }
        return path + "?" + string.Join('&', parts) + fragment;
    }

    private static (string Path, string Query, string Fragment) Split(string url)
    {
        var hash = url.IndexOf('#');
        var fragment = hash < 0 ? "" : url[hash..];
        var rest = hash < 0 ? url : url[..hash];
        var q = rest.IndexOf('?');
        return q < 0 ? (rest, "", fragment) : (rest[..q], rest[(q + 1)..], fragment);
    }

    private static string Decode(string component) => Uri.UnescapeDataString(component.Replace('+', ' '));
}
