using System.Text.Json.Nodes;

namespace SyncHub.Infra.Tests;

/// <summary>infra/ compiles and lints clean with the pinned Bicep CLI: any diagnostic (warning included) fails.</summary>
public class BicepLintTests
{
    [Fact]
    public void Build_succeeds_with_no_diagnostics()
    {
        var result = Bicep.Run("build", Bicep.MainBicep, "--stdout");

        Assert.True(result.ExitCode == 0, $"bicep build exited {result.ExitCode}:\n{result.StdErr}");
        Assert.True(string.IsNullOrWhiteSpace(result.StdErr), "bicep build printed diagnostics:\n" + result.StdErr);
        Assert.NotNull(JsonNode.Parse(result.StdOut)?["resources"]);
    }

    // Linting main.bicep lints every module it references (infra/app/*.bicep) too.
    [Fact]
    public void Lint_reports_nothing()
    {
        var result = Bicep.Run("lint", Bicep.MainBicep);

        var output = (result.StdOut + result.StdErr).Trim();
        Assert.True(result.ExitCode == 0, $"bicep lint exited {result.ExitCode}:\n{output}");
        Assert.True(output.Length == 0, "bicep lint reported diagnostics:\n" + output);
    }

    [Fact]
    public void Linter_is_on_and_no_rule_is_below_warning()
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Bicep.RepoRoot, "infra", "bicepconfig.json")))!;
        var core = config["analyzers"]!["core"]!;

        Assert.True(core["enabled"]!.GetValue<bool>());
        var rules = core["rules"]!.AsObject();
        // Bicep 0.49.2 has 54 core rules; several are off by default, so each one is listed explicitly.
        Assert.True(rules.Count >= 54, $"only {rules.Count} rules configured");
        foreach (var (name, rule) in rules)
        {
            Assert.Contains((string?)rule!["level"], new[] { "warning", "error" });
        }
        Assert.Equal("warning", (string?)rules["use-recent-api-versions"]!["level"]);
    }
}
