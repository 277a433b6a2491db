using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SyncHub.Core.Api;
using SyncHub.Core.Configuration;
using SyncHub.Core.Connections;
using SyncHub.Core.Records;
using SyncHub.Core.Scheduling;
using SyncHub.Core.Model;
using SyncHub.Core.Webhooks;

namespace SyncHub.Core.Api;

/// <summary>
/// The sync control API (API.md "Sync execution" and "Sync variants"): trigger, start, pause, status, frequency, and
/// variant create/delete. Validation first (400), then integration (400 <c>unknown_provider_config</c>), sync names
/// (400 <c>unknown_sync</c>), and connection (404 <c>unknown_connection</c>).
/// </summary>
public sealed class SyncEndpoints(
    IntegrationCatalog catalog,
    ConnectionStore connections,
    ScheduleStore store,
    BulkControl bulk,
    SyncSchedules schedules,
    RecordReader records,
    RecordSetStore recordSets,
    TimeProvider clock,
    WebhookStore webhooks,
    WebhookOutbox outbox,
    RunHistory history)
{
    public const int MaxVariantsPerSync = 100;
    public const int DefaultStatusConnections = 100;
    public const int MaxStatusConnections = 1000;

    private static readonly string[] ControlKeys = ["provider_config_key", "syncs", "connection_id"];

    public async Task<IResult> TriggerAsync(ApiRequest request, CancellationToken ct)
    {
        var body = await request.JsonObjectAsync(ct);
        var validation = Validation.Body();
        var input = new BodyInput(body, validation, [.. ControlKeys, "opts", "sync_mode"]);
        var (integrationKey, requested, connectionId) = ReadControl(input, syncsRequired: false);
        var reset = false;
        var emptyCache = false;
        if (input.Object("opts", required: false) is { } opts)
        {
            var options = new BodyInput(opts, validation, ["reset", "emptyCache"], "opts");
            reset = options.Boolean("reset") ?? false;
            emptyCache = options.Boolean("emptyCache") ?? false;
            if (emptyCache && !reset)
            {
                validation.Add("invalid_type", "emptyCache deletes the cached records and needs reset: true as well", "opts", "emptyCache");
            }
        }
        // The Node client's legacy form: triggerSync(key, syncs, id, 'full_refresh' | true).
        switch (input.String("sync_mode", required: false))
        {
            case null or "incremental":
                break;
            case "full_refresh":
                reset = true;
                break;
            case "full_refresh_and_clear_cache":
                (reset, emptyCache) = (true, true);
                break;
            default:
                validation.Add("invalid_enum_value", "must be incremental, full_refresh or full_refresh_and_clear_cache", "sync_mode");
                break;
        }
        validation.ThrowIfInvalid();
        await ControlAsync(new ControlRequest(ControlAction.Trigger, integrationKey!, requested!, reset, emptyCache), connectionId, ct);
        return ApiResults.EmptyOk();
    }

    public Task<IResult> StartAsync(ApiRequest request, CancellationToken ct) => StartOrPauseAsync(request, ControlAction.Start, ct);

    public Task<IResult> PauseAsync(ApiRequest request, CancellationToken ct) => StartOrPauseAsync(request, ControlAction.Pause, ct);

    private async Task<IResult> StartOrPauseAsync(ApiRequest request, ControlAction action, CancellationToken ct)
    {
        var body = await request.JsonObjectAsync(ct);
        var validation = Validation.Body();
        // Unlike trigger, start and pause need `syncs` (an empty list = every sync): a pause that names nothing by
        // mistake must not pause everything.
        var (integrationKey, requested, connectionId) = ReadControl(new BodyInput(body, validation, ControlKeys), syncsRequired: true);
        validation.ThrowIfInvalid();
        await ControlAsync(new ControlRequest(action, integrationKey!, requested!), connectionId, ct);
        return ApiResults.EmptyOk();
    }

    /// <summary>
    /// Applies trigger/start/pause to the named syncs of one connection, or, without a connection id, to one page of the
    /// integration's connections, the rest continuing through the run queue (<see cref="BulkControl"/>).
    /// </summary>
    private async Task ControlAsync(ControlRequest control, string? connectionId, CancellationToken ct)
    {
        var integration = catalog.Find(control.Integration) ?? throw ApiException.UnknownProviderConfig(control.Integration);
        foreach (var selector in control.Syncs)
        {
            _ = integration.FindSync(selector.Name) ?? throw UnknownSync(integration, selector.Name);
        }
        if (connectionId is null)
        {
            var (acted, more) = await bulk.ApplyPageAsync(control, ct);
            if (acted == 0 && !more && control.Syncs.Count > 0)
            {
                throw NoSyncsFound($"any connection of '{integration.Key}'.");
            }
            return;
        }
        await RequireConnectionAsync(integration.Key, connectionId, ct);
        var found = BulkControl.Select(await store.ListAsync(integration.Key, connectionId, ct), control.Syncs).ToList();
        if (found.Count == 0 && control.Syncs.Count > 0)
        {
            throw NoSyncsFound("this connection.");
        }
        foreach (var key in found.Select(s => s.Key))
        {
            await (control.Action switch
            {
                ControlAction.Trigger => schedules.TriggerAsync(key, control.Reset, control.EmptyCache, ct),
                ControlAction.Start => schedules.StartAsync(key, ct),
                _ => schedules.PauseAsync(key, ct),
            });
        }
    }

    private static ApiException NoSyncsFound(string where) =>
        ApiException.BadRequest("no_syncs_found", "None of the named syncs (and variants) exist for " + where);

    public async Task<IResult> StatusAsync(ApiRequest request, CancellationToken ct)
    {
        var validation = Validation.Query();
        var query = request.Query(validation, "provider_config_key", "syncs", "connection_id", "limit", "cursor");
        var integrationKey = query.Name("provider_config_key", Names.ProviderConfigKey(), "provider config key", required: true);
        var syncsText = query.Required("syncs");
        var connectionId = query.Name("connection_id", Names.ConnectionId(), "connection id", required: false);
        // SyncHub's extension for integrations with many connections: without connection_id, the syncs of `limit`
        // connections at a time, from `cursor` (the previous answer's next_cursor) on.
        var limit = query.Integer("limit", 1, MaxStatusConnections) ?? DefaultStatusConnections;
        string? after = null;
        if (query.Single("cursor") is { } cursorText)
        {
            after = StatusCursor.Decode(cursorText);
            if (after is null)
            {
                validation.Add("invalid_string", "is not a cursor this API issued (use the next_cursor of the previous answer)", "cursor");
            }
        }
        List<SyncSelector>? requested = null;
        if (syncsText is not null && syncsText != "*")
        {
            requested = [];
            foreach (var part in syncsText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (SyncSelectors.Parse(part, validation, "syncs") is { } selector)
                {
                    requested.Add(selector);
                }
            }
            if (requested.Count == 0)
            {
                validation.Add("too_small", "name at least one sync, or * for all", "syncs");
            }
        }
        validation.ThrowIfInvalid();

        var integration = catalog.Find(integrationKey!) ?? throw ApiException.UnknownProviderConfig(integrationKey!);
        // Unknown names in an explicit list are skipped (API.md), so no unknown_sync here.
        var (list, next) = await StatusSchedulesAsync(integration, requested ?? [], connectionId, after, limit, ct);
        var now = clock.GetUtcNow().UtcTicks;
        // Every sync's record counts at once: one round trip of reads, not one per model in sequence.
        var statuses = await Task.WhenAll(list.Select(schedule => StatusOfAsync(integration, schedule, now, ct)));
        var answer = new JsonObject { ["syncs"] = new JsonArray(statuses) };
        if (connectionId is null)
        {
            answer["next_cursor"] = next is null ? null : StatusCursor.Encode(next);
        }
        return ApiResults.Json(answer);
    }

    /// <summary>
    /// SyncHub's extension: the last finished runs of one sync (variant) of a connection, newest first (at most
    /// <see cref="RunHistory.MaxPerSync"/> are kept).
    /// </summary>
    public async Task<IResult> RunsAsync(ApiRequest request, CancellationToken ct)
    {
        var validation = Validation.Query();
        var query = request.Query(validation, "provider_config_key", "connection_id", "sync", "variant", "limit");
        var integrationKey = query.Name("provider_config_key", Names.ProviderConfigKey(), "provider config key", required: true);
        var connectionId = query.Name("connection_id", Names.ConnectionId(), "connection id", required: true);
        var syncName = query.Name("sync", Names.SyncName(), "sync name", required: true);
        var variant = query.Name("variant", Names.SyncName(), "variant", required: false) ?? SyncKey.BaseVariant;
        var limit = query.Integer("limit", 1, RunHistory.MaxPerSync) ?? RunHistory.MaxPerSync;
        validation.ThrowIfInvalid();

        var integration = catalog.Find(integrationKey!) ?? throw ApiException.UnknownProviderConfig(integrationKey!);
        var sync = integration.FindSync(syncName!) ?? throw UnknownSync(integration, syncName!);
        await RequireConnectionAsync(integration.Key, connectionId!, ct);
        var runs = new JsonArray();
        foreach (var run in await history.ListAsync(new SyncKey(integration.Key, connectionId!, sync.Name, variant), limit, ct))
        {
            var results = new JsonObject();
            foreach (var (model, c) in run.Counts)
            {
                results[model] = new JsonObject { ["added"] = c.Added, ["updated"] = c.Updated, ["deleted"] = c.Deleted };
            }
            var item = new JsonObject
            {
                ["id"] = run.RunId,
                ["type"] = run.Type,
                ["status"] = run.Status,
                ["startedAt"] = Timestamp(run.StartedAt),
                ["finishedAt"] = Timestamp(run.FinishedAt),
                ["durationMs"] = Math.Max(0, (run.FinishedAt - run.StartedAt) / TimeSpan.TicksPerMillisecond),
                ["results"] = results,
            };
            if (run.Error is not null)
            {
                item["error"] = run.Error;
            }
            runs.Add(item);
        }
        return ApiResults.Json(new JsonObject { ["runs"] = runs });
    }

    public async Task<IResult> UpdateFrequencyAsync(ApiRequest request, CancellationToken ct)
    {
        var body = await request.JsonObjectAsync(ct);
        var validation = Validation.Body();
        var input = new BodyInput(body, validation, ["provider_config_key", "connection_id", "sync_name", "sync_variant", "frequency"]);
        var integrationKey = input.Name("provider_config_key", Names.ProviderConfigKey(), "provider config key", required: true);
        var connectionId = input.Name("connection_id", Names.ConnectionId(), "connection id", required: true);
        var syncName = input.Name("sync_name", Names.SyncName(), "sync name", required: true);
        var variant = input.Name("sync_variant", Names.SyncName(), "variant", required: false) ?? SyncKey.BaseVariant;
        Frequency? frequency = null;
        if (!input.Has("frequency"))
        {
            validation.Add("invalid_type", "is required (a frequency such as 'every 30 minutes', or null for the integration's default)", "frequency");
        }
        else if (input.Node("frequency") is not null && input.String("frequency", required: true, maxLength: 100) is { } text)
        {
            if (Frequency.TryParse(text, out var parsed, out var problem))
            {
                frequency = parsed;
            }
            else
            {
                validation.Add("invalid_string", problem, "frequency");
            }
        }
        validation.ThrowIfInvalid();

        var integration = catalog.Find(integrationKey!) ?? throw ApiException.UnknownProviderConfig(integrationKey!);
        var sync = integration.FindSync(syncName!) ?? throw UnknownSync(integration, syncName!);
        await RequireConnectionAsync(integration.Key, connectionId!, ct);
        var updated = await schedules.SetFrequencyAsync(new SyncKey(integration.Key, connectionId!, sync.Name, variant), frequency, ct)
            ?? throw ApiException.NotFound("not_found", $"Sync '{sync.Name}' has no variant '{variant}' for this connection.");
        return ApiResults.Json(new JsonObject { ["frequency"] = schedules.FrequencyOf(updated).Text });
    }

    public async Task<IResult> CreateVariantAsync(ApiRequest request, CancellationToken ct)
    {
        var (integration, sync, variant, connectionId) = await ReadVariantAsync(request, ct);
        var existing = await store.ListAsync(integration.Key, connectionId, ct);
        var key = new SyncKey(integration.Key, connectionId, sync.Name, variant);
        if (existing.Any(s => s.Key == key))
        {
            throw ApiException.BadRequest("sync_variant_already_exists", $"Sync '{sync.Name}' already has a variant '{variant}' for this connection.");
        }
        if (existing.Count(s => s.Key.Sync == sync.Name && s.Key.Variant != SyncKey.BaseVariant) >= MaxVariantsPerSync)
        {
            throw ApiException.BadRequest("resource_capped", $"Sync '{sync.Name}' already has {MaxVariantsPerSync} variants for this connection, the maximum.");
        }
        var (schedule, created) = await schedules.CreateAsync(key, ct);
        if (!created)
        {
            throw ApiException.BadRequest("sync_variant_already_exists", $"Sync '{sync.Name}' already has a variant '{variant}' for this connection.");
        }
        return ApiResults.Json(new JsonObject { ["id"] = schedule.Id, ["name"] = sync.Name, ["variant"] = variant });
    }

    public async Task<IResult> DeleteVariantAsync(ApiRequest request, CancellationToken ct)
    {
        var (integration, sync, variant, connectionId) = await ReadVariantAsync(request, ct);
        var schedule = await store.GetAsync(new SyncKey(integration.Key, connectionId, sync.Name, variant), ct)
            ?? throw ApiException.NotFound("not_found", $"Sync '{sync.Name}' has no variant '{variant}' for this connection.");
        // The records first: they vanish from the API at once (their tables are dropped; Azure reclaims them in the
        // background), and a run of the variant still in flight can no longer write any back.
        foreach (var model in sync.Models)
        {
            await recordSets.DeleteAsync(new RecordPartition(integration.Key, connectionId, model, variant), ct);
        }
        await schedules.DeleteAsync(schedule, ct);
        return ApiResults.EmptyOk();
    }

    private async Task<(IntegrationDefinition Integration, SyncDefinition Sync, string Variant, string ConnectionId)> ReadVariantAsync(ApiRequest request, CancellationToken ct)
    {
        request.RejectUnreadQuery();
        var uri = Validation.Uri();
        var name = uri.Name(request.Route("name"), Names.SyncName(), "sync name", "name");
        var variant = uri.Name(request.Route("variant"), Names.SyncName(), "variant", "variant");
        uri.ThrowIfInvalid();
        if (variant == SyncKey.BaseVariant)
        {
            throw ApiException.BadRequest("invalid_variant", "'base' is the sync itself, not a variant; choose another variant name.");
        }
        var body = await request.JsonObjectAsync(ct);
        var validation = Validation.Body();
        var input = new BodyInput(body, validation, ["provider_config_key", "connection_id"]);
        var integrationKey = input.Name("provider_config_key", Names.ProviderConfigKey(), "provider config key", required: true);
        var connectionId = input.Name("connection_id", Names.ConnectionId(), "connection id", required: true);
        validation.ThrowIfInvalid();
        var integration = catalog.Find(integrationKey!) ?? throw ApiException.UnknownProviderConfig(integrationKey!);
        var sync = integration.FindSync(name!) ?? throw UnknownSync(integration, name!);
        await RequireConnectionAsync(integration.Key, connectionId!, ct);
        return (integration, sync, variant!, connectionId!);
    }

    private static (string? Integration, List<SyncSelector>? Syncs, string? ConnectionId) ReadControl(BodyInput input, bool syncsRequired)
    {
        var integration = input.Name("provider_config_key", Names.ProviderConfigKey(), "provider config key", required: true);
        var connectionId = input.Name("connection_id", Names.ConnectionId(), "connection id", required: false);
        var syncs = new List<SyncSelector>();
        if (syncsRequired && input.Node("syncs") is null)
        {
            input.Validation.Add("invalid_type", "is required: a list of syncs (\"issues\", \"issues::v1\" or { name, variant }), or [] for every sync", "syncs");
        }
        var array = input.Array("syncs", required: false) ?? [];
        if (array.Count > 1000)
        {
            input.Validation.Add("too_big", "at most 1000 syncs per request", "syncs");
        }
        for (var i = 0; i < array.Count && i < 1000; i++)
        {
            var path = i.ToString(CultureInfo.InvariantCulture);
            switch (array[i])
            {
                case JsonValue value when value.TryGetValue<string>(out var text):
                    if (SyncSelectors.Parse(text, input.Validation, "syncs", path) is { } parsed)
                    {
                        syncs.Add(parsed);
                    }
                    break;
                case JsonObject obj:
                    var item = new BodyInput(obj, input.Validation, ["name", "variant"], "syncs", path);
                    var name = item.Name("name", Names.SyncName(), "sync name", required: true);
                    var variant = item.Name("variant", Names.SyncName(), "variant", required: false) ?? SyncKey.BaseVariant;
                    if (name is not null)
                    {
                        syncs.Add(new SyncSelector(name, variant));
                    }
                    break;
                default:
                    input.Validation.Add("invalid_type", "each sync must be a name (\"issues\", \"issues::v1\") or { name, variant }", "syncs", path);
                    break;
            }
        }
        return (integration, syncs, connectionId);
    }

    /// <summary>The status page's schedules: one connection's, or one page of the integration's connections.</summary>
    private async Task<(IReadOnlyList<Schedule> Schedules, string? Next)> StatusSchedulesAsync(
        IntegrationDefinition integration, List<SyncSelector> requested, string? connectionId, string? after, int limit, CancellationToken ct)
    {
        if (connectionId is null)
        {
            return await bulk.SchedulesPageAsync(integration.Key, requested, after, limit, ct);
        }
        await RequireConnectionAsync(integration.Key, connectionId, ct);
        return (BulkControl.Select(await store.ListAsync(integration.Key, connectionId, ct), requested).ToList(), null);
    }

    private async Task RequireConnectionAsync(string integration, string connectionId, CancellationToken ct)
    {
        if (!await connections.ExistsAsync(integration, connectionId, ct))
        {
            throw ApiException.UnknownConnection(404);
        }
    }

    private static ApiException UnknownSync(IntegrationDefinition integration, string name) =>
        ApiException.BadRequest("unknown_sync", $"Integration '{integration.Key}' has no sync '{name}'; its syncs are: {string.Join(", ", integration.Syncs.Select(s => s.Name))}.");

    private async Task<JsonObject> StatusOfAsync(IntegrationDefinition integration, Schedule s, long now, CancellationToken ct)
    {
        var definition = integration.FindSync(s.Key.Sync);
        var running = s.IsRunning(now);
        var status = running ? "RUNNING"
            : s.State == ScheduleStates.Paused ? "PAUSED"
            : s.LastStatus ?? "STOPPED";
        var models = definition?.Models ?? [];
        var countOf = await Task.WhenAll(models.Select(model => records.CountAsync(new RecordPartition(s.Key.Integration, s.Key.ConnectionId, model, s.Key.Variant), ct)));
        var counts = new JsonObject();
        for (var i = 0; i < countOf.Length; i++)
        {
            counts[models[i]] = countOf[i];
        }
        var latest = new JsonObject();
        foreach (var (model, c) in s.LastResult)
        {
            latest[model] = new JsonObject { ["added"] = c.Added, ["updated"] = c.Updated, ["deleted"] = c.Deleted };
        }
        var result = new JsonObject
        {
            ["id"] = s.Id,
            ["connection_id"] = s.Key.ConnectionId,
            ["name"] = s.Key.Sync,
            ["variant"] = s.Key.Variant,
            ["status"] = status,
            ["type"] = s.RunType ?? RunTypes.Initial,
            ["frequency"] = schedules.FrequencyOf(s).Text,
        };
        if (s.FinishedAt > 0)
        {
            result["finishedAt"] = Timestamp(s.FinishedAt);
        }
        // While a run is in progress its own slot has passed: the next one is the following grid slot (the runner
        // places it there when the run ends).
        var next = running && s.NextRunAt <= now ? ScheduleGrid.NextAfter(s.Anchor, schedules.FrequencyOf(s).Interval, now) : s.NextRunAt;
        result["nextScheduledSyncAt"] = s.State == ScheduleStates.Paused || next == 0 ? null : Timestamp(next);
        result["latestResult"] = latest;
        result["recordCount"] = counts;
        result["checkpoint"] = s.CheckpointObject;
        if (status == "ERROR")
        {
            result["error"] = s.LastError;
        }
        if (outbox.Enabled)
        {
            // SyncHub's extension: how this sync's webhooks fare (failing = dead-lettered, re-sendable).
            var hooks = await webhooks.StatusAsync(s.Key, ct);
            result["webhook"] = new JsonObject
            {
                ["lastDeliveryAt"] = hooks.LastDeliveryAt > 0 ? Timestamp(hooks.LastDeliveryAt) : null,
                ["lastStatus"] = hooks.LastStatus,
                ["failing"] = hooks.Failing,
                ["pending"] = hooks.Pending,
            };
        }
        return result;
    }

    private static string Timestamp(long ticks) => RecordTimestamps.Format(ticks);
}

/// <summary>Reads a sync named in a request: <c>issues</c> or <c>issues::v1</c>.</summary>
public static class SyncSelectors
{
    public static SyncSelector? Parse(string text, Validation validation, params string[] path)
    {
        var parts = text.Split("::");
        if (parts.Length > 2)
        {
            validation.Add("invalid_string", "must be a sync name, or name::variant", path);
            return null;
        }
        var name = validation.Name(parts[0], Names.SyncName(), "sync name", path);
        var variant = parts.Length == 2 ? validation.Name(parts[1], Names.SyncName(), "variant", path) : SyncKey.BaseVariant;
        return name is null || variant is null ? null : new SyncSelector(name, variant);
    }
}

/// <summary>The status page's <c>next_cursor</c>: the last connection id of the page, opaque to clients.</summary>
public static class StatusCursor
{
    public static string Encode(string connectionId) => System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(connectionId));

    public static string? Decode(string cursor)
    {
        try
        {
            var id = System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(cursor));
            return Names.IsValid(Names.ConnectionId(), id) ? id : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
