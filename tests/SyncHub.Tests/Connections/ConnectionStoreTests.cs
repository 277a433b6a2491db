using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SyncHub.Core.Api;
using SyncHub.Core.Connections;
using SyncHub.Core.Storage;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Connections;

/// <summary>The connection store against a real Azurite (SYNCHUB_TEST_STORAGE, default the local emulator).</summary>
public sealed class ConnectionStoreTests : IDisposable
{
    private readonly ServiceProvider _services = TestEnvironment.Services();
    private readonly ConnectionStore _store;
    // Each test works in a provider config key of its own, so listing is not disturbed by other tests or runs.
    private readonly string _integration = TestEnvironment.Unique("it");

    public ConnectionStoreTests() => _store = _services.GetRequiredService<ConnectionStore>();

    public void Dispose() => _services.Dispose();

    private static ConnectionCredentials ApiKey(string key) =>
        new("API_KEY", new JsonObject { ["type"] = "API_KEY", ["apiKey"] = key });

    private Task<(Connection Connection, bool Created)> Upsert(string id, ConnectionCredentials? credentials = null, JsonObject? metadata = null, JsonObject? config = null) =>
        _store.UpsertAsync(_integration, id, "github", credentials ?? ApiKey("k-" + id), metadata, config, CancellationToken.None);

    private static TableClient RawTable() => new(TestEnvironment.StorageConnectionString, StorageNames.ConnectionsTable);

    [Fact]
    public async Task Upsert_creates_then_get_returns_it_without_credentials()
    {
        var (created, isNew) = await Upsert("c1", metadata: new JsonObject { ["repo"] = "octo/hello" }, config: new JsonObject { ["org"] = "octo" });
        Assert.True(isNew);
        Assert.Equal("c1", created.ConnectionId);
        Assert.Equal(_integration, created.ProviderConfigKey);
        Assert.Equal("github", created.Provider);
        Assert.InRange(created.Id, 1, (1L << 53) - 1);

        var fetched = await _store.GetAsync(_integration, "c1", CancellationToken.None);
        Assert.NotNull(fetched);
        Assert.Equal(created.Id, fetched.Id);
        Assert.Equal("octo/hello", fetched.Metadata["repo"]!.GetValue<string>());
        Assert.Equal("octo", fetched.ConnectionConfig["org"]!.GetValue<string>());
        Assert.True(await _store.ExistsAsync(_integration, "c1", CancellationToken.None));

        var credentials = await _store.GetCredentialsAsync(_integration, "c1", CancellationToken.None);
        Assert.Equal("API_KEY", credentials!.Type);
        Assert.Equal("k-c1", credentials.Get("apiKey"));
        Assert.DoesNotContain("k-c1", credentials.ToString());
    }

    [Fact]
    public async Task Upserting_again_keeps_id_created_at_and_metadata_but_replaces_credentials()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var store = new ConnectionStore(_services.GetRequiredService<FixedTables>(), _services.GetRequiredService<CredentialProtector>(), clock);
        var (first, _) = await store.UpsertAsync(_integration, "c1", "github", ApiKey("old"), new JsonObject { ["a"] = 1 }, null, CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(5));
        var (second, created) = await store.UpsertAsync(_integration, "c1", "github", ApiKey("new"), null, null, CancellationToken.None);

        Assert.False(created);
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(first.CreatedAt, second.CreatedAt);
        Assert.Equal(first.CreatedAt + TimeSpan.FromMinutes(5), second.UpdatedAt);
        Assert.Equal(1, second.Metadata["a"]!.GetValue<int>());
        Assert.Equal("new", (await store.GetCredentialsAsync(_integration, "c1", CancellationToken.None))!.Get("apiKey"));

        // Metadata given on a re-import replaces what was there.
        var (third, _) = await store.UpsertAsync(_integration, "c1", "github", ApiKey("new"), new JsonObject { ["b"] = 2 }, null, CancellationToken.None);
        Assert.False(third.Metadata.ContainsKey("a"));
        Assert.Equal(2, third.Metadata["b"]!.GetValue<int>());
    }

    [Fact]
    public async Task Unknown_connections_are_null_false_and_empty()
    {
        Assert.Null(await _store.GetAsync(_integration, "missing", CancellationToken.None));
        Assert.Null(await _store.GetCredentialsAsync(_integration, "missing", CancellationToken.None));
        Assert.False(await _store.ExistsAsync(_integration, "missing", CancellationToken.None));
        Assert.False(await _store.DeleteAsync(_integration, "missing", CancellationToken.None));
        Assert.Null(await _store.UpdateMetadataAsync(_integration, "missing", new JsonObject { ["a"] = 1 }, merge: true, CancellationToken.None));
    }

    [Fact]
    public async Task Delete_removes_the_connection()
    {
        await Upsert("c1");
        await Upsert("c2");
        Assert.True(await _store.DeleteAsync(_integration, "c1", CancellationToken.None));
        Assert.Null(await _store.GetAsync(_integration, "c1", CancellationToken.None));
        Assert.NotNull(await _store.GetAsync(_integration, "c2", CancellationToken.None));
        Assert.False(await _store.DeleteAsync(_integration, "c1", CancellationToken.None));
    }

    [Fact]
    public async Task List_filters_by_integration_and_connection_id()
    {
        var other = TestEnvironment.Unique("it");
        await Upsert("shared");
        await Upsert("mine");
        await _store.UpsertAsync(other, "shared", "github", ApiKey("x"), null, null, CancellationToken.None);

        var mine = await _store.ListAsync(null, [_integration], CancellationToken.None);
        Assert.Equal(["mine", "shared"], mine.Select(c => c.ConnectionId).Order(StringComparer.Ordinal));

        var both = await _store.ListAsync(null, [_integration, other], CancellationToken.None);
        Assert.Equal(3, both.Count);

        var shared = await _store.ListAsync("shared", [_integration, other], CancellationToken.None);
        Assert.Equal(new[] { _integration, other }.Order(StringComparer.Ordinal), shared.Select(c => c.ProviderConfigKey).Order(StringComparer.Ordinal));

        var all = await _store.ListAsync(null, null, CancellationToken.None);
        Assert.Contains(all, c => c.ProviderConfigKey == _integration && c.ConnectionId == "mine");
    }

    [Fact]
    public async Task Metadata_replace_drops_old_keys_and_merge_keeps_them()
    {
        await Upsert("c1", metadata: new JsonObject { ["a"] = 1, ["nested"] = new JsonObject { ["x"] = 1, ["y"] = 2 } });

        var merged = await _store.UpdateMetadataAsync(_integration, "c1", new JsonObject { ["b"] = 2, ["nested"] = new JsonObject { ["x"] = 9 } }, merge: true, CancellationToken.None);
        Assert.Equal(1, merged!.Metadata["a"]!.GetValue<int>());
        Assert.Equal(2, merged.Metadata["b"]!.GetValue<int>());
        // The merge is shallow, as in Nango: a nested object is replaced whole.
        Assert.Equal("""{"x":9}""", merged.Metadata["nested"]!.ToJsonString());

        var stored = await _store.GetAsync(_integration, "c1", CancellationToken.None);
        Assert.Equal(merged.Metadata.ToJsonString(), stored!.Metadata.ToJsonString());

        var replaced = await _store.UpdateMetadataAsync(_integration, "c1", new JsonObject { ["only"] = true }, merge: false, CancellationToken.None);
        Assert.Equal("""{"only":true}""", replaced!.Metadata.ToJsonString());
        Assert.Equal("""{"only":true}""", (await _store.GetAsync(_integration, "c1", CancellationToken.None))!.Metadata.ToJsonString());

        // Credentials survive metadata updates.
        Assert.Equal("k-c1", (await _store.GetCredentialsAsync(_integration, "c1", CancellationToken.None))!.Get("apiKey"));
    }

    [Fact]
    public async Task Metadata_over_the_limit_is_a_400_not_a_storage_error()
    {
        await Upsert("c1");
        var big = new JsonObject { ["blob"] = new string('x', ConnectionStore.MaxMetadataChars) };
        // The store says what is wrong in domain terms; the API edge makes it a 400.
        var error = await Assert.ThrowsAsync<MetadataTooLargeException>(() => _store.UpdateMetadataAsync(_integration, "c1", big, merge: false, CancellationToken.None));
        var answer = DomainErrors.ToApi(error);
        Assert.NotNull(answer);
        Assert.Equal((400, "invalid_body"), (answer!.Status, answer.Code));
        Assert.Contains($"the limit is {ConnectionStore.MaxMetadataChars}", answer.Message);
    }

    [Theory]
    [InlineData("org/team")]
    [InlineData(@"domain\user")]
    [InlineData("a/b\\c/d")]
    [InlineData("a,b.c;d:e=f+g~h[i]j|k@l$m{n}o\"p'q_r s-t")]
    [InlineData("100%")] // not an API name, but the store must not mix it up with an escape sequence
    [InlineData("%2F")]
    public async Task Ids_with_characters_table_keys_forbid_round_trip(string id)
    {
        await Upsert(id);
        var fetched = await _store.GetAsync(_integration, id, CancellationToken.None);
        Assert.Equal(id, fetched!.ConnectionId);
        Assert.Equal(id, Assert.Single(await _store.ListAsync(id, [_integration], CancellationToken.None)).ConnectionId);
        Assert.NotNull(await _store.UpdateMetadataAsync(_integration, id, new JsonObject { ["k"] = "v" }, merge: true, CancellationToken.None));
        Assert.Equal("k-" + id, (await _store.GetCredentialsAsync(_integration, id, CancellationToken.None))!.Get("apiKey"));
        Assert.True(await _store.DeleteAsync(_integration, id, CancellationToken.None));
        Assert.Null(await _store.GetAsync(_integration, id, CancellationToken.None));
    }

    [Fact]
    public async Task Ids_that_differ_only_by_escaping_stay_distinct()
    {
        await Upsert("a/b");
        await Upsert("a%2Fb");
        Assert.Equal("a/b", (await _store.GetAsync(_integration, "a/b", CancellationToken.None))!.ConnectionId);
        Assert.Equal("a%2Fb", (await _store.GetAsync(_integration, "a%2Fb", CancellationToken.None))!.ConnectionId);
        Assert.Equal(2, (await _store.ListAsync(null, [_integration], CancellationToken.None)).Count);
    }

    [Fact]
    public async Task A_255_character_id_of_escaped_characters_is_stored()
    {
        var id = string.Concat(Enumerable.Repeat("/\\", 127)) + "/";
        Assert.Equal(255, id.Length);
        await Upsert(id);
        Assert.Equal(id, (await _store.GetAsync(_integration, id, CancellationToken.None))!.ConnectionId);
        Assert.Equal(id, Assert.Single(await _store.ListAsync(id, [_integration], CancellationToken.None)).ConnectionId);
    }

    [Theory]
    [InlineData("API_KEY")]
    [InlineData("BASIC")]
    [InlineData("OAUTH2")]
    public async Task The_stored_row_holds_no_plaintext_secret(string type)
    {
        var secret = "s3cr3t-" + Guid.NewGuid().ToString("N");
        var values = type switch
        {
            "API_KEY" => new JsonObject { ["type"] = type, ["apiKey"] = secret },
            "BASIC" => new JsonObject { ["type"] = type, ["username"] = "octocat", ["password"] = secret },
            _ => new JsonObject { ["type"] = type, ["access_token"] = secret, ["refresh_token"] = secret + "-refresh" },
        };
        await Upsert("c1", new ConnectionCredentials(type, values));

        var rows = new List<TableEntity>();
        await foreach (var row in RawTable().QueryAsync<TableEntity>(e => e.PartitionKey == _integration))
        {
            rows.Add(row);
        }
        var entity = Assert.Single(rows);
        Assert.True(entity.ContainsKey("Credentials"));
        foreach (var (name, value) in entity)
        {
            var text = value switch
            {
                byte[] bytes => Encoding.UTF8.GetString(bytes) + Encoding.Latin1.GetString(bytes) + Convert.ToBase64String(bytes),
                BinaryData data => Encoding.UTF8.GetString(data.ToArray()) + Encoding.Latin1.GetString(data.ToArray()),
                _ => value?.ToString() ?? "",
            };
            Assert.False(text.Contains(secret, StringComparison.Ordinal), $"property {name} holds the secret");
            Assert.False(text.Contains("s3cr3t", StringComparison.Ordinal), $"property {name} holds part of the secret");
        }
        // And it is there, encrypted: the store decrypts it.
        var credentials = await _store.GetCredentialsAsync(_integration, "c1", CancellationToken.None);
        Assert.Contains(secret, credentials!.Values.ToJsonString());
    }

    [Fact]
    public async Task Credentials_copied_onto_another_row_do_not_decrypt()
    {
        await Upsert("victim");
        await Upsert("attacker");
        var table = RawTable();
        var victim = (await table.GetEntityAsync<TableEntity>(_integration, "victim")).Value;
        var attacker = (await table.GetEntityAsync<TableEntity>(_integration, "attacker")).Value;
        attacker["Credentials"] = victim.GetBinary("Credentials");
        await table.UpdateEntityAsync(attacker, attacker.ETag, TableUpdateMode.Replace);

        await Assert.ThrowsAnyAsync<System.Security.Cryptography.CryptographicException>(() =>
            _store.GetCredentialsAsync(_integration, "attacker", CancellationToken.None));
    }

    [Fact]
    public async Task Concurrent_imports_of_one_connection_all_succeed_and_keep_one_row()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Upsert("race", ApiKey("k" + i))));
        Assert.Single(results, r => r.Created);
        Assert.Single(results.Select(r => r.Connection.Id).Distinct());
        Assert.Single(await _store.ListAsync(null, [_integration], CancellationToken.None));
    }
}
