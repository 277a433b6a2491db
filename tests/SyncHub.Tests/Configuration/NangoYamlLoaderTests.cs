using SyncHub.Core.Configuration;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Configuration;

public sealed class NangoYamlLoaderTests
{
    private const string Path = "/config/nango.yaml";

    /// <summary>A valid file; tests break one line of it and expect that line in the error.</summary>
    private static readonly string[] Valid =
    [
        "integrations:",                       // 1
        "  github:",                           // 2
        "    provider: github",                // 3
        "    base_url: https://api.github.com",// 4
        "    syncs:",                          // 5
        "      issues:",                       // 6
        "        runs: every 30 minutes",      // 7
        "        output: GithubIssue",         // 8
        "        sync_type: incremental",      // 9
        "      labels:",                       // 10
        "        runs: every hour",            // 11
        "        output:",                     // 12
        "          - GithubLabel",             // 13
        "          - GithubLabelColor",        // 14
        "        track_deletes: true",         // 15
        "        auto_start: false",           // 16
    ];

    private static string With(int line, string replacement)
    {
        var lines = Valid.ToArray();
        lines[line - 1] = replacement;
        return string.Join('\n', lines) + "\n";
    }

    private static string Without(int line) => string.Join('\n', Valid.Where((_, i) => i != line - 1)) + "\n";

    private static ConfigurationException Fails(string yaml) =>
        Assert.Throws<ConfigurationException>(() => NangoYamlLoader.Parse(yaml, Path));

    private static void AssertAt(ConfigurationException error, int line, string problem)
    {
        Assert.StartsWith($"{Path}:{line}:", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void The_shipped_sample_loads()
    {
        var catalog = NangoYamlLoader.Load(TestEnvironment.SampleConfigPath);
        var github = Assert.Single(catalog.Integrations);
        Assert.Equal("github", github.Key);
        Assert.Equal("github", github.Provider);
        Assert.Equal("GitHub", github.DisplayName);
        Assert.Equal(new Uri("https://api.github.com"), github.BaseUrl);
        var issues = github.FindSync("issues")!;
        Assert.Equal(["GithubIssue"], issues.Models);
        Assert.Equal(SyncType.Incremental, issues.Type);
        Assert.Equal(TimeSpan.FromMinutes(30), issues.Runs.Interval);
        Assert.True(issues.AutoStart);
        var labels = github.FindSync("labels")!;
        Assert.Equal(SyncType.Full, labels.Type);
        Assert.True(labels.TrackDeletes);
        Assert.Same(github, catalog.Find("github"));
        Assert.Null(catalog.Find("GitHub"));
        Assert.Equal(TestEnvironment.SampleConfigPath, catalog.SourcePath);
    }

    [Fact]
    public void A_valid_file_loads_with_defaults_and_lists_of_models()
    {
        var catalog = NangoYamlLoader.Parse(string.Join('\n', Valid), Path);
        var github = catalog.Find("github")!;
        var labels = github.FindSync("labels")!;
        Assert.Equal(["GithubLabel", "GithubLabelColor"], labels.Models);
        Assert.False(labels.AutoStart);
        Assert.Equal(SyncType.Full, labels.Type);
        var issues = github.FindSync("issues")!;
        Assert.True(issues.AutoStart);
        Assert.False(issues.TrackDeletes);
        Assert.True(github.WritesModel("GithubLabelColor"));
        Assert.False(github.WritesModel("Other"));
    }

    [Fact]
    public void Provider_and_display_name_default_to_the_key()
    {
        var catalog = NangoYamlLoader.Parse("integrations:\n  acme-crm:\n    syncs:\n      contacts:\n        runs: 1h\n        output: Contact\n", Path);
        var acme = catalog.Find("acme-crm")!;
        Assert.Equal("acme-crm", acme.Provider);
        Assert.Equal("acme-crm", acme.DisplayName);
        Assert.Null(acme.BaseUrl);
    }

    [Fact]
    public void Invalid_yaml_names_the_file_and_line()
    {
        AssertAt(Fails(With(9, "        sync_type incremental")), 9, "invalid YAML");
    }

    [Fact]
    public void An_unclosed_bracket_names_the_line_it_opens_on()
    {
        AssertAt(Fails(With(8, "        output: [GithubIssue")), 8, "invalid YAML");
    }

    [Fact]
    public void An_unclosed_quote_names_the_line_it_opens_on()
    {
        AssertAt(Fails(With(7, "        runs: 'every")), 7, "invalid YAML");
    }

    [Fact]
    public void A_tab_indented_line_is_invalid_yaml_at_that_line()
    {
        AssertAt(Fails(With(11, "\truns: every hour")), 11, "invalid YAML");
    }

    [Fact]
    public void A_duplicate_key_is_reported_at_its_line()
    {
        var error = Fails(With(9, "        output: GithubIssue2"));
        AssertAt(error, 9, "Duplicate key");
    }

    [Fact]
    public void An_unknown_sync_key_names_its_line()
    {
        AssertAt(Fails(With(9, "        frequency: every day")), 9, "unknown key 'frequency'");
    }

    [Fact]
    public void An_unknown_integration_key_names_its_line()
    {
        AssertAt(Fails(With(4, "    baseUrl: https://api.github.com")), 4, "unknown key 'baseUrl'");
    }

    [Fact]
    public void An_unknown_root_key_names_its_line()
    {
        AssertAt(Fails(string.Join('\n', Valid) + "\nversion: 2\n"), 17, "unknown key 'version'");
    }

    [Theory]
    [InlineData("      issues::v1:")]
    [InlineData("      issue list:")]
    [InlineData("      \"issues\\n\":")]
    public void A_bad_sync_name_names_its_line(string line)
    {
        AssertAt(Fails(With(6, line)), 6, "sync name");
    }

    [Fact]
    public void A_sync_name_over_255_characters_is_rejected()
    {
        AssertAt(Fails(With(10, "      " + new string('l', 256) + ":")), 10, "at most 255");
    }

    [Fact]
    public void A_bad_integration_key_names_its_line()
    {
        AssertAt(Fails(With(2, "  git/hub:")), 2, "integration key");
    }

    [Theory]
    [InlineData("        runs: every 10 seconds", "30 seconds")]
    [InlineData("        runs: sometimes", "not a frequency")]
    [InlineData("        runs: ", "not a frequency")]
    public void A_bad_runs_names_its_line(string line, string problem)
    {
        AssertAt(Fails(With(11, line)), 11, problem);
    }

    [Fact]
    public void A_missing_runs_names_the_syncs_line()
    {
        AssertAt(Fails(Without(7)), 6, "needs 'runs'");
    }

    [Fact]
    public void A_missing_output_names_the_syncs_line()
    {
        AssertAt(Fails(Without(8)), 6, "needs 'output'");
    }

    [Fact]
    public void An_empty_output_list_is_rejected()
    {
        AssertAt(Fails(With(8, "        output: []")), 8, "at least one model");
    }

    [Theory]
    [InlineData(13, "          - githubLabel")]
    [InlineData(14, "          - Github Label")]
    public void A_bad_model_name_names_its_line(int line, string replacement)
    {
        AssertAt(Fails(With(line, replacement)), line, "model name");
    }

    [Fact]
    public void A_bad_sync_type_names_its_line()
    {
        AssertAt(Fails(With(9, "        sync_type: sometimes")), 9, "sync_type");
    }

    [Fact]
    public void A_bad_boolean_names_its_line()
    {
        AssertAt(Fails(With(16, "        auto_start: yes please")), 16, "auto_start");
    }

    [Fact]
    public void A_bad_base_url_names_its_line()
    {
        AssertAt(Fails(With(4, "    base_url: ftp://example.com")), 4, "base_url");
    }

    [Fact]
    public void The_same_sync_spelt_twice_is_rejected()
    {
        AssertAt(Fails(With(10, "      \"issues\":")), 10, "issues");
    }

    [Fact]
    public void A_file_without_integrations_is_rejected()
    {
        var error = Fails("models:\n  A:\n    id: string\n");
        Assert.StartsWith(Path + ":", error.Message);
        Assert.Contains("'integrations'", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("- a\n- b\n")]
    [InlineData("just text\n")]
    public void A_file_that_is_not_a_mapping_is_rejected_at_line_1(string yaml)
    {
        AssertAt(Fails(yaml), 1, "mapping");
    }

    [Fact]
    public void A_missing_file_names_the_path_and_the_setting()
    {
        var missing = System.IO.Path.Combine(System.IO.Path.GetTempPath(), Guid.NewGuid().ToString("N"), "nango.yaml");
        var error = Assert.Throws<ConfigurationException>(() => NangoYamlLoader.Load(missing));
        Assert.Contains(missing, error.Message);
        Assert.Contains("SyncHub__ConfigPath", error.Message);
    }

    [Fact]
    public void Load_reports_the_real_path_of_a_bad_file()
    {
        var file = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"nango-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, With(7, "        runs: every 5 seconds"));
        try
        {
            var error = Assert.Throws<ConfigurationException>(() => NangoYamlLoader.Load(file));
            Assert.StartsWith($"{file}:7:", error.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
