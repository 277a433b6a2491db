using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SyncHub.Core.Hosting;
using SyncHub.Core.Sdk;
using SyncHub.Integrations;

namespace SyncHub.Functions;

/// <summary>The function app's whole service graph: the engine plus the syncs. Program.cs and LocalHost both use it.</summary>
public static class FunctionAppServices
{
    public static IServiceCollection AddFunctionApp(this IServiceCollection services, IConfiguration configuration) =>
        services.AddSyncHub(configuration).AddSyncs(IntegrationsAssembly.Assembly);
}
