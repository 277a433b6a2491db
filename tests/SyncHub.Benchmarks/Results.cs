using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SyncHub.Benchmarks;

/// <summary>One line of the results table. <c>Met</c> is null when the figure has no target.</summary>
public sealed record Result(string Case, string Figure, double Value, string Unit, double? Ratio, string? RatioTo, string Target, bool? Met, string? Note = null);

public sealed class Results
{
    private readonly List<Result> _rows = [];

    public IReadOnlyList<Result> Rows => _rows;

    public void Add(Result row)
    {
        _rows.Add(row);
        Console.WriteLine($"  {row.Case,-10} {row.Figure,-58} {Format(row.Value),10} {row.Unit,-10}" +
            (row.Ratio is { } r ? $" ratio {r:0.000} to {row.RatioTo}" : "") + (row.Note is { } n ? $"  ({n})" : ""));
    }

    /// <summary>By case (raw, write, page, concurrent), in the order measured within a case.</summary>
    public IEnumerable<Result> Ordered() => _rows.OrderBy(r => Array.IndexOf(Options.Cases, r.Case));

    public static string Format(double value) =>
        value >= 100 ? value.ToString("#,0", CultureInfo.InvariantCulture) : value.ToString("0.0", CultureInfo.InvariantCulture);

    public string Table()
    {
        string[] header = ["case", "figure", "value", "unit", "ratio", "to", "target", "met"];
        var lines = Ordered().Select(r => new[]
        {
            r.Case, r.Figure, Format(r.Value), r.Unit,
            r.Ratio is { } x ? x.ToString("0.000", CultureInfo.InvariantCulture) : "-",
            r.RatioTo ?? "-", r.Target,
            r.Met switch { true => "yes", false => "NO", null => "-" },
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, lines.Count == 0 ? 0 : lines.Max(l => l[i].Length))).ToArray();
        var text = new StringBuilder();
        void Row(string[] cells) => text.AppendLine(string.Join(" | ", cells.Select((c, i) => i is 2 or 4 ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))).TrimEnd());
        Row(header);
        text.AppendLine(string.Join("-+-", widths.Select(w => new string('-', w))));
        lines.ForEach(Row);
        return text.ToString();
    }

    public void WriteJson(string path, JsonObject run)
    {
        run["results"] = new JsonArray(Ordered().Select(r => (JsonNode)new JsonObject
        {
            ["case"] = r.Case,
            ["figure"] = r.Figure,
            ["value"] = Math.Round(r.Value, 3),
            ["unit"] = r.Unit,
            ["ratio"] = r.Ratio is { } x ? Math.Round(x, 4) : null,
            ["ratio_to"] = r.RatioTo,
            ["target"] = r.Target,
            ["met"] = r.Met,
            ["note"] = r.Note,
        }).ToArray());
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        File.WriteAllText(path, run.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
