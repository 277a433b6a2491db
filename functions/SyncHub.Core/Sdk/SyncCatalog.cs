using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.Core.Configuration;

namespace SyncHub.Core.Sdk;

/// <summary>
/// The sync implementations, found by <see cref="SyncAttribute"/> and matched one-to-one with nango.yaml's syncs:
/// a configured sync without an implementation, or an implementation without configuration, stops start-up. A
/// configured sync with a <c>request</c> block is implemented by <see cref="DeclarativeSync"/> (and must have no class).
/// </summary>
public sealed class SyncCatalog
{
    private readonly Dictionary<(string Integration, string Sync), Type> _types;
    private readonly Dictionary<(string Integration, string Sync), SyncDefinition> _declarative = [];

    /// <param name="environmentVariables">
    /// The configured environment variable names: a declarative sync using <c>${env.X}</c> of another stops start-up.
    /// Null: not checked.
    /// </param>
    public SyncCatalog(IntegrationCatalog configuration, IEnumerable<Type> implementations, IEnumerable<string>? environmentVariables = null)
    {
        _types = [];
        var problems = new List<string>();
        var configured = environmentVariables?.ToHashSet(StringComparer.Ordinal);
        foreach (var integration in configuration.Integrations)
        {
            foreach (var sync in integration.Syncs.Where(s => s.Declarative is not null))
            {
                _declarative[(integration.Key, sync.Name)] = sync;
                foreach (var template in sync.Declarative!.Templates)
                {
                    foreach (var name in template.EnvironmentVariables.Where(n => configured is not null && !configured.Contains(n)))
                    {
                        throw new ConfigurationException(
                            $"{template.Where}: sync '{integration.Key}.{sync.Name}' uses ${{env.{name}}}, which is not configured (set SyncHub__EnvironmentVariables__{name}).");
                    }
                }
            }
        }
        foreach (var type in implementations)
        {
            var attribute = type.GetCustomAttribute<SyncAttribute>()!;
            if (!_types.TryAdd((attribute.Integration, attribute.Name), type))
            {
                problems.Add($"two implementations of sync '{attribute.Integration}.{attribute.Name}': {_types[(attribute.Integration, attribute.Name)].FullName} and {type.FullName}");
            }
            else if (_declarative.ContainsKey((attribute.Integration, attribute.Name)))
            {
                problems.Add($"{type.FullName} implements sync '{attribute.Integration}.{attribute.Name}', which {configuration.SourcePath} declares with a request block (declarative): keep one of the two");
            }
            else if (configuration.Find(attribute.Integration)?.FindSync(attribute.Name) is null)
            {
                problems.Add($"{type.FullName} implements sync '{attribute.Integration}.{attribute.Name}', which {configuration.SourcePath} does not declare");
            }
        }
        foreach (var integration in configuration.Integrations)
        {
            foreach (var sync in integration.Syncs.Where(s => s.Declarative is null && !_types.ContainsKey((integration.Key, s.Name))))
            {
                problems.Add($"{configuration.SourcePath} declares sync '{integration.Key}.{sync.Name}', but no class has [Sync(\"{integration.Key}\", \"{sync.Name}\")] and it has no request block");
            }
        }
        if (problems.Count > 0)
        {
            throw new ConfigurationException("Syncs and configuration disagree: " + string.Join("; ", problems) + ".");
        }
    }

    public static IEnumerable<Type> Discover(params Assembly[] assemblies) =>
        assemblies.SelectMany(a => a.GetTypes())
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ISync).IsAssignableFrom(t) && t.GetCustomAttribute<SyncAttribute>() is not null);

    public ISync Create(IServiceProvider services, string integration, string sync) =>
        _types.TryGetValue((integration, sync), out var type)
            ? (ISync)ActivatorUtilities.CreateInstance(services, type)
            : _declarative.TryGetValue((integration, sync), out var definition)
                ? new DeclarativeSync(definition)
                : throw new InvalidOperationException($"No implementation of sync '{integration}.{sync}'.");
}

public static class SyncCatalogServices
{
    /// <summary>Registers the syncs of <paramref name="assemblies"/>, checked against the loaded nango.yaml now.</summary>
    public static IServiceCollection AddSyncs(this IServiceCollection services, params Assembly[] assemblies)
    {
        var configuration = services.Select(d => d.ImplementationInstance).OfType<IntegrationCatalog>().FirstOrDefault()
            ?? throw new InvalidOperationException("AddSyncHub must be called before AddSyncs.");
        var settings = services.Select(d => d.ImplementationInstance).OfType<IConfiguration>().FirstOrDefault();
        var environmentVariables = settings?.GetSection($"{SyncHubOptions.Section}:{nameof(SyncHubOptions.EnvironmentVariables)}").GetChildren().Select(c => c.Key);
        services.AddSingleton(new SyncCatalog(configuration, SyncCatalog.Discover(assemblies), environmentVariables ?? []));
        return services;
    }
}
