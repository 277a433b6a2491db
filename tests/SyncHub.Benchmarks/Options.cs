using System.Globalization;

namespace SyncHub.Benchmarks;

/// <summary>Command-line options. Unknown options stop the run with the usage text.</summary>
public sealed class Options
{
    public static readonly string[] Cases = ["raw", "write", "page", "concurrent", "incremental", "status", "scheduler"];

    public const string Usage = """
        SyncHub.Benchmarks: measures the record store against raw Azurite in one run (DESIGN.md "Targets").

          dotnet run -c Release --project tests/SyncHub.Benchmarks -- [options]

          --records N        records (and raw entities) per case (default 100000)
          --quick            a smoke run: 10000 records, shorter concurrent phase
          --changed N        records modified in the "changed" cases (default a twentieth of --records; see README)
          --only CASES       comma-separated subset of: raw, write, page, concurrent, incremental, status, scheduler
                             (write also runs raw: its ratios are to raw's floors)
          --schedules N      schedules in the scheduler case (default 100000, quick 10000)
          --storage CONN     use this storage connection string instead of starting an Azurite
          --clients N        concurrent clients in the concurrent case (default 32)
          --seconds S        duration of each half (raw, HTTP) of the concurrent case (default 10, quick 4)
          --out FILE         also write the results table as JSON to FILE
          --localhost DLL    the SyncHub.LocalHost.dll to run (default: the one built with this harness)
          --verbose          show LocalHost's and Azurite's output
        """;

    public int Records { get; private set; } = 100_000;
    private int? _changed;

    /// <summary>Azurite's deletes cost O(table rows) each, so changing every record of a large table takes many minutes;
    /// the table keeps its size while records change, so a sample gives the same per-record rate.</summary>
    public int Changed => Math.Min(Records, _changed ?? Math.Max(1, Records / 20));
    public bool Quick { get; private set; }
    private int? _schedules;
    public int Schedules => _schedules ?? (Quick ? 10_000 : 100_000);
    public HashSet<string> Only { get; } = new(StringComparer.OrdinalIgnoreCase);
    public string? Storage { get; private set; }
    public int Clients { get; private set; } = 32;
    public double? Seconds { get; private set; }
    public string? Out { get; private set; }
    public string? LocalHostDll { get; private set; }
    public bool Verbose { get; private set; }

    public double ConcurrentSeconds => Seconds ?? (Quick ? 4 : 10);

    public bool Runs(string name) => Only.Count == 0 || Only.Contains(name) || (name == "raw" && Only.Contains("write"));

    public static Options Parse(string[] args)
    {
        var options = new Options();
        var recordsSet = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--records":
                    options.Records = PositiveInt(Value(), "--records");
                    recordsSet = true;
                    break;
                case "--schedules":
                    options._schedules = PositiveInt(Value(), "--schedules");
                    break;
                case "--changed":
                    options._changed = PositiveInt(Value(), "--changed");
                    break;
                case "--quick":
                    options.Quick = true;
                    break;
                case "--only":
                    foreach (var name in Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!Cases.Contains(name, StringComparer.OrdinalIgnoreCase))
                        {
                            throw new ArgumentException($"--only: unknown case '{name}'; the cases are {string.Join(", ", Cases)}.");
                        }
                        options.Only.Add(name);
                    }
                    break;
                case "--storage":
                    options.Storage = Value();
                    break;
                case "--clients":
                    options.Clients = PositiveInt(Value(), "--clients");
                    break;
                case "--seconds":
                    options.Seconds = double.Parse(Value(), CultureInfo.InvariantCulture);
                    break;
                case "--out":
                    options.Out = Value();
                    break;
                case "--localhost":
                    options.LocalHostDll = Value();
                    break;
                case "--verbose":
                    options.Verbose = true;
                    break;
                case "-h" or "--help":
                    throw new ArgumentException("");
                default:
                    throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }
        if (options.Quick && !recordsSet)
        {
            options.Records = 10_000;
        }
        return options;
    }

    private static int PositiveInt(string text, string name) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"{name} must be a positive integer, got '{text}'.");
}
