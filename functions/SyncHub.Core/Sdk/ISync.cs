namespace SyncHub.Core.Sdk;

/// <summary>
/// A sync: fetches from a provider through <see cref="SyncContext.Proxy"/> and saves records with
/// <see cref="SyncContext.BatchSaveAsync(IEnumerable{System.Text.Json.Nodes.JsonObject}, string, CancellationToken)"/>.
/// Mark the class with <see cref="SyncAttribute"/>; nango.yaml declares its schedule and models.
/// A run may be stopped at any point (time budget, crash) and resumed from the last saved checkpoint,
/// so save records before the checkpoint that covers them.
/// </summary>
public interface ISync
{
    Task ExecuteAsync(SyncContext nango, CancellationToken ct);
}

/// <summary>Binds an <see cref="ISync"/> to its nango.yaml entry: <c>integrations.&lt;integration&gt;.syncs.&lt;name&gt;</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SyncAttribute(string integration, string name) : Attribute
{
    public string Integration { get; } = integration;
    public string Name { get; } = name;
}

/// <summary>A sync cannot run as configured (e.g. connection metadata it needs is missing). Its message is shown in status.</summary>
public sealed class SyncConfigurationException(string message) : Exception(message);
