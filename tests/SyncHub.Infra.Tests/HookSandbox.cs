using System.Diagnostics;

namespace SyncHub.Infra.Tests;

/// <summary>
/// A sandbox for the azd hooks: stand-in <c>azd</c> and <c>az</c> on PATH. <c>azd env get-value</c> / <c>env set</c> keep
/// values in a file (the azd environment's <c>.env</c>); <c>az</c> plays one resource group holding one Key Vault whose
/// secrets are files in a folder, and logs every call. Runs a hook with <c>sh</c> or with PowerShell (<see cref="PowerShell"/>).
/// </summary>
public sealed class HookSandbox : IDisposable
{
    public const string ResourceGroup = "rg-synchub-test";
    public const string Vault = "kv-existing";
    public const string App = "func-api-test";
    public const string AppId = "/subscriptions/s/resourceGroups/rg-synchub-test/providers/Microsoft.Web/sites/func-api-test";

    private const string AzdScript = """
        #!/bin/sh
        store="$FAKE_STATE/azd.env"
        touch "$store"
        if [ "$1" = env ] && [ "$2" = get-value ]; then
          value=$(grep "^$3=" "$store" | tail -n 1 | cut -d= -f2-)
          if [ -z "$value" ]; then echo "ERROR: key '$3' not found in the environment values" >&2; exit 1; fi
          printf '%s\n' "$value"
        elif [ "$1" = env ] && [ "$2" = set ]; then
          printf '%s=%s\n' "$3" "$4" >> "$store"
          echo "$3" >> "$FAKE_STATE/azd-set.log"
        else
          echo "unexpected: $*" >&2; exit 2
        fi
        """;

    // The vault exists when $FAKE_STATE/vault exists; each secret is a file in it. FAKE_AZ_BROKEN makes every vault
    // call fail as a signed-out CLI does; FAKE_AZ_USER_TYPE answers `account show`.
    private const string AzScript = """
        #!/bin/sh
        state="$FAKE_STATE"
        printf '%s\n' "$*" >> "$state/az.log"
        arg() { # value after the option $1
          want="$1"; shift
          while [ $# -gt 0 ]; do
            if [ "$1" = "$want" ]; then printf '%s' "$2"; return 0; fi
            shift
          done
          return 1
        }
        case "$1 $2" in
          "account show")
            [ -n "${FAKE_AZ_USER_TYPE:-}" ] || { echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; }
            echo "$FAKE_AZ_USER_TYPE" ;;
          "keyvault list")
            [ "$(arg -g "$@")" = "rg-synchub-test" ] && [ -d "$state/vault" ] && echo "kv-existing"
            exit 0 ;;
          "keyvault secret")
            if [ -n "${FAKE_AZ_BROKEN:-}" ]; then echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; fi
            [ "$(arg --vault-name "$@")" = "kv-existing" ] && [ -d "$state/vault" ] || { echo "ERROR: vault not found" >&2; exit 3; }
            case "$3" in
              list) ls "$state/vault" ;;
              set)
                name=$(arg --name "$@"); file=$(arg --file "$@") || { echo "no --file" >&2; exit 4; }
                if [ -e "$state/vault/$name" ]; then echo "$name" >> "$state/overwritten.log"; fi
                cp "$file" "$state/vault/$name"
                echo "$name" >> "$state/set.log" ;;
              *) echo "unexpected: $*" >&2; exit 2 ;;
            esac ;;
          "rest --method") echo "$(arg --url "$@")" >> "$state/refresh.log" ;;
          "functionapp restart") echo "$(arg -n "$@")" >> "$state/restart.log" ;;
          *) echo "unexpected: $*" >&2; exit 2 ;;
        esac
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("synchub-hooks-").FullName;
    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);

    public HookSandbox(string shell)
    {
        Shell = shell;
        Directory.CreateDirectory(Path.Combine(_dir, "bin"));
        WriteExecutable("azd", AzdScript);
        WriteExecutable("az", AzScript);
        // What azd passes to a postprovision hook on a fresh checkout: the outputs of the deployment it just ran.
        _environment["SYNCHUB_HOOK_ATTEMPTS"] = "2";
        _environment["SYNCHUB_HOOK_RETRY_SECONDS"] = "0";
    }

    /// <summary>"sh" or "pwsh": which twin of each hook runs.</summary>
    public string Shell { get; }

    private string State => _dir;

    private string VaultDir => Path.Combine(_dir, "vault");

    /// <summary>Makes the environment's Key Vault exist, holding the given secrets.</summary>
    public void ExistingVault(params (string Name, string Value)[] secrets)
    {
        Directory.CreateDirectory(VaultDir);
        foreach (var (name, value) in secrets)
        {
            File.WriteAllText(Path.Combine(VaultDir, name), value);
        }
    }

    public Dictionary<string, string> VaultSecrets() => Directory.Exists(VaultDir)
        ? Directory.GetFiles(VaultDir).ToDictionary(f => Path.GetFileName(f), f => File.ReadAllText(f).Trim())
        : [];

    /// <summary>Sets a value in the process environment of the hook (as azd does for the deployment outputs).</summary>
    public void Env(string name, string value) => _environment[name] = value;

    /// <summary>Puts a value in the azd environment (.azure/&lt;env&gt;/.env).</summary>
    public void Preset(string name, string value) => File.AppendAllText(Path.Combine(State, "azd.env"), $"{name}={value}\n");

    /// <summary>The azd environment: last value of each name.</summary>
    public Dictionary<string, string> AzdValues()
    {
        var file = Path.Combine(State, "azd.env");
        return File.Exists(file)
            ? File.ReadAllLines(file).Select(l => l.Split('=', 2)).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1])
            : [];
    }

    /// <summary>The raw text of the azd environment file, every value ever written included.</summary>
    public string AzdFile()
    {
        var file = Path.Combine(State, "azd.env");
        return File.Exists(file) ? File.ReadAllText(file) : "";
    }

    public string[] Log(string name)
    {
        var file = Path.Combine(State, name + ".log");
        return File.Exists(file) ? File.ReadAllLines(file) : [];
    }

    public ProcessResult Run(string hook)
    {
        ProcessStartInfo start;
        if (Shell == "sh")
        {
            start = new ProcessStartInfo("sh");
            start.ArgumentList.Add(Path.Combine("infra", "hooks", hook + ".sh"));
        }
        else
        {
            start = new ProcessStartInfo(PowerShell.Path);
            foreach (var arg in new[] { "-NoProfile", "-NonInteractive", "-File", Path.Combine("infra", "hooks", hook + ".ps1") })
            {
                start.ArgumentList.Add(arg);
            }
            start.Environment["POWERSHELL_TELEMETRY_OPTOUT"] = "1";
            start.Environment["POWERSHELL_UPDATECHECK"] = "Off";
        }
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.WorkingDirectory = Bicep.RepoRoot;
        start.Environment["PATH"] = Path.Combine(_dir, "bin") + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        start.Environment["FAKE_STATE"] = State;
        foreach (var name in new[] { "AZURE_RESOURCE_GROUP", "AZURE_KEY_VAULT_NAME", "SERVICE_API_NAME", "SERVICE_API_RESOURCE_ID", "AZURE_PRINCIPAL_TYPE", "FAKE_AZ_BROKEN", "FAKE_AZ_USER_TYPE" })
        {
            start.Environment.Remove(name);
        }
        foreach (var (name, value) in _environment)
        {
            start.Environment[name] = value;
        }
        return ProcessResult.Run(start, TimeSpan.FromMinutes(2));
    }

    private void WriteExecutable(string name, string script)
    {
        var path = Path.Combine(_dir, "bin", name);
        File.WriteAllText(path, script.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

/// <summary>
/// PowerShell 7 for the .ps1 hooks, installed on demand from NuGet as the dotnet tool <c>PowerShell</c> into
/// <c>.synchub/tools/powershell-VERSION</c> (git-ignored, kept between runs). A failed install fails the test that needs it.
/// </summary>
public static class PowerShell
{
    public const string Version = "7.6.9";

    private static readonly Lazy<string> Installed = new(Install, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Path => Installed.Value;

    private static string Install()
    {
        var dir = System.IO.Path.Combine(Bicep.RepoRoot, ".synchub", "tools", "powershell-" + Version);
        var pwsh = System.IO.Path.Combine(dir, "pwsh");
        if (!File.Exists(pwsh))
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Bicep.RepoRoot,
            };
            foreach (var arg in new[] { "tool", "install", "--tool-path", dir, "PowerShell", "--version", Version })
            {
                start.ArgumentList.Add(arg);
            }
            var result = ProcessResult.Run(start, TimeSpan.FromMinutes(8));
            Assert.True(result.ExitCode == 0 && File.Exists(pwsh),
                $"Could not install PowerShell {Version} (dotnet tool install --tool-path {dir} PowerShell --version {Version}), " +
                $"which the .ps1 hook tests need; exit code {result.ExitCode}:\n{result.StdOut}\n{result.StdErr}");
        }
        return pwsh;
    }
}
