using System.Diagnostics;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SyncHub.Core.Scheduling;
using SyncHub.Core.Storage;
using SyncHub.Core.Model;

namespace SyncHub.Benchmarks;

/// <summary>
/// The scheduler tick against a large deployment: N schedules (rows in <c>schedules</c>, each with its entry in the
/// due index), of which D are due now. The tick's cost must follow D, not N: it is measured at D = 0, 100 and 1,000.
/// </summary>
public static class SchedulerCase
{
    public sealed record Figure(int Schedules, int Due, double Seconds, int Enqueued);

    public static async Task<IReadOnlyList<Figure>> RunAsync(IServiceProvider services, int schedules, TextWriter log, CancellationToken ct)
    {
        var options = services.GetRequiredService<IOptions<SchedulingOptions>>().Value;
        var tables = services.GetRequiredService<FixedTables>();
        var scheduler = services.GetRequiredService<Scheduler>();
        var queue = services.GetRequiredService<StorageClients>().Queue(options.RunQueue);
        await queue.CreateIfNotExistsAsync(cancellationToken: ct);
        var scheduleTable = await tables.GetAsync(StorageNames.SchedulesTable, ct);
        var dueTable = await tables.GetAsync(StorageNames.DueRunsTable, ct);

        // 100 variants per connection, so schedule rows share a partition and go in 100-row transactions.
        var future = DateTime.UtcNow.AddHours(1).Ticks;
        var setup = Stopwatch.StartNew();
        var keys = new List<SyncKey>(schedules);
        for (var c = 0; c < schedules / 100; c++)
        {
            var connection = $"bench-{c:D6}";
            var batch = new List<TableTransactionAction>(100);
            for (var v = 0; v < 100; v++)
            {
                var key = new SyncKey("github", connection, "issues", $"v{v:D3}");
                keys.Add(key);
                var schedule = new Schedule { Key = key, Id = Guid.NewGuid().ToString(), State = ScheduleStates.Started, Anchor = future, NextRunAt = future };
                batch.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, ScheduleRows.Codec.Encode(schedule)));
            }
            await scheduleTable.SubmitTransactionAsync(batch, ct);
        }
        await InsertDueAsync(dueTable, options.RunQueue, keys, future, ct);
        log.WriteLine($"  scheduler setup: {schedules:N0} schedules and due entries in {setup.Elapsed.TotalSeconds:F1} s");

        var figures = new List<Figure>();
        var random = new Random(11);
        foreach (var dueCount in new[] { 0, 100, 1_000 })
        {
            var now = DateTime.UtcNow.Ticks - 1;
            await InsertDueAsync(dueTable, options.RunQueue, keys.OrderBy(_ => random.Next()).Take(dueCount).ToList(), now, ct);
            var timer = Stopwatch.StartNew();
            var enqueued = await scheduler.EnqueueDueAsync(ct);
            timer.Stop();
            figures.Add(new Figure(schedules, dueCount, timer.Elapsed.TotalSeconds, enqueued));
            log.WriteLine($"  scheduler tick: {schedules:N0} schedules, {dueCount:N0} due -> {enqueued:N0} enqueued in {timer.Elapsed.TotalMilliseconds:F0} ms");
            await queue.ClearMessagesAsync(ct);
        }
        return figures;
    }

    private static async Task InsertDueAsync(TableClient table, string partition, IReadOnlyList<SyncKey> keys, long at, CancellationToken ct)
    {
        foreach (var chunk in keys.Chunk(100))
        {
            var actions = chunk.Select(key => new TableTransactionAction(TableTransactionActionType.UpsertReplace, DueRuns.Entry(partition, key, at)));
            await table.SubmitTransactionAsync(actions, ct);
        }
    }
}
