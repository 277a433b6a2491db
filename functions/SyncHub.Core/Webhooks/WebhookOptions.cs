using System.Globalization;
using SyncHub.Core.Configuration;

namespace SyncHub.Core.Webhooks;

/// <summary>
/// Outgoing webhooks (<c>SyncHub__Webhooks__*</c>), as Nango's environment webhook settings. No URL: nothing is sent
/// and nothing is queued.
/// </summary>
public sealed class WebhookOptions
{
    public const string Section = "SyncHub:Webhooks";

    /// <summary>The queue of delivery messages (app setting <c>SyncHubWebhookQueue</c>, default <c>webhooks</c>); the queue trigger reads the same setting.</summary>
    public const string QueueSetting = "SyncHubWebhookQueue";

    public const string DefaultQueue = Storage.StorageNames.WebhooksQueue;

    public static readonly IReadOnlyList<TimeSpan> DefaultRetryDelays =
        [TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2)];

    public string? PrimaryUrl { get; set; }
    public string? SecondaryUrl { get; set; }

    /// <summary>The HMAC key; the first of <c>SyncHub__SecretKeys</c> when unset (as Nango signs with the secret key).</summary>
    public string? SigningKey { get; set; }

    /// <summary>Send a success webhook for every model after every successful run, not only for models with changes.</summary>
    public bool OnSyncCompletionAlways { get; set; }

    public bool OnSyncError { get; set; } = true;
    public bool OnAuthCreation { get; set; }

    /// <summary>Waits between attempts, comma-separated (<c>10s,1m,5m,30m,2h</c>; units ms, s, m, h). One attempt more than delays.</summary>
    public string? RetryDelays { get; set; }

    /// <summary>One POST may take this long (default 20 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(20);

    public string Queue { get; set; } = DefaultQueue;

    public IReadOnlyList<Uri> Urls() =>
        new[] { PrimaryUrl, SecondaryUrl }.Where(u => !string.IsNullOrWhiteSpace(u)).Select(u => new Uri(u!.Trim(), UriKind.Absolute)).Distinct().ToArray();

    public bool Enabled => !string.IsNullOrWhiteSpace(PrimaryUrl) || !string.IsNullOrWhiteSpace(SecondaryUrl);

    public IReadOnlyList<TimeSpan> Delays()
    {
        if (string.IsNullOrWhiteSpace(RetryDelays))
        {
            return DefaultRetryDelays;
        }
        return RetryDelays.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseDelay).ToArray();
    }

    public string ResolvedSigningKey(SyncHubOptions hub) =>
        !string.IsNullOrEmpty(SigningKey) ? SigningKey : hub.ParsedSecretKeys().FirstOrDefault() ?? "";

    /// <summary>Problems that must stop start-up, each naming its setting; never echoes a secret.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var (name, value) in new[] { ("PrimaryUrl", PrimaryUrl), ("SecondaryUrl", SecondaryUrl) })
        {
            if (!string.IsNullOrWhiteSpace(value) && !(Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            {
                yield return $"SyncHub__Webhooks__{name} must be an absolute http or https URL.";
            }
        }
        string? problem = null;
        try
        {
            if (Delays().Any(d => d < TimeSpan.Zero || d > TimeSpan.FromDays(6)))
            {
                problem = "SyncHub__Webhooks__RetryDelays: each delay must be between 0 and 6 days (the queue's visibility limit is 7).";
            }
        }
        catch (FormatException)
        {
            problem = "SyncHub__Webhooks__RetryDelays must be comma-separated durations such as 10s,1m,5m,30m,2h (units ms, s, m, h).";
        }
        if (problem is not null)
        {
            yield return problem;
        }
    }

    private static TimeSpan ParseDelay(string text)
    {
        (string Suffix, double Scale)[] units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];
        foreach (var (suffix, scale) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && !(suffix == "s" && text.EndsWith("ms", StringComparison.OrdinalIgnoreCase)))
            {
                return TimeSpan.FromMilliseconds(value * scale);
            }
        }
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
        {
            return span;
        }
        throw new FormatException($"'{text}' is not a duration");
    }
}

/// <summary>Start-up validation of the webhook settings (<see cref="WebhookOptions.Problems"/>), each naming its setting.</summary>
public sealed class WebhookOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<WebhookOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? Microsoft.Extensions.Options.ValidateOptionsResult.Success : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(problems);
    }
}
