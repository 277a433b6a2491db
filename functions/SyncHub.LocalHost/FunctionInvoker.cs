using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace SyncHub.LocalHost;

/// <summary>
/// Calls a function method the way the worker does: a fresh DI scope and a fresh instance of the function class per
/// invocation, and each parameter bound from the trigger (a value supplied by the caller) or the cancellation token.
/// </summary>
public sealed class FunctionInvoker(IServiceScopeFactory scopes)
{
    public async Task<object?> InvokeAsync(MethodInfo method, Func<ParameterInfo, (bool Bound, object? Value)> bind, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var target = method.IsStatic ? null : ActivatorUtilities.CreateInstance(scope.ServiceProvider, method.DeclaringType!);
        var arguments = method.GetParameters().Select(p =>
        {
            if (p.ParameterType == typeof(CancellationToken))
            {
                return ct;
            }
            var (bound, value) = bind(p);
            return bound ? value : throw new InvalidOperationException($"LocalHost cannot bind parameter '{p.Name}' of {method.DeclaringType!.Name}.{method.Name}.");
        }).ToArray();
        object? result;
        try
        {
            result = method.Invoke(target, arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
        if (result is Task task)
        {
            await task;
            var resultProperty = task.GetType().GetProperty("Result");
            return resultProperty is not null && resultProperty.PropertyType.Name != "VoidTaskResult" ? resultProperty.GetValue(task) : null;
        }
        return result;
    }
}

/// <summary>Maps each <c>[HttpTrigger]</c> to its route (under host.json's routePrefix) and verbs on Kestrel.</summary>
public static class HttpTriggerEndpoints
{
    public static void MapHttpTriggers(this IEndpointRouteBuilder app, FunctionCatalog catalog, HostJson host)
    {
        foreach (var function in catalog.Http)
        {
            var pattern = "/" + string.Join('/', new[] { host.RoutePrefix.Trim('/'), function.Route.Trim('/') }.Where(s => s.Length > 0));
            RequestDelegate handler = async context =>
            {
                var invoker = context.RequestServices.GetRequiredService<FunctionInvoker>();
                var result = await invoker.InvokeAsync(function.Method, p => Bind(p, context), context.RequestAborted);
                switch (result)
                {
                    case IResult r:
                        await r.ExecuteAsync(context);
                        break;
                    case null:
                        break;
                    default:
                        throw new InvalidOperationException($"LocalHost does not support the return type {result.GetType().Name} of {function.Name}.");
                }
            };
            var endpoint = function.Methods.Count == 0 ? app.Map(pattern, handler) : app.MapMethods(pattern, function.Methods, handler);
            endpoint.WithName(function.Name).WithDisplayName(function.Name);
        }
    }

    private static (bool, object?) Bind(ParameterInfo parameter, HttpContext context)
    {
        if (parameter.ParameterType == typeof(HttpRequest))
        {
            return (true, context.Request);
        }
        if (parameter.ParameterType == typeof(string) && parameter.Name is { } name && context.Request.RouteValues.TryGetValue(name, out var value))
        {
            return (true, value?.ToString());
        }
        return (false, null);
    }
}
