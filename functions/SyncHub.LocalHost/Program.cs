using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using SyncHub.Core.Configuration;
using SyncHub.Core.Hosting;
using SyncHub.Core.Storage;
using SyncHub.Functions;
using SyncHub.LocalHost;

// LocalHost: runs the function app's own trigger classes without Azure Functions Core Tools (see DESIGN.md).
WebApplication app;
FunctionCatalog catalog;
try
{
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    var explicitSettings = builder.Configuration["settings"];
    var settingsPath = explicitSettings ?? Path.Combine(AppContext.BaseDirectory, "local.settings.json");
    if (explicitSettings is not null && !File.Exists(explicitSettings))
    {
        throw new ConfigurationException($"{Path.GetFullPath(explicitSettings)}: the settings file given with --settings does not exist.");
    }
    var hostJsonPath = builder.Configuration["host-json"] ?? Path.Combine(AppContext.BaseDirectory, "host.json");

    // local.settings.json Values first, then environment variables and the command line override them.
    var sources = builder.Configuration.Sources.ToList();
    builder.Configuration.Sources.Clear();
    builder.Configuration.AddLocalSettings(settingsPath);
    foreach (var source in sources)
    {
        builder.Configuration.Sources.Add(source);
    }

    if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_URLS")))
    {
        builder.WebHost.UseUrls("http://127.0.0.1:7071");
    }

    builder.WebHost.ConfigureKestrel(kestrel => RequestLimits.Raise(kestrel.Limits));

    var host = HostJson.Load(hostJsonPath);
    catalog = FunctionCatalog.Discover(typeof(SyncHub.Functions.ConnectionFunctions).Assembly);
    // Like the Functions host's indexing: a trigger whose %setting% does not resolve stops start-up.
    catalog.ResolveSettings(builder.Configuration);
    builder.Services.AddFunctionApp(builder.Configuration);
    // SyncHub__Telemetry__Console=true prints SyncHub's metrics and run traces to the console (off by default: noisy).
    if (builder.Configuration.GetValue<bool>(LocalTelemetry.ConsoleSetting))
    {
        LocalTelemetry.AddConsole(builder.Services);
    }
    // The queue triggers' storage clients, with the message encoding host.json asks for.
    builder.Services.AddAzureClients(clients =>
    {
        foreach (var connection in catalog.Queues.Select(q => q.Connection).Distinct())
        {
            StorageClients.Register(clients, builder.Configuration, connection, QueueTriggerService.ClientName(connection),
                host.QueueBase64 ? QueueMessageEncoding.Base64 : QueueMessageEncoding.None);
        }
    });
    builder.Services.AddSingleton(host);
    builder.Services.AddSingleton(catalog);
    builder.Services.AddSingleton<FunctionInvoker>();
    builder.Services.AddHostedService<TimerTriggerService>();
    builder.Services.AddHostedService<QueueTriggerService>();

    app = builder.Build();
    // What starting the host does first (the options' ValidateOnStart), done here so that a bad setting is reported
    // like a bad nango.yaml, before the host logs anything.
    app.Services.ValidateAtStart();
    app.UseServerErrorEnvelope();
    app.UseEmptyErrorEnvelope();
    app.UseRequestLimits();
    app.MapHttpTriggers(catalog, host);
    app.MapFallback(ErrorResponses.NotFoundAsync);
}
catch (ConfigurationException e)
{
    // An invalid nango.yaml or setting: say which file/line or setting, without a stack trace.
    Console.Error.WriteLine($"LocalHost cannot start: {e.Message}");
    return 1;
}
catch (Exception e) when (SyncHubServices.IsValidationFailure(e, out var failures))
{
    // Settings that failed validation, each message naming its setting (never its value).
    Console.Error.WriteLine($"LocalHost cannot start: {string.Join(" ", failures)}");
    return 1;
}

app.Lifetime.ApplicationStarted.Register(() =>
    app.Logger.LogInformation("LocalHost serving {Count} HTTP functions on {Urls}", catalog.Http.Count, string.Join(", ", app.Urls)));
try
{
    await app.RunAsync();
}
catch (IOException e)
{
    // Typically the port is taken.
    Console.Error.WriteLine($"LocalHost cannot start: {e.Message}");
    return 1;
}
return 0;

/// <summary>Exposed for tests that start LocalHost in-process.</summary>
public partial class Program;
