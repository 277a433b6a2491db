using Cronos;
using Microsoft.Azure.Functions.Worker;

namespace SyncHub.LocalHost;

/// <summary>Fires each <c>[TimerTrigger]</c> on its six-field CRON (<c>%SETTING%</c> resolved), never overlapping itself.</summary>
public sealed class TimerTriggerService(
    FunctionCatalog catalog, FunctionInvoker invoker, IConfiguration configuration, TimeProvider clock, ILogger<TimerTriggerService> logger)
    : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(catalog.Timers.Select(timer => RunAsync(timer, stoppingToken)));

    private async Task RunAsync(TimerFunction timer, CancellationToken ct)
    {
        var schedule = LocalSettings.Resolve(configuration, timer.Schedule);
        var cron = CronExpression.Parse(schedule, schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        logger.LogInformation("Timer {Function} scheduled on '{Schedule}'", timer.Name, schedule);
        while (!ct.IsCancellationRequested)
        {
            var now = clock.GetUtcNow();
            var next = cron.GetNextOccurrence(now.UtcDateTime, TimeZoneInfo.Utc);
            if (next is null)
            {
                return;
            }
            try
            {
                await Task.Delay(next.Value - now.UtcDateTime, clock, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                await invoker.InvokeAsync(timer.Method, p => p.ParameterType == typeof(TimerInfo) ? (true, new TimerInfo()) : (false, null), ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                logger.LogError(e, "Timer function {Function} failed", timer.Name);
            }
        }
    }
}
