using SyncHub.Core.Model;

namespace SyncHub.Core.Configuration;

/// <summary>
/// The <c>SyncHub__*</c> settings (app settings in Azure, <c>Values</c> in local.settings.json). The names are a
/// contract with deployments and external tooling: keep them.
/// </summary>
public sealed class SyncHubOptions
{
    public const string Section = "SyncHub";

    /// <summary><c>SyncHub__SecretKeys</c>: comma-separated UUID v4s accepted as Bearer keys.</summary>
    public string SecretKeys { get; set; } = "";

    /// <summary><c>SyncHub__EncryptionKey</c>: base64 of 32 bytes, the AES-256-GCM key for credentials at rest.</summary>
    public string EncryptionKey { get; set; } = "";

    /// <summary><c>SyncHub__ConfigPath</c>: the nango.yaml to load; default the one shipped next to the app.</summary>
    public string? ConfigPath { get; set; }

    /// <summary><c>SyncHub__EnvironmentVariables__NAME</c>: what syncs see as environment variables.</summary>
    public Dictionary<string, string> EnvironmentVariables { get; set; } = new(StringComparer.Ordinal);

    public IReadOnlyList<string> ParsedSecretKeys() =>
        (SecretKeys ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(k => k.ToLowerInvariant())
            .ToArray();

    public string ResolvedConfigPath() =>
        string.IsNullOrWhiteSpace(ConfigPath) ? Path.Combine(AppContext.BaseDirectory, "nango.yaml") : Path.GetFullPath(ConfigPath);

    /// <summary>What an app setting holds when App Service could not resolve its Key Vault reference.</summary>
    public const string KeyVaultReferencePrefix = "@Microsoft.KeyVault(";

    /// <summary>
    /// The problem of a setting whose value is still a literal <c>@Microsoft.KeyVault(...)</c> reference, or null. Names
    /// the setting, never the value.
    /// </summary>
    public static string? UnresolvedKeyVaultReference(string setting, string? value) =>
        value is not null && value.TrimStart().StartsWith(KeyVaultReferencePrefix, StringComparison.OrdinalIgnoreCase)
            ? $"{setting} is a Key Vault reference that was not resolved: the app's identity may not have its role on the " +
              "vault yet (role assignments take a few minutes to propagate) or the secret does not exist yet; restart the app " +
              "(az functionapp restart) once it has."
            : null;

    /// <summary>Problems that must stop start-up, each naming its setting. Never echoes a secret.</summary>
    public IEnumerable<string> Problems()
    {
        var unresolved = false;
        foreach (var (setting, value) in SettingValues())
        {
            if (UnresolvedKeyVaultReference(setting, value) is { } problem)
            {
                unresolved = true;
                yield return problem;
            }
        }
        if (unresolved)
        {
            // The values are references, not keys: checking their format would only add misleading problems.
            yield break;
        }
        var keys = ParsedSecretKeys();
        if (keys.Count == 0)
        {
            yield return "SyncHub__SecretKeys is empty: set it to one or more comma-separated UUID v4 secret keys.";
        }
        for (var i = 0; i < keys.Count; i++)
        {
            if (!Names.SecretKey().IsMatch(keys[i]))
            {
                yield return $"SyncHub__SecretKeys entry {i + 1} is not a UUID v4.";
            }
        }
        byte[]? key = null;
        try
        {
            key = Convert.FromBase64String(EncryptionKey ?? "");
        }
        catch (FormatException)
        {
        }
        if (key is not { Length: 32 })
        {
            yield return "SyncHub__EncryptionKey must be the base64 encoding of exactly 32 random bytes.";
        }
    }

    private IEnumerable<(string Setting, string? Value)> SettingValues()
    {
        yield return ("SyncHub__SecretKeys", SecretKeys);
        yield return ("SyncHub__EncryptionKey", EncryptionKey);
        yield return ("SyncHub__ConfigPath", ConfigPath);
        foreach (var (name, value) in EnvironmentVariables ?? [])
        {
            yield return ($"SyncHub__EnvironmentVariables__{name}", value);
        }
    }
}
