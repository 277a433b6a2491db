using System.Reflection;
using NetArchTest.Rules;

namespace SyncHub.Tests.Architecture;

/// <summary>
/// The layers of docs/architecture.md, enforced on the compiled assemblies (NetArchTest reads their type references,
/// so a fully qualified name counts as much as a <c>using</c>). Each Core part may use only the parts listed for it.
/// </summary>
public sealed class LayerTests
{
    private const string Core = "SyncHub.Core";
    private static readonly Assembly CoreAssembly = typeof(SyncHub.Core.Model.SyncKey).Assembly;

    /// <summary>Each part of Core and the parts it may depend on (besides itself). The order is the layering, bottom up.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Allowed = new Dictionary<string, string[]>
    {
        ["Telemetry"] = [],
        ["Model"] = ["Telemetry"],
        ["Storage"] = ["Telemetry", "Model"],
        ["Configuration"] = ["Telemetry", "Model"],
        ["Connections"] = ["Telemetry", "Model", "Storage", "Configuration"],
        ["Records"] = ["Telemetry", "Model", "Storage", "Configuration", "Connections"],
        ["Sdk"] = ["Telemetry", "Model", "Configuration", "Connections", "Records"],
        ["Webhooks"] = ["Telemetry", "Model", "Storage", "Configuration", "Connections"],
        ["Scheduling"] = ["Telemetry", "Model", "Storage", "Configuration", "Connections", "Records", "Sdk", "Webhooks"],
        ["Api"] = ["Telemetry", "Model", "Configuration", "Connections", "Records", "Sdk", "Scheduling", "Webhooks"],
        ["Hosting"] = ["Telemetry", "Model", "Storage", "Configuration", "Connections", "Records", "Sdk", "Webhooks", "Scheduling", "Api"],
    };

    public static TheoryData<string> Parts => [.. Allowed.Keys];

    [Fact]
    public void Every_namespace_of_Core_is_a_known_part()
    {
        var unknown = CoreAssembly.GetTypes()
            .Select(t => t.Namespace ?? "")
            .Where(ns => !ns.StartsWith("System.", StringComparison.Ordinal) && !ns.StartsWith("Microsoft.", StringComparison.Ordinal) && ns != "")
            .Distinct()
            .Where(ns => !Allowed.Keys.Any(part => ns == $"{Core}.{part}" || ns.StartsWith($"{Core}.{part}.", StringComparison.Ordinal)))
            .ToList();
        Assert.True(unknown.Count == 0, "namespaces outside the layers of docs/architecture.md: " + string.Join(", ", unknown));
    }

    [Theory]
    [MemberData(nameof(Parts))]
    public void A_part_uses_only_the_parts_below_it(string part)
    {
        var forbidden = Allowed.Keys.Where(other => other != part && !Allowed[part].Contains(other)).Select(other => $"{Core}.{other}").ToArray();
        var result = Types.InAssembly(CoreAssembly).That().ResideInNamespace($"{Core}.{part}")
            .ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
        Assert.True(result.IsSuccessful, $"{part} may use only {string.Join(", ", Allowed[part].DefaultIfEmpty("nothing else in Core"))}; these types use more: " +
            string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void Only_Api_uses_ASP_NET_Core()
    {
        var result = Types.InAssembly(CoreAssembly).That()
            .DoNotResideInNamespace($"{Core}.Api")
            .ShouldNot().HaveDependencyOn("Microsoft.AspNetCore").GetResult();
        Assert.True(result.IsSuccessful, "HTTP types outside the Api edge: " + string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void Core_knows_nothing_of_Azure_Functions()
    {
        var result = Types.InAssembly(CoreAssembly).ShouldNot().HaveDependencyOn("Microsoft.Azure.Functions").GetResult();
        Assert.True(result.IsSuccessful, "Core types using Azure Functions: " + string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void Integrations_use_only_the_Sdk_and_the_Model_of_Core()
    {
        var forbidden = Allowed.Keys.Except(["Sdk", "Model"]).Select(part => $"{Core}.{part}").ToArray();
        var result = Types.InAssembly(typeof(SyncHub.Integrations.IntegrationsAssembly).Assembly)
            .ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
        Assert.True(result.IsSuccessful, "integration types using Core beyond Sdk and Model: " + string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void Storage_code_throws_no_HTTP_errors()
    {
        // ApiException carries an HTTP status: only the Api edge may create one.
        var result = Types.InAssembly(CoreAssembly).That().DoNotResideInNamespace($"{Core}.Api")
            .ShouldNot().HaveDependencyOn($"{Core}.Api.ApiException").GetResult();
        Assert.True(result.IsSuccessful, "types outside Api that use ApiException: " + string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void Function_classes_only_call_Core()
    {
        // SyncHub.Functions holds trigger classes only: no storage or HTTP client of its own.
        var result = Types.InAssembly(typeof(SyncHub.Functions.ConnectionFunctions).Assembly)
            .ShouldNot().HaveDependencyOnAny("Azure.Data.Tables", "Azure.Storage.Queues", "System.Net.Http").GetResult();
        Assert.True(result.IsSuccessful, "function classes doing more than calling Core: " + string.Join(", ", result.FailingTypeNames ?? []));
    }
}
