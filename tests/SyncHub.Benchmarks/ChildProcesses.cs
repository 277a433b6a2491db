using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace SyncHub.Benchmarks;

/// <summary>A child process the harness started; stopped by its PID, never by name.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _name;
    private readonly StreamWriter? _log;
    private readonly object _gate = new();

    private ChildProcess(string name, Process process, StreamWriter? log)
    {
        _name = name;
        _process = process;
        _log = log;
    }

    public int Pid => _process.Id;
    public bool Exited => _process.HasExited;

    public static ChildProcess Start(string name, string fileName, IEnumerable<string> args, string workingDirectory, string? logPath, bool echo)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        var log = logPath is null ? null : new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = info };
        var child = new ChildProcess(name, process, log);
        process.OutputDataReceived += (_, e) => child.Line(e.Data, echo);
        process.ErrorDataReceived += (_, e) => child.Line(e.Data, echo);
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {name} ({fileName}).");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private void Line(string? line, bool echo)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            _log?.WriteLine(line);
        }
        if (echo)
        {
            Console.Error.WriteLine($"[{_name}] {line}");
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
        lock (_gate)
        {
            _log?.Dispose();
        }
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static async Task WaitForTcpAsync(int port, ChildProcess process, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.Exited)
            {
                // The polling interval of this wait for the port (the harness is a console program, not a test, and
                // does not reference the tests' Eventually helper).
                await Task.Delay(100);
            }
            catch (SocketException e)
            {
                throw new InvalidOperationException($"{process._name} did not listen on 127.0.0.1:{port} within {timeout.TotalSeconds:0} s" +
                    (process.Exited ? " (it exited)" : "") + ".", e);
            }
        }
    }
}

/// <summary>An in-memory Azurite on free loopback ports, from the repository's node_modules.</summary>
public static class Azurite
{
    /// <summary>Azurite's well-known development account key (public, in every Azure SDK's docs).</summary>
    private const string DevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public static async Task<(ChildProcess Process, string ConnectionString)> StartAsync(string repoRoot, string workDir, bool verbose)
    {
        var azurite = Path.Combine(repoRoot, "node_modules", ".bin", "azurite");
        if (!File.Exists(azurite))
        {
            throw new InvalidOperationException($"{azurite} is missing: run `npm ci` in {repoRoot} first (or pass --storage).");
        }
        var (blob, queue, table) = (ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
        // In memory: nothing is written; the working directory is the harness's temp folder all the same.
        var process = ChildProcess.Start("azurite", azurite,
        [
            "--inMemoryPersistence", "--skipApiVersionCheck", "--silent", "--disableTelemetry",
            "--blobHost", "127.0.0.1", "--blobPort", $"{blob}",
            "--queueHost", "127.0.0.1", "--queuePort", $"{queue}",
            "--tableHost", "127.0.0.1", "--tablePort", $"{table}",
        ], workDir, Path.Combine(workDir, "azurite.log"), verbose);
        try
        {
            await ChildProcess.WaitForTcpAsync(table, process, TimeSpan.FromSeconds(30));
            await ChildProcess.WaitForTcpAsync(queue, process, TimeSpan.FromSeconds(30));
        }
        catch
        {
            process.Dispose();
            throw;
        }
        var connection = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + DevKey + ";" +
            $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;" +
            $"TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";
        return (process, connection);
    }
}

/// <summary>Settings shared by the harness's own service graph and the LocalHost it starts.</summary>
public sealed record BenchSettings(string Storage, string SecretKey, string EncryptionKey, string ConfigPath)
{
    /// <summary>A run queue (and due-index partition) of the benchmark's own.</summary>
    public string RunQueue { get; } = "bench-runs-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>A webhook queue of the benchmark's own (no webhook URL is set, so nothing is queued on it).</summary>
    public string WebhookQueue { get; } = "bench-hooks-" + Guid.NewGuid().ToString("N")[..8];

    public static BenchSettings Create(string storage, string configPath) =>
        new(storage, Guid.NewGuid().ToString(), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), configPath);

    public Dictionary<string, string?> Configuration() => new()
    {
        ["SyncHubStorage"] = Storage,
        ["AzureWebJobsStorage"] = Storage,
        ["SyncHub:SecretKeys"] = SecretKey,
        ["SyncHub:EncryptionKey"] = EncryptionKey,
        ["SyncHub:ConfigPath"] = ConfigPath,
        ["SyncHubRunQueue"] = RunQueue,
        ["SyncHubWebhookQueue"] = WebhookQueue,
    };

    public void WriteLocalSettings(string path)
    {
        var values = new JsonObject
        {
            ["AzureWebJobsStorage"] = Storage,
            ["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated",
            ["SyncHubStorage"] = Storage,
            ["SyncHub__SecretKeys"] = SecretKey,
            ["SyncHub__EncryptionKey"] = EncryptionKey,
            ["SyncHub__ConfigPath"] = ConfigPath,
            ["SyncHubSchedulerCron"] = "*/30 * * * * *",
            ["SyncHubRunQueue"] = RunQueue,
            ["SyncHubWebhookQueue"] = WebhookQueue,
        };
        File.WriteAllText(path, new JsonObject { ["IsEncrypted"] = false, ["Values"] = values }.ToJsonString());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}

/// <summary>SyncHub.LocalHost as a child process on a free port.</summary>
public static class LocalHost
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    public static string DefaultDll(string repoRoot) =>
        Path.Combine(repoRoot, "functions", "SyncHub.LocalHost", "bin", Configuration, "net10.0", "SyncHub.LocalHost.dll");

    public static async Task<(ChildProcess Process, Uri BaseAddress)> StartAsync(string dll, BenchSettings settings, string workDir, bool verbose)
    {
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build functions/SyncHub.LocalHost -c {Configuration} (dotnet run builds it).");
        }
        var settingsPath = Path.Combine(workDir, "local.settings.json");
        settings.WriteLocalSettings(settingsPath);
        var port = ChildProcess.FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var process = ChildProcess.Start("localhost", "dotnet",
            [dll, "--urls", baseAddress.ToString().TrimEnd('/'), "--settings", settingsPath],
            Path.GetDirectoryName(dll)!, Path.Combine(workDir, "localhost.log"), verbose);
        try
        {
            await ChildProcess.WaitForTcpAsync(port, process, TimeSpan.FromSeconds(60));
        }
        catch
        {
            process.Dispose();
            throw;
        }
        return (process, baseAddress);
    }
}
