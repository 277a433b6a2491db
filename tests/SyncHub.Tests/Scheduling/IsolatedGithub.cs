using SyncHub.Core.Sdk;
using SyncHub.Integrations.Github;

namespace SyncHub.Tests.Scheduling;

/// <summary>
/// The GitHub syncs under an integration key no other test uses (<see cref="Key"/>), for the tests of requests that act
/// on every connection of an integration: under <c>github</c> they would also trigger, start or pause the syncs of
/// other tests' connections on the same Azurite. Only an engine started with this key loads these adapters.
/// </summary>
public static class IsolatedGithub
{
    public const string Key = "github-isolated";

    /// <summary>A second key of its own, for the tests of many connections (<c>BulkControlTests</c>).</summary>
    public const string BulkKey = "github-bulk";

    /// <summary>Every key these adapters serve: an engine with one of them configures all (each adapter needs its sync).</summary>
    public static readonly string[] Keys = [Key, BulkKey];

    [Sync(Key, "issues")]
    public sealed class Issues : ISync
    {
        public Task ExecuteAsync(SyncContext nango, CancellationToken ct) => new GithubIssues().ExecuteAsync(nango, ct);
    }

    [Sync(Key, "labels")]
    public sealed class Labels : ISync
    {
        public Task ExecuteAsync(SyncContext nango, CancellationToken ct) => new GithubLabels().ExecuteAsync(nango, ct);
    }

    [Sync(BulkKey, "issues")]
    public sealed class BulkIssues : ISync
    {
        public Task ExecuteAsync(SyncContext nango, CancellationToken ct) => new GithubIssues().ExecuteAsync(nango, ct);
    }

    [Sync(BulkKey, "labels")]
    public sealed class BulkLabels : ISync
    {
        public Task ExecuteAsync(SyncContext nango, CancellationToken ct) => new GithubLabels().ExecuteAsync(nango, ct);
    }
}
