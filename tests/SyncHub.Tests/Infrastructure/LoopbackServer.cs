using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace SyncHub.Tests.Infrastructure;

/// <summary>
/// The Kestrel server every fake of the tests runs on (GitHub, the SaaS APIs, the OAuth token server, the Proxy's
/// provider, the webhook receiver): 127.0.0.1 only, a free port unless one is given, no logging, every request to
/// <c>handler</c>.
/// </summary>
public static class LoopbackServer
{
    /// <summary>Starts the server; returns it and its address (<c>http://127.0.0.1:port</c>, no trailing slash).</summary>
    public static async Task<(WebApplication App, Uri Address)> StartAsync(RequestDelegate handler, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return (app, new Uri(address));
    }
}
