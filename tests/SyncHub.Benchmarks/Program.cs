using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SyncHub.Benchmarks;
using SyncHub.Core.Connections;
using SyncHub.Core.Hosting;
using SyncHub.Core.Records;
using SyncHub.Core.Storage;
using SyncHub.Core.Model;

// The performance harness (DESIGN.md "Targets"): in one run, raw Azurite floors and SyncHub's write and read paths,
// each SyncHub figure with its ratio to the raw figure measured in the same run.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Options options;
try
{
    options = Options.Parse(args);
}
catch (ArgumentException e)
{
    if (e.Message.Length > 0)
    {
        Console.Error.WriteLine(e.Message);
    }
    Console.Error.WriteLine(Options.Usage);
    return e.Message.Length > 0 ? 2 : 0;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
var ct = cancel.Token;
var total = Stopwatch.StartNew();
var repoRoot = FindRepoRoot();
var workDir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "synchub-bench-" + Guid.NewGuid().ToString("N")[..8])).FullName;
var results = new Results();
var n = options.Records;
ChildProcess? azurite = null;
ChildProcess? localHost = null;
var failed = false;
try
{
    Console.WriteLine($"SyncHub benchmark: {n:N0} records ({options.Changed:N0} changed), cases {(options.Only.Count == 0 ? "all" : string.Join(",", options.Only))}, " +
        $"{Environment.ProcessorCount} cores, load average {LoadAverage()}");
    string storage;
    if (options.Storage is { } given)
    {
        storage = given;
        Console.WriteLine("Storage: the given connection string");
    }
    else
    {
        (azurite, storage) = await Azurite.StartAsync(repoRoot, workDir, options.Verbose);
        Console.WriteLine($"Azurite: PID {azurite.Pid}, in memory ({storage.Split(';').First(p => p.StartsWith("TableEndpoint", StringComparison.Ordinal))})");
    }

    var configPath = Path.Combine(AppContext.BaseDirectory, "nango.yaml");
    var settings = BenchSettings.Create(storage, configPath);
    var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Configuration()).Build();
    var services = new ServiceCollection()
        .AddLogging(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning))
        .AddSyncHub(configuration)
        .BuildServiceProvider();
    await using var _services = services;
    var storageClients = services.GetRequiredService<StorageClients>();

    var needsLocalHost = options.Runs("page") || options.Runs("concurrent");
    Uri? baseAddress = null;
    if (needsLocalHost)
    {
        (localHost, baseAddress) = await LocalHost.StartAsync(options.LocalHostDll ?? LocalHost.DefaultDll(repoRoot), settings, workDir, options.Verbose);
        Console.WriteLine($"LocalHost: PID {localHost.Pid} on {baseAddress}");
    }

    var sample = Payloads.Json(0, 0).Length;
    Console.WriteLine($"Records: GithubIssue, about {sample} bytes of JSON each");

    string? connectionId = null;
    RecordPartition? partition = null;
    RecordWriter? writer = null;
    if (options.Runs("raw") || options.Runs("write") || needsLocalHost)
    {
        connectionId = "bench-" + Guid.NewGuid().ToString("N")[..12];
        await services.GetRequiredService<ConnectionStore>().UpsertAsync("github", connectionId, "github",
            new ConnectionCredentials("API_KEY", new JsonObject { ["type"] = "API_KEY", ["apiKey"] = "bench" }), null, null, ct);
        partition = new RecordPartition("github", connectionId, ReadCases.Model);
        writer = services.GetRequiredService<RecordWriter>();
    }

    if (options.Runs("raw"))
    {
        Console.WriteLine(options.Runs("write")
            ? "raw + write: Azurite floors and RecordWriter (new, unchanged, changed), interleaved in slices"
            : "raw: Azurite floors");
        await StoreCases.RunAsync(storageClients.Tables, options.Runs("write") ? writer : null, partition!, n, options.Changed, results, ct);
    }
    if (!options.Runs("write") && needsLocalHost)
    {
        Console.WriteLine($"setup: saving {n:N0} records (not measured)");
        await StoreCases.FillAsync(writer!, partition!, n, ct);
    }

    if (needsLocalHost)
    {
        var set = await services.GetRequiredService<RecordSetStore>().FindAsync(partition!, ct)
            ?? throw new InvalidOperationException("The record set was not created.");
        var recordTable = storageClients.Table(set.TableName);
        using var client = new RecordsClient(baseAddress!, settings.SecretKey, connectionId!, "github");
        var keys = new List<long>(n);
        if (options.Runs("page"))
        {
            Console.WriteLine($"page: all records through GET /records?limit=500 vs a raw read of table {set.TableName}");
            await ReadCases.RunPagingAsync(recordTable, client, n, keys, results, ct);
            await ApiCostCases.PageAsync(configuration, new StorageTraffic(), storage, connectionId!, ReadCases.Model, Math.Min(200, n / 100 - 1), results, ct);
        }
        else
        {
            await RawTable.ReadAllAsync(recordTable, 1000, keys, ct);
        }
        if (options.Runs("concurrent"))
        {
            Console.WriteLine($"concurrent: {options.Clients} clients, limit 100, {options.ConcurrentSeconds:0.#} s per side");
            await ReadCases.RunConcurrentAsync(recordTable, client, keys, options.Clients, TimeSpan.FromSeconds(options.ConcurrentSeconds), results, ct);
        }
    }

    if (options.Runs("incremental"))
    {
        Console.WriteLine($"incremental: runs of 10 fetched records (0 and 10 changed) on sets of {n / 10:N0} and {n:N0}, storage traffic counted");
        var traffic = new StorageTraffic();
        await using var counted = new ServiceCollection()
            .AddLogging(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning))
            .AddSyncHub(configuration)
            .AddSingleton(traffic.Clients(storage))
            .BuildServiceProvider();
        var incrementalConnection = "bench-" + Guid.NewGuid().ToString("N")[..12];
        await counted.GetRequiredService<ConnectionStore>().UpsertAsync("github", incrementalConnection, "github",
            new ConnectionCredentials("API_KEY", new JsonObject { ["type"] = "API_KEY", ["apiKey"] = "bench" }), null, null, ct);
        await IncrementalCase.RunAsync(traffic, counted.GetRequiredService<RecordWriter>(), incrementalConnection, n, results, ct);
    }

    if (options.Runs("status"))
    {
        Console.WriteLine("status: GET /sync/status of a connection with 10 syncs x 3 models, storage traffic counted");
        await ApiCostCases.StatusAsync(settings.Configuration(), workDir, new StorageTraffic(), storage, results, ct);
    }

    if (options.Runs("scheduler"))
    {
        Console.WriteLine($"scheduler: one tick over {options.Schedules:N0} schedules with 0, 100 and 1,000 due");
        foreach (var figure in await SchedulerCase.RunAsync(services, options.Schedules, Console.Out, ct))
        {
            var target = figure.Due == 1_000 ? "< 2 s" : "grows with due";
            results.Add(new Result("scheduler", $"tick, {figure.Schedules:N0} schedules, {figure.Due:N0} due", figure.Seconds, "s", null, null,
                target, figure.Due == 1_000 ? figure.Seconds < 2 && figure.Enqueued == figure.Due : null, $"{figure.Enqueued:N0} enqueued"));
        }
    }
}
catch (OperationCanceledException) when (ct.IsCancellationRequested)
{
    Console.Error.WriteLine("Cancelled.");
    failed = true;
}
catch (Exception e)
{
    Console.Error.WriteLine($"Benchmark failed: {e}");
    failed = true;
}
finally
{
    localHost?.Dispose();
    azurite?.Dispose();
}
total.Stop();

Console.WriteLine();
Console.WriteLine(results.Table());
Console.WriteLine($"{n:N0} records; run time {total.Elapsed.TotalSeconds:0} s; load average now {LoadAverage()}");
var missed = results.Rows.Count(r => r.Met == false);
if (missed > 0)
{
    Console.WriteLine($"{missed} target(s) missed.");
}
if (options.Out is { } outPath)
{
    results.WriteJson(outPath, new JsonObject
    {
        ["records"] = n,
        ["cases"] = options.Only.Count == 0 ? "all" : string.Join(",", options.Only),
        ["run_seconds"] = Math.Round(total.Elapsed.TotalSeconds, 1),
        ["started_utc"] = DateTime.UtcNow.Add(-total.Elapsed).ToString("O", CultureInfo.InvariantCulture),
        ["processors"] = Environment.ProcessorCount,
        ["failed"] = failed,
    });
    Console.WriteLine($"Wrote {outPath}");
}
if (failed)
{
    Console.Error.WriteLine($"Logs of the child processes: {workDir}");
}
else
{
    TryDelete(workDir);
}
return failed ? 1 : 0;

static string FindRepoRoot()
{
    foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SyncHub.Functions.sln")))
            {
                return dir.FullName;
            }
        }
    }
    throw new InvalidOperationException("Cannot find the repository root (SyncHub.Functions.sln) above the harness or the current directory.");
}

static string LoadAverage()
{
    try
    {
        return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
    }
    catch (IOException)
    {
        return "n/a";
    }
    catch (UnauthorizedAccessException)
    {
        return "n/a";
    }
}

static void TryDelete(string path)
{
    try
    {
        Directory.Delete(path, recursive: true);
    }
    catch (IOException)
    {
    }
    catch (UnauthorizedAccessException)
    {
    }
}
