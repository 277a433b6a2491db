using System.Globalization;
using System.Text.RegularExpressions;

namespace SyncHub.Core.Model;

/// <summary>
/// The API's timestamps: ISO 8601 UTC with 100 ns precision out (<c>2026-11-26T10:00:00.1234567+00:00</c>), and
/// in, every form the API emits or a client plausibly sends (Z or an offset, 0 to 9 fractional digits, or a date).
/// </summary>
public static partial class RecordTimestamps
{
    [GeneratedRegex(@"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?)?$", RegexOptions.IgnoreCase)]
    private static partial Regex Iso8601();

    public static string Format(long ticks) =>
        new DateTime(ticks, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'+00:00'", CultureInfo.InvariantCulture);

    /// <summary>
    /// Parses to UTC ticks. More than 7 fractional digits round up to the next tick, so an inclusive
    /// <c>modified_after</c> never takes in a record from before it. A time without an offset is refused:
    /// it would be ambiguous.
    /// </summary>
    public static bool TryParse(string? text, out long ticks, out string error)
    {
        ticks = 0;
        error = "";
        var match = Iso8601().Match(text?.Trim() ?? "");
        if (!match.Success)
        {
            error = "must be an ISO 8601 timestamp such as 2026-11-26T10:00:00.123456Z";
            return false;
        }
        var hasTime = match.Groups[2].Success;
        if (hasTime && !match.Groups[4].Success)
        {
            error = "must include a time zone (Z or an offset such as +00:00)";
            return false;
        }
        var time = hasTime ? match.Groups[2].Value : "00:00:00";
        if (time.Length == 5)
        {
            time += ":00";
        }
        var offset = match.Groups[4].Success ? match.Groups[4].Value.ToUpperInvariant() : "Z";
        if (offset != "Z" && offset.Length == 5)
        {
            offset = offset[..3] + ":" + offset[3..];
        }
        if (!DateTimeOffset.TryParseExact($"{match.Groups[1].Value}T{time}{(offset == "Z" ? "+00:00" : offset)}",
                "yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            error = "is not a valid date and time";
            return false;
        }
        var fraction = match.Groups[3].Success ? match.Groups[3].Value : "";
        long extra = 0;
        if (fraction.Length > 0)
        {
            var seven = fraction.PadRight(7, '0')[..7];
            extra = long.Parse(seven, CultureInfo.InvariantCulture);
            if (fraction.Length > 7 && fraction[7..].Any(c => c != '0'))
            {
                extra += 1;
            }
        }
        ticks = parsed.UtcTicks + extra;
        return true;
    }
}
