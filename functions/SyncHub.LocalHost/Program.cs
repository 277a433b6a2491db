using SyncHub.Core.Hosting;
using SyncHub.LocalHost;

// LocalHost: runs the function app's own trigger classes without Azure Functions Core Tools (see DESIGN.md).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var settingsPath = builder.Configuration["settings"] ?? Path.Combine(AppContext.BaseDirectory, "local.settings.json");
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

var host = HostJson.Load(hostJsonPath);
var catalog = FunctionCatalog.Discover(typeof(SyncHub.Functions.ConnectionFunctions).Assembly);
builder.Services.AddSyncHub(builder.Configuration);
builder.Services.AddSingleton(host);
builder.Services.AddSingleton(catalog);
builder.Services.AddSingleton<FunctionInvoker>();
builder.Services.AddHostedService<TimerTriggerService>();
builder.Services.AddHostedService<QueueTriggerService>();

var app = builder.Build();
app.MapHttpTriggers(catalog, host);
app.MapFallback(NotFound.WriteAsync);
app.Lifetime.ApplicationStarted.Register(() =>
    app.Logger.LogInformation("LocalHost serving {Count} HTTP functions on {Urls}", catalog.Http.Count, string.Join(", ", app.Urls)));
app.Run();

/// <summary>Exposed for tests that start LocalHost in-process.</summary>
public partial class Program;
