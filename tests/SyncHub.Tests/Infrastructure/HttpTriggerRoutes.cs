using System.Reflection;
using Microsoft.Azure.Functions.Worker;

namespace SyncHub.Tests.Infrastructure;

/// <summary>
/// The HTTP routes of the function app read straight from its <c>[Function]</c> + <c>[HttpTrigger]</c> attributes
/// (independently of LocalHost's FunctionCatalog): the one source tests compare other lists against.
/// </summary>
public static class HttpTriggerRoutes
{
    public static readonly Assembly FunctionApp = typeof(SyncHub.Functions.ConnectionFunctions).Assembly;

    /// <summary>(function name, route template without slashes around it, verbs in upper case; empty = every verb).</summary>
    public static IReadOnlyList<(string Name, string Route, string[] Methods)> All()
    {
        var routes = new List<(string, string, string[])>();
        foreach (var type in FunctionApp.GetTypes())
        {
            foreach (var method in type.GetMethods())
            {
                var function = method.GetCustomAttribute<FunctionAttribute>();
                var trigger = method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).SingleOrDefault(a => a is not null);
                if (function is not null && trigger is not null)
                {
                    routes.Add((function.Name, (trigger.Route ?? function.Name).Trim('/'),
                        (trigger.Methods ?? []).Select(m => m.ToUpperInvariant()).Distinct().Order().ToArray()));
                }
            }
        }
        return routes;
    }
}
