using System.Diagnostics;
using System.Reflection;
using System.Runtime.Versioning;
using System.Text.Json.Nodes;

// The Bicep CLI package referenced is the linux-x64 one (TOOLCHAIN.md), and the hook test runs a POSIX shell.
[assembly: SupportedOSPlatform("linux")]

namespace SyncHub.Infra.Tests;

/// <summary>The Bicep CLI restored from NuGet (Azure.Bicep.CommandLine.linux-x64), and the repository it works on.</summary>
public static class Bicep
{
    private static readonly Lazy<JsonObject> CompiledMain = new(() =>
    {
        var result = Run("build", MainBicep, "--stdout");
        Assert.True(result.ExitCode == 0, $"bicep build failed ({result.ExitCode}):\n{result.StdErr}");
        return JsonNode.Parse(result.StdOut)!.AsObject();
    });

    /// <summary>Root of the repository (the folder holding SyncHub.Functions.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string MainBicep => Path.Combine(RepoRoot, "infra", "main.bicep");

    public static string CliPath { get; } = typeof(Bicep).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "BicepPath").Value!;

    /// <summary>infra/main.bicep compiled to an ARM template (compiled once per test run).</summary>
    public static JsonObject MainTemplate => CompiledMain.Value;

    public static ProcessResult Run(params string[] args)
    {
        EnsureExecutable();
        var start = new ProcessStartInfo(CliPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoRoot,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return ProcessResult.Run(start, TimeSpan.FromMinutes(3));
    }

    private static void EnsureExecutable()
    {
        Assert.True(File.Exists(CliPath), $"Bicep CLI not found at {CliPath}; restore tests/SyncHub.Infra.Tests.");
        // NuGet does not always keep the executable bit of a package file.
        var mode = File.GetUnixFileMode(CliPath);
        if ((mode & UnixFileMode.UserExecute) == 0)
        {
            File.SetUnixFileMode(CliPath, mode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SyncHub.Functions.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("SyncHub.Functions.sln not found above " + AppContext.BaseDirectory);
    }
}

public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr)
{
    public static ProcessResult Run(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish in {timeout}.");
        }
        process.WaitForExit();
        return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}
