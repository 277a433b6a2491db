using System.Text.RegularExpressions;

namespace SyncHub.Core.Model;

/// <summary>
/// The name rules of API.md, validated wherever a name appears (query, body, path, config). The patterns end in
/// <c>\z</c>, not <c>$</c>: .NET's <c>$</c> also matches before a final newline, so <c>"issues\n"</c> would pass.
/// </summary>
public static partial class Names
{
    public const int MaxLength = 255;

    [GeneratedRegex("""^[a-zA-Z0-9,.;:=+~\[\]|@${}"'\\/_ -]+\z""")]
    public static partial Regex ConnectionId();

    [GeneratedRegex(@"^[a-zA-Z0-9~:.@ _-]+\z")]
    public static partial Regex ProviderConfigKey();

    [GeneratedRegex(@"^[A-Z][a-zA-Z0-9_-]+\z")]
    public static partial Regex Model();

    [GeneratedRegex(@"^[a-zA-Z0-9_-]+\z")]
    public static partial Regex SyncName();

    /// <summary>A secret key: a UUID v4 (any case).</summary>
    [GeneratedRegex(@"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z", RegexOptions.IgnoreCase)]
    public static partial Regex SecretKey();

    public static bool IsValid(Regex pattern, string value) => value.Length is > 0 and <= MaxLength && pattern.IsMatch(value);
}
