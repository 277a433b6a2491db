using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;
using SyncHub.LocalHost;

namespace SyncHub.Tests.LocalHost;

/// <summary>
/// What the real Functions host reads from the function app's build output (<c>func start</c>, or a deployment):
/// <c>host.json</c>, and <c>functions.metadata</c>, which the Worker SDK generates from the <c>[Function]</c> attributes.
/// It must list exactly the functions and trigger bindings LocalHost serves, so what is tested on LocalHost is what
/// Azure runs. Expectations come from the attributes, never from a list here.
/// </summary>
public sealed class FunctionsMetadataTests
{
    private static readonly Assembly FunctionApp = typeof(SyncHub.Functions.ConnectionFunctions).Assembly;

    /// <summary>The checkout: the folder above this test's output that holds SyncHub.Functions.sln.</summary>
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SyncHub.Functions.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"No SyncHub.Functions.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>functions/SyncHub.Functions/bin/&lt;this test's configuration&gt;/&lt;its framework&gt;/.</summary>
    private static string FunctionsOutput()
    {
        var configuration = typeof(FunctionsMetadataTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var framework = $"net{Environment.Version.Major}.{Environment.Version.Minor}";
        return Path.Combine(RepositoryRoot(), "functions", "SyncHub.Functions", "bin", configuration, framework);
    }

    private static JsonArray Metadata()
    {
        var file = Path.Combine(FunctionsOutput(), "functions.metadata");
        Assert.True(File.Exists(file), $"{file} is missing: the Worker SDK writes it when SyncHub.Functions is built.");
        return Assert.IsType<JsonArray>(JsonNode.Parse(File.ReadAllText(file)));
    }

    private sealed record Declared(string Name, string EntryPoint, string Trigger, JsonObject Binding);

    /// <summary>Every [Function] method (public or not) and the trigger binding its attributes declare.</summary>
    private static List<Declared> DeclaredFunctions()
    {
        var declared = new List<Declared>();
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in FunctionApp.GetTypes())
        {
            foreach (var method in type.GetMethods(all))
            {
                if (method.GetCustomAttribute<FunctionAttribute>() is not { } function)
                {
                    continue;
                }
                var triggers = method.GetParameters()
                    .SelectMany(p => p.GetCustomAttributes<TriggerBindingAttribute>().Select(a => (Parameter: p.Name!, Attribute: a)))
                    .ToList();
                var (parameter, attribute) = Assert.Single(triggers);
                var binding = new JsonObject { ["name"] = parameter, ["direction"] = "In" };
                string trigger;
                switch (attribute)
                {
                    case HttpTriggerAttribute http:
                        trigger = "httpTrigger";
                        binding["type"] = trigger;
                        binding["authLevel"] = http.AuthLevel.ToString();
                        if (http.Methods is { Length: > 0 } methods)
                        {
                            binding["methods"] = new JsonArray([.. methods.Select(m => JsonValue.Create(m.ToLowerInvariant())).Order()]);
                        }
                        if (http.Route is not null)
                        {
                            binding["route"] = http.Route;
                        }
                        break;
                    case TimerTriggerAttribute timer:
                        trigger = "timerTrigger";
                        binding["type"] = trigger;
                        binding["schedule"] = timer.Schedule;
                        break;
                    case QueueTriggerAttribute queue:
                        trigger = "queueTrigger";
                        binding["type"] = trigger;
                        binding["queueName"] = queue.QueueName;
                        binding["connection"] = queue.Connection;
                        break;
                    default:
                        throw new Xunit.Sdk.XunitException($"{function.Name} has a {attribute.GetType().Name}: LocalHost serves only HTTP, timer and queue triggers.");
                }
                declared.Add(new Declared(function.Name, $"{type.FullName}.{method.Name}", trigger, binding));
            }
        }
        return declared;
    }

    /// <summary>A metadata binding without its (empty) "properties", with HTTP methods in order, for comparison.</summary>
    private static JsonObject Comparable(JsonNode binding)
    {
        var copy = binding.DeepClone().AsObject();
        Assert.True(copy["properties"] is null or JsonObject { Count: 0 }, $"binding with properties: {binding.ToJsonString()}");
        copy.Remove("properties");
        if (copy["methods"] is JsonArray methods)
        {
            copy["methods"] = new JsonArray([.. methods.Select(m => JsonValue.Create(m!.GetValue<string>().ToLowerInvariant())).Order()]);
        }
        return copy;
    }

    [Fact]
    public void Host_json_is_in_the_build_output_as_in_the_repository()
    {
        var output = Path.Combine(FunctionsOutput(), "host.json");
        Assert.True(File.Exists(output), $"{output} is missing: the Functions host reads host.json from the app's folder.");
        Assert.Equal(File.ReadAllText(Path.Combine(RepositoryRoot(), "host.json")), File.ReadAllText(output));
        // What LocalHost reads from it is what the Functions host reads.
        Assert.Equal("", HostJson.Load(output).RoutePrefix);
    }

    [Fact]
    public void Functions_metadata_lists_every_function_with_exactly_its_declared_trigger()
    {
        var declared = DeclaredFunctions();
        Assert.NotEmpty(declared);
        var metadata = Metadata();

        var listed = metadata.Select(f => f!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(declared.Select(d => d.Name).Order(StringComparer.Ordinal).ToArray(), listed);

        foreach (var expected in declared)
        {
            var function = metadata.Single(f => f!["name"]!.GetValue<string>() == expected.Name)!;
            Assert.Equal(expected.EntryPoint, function["entryPoint"]?.GetValue<string>());
            Assert.Equal($"{FunctionApp.GetName().Name}.dll", function["scriptFile"]?.GetValue<string>());
            Assert.Equal("dotnet-isolated", function["language"]?.GetValue<string>());

            var bindings = function["bindings"]!.AsArray().Select(b => Comparable(b!)).ToList();
            // Nothing but the trigger, and for HTTP the response ($return), which the Functions host returns.
            var expectedBindings = new List<JsonObject> { expected.Binding };
            if (expected.Trigger == "httpTrigger")
            {
                expectedBindings.Add(new JsonObject { ["name"] = "$return", ["type"] = "http", ["direction"] = "Out" });
            }
            Assert.True(
                bindings.Count == expectedBindings.Count && expectedBindings.All(e => bindings.Any(b => JsonNode.DeepEquals(b, e))),
                $"{expected.Name}: expected bindings {new JsonArray([.. expectedBindings.Select(b => b.DeepClone())]).ToJsonString()}, functions.metadata has {function["bindings"]!.ToJsonString()}");
        }
    }

    /// <summary>An httpTrigger binding's verbs, upper case and in order (none listed = every verb).</summary>
    private static IEnumerable<string> MethodsOf(JsonNode trigger) =>
        (trigger["methods"]?.AsArray() ?? []).Select(m => m!.GetValue<string>().ToUpperInvariant()).Order(StringComparer.Ordinal);

    [Fact]
    public void The_metadata_triggers_are_those_LocalHost_serves()
    {
        var metadata = Metadata();
        var triggers = metadata.Select(f => (Name: f!["name"]!.GetValue<string>(), Trigger: f["bindings"]!.AsArray().Single(b => b!["direction"]!.GetValue<string>() == "In")!))
            .ToList();
        var catalog = FunctionCatalog.Discover(FunctionApp);

        var http = triggers.Where(t => t.Trigger["type"]!.GetValue<string>() == "httpTrigger")
            .Select(t => $"{t.Name}: {string.Join(",", MethodsOf(t.Trigger))} /{t.Trigger["route"]?.GetValue<string>() ?? t.Name}")
            .Order(StringComparer.Ordinal);
        Assert.Equal(catalog.Http.Select(f => $"{f.Name}: {string.Join(",", f.Methods.Order())} /{f.Route}").Order(StringComparer.Ordinal), http);
        // LocalHost asks for no function keys; the Functions host must not either.
        Assert.All(triggers.Where(t => t.Trigger["type"]!.GetValue<string>() == "httpTrigger"), t => Assert.Equal("Anonymous", t.Trigger["authLevel"]?.GetValue<string>()));

        var timers = triggers.Where(t => t.Trigger["type"]!.GetValue<string>() == "timerTrigger").Select(t => $"{t.Name}: {t.Trigger["schedule"]}").Order(StringComparer.Ordinal);
        Assert.Equal(catalog.Timers.Select(f => $"{f.Name}: {f.Schedule}").Order(StringComparer.Ordinal), timers);
        Assert.All(catalog.Timers, f => Assert.Equal("%SyncHubSchedulerCron%", f.Schedule));

        var queues = triggers.Where(t => t.Trigger["type"]!.GetValue<string>() == "queueTrigger").Select(t => $"{t.Name}: {t.Trigger["queueName"]} @ {t.Trigger["connection"]}").Order(StringComparer.Ordinal);
        Assert.Equal(catalog.Queues.Select(f => $"{f.Name}: {f.Queue} @ {f.Connection}").Order(StringComparer.Ordinal), queues);
        Assert.Equal(["%SyncHubRunQueue%", "%SyncHubRunQueue%-poison", "%SyncHubWebhookQueue%"], catalog.Queues.Select(f => f.Queue).Order(StringComparer.Ordinal));
        Assert.All(catalog.Queues, f => Assert.Equal("SyncHubStorage", f.Connection));

        Assert.Equal(metadata.Count, catalog.Http.Count + catalog.Timers.Count + catalog.Queues.Count);
    }

    [Fact]
    public void The_build_output_registers_the_queue_extension_the_queue_triggers_need()
    {
        var extensions = JsonNode.Parse(File.ReadAllText(Path.Combine(FunctionsOutput(), "extensions.json")))!["extensions"]!.AsArray();
        Assert.Contains(extensions, e => e!["name"]!.GetValue<string>() == "AzureStorageQueues");
        var worker = JsonNode.Parse(File.ReadAllText(Path.Combine(FunctionsOutput(), "worker.config.json")))!["description"]!;
        Assert.Equal($"{FunctionApp.GetName().Name}.dll", worker["defaultWorkerPath"]!.GetValue<string>());
    }
}
