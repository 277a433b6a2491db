using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace SyncHub.Tests.Infrastructure;

/// <summary>
/// LocalHost as a child process, the way scripts/run.sh runs it: <c>dotnet SyncHub.LocalHost.dll --urls
/// http://127.0.0.1:&lt;free port&gt; --settings &lt;temp local.settings.json&gt;</c>, against the test Azurite. Started on a
/// free port, ready once it answers HTTP, killed (with its temp files removed) on dispose.
/// </summary>
public sealed class LocalHostProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly StringBuilder _output;
    private readonly string _directory;

    private LocalHostProcess(Process process, StringBuilder output, string directory, Uri baseAddress)
    {
        _process = process;
        _output = output;
        _directory = directory;
        BaseAddress = baseAddress;
        Client = CreateClient(TestEnvironment.SecretKey);
    }

    public Uri BaseAddress { get; }

    /// <summary>A client sending <c>Authorization: Bearer &lt;the test secret key&gt;</c>.</summary>
    public HttpClient Client { get; }

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>kill -9: the process and its children die at once, with no shutdown (a crashed host).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public HttpClient CreateClient(string? secretKey)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (secretKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secretKey);
        }
        return client;
    }

    /// <summary>
    /// The <c>Values</c> of the temp local.settings.json: the test settings in the names a real local.settings.json
    /// uses (<c>SyncHub__SecretKeys</c>...), with <paramref name="overrides"/> applied (a null value removes a setting).
    /// </summary>
    public static Dictionary<string, string?> SettingsValues(IDictionary<string, string?>? overrides = null)
    {
        var values = TestEnvironment.Settings().ToDictionary(p => p.Key.Replace(":", "__", StringComparison.Ordinal), p => p.Value);
        values["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                values.Remove(key);
            }
            else
            {
                values[key] = value;
            }
        }
        return values;
    }

    public static async Task<LocalHostProcess> StartAsync(IDictionary<string, string?>? overrides = null)
    {
        // A port picked free can be taken by someone else before LocalHost binds it: try a few.
        for (var attempt = 1; ; attempt++)
        {
            var (process, output, directory, port) = Launch(overrides);
            var baseAddress = new Uri($"http://127.0.0.1:{port}/");
            var host = new LocalHostProcess(process, output, directory, baseAddress);
            try
            {
                await host.WaitUntilAnsweringAsync();
                return host;
            }
            catch (Exception) when (attempt < 3 && host.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await host.DisposeAsync();
            }
            catch
            {
                await host.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Starts LocalHost expecting it to fail; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunUntilExitAsync(IDictionary<string, string?>? overrides = null, TimeSpan? timeout = null)
    {
        var (process, output, directory, _) = Launch(overrides);
        await using var host = new LocalHostProcess(process, output, directory, new Uri("http://127.0.0.1/"));
        using var cts = new CancellationTokenSource(timeout ?? StartTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"LocalHost did not exit within {timeout ?? StartTimeout}. Output:\n{host.Output}");
        }
        process.WaitForExit(); // flushes the redirected output
        return (process.ExitCode, host.Output);
    }

    private static (Process Process, StringBuilder Output, string Directory, int Port) Launch(IDictionary<string, string?>? overrides)
    {
        var directory = Directory.CreateTempSubdirectory("synchub-localhost-").FullName;
        var settingsPath = Path.Combine(directory, "local.settings.json");
        var values = new JsonObject();
        foreach (var (key, value) in SettingsValues(overrides))
        {
            values[key] = value;
        }
        File.WriteAllText(settingsPath, new JsonObject { ["IsEncrypted"] = false, ["Values"] = values }.ToJsonString());

        var port = FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "SyncHub.LocalHost.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var argument in new[] { dll, "--urls", $"http://127.0.0.1:{port}", "--settings", settingsPath })
        {
            start.ArgumentList.Add(argument);
        }
        // Settings must come from the temp file only: drop anything the test runner's environment would override.
        foreach (var name in start.Environment.Keys.ToArray())
        {
            if (name.StartsWith("SyncHub", StringComparison.OrdinalIgnoreCase) || name.StartsWith("AzureWebJobs", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase) || name.StartsWith("DOTNET_ENVIRONMENT", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(name);
            }
        }
        start.Environment["Logging__Console__FormatterName"] = "simple";

        var output = new StringBuilder();
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        };
        process.OutputDataReceived += append;
        process.ErrorDataReceived += append;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, output, directory, port);
    }

    private async Task WaitUntilAnsweringAsync()
    {
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.Until(async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"LocalHost exited with code {_process.ExitCode} before answering. Output:\n{Output}");
            }
            try
            {
                // No credentials: any answer (401) proves the pipeline is up.
                using var response = await probe.GetAsync("environment-variables");
                return response.StatusCode == HttpStatusCode.Unauthorized;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, $"LocalHost to answer on {BaseAddress}", StartTimeout, () => "Output:\n" + Output, TimeSpan.FromMilliseconds(100));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(cts.Token);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One LocalHost shared by the end-to-end test classes (starting one costs about a second).</summary>
public sealed class LocalHostFixture : IAsyncLifetime
{
    private LocalHostProcess? _host;

    public LocalHostProcess Host => _host ?? throw new InvalidOperationException("LocalHost is not started.");

    public async Task InitializeAsync() => _host = await LocalHostProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class LocalHostCollection : ICollectionFixture<LocalHostFixture>
{
    public const string Name = "LocalHost";
}
