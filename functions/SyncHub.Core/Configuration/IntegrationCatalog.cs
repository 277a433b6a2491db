using SyncHub.Core.Scheduling;
using SyncHub.Core.Model;

namespace SyncHub.Core.Configuration;

public enum SyncType
{
    Full,
    Incremental,
}

/// <summary>
/// A sync declared in nango.yaml: what it writes and how often it runs; <see cref="Declarative"/> when nango.yaml also
/// describes how to fetch it (a <c>request</c> block) instead of an ISync class.
/// </summary>
public sealed record SyncDefinition(
    string Integration,
    string Name,
    IReadOnlyList<string> Models,
    SyncType Type,
    Frequency Runs,
    bool AutoStart,
    bool TrackDeletes,
    string? Description,
    DeclarativeDefinition? Declarative = null);

/// <summary>How a token endpoint wants the client authenticated: form fields (<c>body</c>) or HTTP Basic (<c>basic</c>).</summary>
public enum OAuthAuthStyle
{
    Body,
    Basic,
}

/// <summary>
/// An integration's OAuth client (nango.yaml <c>oauth</c>): what refreshes its OAUTH2 connections' tokens (RFC 6749 §6).
/// The client id and secret come from settings (<c>SyncHub__Integrations__&lt;key&gt;__ClientId</c> / <c>__ClientSecret</c>),
/// never from the file. <see cref="ToString"/> never prints the secret.
/// </summary>
public sealed record OAuthClientDefinition(Uri TokenUrl, string ClientId, string ClientSecret, OAuthAuthStyle AuthStyle, TimeSpan RefreshMargin)
{
    public static readonly TimeSpan DefaultRefreshMargin = TimeSpan.FromMinutes(5);

    public override string ToString() => $"OAuth client of {TokenUrl.GetLeftPart(UriPartial.Path)}";
}

/// <summary>An integration (Nango's provider config key) with its syncs.</summary>
public sealed record IntegrationDefinition(
    string Key,
    string Provider,
    string DisplayName,
    Uri? BaseUrl,
    IReadOnlyList<SyncDefinition> Syncs,
    OAuthClientDefinition? OAuth = null)
{
    public SyncDefinition? FindSync(string name) => Syncs.FirstOrDefault(s => s.Name == name);

    public bool WritesModel(string model) => Syncs.Any(s => s.Models.Contains(model, StringComparer.Ordinal));
}

/// <summary>The integrations of the loaded nango.yaml, immutable for the life of the process.</summary>
public sealed class IntegrationCatalog(IReadOnlyList<IntegrationDefinition> integrations, string sourcePath)
{
    private readonly Dictionary<string, IntegrationDefinition> _byKey = integrations.ToDictionary(i => i.Key, StringComparer.Ordinal);

    public IReadOnlyList<IntegrationDefinition> Integrations { get; } = integrations;

    public string SourcePath { get; } = sourcePath;

    public IntegrationDefinition? Find(string key) => _byKey.GetValueOrDefault(key);
}
