namespace SyncHub.Integrations;

/// <summary>Marker for this assembly, where syncs are discovered by their [Sync] attribute.</summary>
public static class IntegrationsAssembly
{
    public static System.Reflection.Assembly Assembly => typeof(IntegrationsAssembly).Assembly;
}
