using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SyncHub.Core.Connections;
using SyncHub.Core.Sdk;

namespace SyncHub.Tests.Sdk;

/// <summary>A service provider with AddSyncProxy and fast test options (short delays), and the log it writes.</summary>
public sealed class ProxyTestServices : IDisposable
{
    public const string Token = "gho_test_token_never_logged";

    private readonly ServiceProvider _provider;

    public ProxyTestServices(Action<SyncProxyOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(Log));
        services.AddSyncProxy();
        services.Configure<SyncProxyOptions>(o =>
        {
            o.MaxRetries = 3;
            o.BaseDelay = TimeSpan.FromMilliseconds(10);
            o.MaxDelay = TimeSpan.FromMilliseconds(50);
            o.AttemptTimeout = TimeSpan.FromSeconds(5);
            o.TotalTimeout = TimeSpan.FromSeconds(20);
            o.MaxRetryAfter = TimeSpan.FromSeconds(10);
            configure?.Invoke(o);
        });
        _provider = services.BuildServiceProvider();
    }

    public CapturingLoggerProvider Log { get; } = new();

    public SyncProxyFactory Factory => _provider.GetRequiredService<SyncProxyFactory>();

    public HttpClient Client(Uri baseUrl, ConnectionCredentials? credentials = null) =>
        Factory.Create(baseUrl, credentials ?? OAuth2());

    public static ConnectionCredentials OAuth2(string token = Token) =>
        new("OAUTH2", new JsonObject { ["type"] = "OAUTH2", ["access_token"] = token });

    public void Dispose() => _provider.Dispose();
}

/// <summary>Keeps every log message written, from every category.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _messages = new();

    public IReadOnlyList<string> Messages => _messages.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _messages);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> messages) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            messages.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
