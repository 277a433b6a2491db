using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using SyncHub.Core.Scheduling;
using SyncHub.Tests.Infrastructure;
using SyncHub.Tests.Scheduling;
using Xunit.Abstractions;

namespace SyncHub.Tests.Reliability;

/// <summary>An Azurite of this test's own, on free ports, persisting to a temp directory so a restart keeps its data.</summary>
public sealed class OwnAzurite : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("synchub-azurite-").FullName;
    private readonly int[] _ports = [FreePort(), FreePort(), FreePort()];
    private Process? _process;
    private readonly StringBuilder _output = new();

    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        $"BlobEndpoint=http://127.0.0.1:{_ports[0]}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{_ports[1]}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{_ports[2]}/devstoreaccount1;";

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

    /// <summary>node_modules/.bin/azurite of the repository this test runs from (scripts/test.sh installs it).</summary>
    private static string Executable()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "node_modules", ".bin", "azurite");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException("node_modules/.bin/azurite not found above " + AppContext.BaseDirectory + " (run npm ci)");
    }

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo(Executable())
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _directory,
        };
        foreach (var argument in new[]
        {
            "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--location", _directory,
            "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
            "--blobPort", _ports[0].ToString(), "--queuePort", _ports[1].ToString(), "--tablePort", _ports[2].ToString(),
        })
        {
            start.ArgumentList.Add(argument);
        }
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        foreach (var port in _ports)
        {
            await Eventually.Until(async () =>
            {
                Assert.False(_process.HasExited, "Azurite exited: " + Output);
                try
                {
                    using var tcp = new TcpClient();
                    await tcp.ConnectAsync(IPAddress.Loopback, port);
                    return true;
                }
                catch (SocketException)
                {
                    return false;
                }
            }, $"Azurite to listen on 127.0.0.1:{port}", TimeSpan.FromSeconds(30), () => "Azurite said: " + Output, TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>Stops Azurite the way a restarted emulator or a storage outage does: it stops answering (SIGTERM, so it saves its data).</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()]))
            {
                await kill.WaitForExitAsync();
            }
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process?.Dispose();
        _process = null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// Storage stopped and restarted in the middle of a run: the run fails or retries cleanly, the API never shows a
/// record twice or half-written, and once the sync has run again the records and counts are exact.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class StorageFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Azurite_stopped_and_restarted_mid_run_leaves_no_partial_state_and_the_sync_recovers()
    {
        var count = ReliabilityMode.Pick(3_000, 20_000);
        await using var azurite = new OwnAzurite();
        await azurite.StartAsync();
        var runQueue = "rel-storage-" + Guid.NewGuid().ToString("N")[..12];
        await using var engine = await SyncEngine.StartAsync(new Dictionary<string, string?>
        {
            ["SyncHubStorage"] = azurite.ConnectionString, ["AzureWebJobsStorage"] = azurite.ConnectionString, ["SyncHubRunQueue"] = runQueue,
        });
        var source = Api.Issues(count).ToList();
        engine.Github.SetIssues("o/r", source);
        engine.Github.PageDelay = TimeSpan.FromMilliseconds(20);
        await using var host = await LocalHostProcess.StartAsync(new Dictionary<string, string?>
        {
            ["SyncHubStorage"] = azurite.ConnectionString,
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["SyncHub__ConfigPath"] = engine.ConfigPath,
            ["SyncHubRunQueue"] = runQueue,
            ["SyncHubSchedulerCron"] = "* * * * * *",
            ["SyncHub__Scheduling__LeaseDuration"] = "00:00:03",
        });
        var connection = TestEnvironment.Unique("storage");
        await Api.ImportAsync(host.Client, connection);
        int IssuePages() => engine.Github.Requests.Count(r => r.PathAndQuery.StartsWith("/repos/o/r/issues", StringComparison.Ordinal));
        await Eventually.Until(() => IssuePages() >= count / 100 / 3, $"a third of the {count / 100} issue pages to be fetched", TimeSpan.FromSeconds(60),
            () => $"{IssuePages()} pages fetched; LocalHost said:\n{host.Output}");

        await azurite.StopAsync();
        // While storage is down the API answers errors in the envelope, promptly; never a hang.
        var outage = new Dictionary<int, int>();
        await Eventually.During(TimeSpan.FromSeconds(3), async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "records?model=GithubIssue");
            request.Headers.Add("Connection-Id", connection);
            request.Headers.Add("Provider-Config-Key", "github");
            using var response = await host.Client.SendAsync(request);
            var status = (int)response.StatusCode;
            outage[status] = outage.GetValueOrDefault(status) + 1;
            if (status != 200)
            {
                var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
                Assert.NotNull(error["code"]!.GetValue<string>());
            }
        }, "the outage's length is the scenario (the run must meet storage down), not a state to wait for", TimeSpan.FromMilliseconds(250));
        output.WriteLine("during the outage GET /records answered " + string.Join(", ", outage.Select(p => $"{p.Key}×{p.Value}")));
        await azurite.StartAsync();

        // Recovery: whatever the run did, the records read back are never duplicated or half-written, and the sync
        // (triggered again if it ended in ERROR) reaches SUCCESS with the records exact.
        var triggers = 0;
        string? triggeredAfter = null;
        var final = await Eventually.Value<JsonObject?>(async () =>
        {
            var records = await Api.AllRecordsAsync(host.Client, connection); // asserts strictly increasing cursors
            Assert.Equal(records.Count, records.Select(r => r.Id).Distinct().Count());
            Assert.All(records, r => Assert.StartsWith("Issue ", r.Json["title"]!.GetValue<string>()));
            var status = await Api.StatusAsync(host.Client, connection);
            var state = status["status"]!.GetValue<string>();
            if (state == "SUCCESS" && records.Count == count)
            {
                return status;
            }
            var finishedAt = status["finishedAt"]?.ToJsonString();
            if ((state == "ERROR" || (state == "SUCCESS" && records.Count < count)) && finishedAt != triggeredAfter)
            {
                triggeredAfter = finishedAt;
                if (state == "ERROR")
                {
                    Assert.Contains("storage", status["error"]!.GetValue<string>());
                }
                output.WriteLine($"after the restart: {state} ({status["error"]}) with {records.Count} records; triggering again");
                triggers++;
                using var trigger = await host.Client.PostAsync("sync/trigger", new StringContent(
                    $$"""{"provider_config_key":"github","connection_id":"{{connection}}","syncs":["issues"]}""", Encoding.UTF8, "application/json"));
                Assert.Equal(200, (int)trigger.StatusCode);
            }
            return null;
        }, s => s is not null, "the sync to recover: SUCCESS with every record", TimeSpan.FromSeconds(ReliabilityMode.Pick(90, 300)),
            _ => $"{triggers} trigger(s) so far; LocalHost said:\n" + host.Output, TimeSpan.FromMilliseconds(200));
        output.WriteLine($"recovered with {triggers} trigger(s)");

        Api.AssertExact(Api.Expected(source), await Api.AllRecordsAsync(host.Client, connection), final!);
        var schedule = await engine.ScheduleAsync(connection, "issues");
        Assert.Equal(RunStates.Idle, schedule!.RunState);
    }
}
