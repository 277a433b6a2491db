using System.Globalization;
using System.Text.RegularExpressions;

namespace SyncHub.Core.Model;

/// <summary>
/// A sync frequency in Nango's grammar (<c>every 30 minutes</c>, <c>1h</c>, <c>every half day</c>, ...), normalised to
/// one canonical text (<c>every 30 minutes</c>, <c>every hour</c>) so status and the frequency endpoint agree.
/// </summary>
public sealed partial record Frequency(TimeSpan Interval, string Text)
{
    public static readonly TimeSpan Minimum = TimeSpan.FromSeconds(30);

    [GeneratedRegex(@"^(every )?(([0-9]+)?\s?(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)|(month|week|half day|half hour|quarter hour))\z", RegexOptions.IgnoreCase)]
    private static partial Regex Grammar();

    public static bool TryParse(string? text, out Frequency frequency, out string error)
    {
        frequency = null!;
        var trimmed = text?.Trim() ?? "";
        var match = Grammar().Match(trimmed);
        if (!match.Success)
        {
            error = $"'{Truncate(trimmed)}' is not a frequency; use forms such as 'every 30 minutes', 'every 2 hours', 'every day', '30m' or '1h'.";
            return false;
        }
        TimeSpan interval;
        if (match.Groups[5].Success)
        {
            interval = match.Groups[5].Value.ToLowerInvariant() switch
            {
                "month" => TimeSpan.FromDays(30),
                "week" => TimeSpan.FromDays(7),
                "half day" => TimeSpan.FromHours(12),
                "half hour" => TimeSpan.FromMinutes(30),
                _ => TimeSpan.FromMinutes(15),
            };
        }
        else
        {
            long count = 1;
            if (match.Groups[3].Success && !long.TryParse(match.Groups[3].Value, NumberStyles.None, CultureInfo.InvariantCulture, out count))
            {
                error = $"'{Truncate(trimmed)}' is too large a frequency.";
                return false;
            }
            var unit = match.Groups[4].Value.ToLowerInvariant()[0] switch
            {
                's' => TimeSpan.FromSeconds(1),
                'm' => TimeSpan.FromMinutes(1),
                'h' => TimeSpan.FromHours(1),
                _ => TimeSpan.FromDays(1),
            };
            if (count > TimeSpan.FromDays(3650).Ticks / unit.Ticks)
            {
                error = $"'{Truncate(trimmed)}' is longer than the maximum frequency of 3650 days.";
                return false;
            }
            interval = unit * count;
        }
        if (interval < Minimum)
        {
            error = $"'{Truncate(trimmed)}' is shorter than the minimum frequency of 30 seconds.";
            return false;
        }
        frequency = new Frequency(interval, Canonical(interval));
        error = "";
        return true;
    }

    public static Frequency Parse(string text) =>
        TryParse(text, out var frequency, out var error) ? frequency : throw new FormatException(error);

    private static string Canonical(TimeSpan interval)
    {
        (long seconds, string unit)[] units = [(86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")];
        var total = (long)interval.TotalSeconds;
        foreach (var (seconds, unit) in units)
        {
            if (total % seconds == 0)
            {
                var count = total / seconds;
                return count == 1 ? $"every {unit}" : $"every {count} {unit}s";
            }
        }
        return $"every {total} seconds";
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "...";

    public override string ToString() => Text;
}
