using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using SyncHub.Core.Connections;
using SyncHub.Core.Model;

namespace SyncHub.Core.Scheduling;

[JsonConverter(typeof(JsonStringEnumConverter<ControlAction>))]
public enum ControlAction
{
    Trigger,
    Start,
    Pause,
}

/// <summary>
/// trigger/start/pause for every connection of an integration, from <see cref="After"/> on (null: from the first).
/// <see cref="Syncs"/> empty means every sync and variant of each connection.
/// </summary>
public sealed record ControlRequest(
    [property: JsonPropertyName("action")] ControlAction Action,
    [property: JsonPropertyName("integration")] string Integration,
    [property: JsonPropertyName("syncs")] IReadOnlyList<SyncSelector> Syncs,
    [property: JsonPropertyName("reset")] bool Reset = false,
    [property: JsonPropertyName("empty_cache")] bool EmptyCache = false,
    [property: JsonPropertyName("after")] string? After = null);

/// <summary>
/// Control calls without a connection id, for integrations with any number of connections: each call acts on one
/// page of connections (a bounded amount of work, so the API answers in the same time for ten connections or ten
/// thousand) and queues the rest as a <see cref="SyncRunMessage.Control"/> message, which the run function continues
/// page by page. An integration whose connections fit one page is done before the API answers, as before.
/// </summary>
public sealed class BulkControl(ConnectionStore connections, ScheduleStore store, SyncSchedules schedules, SyncRunQueue queue, ILogger<BulkControl> logger)
{
    public const int ConnectionsPerPage = 100;
    private const int ParallelConnections = 16;

    /// <summary>Applies the request to one page of connections and queues the next page. Returns the schedules it acted on and whether more follow.</summary>
    public async Task<(int Acted, bool More)> ApplyPageAsync(ControlRequest request, CancellationToken ct)
    {
        var (page, next) = await SchedulesPageAsync(request.Integration, request.Syncs, request.After, ConnectionsPerPage, ct);
        foreach (var schedule in page)
        {
            var key = schedule.Key;
            await (request.Action switch
            {
                ControlAction.Trigger => schedules.TriggerAsync(key, request.Reset, request.EmptyCache, ct),
                ControlAction.Start => schedules.StartAsync(key, ct),
                _ => schedules.PauseAsync(key, ct),
            });
        }
        if (next is not null)
        {
            // Queued only after this page is done: a crash before it repeats the page, and each action is idempotent.
            await queue.SendAsync(SyncRunMessage.ForControl(request with { After = next }), ct);
            logger.LogInformation("{Action} of {Integration}: {Count} syncs done, more connections queued", request.Action, request.Integration, page.Count);
        }
        return (page.Count, next is not null);
    }

    /// <summary>
    /// The schedules of one page of an integration's connections (in connection id order) that the selectors name (all
    /// of them when none), and the connection to continue after, or null at the end.
    /// </summary>
    public async Task<(IReadOnlyList<Schedule> Schedules, string? Next)> SchedulesPageAsync(
        string integration, IReadOnlyList<SyncSelector> syncs, string? after, int limit, CancellationToken ct)
    {
        var (page, next) = await connections.PageAsync(integration, after, limit, ct);
        using var gate = new SemaphoreSlim(ParallelConnections);
        var perConnection = await Task.WhenAll(page.Select(async connection =>
        {
            await gate.WaitAsync(ct);
            try
            {
                return Select(await store.ListAsync(integration, connection.ConnectionId, ct), syncs);
            }
            finally
            {
                gate.Release();
            }
        }));
        return (perConnection.SelectMany(s => s).ToList(), next);
    }

    /// <summary>The named schedules of one connection in the order named, or all of them by sync then variant.</summary>
    public static IEnumerable<Schedule> Select(IReadOnlyList<Schedule> all, IReadOnlyList<SyncSelector> syncs) =>
        syncs.Count == 0
            ? all.OrderBy(s => s.Key.Sync, StringComparer.Ordinal).ThenBy(s => s.Key.Variant == SyncKey.BaseVariant ? "" : s.Key.Variant, StringComparer.Ordinal)
            : syncs.Distinct().Select(r => all.FirstOrDefault(s => s.Key.Sync == r.Name && s.Key.Variant == r.Variant)).OfType<Schedule>();
}
