using System.Reflection;
using Microsoft.Azure.Functions.Worker;

namespace SyncHub.LocalHost;

/// <summary>An HTTP-triggered function: its route template and verbs (upper case; empty = every verb).</summary>
public sealed record HttpFunction(string Name, string Route, IReadOnlyList<string> Methods, MethodInfo Method);
public sealed record TimerFunction(string Name, string Schedule, MethodInfo Method);
public sealed record QueueFunction(string Name, string Queue, string Connection, MethodInfo Method);

/// <summary>
/// The functions of the function app, found the way the Functions host finds them: public methods with
/// <c>[Function]</c> and one trigger attribute. Route templates come from the attributes and nowhere else.
/// </summary>
public sealed class FunctionCatalog
{
    public required IReadOnlyList<HttpFunction> Http { get; init; }
    public required IReadOnlyList<TimerFunction> Timers { get; init; }
    public required IReadOnlyList<QueueFunction> Queues { get; init; }

    /// <summary>Checks that every <c>%SETTING%</c> in a timer schedule or queue name resolves.</summary>
    public void ResolveSettings(IConfiguration configuration)
    {
        foreach (var (function, value) in Timers.Select(t => (t.Name, t.Schedule)).Concat(Queues.Select(q => (q.Name, q.Queue))))
        {
            try
            {
                LocalSettings.Resolve(configuration, value);
            }
            catch (InvalidOperationException e)
            {
                throw new SyncHub.Core.Configuration.ConfigurationException($"Function {function}: {e.Message}");
            }
        }
    }

    public static FunctionCatalog Discover(Assembly assembly)
    {
        var http = new List<HttpFunction>();
        var timers = new List<TimerFunction>();
        var queues = new List<QueueFunction>();
        foreach (var type in assembly.GetExportedTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            {
                var function = method.GetCustomAttribute<FunctionAttribute>();
                if (function is null)
                {
                    continue;
                }
                foreach (var parameter in method.GetParameters())
                {
                    if (parameter.GetCustomAttribute<HttpTriggerAttribute>() is { } httpTrigger)
                    {
                        // No methods on the attribute means every method, as in the Functions host.
                        var methods = httpTrigger.Methods is { Length: > 0 } m ? m.Select(x => x.ToUpperInvariant()).Distinct().ToArray() : [];
                        http.Add(new HttpFunction(function.Name, httpTrigger.Route ?? function.Name, methods, method));
                    }
                    else if (parameter.GetCustomAttribute<TimerTriggerAttribute>() is { } timerTrigger)
                    {
                        timers.Add(new TimerFunction(function.Name, timerTrigger.Schedule, method));
                    }
                    else if (parameter.GetCustomAttribute<QueueTriggerAttribute>() is { } queueTrigger)
                    {
                        queues.Add(new QueueFunction(function.Name, queueTrigger.QueueName, queueTrigger.Connection ?? "AzureWebJobsStorage", method));
                    }
                }
            }
        }
        return new FunctionCatalog { Http = http, Timers = timers, Queues = queues };
    }
}
