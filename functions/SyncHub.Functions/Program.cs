using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using SyncHub.Core.Hosting;
using SyncHub.Functions;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddFunctionApp(builder.Configuration);
// Metrics and traces to Application Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set (FunctionAppTelemetry).
builder.Services.AddAzureMonitorTelemetry(builder.Configuration);
try
{
    builder.Build().Run();
}
catch (Exception e) when (SyncHubServices.IsValidationFailure(e, out var failures))
{
    // Settings rejected when the host starts (ValidateOnStart): each message names its setting, never its value.
    Console.Error.WriteLine("SyncHub cannot start: " + string.Join(" ", failures));
    return 1;
}
return 0;
