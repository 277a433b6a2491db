using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.Core.Configuration;

namespace SyncHub.Core.Sdk;

/// <summary>
/// The sync implementations, found by <see cref="SyncAttribute"/> and matched one-to-one with nango.yaml's syncs:
/// a configured sync without an implementation, or an implementation without configuration, stops start-up.
/// </summary>
public sealed class SyncCatalog
{
    private readonly Dictionary<(string Integration, string Sync), Type> _types;

    public SyncCatalog(IntegrationCatalog configuration, IEnumerable<Type> implementations)
    {
        _types = [];
        var problems = new List<string>();
        foreach (var type in implementations)
        {
            var attribute = type.GetCustomAttribute<SyncAttribute>()!;
            if (!_types.TryAdd((attribute.Integration, attribute.Name), type))
            {
                problems.Add($"two implementations of sync '{attribute.Integration}.{attribute.Name}': {_types[(attribute.Integration, attribute.Name)].FullName} and {type.FullName}");
            }
            else if (configuration.Find(attribute.Integration)?.FindSync(attribute.Name) is null)
            {
                problems.Add($"{type.FullName} implements sync '{attribute.Integration}.{attribute.Name}', which {configuration.SourcePath} does not declare");
            }
        }
        foreach (var integration in configuration.Integrations)
        {
            foreach (var sync in integration.Syncs.Where(s => !_types.ContainsKey((integration.Key, s.Name))))
            {
                problems.Add($"{configuration.SourcePath} declares sync '{integration.Key}.{sync.Name}', but no class has [Sync(\"{integration.Key}\", \"{sync.Name}\")]");
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
            : throw new InvalidOperationException($"No implementation of sync '{integration}.{sync}'.");
}

public static class SyncCatalogServices
{
    /// <summary>Registers the syncs of <paramref name="assemblies"/>, checked against the loaded nango.yaml now.</summary>
    public static IServiceCollection AddSyncs(this IServiceCollection services, params Assembly[] assemblies)
    {
        var configuration = services.Select(d => d.ImplementationInstance).OfType<IntegrationCatalog>().FirstOrDefault()
            ?? throw new InvalidOperationException("AddSyncHub must be called before AddSyncs.");
        services.AddSingleton(new SyncCatalog(configuration, SyncCatalog.Discover(assemblies)));
        return services;
    }
}
