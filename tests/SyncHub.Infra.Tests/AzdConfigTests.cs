using System.Diagnostics;
using System.Text.Json.Nodes;
using SyncHub.Core.Configuration;
using YamlDotNet.RepresentationModel;

namespace SyncHub.Infra.Tests;

/// <summary>azure.yaml, main.parameters.json and the preprovision hook that generates the secrets once per environment.</summary>
public class AzdConfigTests
{
    private static YamlMappingNode AzureYaml()
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Bicep.RepoRoot, "azure.yaml"));
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static string Scalar(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            node = ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        }
        return ((YamlScalarNode)node).Value!;
    }

    [Fact]
    public void Azure_yaml_deploys_the_functions_project_as_service_api()
    {
        var root = AzureYaml();

        Assert.Equal("synchub", Scalar(root, "name"));
        Assert.Equal("dotnet", Scalar(root, "services", "api", "language"));
        Assert.Equal("function", Scalar(root, "services", "api", "host"));
        var project = Scalar(root, "services", "api", "project");
        Assert.True(File.Exists(Path.Combine(Bicep.RepoRoot, project, "SyncHub.Functions.csproj")), project);
    }

    [Fact]
    public void Azure_yaml_runs_the_preprovision_hook_on_every_platform()
    {
        var root = AzureYaml();

        Assert.Equal("sh", Scalar(root, "hooks", "preprovision", "posix", "shell"));
        Assert.Equal("pwsh", Scalar(root, "hooks", "preprovision", "windows", "shell"));
        foreach (var platform in new[] { "posix", "windows" })
        {
            var script = Scalar(root, "hooks", "preprovision", platform, "run");
            Assert.True(File.Exists(Path.Combine(Bicep.RepoRoot, script)), script);
        }
    }

    [Fact]
    public void Parameters_come_from_the_azd_environment()
    {
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(Bicep.RepoRoot, "infra", "main.parameters.json")))!;
        var parameters = file["parameters"]!.AsObject();

        Assert.Equal("${AZURE_ENV_NAME}", (string?)parameters["environmentName"]!["value"]);
        Assert.Equal("${AZURE_LOCATION}", (string?)parameters["location"]!["value"]);
        Assert.Equal("${AZURE_PRINCIPAL_ID}", (string?)parameters["principalId"]!["value"]);
        Assert.Equal("${SYNCHUB_SECRET_KEY}", (string?)parameters["secretKey"]!["value"]);
        Assert.Equal("${SYNCHUB_ENCRYPTION_KEY}", (string?)parameters["encryptionKey"]!["value"]);

        // Every parameter main.bicep requires (no default) is bound, and nothing else.
        var declared = Bicep.MainTemplate["parameters"]!.AsObject();
        Assert.All(parameters, p => Assert.True(declared.ContainsKey(p.Key), $"{p.Key} is not a main.bicep parameter"));
        Assert.All(declared.Where(p => p.Value!["defaultValue"] is null), p => Assert.True(parameters.ContainsKey(p.Key), $"{p.Key} is not bound"));
    }

    [Fact]
    public void Preprovision_hook_generates_valid_secrets_once_and_keeps_them()
    {
        using var sandbox = new FakeAzd();

        var first = sandbox.RunHook();
        Assert.True(first.ExitCode == 0, first.StdOut + first.StdErr);
        var values = sandbox.Values();
        var options = new SyncHubOptions { SecretKeys = values["SYNCHUB_SECRET_KEY"], EncryptionKey = values["SYNCHUB_ENCRYPTION_KEY"] };
        Assert.Empty(options.Problems());
        Assert.DoesNotContain(values["SYNCHUB_SECRET_KEY"], first.StdOut + first.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(values["SYNCHUB_ENCRYPTION_KEY"], first.StdOut + first.StdErr, StringComparison.Ordinal);

        var second = sandbox.RunHook();
        Assert.True(second.ExitCode == 0, second.StdOut + second.StdErr);
        Assert.Equal(values, sandbox.Values());
        Assert.Equal(2, sandbox.SetCount());
    }

    [Fact]
    public void Preprovision_hook_generates_only_what_is_missing()
    {
        using var sandbox = new FakeAzd();
        const string existing = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b";
        sandbox.Preset("SYNCHUB_SECRET_KEY", existing);

        var result = sandbox.RunHook();

        Assert.True(result.ExitCode == 0, result.StdOut + result.StdErr);
        Assert.Equal(existing, sandbox.Values()["SYNCHUB_SECRET_KEY"]);
        Assert.Equal(44, sandbox.Values()["SYNCHUB_ENCRYPTION_KEY"].Length);
        Assert.Equal(1, sandbox.SetCount());
    }

    [Fact]
    public void Preprovision_hook_restores_missing_values_from_the_key_vault_of_an_earlier_provision()
    {
        using var sandbox = new FakeAzd();
        const string secretKey = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b";
        const string encryptionKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        sandbox.Preset("AZURE_KEY_VAULT_NAME", "kv-earlier");
        sandbox.FakeAz($$"""
            [ "$1 $2 $3 $4 $5" = "keyvault secret show --vault-name kv-earlier" ] || exit 2
            case "$7" in
              synchub-secret-key) echo "{{secretKey}}" ;;
              synchub-encryption-key) echo "{{encryptionKey}}" ;;
              *) exit 3 ;;
            esac
            """);

        var result = sandbox.RunHook();

        Assert.True(result.ExitCode == 0, result.StdOut + result.StdErr);
        Assert.Equal(secretKey, sandbox.Values()["SYNCHUB_SECRET_KEY"]);
        Assert.Equal(encryptionKey, sandbox.Values()["SYNCHUB_ENCRYPTION_KEY"]);
    }

    [Fact]
    public void Preprovision_hook_refuses_to_replace_secrets_it_cannot_read_back()
    {
        using var sandbox = new FakeAzd();
        sandbox.Preset("AZURE_KEY_VAULT_NAME", "kv-earlier");
        sandbox.FakeAz("""echo "ERROR: Please run 'az login' to setup account." >&2; exit 1""");

        var result = sandbox.RunHook();

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("could not be read from Key Vault kv-earlier", result.StdErr, StringComparison.Ordinal);
        Assert.Equal(0, sandbox.SetCount());
    }

    [Fact]
    public void Preprovision_hook_makes_distinct_uuid_v4s()
    {
        var keys = Enumerable.Range(0, 5).Select(_ =>
        {
            using var sandbox = new FakeAzd();
            Assert.Equal(0, sandbox.RunHook().ExitCode);
            return sandbox.Values()["SYNCHUB_SECRET_KEY"];
        }).ToArray();

        Assert.Equal(keys.Length, keys.Distinct().Count());
        Assert.All(keys, k => Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", k));
    }

    /// <summary>A stand-in <c>azd</c> on PATH that keeps <c>env get-value</c> / <c>env set</c> values in a file.</summary>
    private sealed class FakeAzd : IDisposable
    {
        private const string Script = """
            #!/bin/sh
            store="$FAKE_AZD_STORE"
            touch "$store"
            if [ "$1" = env ] && [ "$2" = get-value ]; then
              value=$(grep "^$3=" "$store" | tail -n 1 | cut -d= -f2-)
              if [ -z "$value" ]; then echo "ERROR: key '$3' not found in the environment values" >&2; exit 1; fi
              printf '%s\n' "$value"
            elif [ "$1" = env ] && [ "$2" = set ]; then
              printf '%s=%s\n' "$3" "$4" >> "$store"
              echo set >> "$store.log"
            else
              echo "unexpected: $*" >&2; exit 2
            fi
            """;

        private readonly string _dir = Directory.CreateTempSubdirectory("synchub-azd-").FullName;

        public FakeAzd()
        {
            var azd = Path.Combine(_dir, "azd");
            File.WriteAllText(azd, Script.ReplaceLineEndings("\n") + "\n");
            File.SetUnixFileMode(azd, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        private string Store => Path.Combine(_dir, "store");

        public void Preset(string name, string value) => File.AppendAllText(Store, $"{name}={value}\n");

        /// <summary>Puts a stand-in <c>az</c> with the given shell body on PATH.</summary>
        public void FakeAz(string body)
        {
            var az = Path.Combine(_dir, "az");
            File.WriteAllText(az, ("#!/bin/sh\n" + body).ReplaceLineEndings("\n") + "\n");
            File.SetUnixFileMode(az, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        public ProcessResult RunHook()
        {
            var start = new ProcessStartInfo("sh")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Bicep.RepoRoot,
            };
            start.ArgumentList.Add(Path.Combine("infra", "hooks", "preprovision.sh"));
            start.Environment["PATH"] = _dir + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
            start.Environment["FAKE_AZD_STORE"] = Store;
            return ProcessResult.Run(start, TimeSpan.FromMinutes(1));
        }

        public Dictionary<string, string> Values() => File.ReadAllLines(Store)
            .Select(line => line.Split('=', 2))
            .GroupBy(parts => parts[0])
            .ToDictionary(g => g.Key, g => g.Last()[1]);

        public int SetCount() => File.Exists(Store + ".log") ? File.ReadAllLines(Store + ".log").Length : 0;

        public void Dispose() => Directory.Delete(_dir, recursive: true);
    }
}
