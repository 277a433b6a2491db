using SyncHub.Core.Configuration;
using SyncHub.Core.Sdk;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Configuration;

public sealed class DeclarativeConfigTests
{
    private const string Path = "/config/nango.yaml";

    private static string Sync(string body, string models = "  Label: { id: string }") => $"""
        integrations:
          gh:
            base_url: https://api.github.com
            syncs:
              labels:
                runs: every hour
                output: Label
        {body}
        models:
        {models}
        """;

    [Fact]
    public void The_sample_config_loads_with_its_declarative_syncs_uncommented_and_every_sync_has_an_implementation()
    {
        var text = File.ReadAllLines(TestEnvironment.SampleConfigPath).Select(l => l.StartsWith("#> ", StringComparison.Ordinal) ? l[3..] : l);
        var catalog = NangoYamlLoader.Parse(string.Join('\n', text), "nango.yaml");
        var declarative = catalog.Integrations.SelectMany(i => i.Syncs).Where(s => s.Declarative is not null).Select(s => $"{s.Integration}.{s.Name}");
        Assert.Equal(["github-declarative.labels-declarative", "hubspot.contacts", "jira.issues", "stripe.customers"], declarative);
        _ = new SyncCatalog(catalog, SyncCatalog.Discover(SyncHub.Integrations.IntegrationsAssembly.Assembly), []);
        Assert.All(NangoYamlLoader.Load(TestEnvironment.SampleConfigPath).Integrations.SelectMany(i => i.Syncs), s => Assert.Null(s.Declarative));
    }

    [Theory]
    [InlineData("        request: { path: /x }\n        colour: red", "/config/nango.yaml:9:9: unknown key 'colour' in sync 'gh.labels'")]
    [InlineData("        request: { path: /x, verb: GET }", "/config/nango.yaml:8:30: unknown key 'verb' in sync 'gh.labels': request")]
    [InlineData("        request: { path: /x }\n        paginate: { type: link, cursor_param: x }", "/config/nango.yaml:9:33: unknown key 'cursor_param' in sync 'gh.labels': paginate (type link)")]
    [InlineData("        request: { path: /x }\n        paginate: { type: pages }", "/config/nango.yaml:9:27: sync 'gh.labels': paginate.type must be link, cursor, offset, page or none.")]
    [InlineData("        request: { path: '/x/${meta.repo}' }", "/config/nango.yaml:8:26: sync 'gh.labels': unknown substitution '${meta.repo}'")]
    [InlineData("        request: { path: /x }\n        records: $..items", "/config/nango.yaml:9:18: sync 'gh.labels': records '$..items' is not a supported path")]
    [InlineData("        records: $.items", "/config/nango.yaml:8:9: sync 'gh.labels': 'records' belongs to a declarative sync, which needs a 'request' block.")]
    public void Declarative_mistakes_stop_loading_with_their_line_and_column(string body, string error)
    {
        var e = Assert.Throws<ConfigurationException>(() => NangoYamlLoader.Parse(Sync(body), Path));
        Assert.StartsWith(error, e.Message);
    }

    [Fact]
    public void An_output_model_missing_from_models_is_an_error_with_its_line()
    {
        var e = Assert.Throws<ConfigurationException>(() => NangoYamlLoader.Parse(Sync("        request: { path: /x }", "  Other: { id: string }"), Path));
        Assert.Equal("/config/nango.yaml:7:17: sync 'gh.labels': output model 'Label' is not declared under 'models'.", e.Message);
    }

    [Fact]
    public void A_metadata_substitution_is_allowed_but_an_environment_variable_that_is_not_configured_stops_start_up()
    {
        var catalog = NangoYamlLoader.Parse(Sync("        request: { path: '/repos/${metadata.repo}/labels', headers: { X-Key: '${env.LABELS_KEY}' } }"), Path);
        _ = new SyncCatalog(catalog, [], ["LABELS_KEY"]);
        var e = Assert.Throws<ConfigurationException>(() => new SyncCatalog(catalog, [], ["OTHER"]));
        Assert.Equal("/config/nango.yaml:8:78: sync 'gh.labels' uses ${env.LABELS_KEY}, which is not configured (set SyncHub__EnvironmentVariables__LABELS_KEY).", e.Message);
        Assert.Equal(DeclarativePagination.DefaultMaxPages, catalog.Find("gh")!.FindSync("labels")!.Declarative!.Paginate.MaxPages);
        Assert.Equal(10_000, DeclarativePagination.DefaultMaxPages);
    }
}
