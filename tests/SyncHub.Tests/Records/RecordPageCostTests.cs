using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.Core.Api;
using SyncHub.Core.Connections;
using SyncHub.Core.Records;
using SyncHub.Functions;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Records;

/// <summary>
/// What a <c>GET /records</c> page costs in storage requests, and that the record-set cache that makes a warm page one
/// request never serves a deleted connection, an emptied set or a deleted variant, and never misses new records.
/// </summary>
public sealed class RecordPageCostTests : IDisposable
{
    private readonly StorageRequestLog _log = new() { Enabled = true };
    private readonly ServiceProvider _services;

    public RecordPageCostTests()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddFunctionApp(TestEnvironment.Configuration());
        services.AddSingleton(_log.Clients());
        _services = services.BuildServiceProvider();
    }

    public void Dispose() => _services.Dispose();

    private int TableRequests => _log.Requests.Count(r => r.Table != "queue");

    private RecordWriter Writer => _services.GetRequiredService<RecordWriter>();

    private Task<FunctionCall.Response> PageAsync(string connection, string query = "model=GithubIssue&limit=100")
    {
        var functions = new RecordFunctions(_services.GetRequiredService<ApiPipeline>(), _services.GetRequiredService<RecordsEndpoints>());
        return FunctionCall.SendAsync(_services, functions.List, "GET", query,
            new Dictionary<string, string> { ["Connection-Id"] = connection, ["Provider-Config-Key"] = "github" });
    }

    private async Task<string> ConnectionWithIssuesAsync(int count)
    {
        var connection = TestEnvironment.Unique("cost");
        await _services.GetRequiredService<ConnectionStore>().UpsertAsync("github", connection, "github",
            new ConnectionCredentials("API_KEY", new JsonObject { ["type"] = "API_KEY", ["apiKey"] = "k" }), null, null, CancellationToken.None);
        if (count > 0)
        {
            await Writer.SaveAsync(RecordsFixture.Issues(connection), RecordsFixture.Issues(count), CancellationToken.None);
        }
        return connection;
    }

    private static List<string> Ids(FunctionCall.Response page) =>
        page.Json!["records"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()).ToList();

    [Fact]
    public async Task A_warm_page_is_one_storage_request_and_a_cold_one_three()
    {
        var connection = await ConnectionWithIssuesAsync(250);

        _log.Clear();
        var cold = await PageAsync(connection);
        Assert.Equal(200, cold.Status);
        // The connection check and the record-set lookup (sent together), then the range query.
        Assert.Equal(3, TableRequests);

        var cursor = cold.Json!["next_cursor"]!.GetValue<string>();
        _log.Clear();
        var warm = await PageAsync(connection, $"model=GithubIssue&limit=100&cursor={cursor}");
        Assert.Equal(200, warm.Status);
        Assert.Equal(100, Ids(warm).Count);
        Assert.Equal(1, TableRequests);
    }

    [Fact]
    public async Task A_deleted_connection_answers_unknown_connection_even_when_its_set_was_cached()
    {
        var connection = await ConnectionWithIssuesAsync(5);
        Assert.Equal(5, Ids(await PageAsync(connection)).Count);

        // What DELETE /connections does: the lifecycle hooks drop the record sets, then the row goes.
        foreach (var hook in _services.GetServices<IConnectionLifecycle>())
        {
            await hook.OnDeletingAsync("github", connection, CancellationToken.None);
        }
        await _services.GetRequiredService<ConnectionStore>().DeleteAsync("github", connection, CancellationToken.None);

        var page = await PageAsync(connection);
        Assert.True(page.Status == 400 && page.ErrorCode == "unknown_connection", $"{page.Status} {page.Body}");
    }

    [Fact]
    public async Task An_emptied_set_serves_no_stale_record_and_then_every_new_one()
    {
        var connection = await ConnectionWithIssuesAsync(5);
        Assert.Equal(5, Ids(await PageAsync(connection)).Count);

        await _services.GetRequiredService<RecordSetStore>().EmptyAsync(RecordsFixture.Issues(connection), CancellationToken.None);
        Assert.Empty(Ids(await PageAsync(connection)));

        await Writer.SaveAsync(RecordsFixture.Issues(connection), RecordsFixture.Issues(3, from: 100), CancellationToken.None);
        Assert.Equal(["issue-000100", "issue-000101", "issue-000102"], Ids(await PageAsync(connection)));
    }

    [Fact]
    public async Task A_deleted_variant_serves_nothing_and_a_set_created_after_an_empty_answer_is_seen()
    {
        var connection = await ConnectionWithIssuesAsync(0);
        var variant = RecordsFixture.Issues(connection, "v1");
        // Nothing yet: an empty page, which is not cached...
        Assert.Empty(Ids(await PageAsync(connection, "model=GithubIssue&variant=v1")));
        // ...so records written afterwards are seen at once.
        await Writer.SaveAsync(variant, RecordsFixture.Issues(2), CancellationToken.None);
        Assert.Equal(2, Ids(await PageAsync(connection, "model=GithubIssue&variant=v1")).Count);

        await _services.GetRequiredService<RecordSetStore>().DeleteAsync(variant, CancellationToken.None);
        Assert.Empty(Ids(await PageAsync(connection, "model=GithubIssue&variant=v1")));
    }

    [Fact]
    public async Task Status_counts_are_read_together_and_a_cached_count_follows_an_emptied_set()
    {
        var connection = await ConnectionWithIssuesAsync(7);
        var reader = _services.GetRequiredService<RecordReader>();
        Assert.Equal(7, await reader.CountAsync(RecordsFixture.Issues(connection), CancellationToken.None));
        _log.Clear();
        Assert.Equal(7, await reader.CountAsync(RecordsFixture.Issues(connection), CancellationToken.None));
        Assert.Equal(1, TableRequests);

        await _services.GetRequiredService<RecordSetStore>().EmptyAsync(RecordsFixture.Issues(connection), CancellationToken.None);
        Assert.Equal(0, await reader.CountAsync(RecordsFixture.Issues(connection), CancellationToken.None));
    }
}
