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

    public static bool IsValid(Regex pattern, string value) => value.Length is > 0 and <= MaxLength && pattern.IsMatch(value);
}
