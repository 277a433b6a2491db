using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using SyncHub.Core.Model;
using SyncHub.Core.Storage;

namespace SyncHub.Core.Scheduling;

/// <summary>One finished run of a sync, as <c>GET /sync/runs</c> and the dashboard show it.</summary>
public sealed record RunHistoryEntry(
    SyncKey Key,
    string RunId,
    string Type,
    long StartedAt,
    long FinishedAt,
    string Status,
    string? Error,
    Dictionary<string, ModelCounts> Counts);

/// <summary>
/// The columns of a <c>runhistory</c> row: PartitionKey = the schedule partition (hash of integration, connection),
/// RowKey = <c>sync:variant|&lt;inverted finish ticks, D19&gt;</c>, so a range query returns a sync's runs newest first.
/// </summary>
public sealed class RunHistoryRows : IRowCodec<RunHistoryEntry>
{
    public static readonly RunHistoryRows Codec = new();

    /// <summary>The first RowKey of <paramref name="key"/>'s runs (all of them start with it).</summary>
    public static string Prefix(SyncKey key) => key.RowKey + "|";

    public static string RowKey(SyncKey key, long finishedAt) => Prefix(key) + (long.MaxValue - finishedAt).ToString("D19", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The filter of <paramref name="key"/>'s rows: its partition, RowKeys from <c>sync:variant|</c> to <c>sync:variant}</c>.</summary>
    public static string Filter(SyncKey key) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {StorageKeys.SchedulePartition(key)} and RowKey gt {Prefix(key)} and RowKey lt {key.RowKey + "}"}");

    public TableEntity Encode(RunHistoryEntry r) => new(StorageKeys.SchedulePartition(r.Key), RowKey(r.Key, r.FinishedAt))
    {
        ["Integration"] = r.Key.Integration,
        ["ConnectionId"] = r.Key.ConnectionId,
        ["Sync"] = r.Key.Sync,
        ["Variant"] = r.Key.Variant,
        ["RunId"] = r.RunId,
        ["Type"] = r.Type,
        ["StartedAt"] = r.StartedAt,
        ["FinishedAt"] = r.FinishedAt,
        ["Status"] = r.Status,
        ["Error"] = r.Error,
        ["Counts"] = JsonSerializer.Serialize(r.Counts, SchedulingJson.Default.DictionaryStringModelCounts),
    };

    public RunHistoryEntry Decode(TableEntity e) => new(
        new SyncKey(e.GetString("Integration"), e.GetString("ConnectionId"), e.GetString("Sync"), e.GetString("Variant")),
        e.GetString("RunId") ?? "",
        e.GetString("Type") ?? RunTypes.Incremental,
        e.GetInt64("StartedAt") ?? 0,
        e.GetInt64("FinishedAt") ?? 0,
        e.GetString("Status") ?? "SUCCESS",
        e.GetString("Error"),
        e.GetString("Counts") is { Length: > 0 } json ? JsonSerializer.Deserialize(json, SchedulingJson.Default.DictionaryStringModelCounts) ?? [] : []);
}

/// <summary>
/// The last <see cref="MaxPerSync"/> finished runs of each sync (table <c>runhistory</c>): one row added when a run
/// ends (<see cref="RunLease.FinishAsync"/>), the ones past the newest <see cref="MaxPerSync"/> deleted right after.
/// </summary>
public sealed class RunHistory(FixedTables tables, ILogger<RunHistory> logger)
{
    public const int MaxPerSync = 50;

    private async Task<RowTable<RunHistoryEntry>> TableAsync(CancellationToken ct) =>
        new(await tables.GetAsync(StorageNames.RunHistoryTable, ct), RunHistoryRows.Codec);

    /// <summary>Adds the run and trims the sync's history to the newest <see cref="MaxPerSync"/>.</summary>
    public async Task AddAsync(RunHistoryEntry run, CancellationToken ct)
    {
        var table = await TableAsync(ct);
        // Upsert: a run recorded twice (or two ending in the same tick) keeps one row rather than failing.
        await table.Client.UpsertEntityAsync(RunHistoryRows.Codec.Encode(run), TableUpdateMode.Replace, ct);
        var partition = StorageKeys.SchedulePartition(run.Key);
        var seen = 0;
        await foreach (var row in table.Client.QueryAsync<TableEntity>(RunHistoryRows.Filter(run.Key), select: ["RowKey"], cancellationToken: ct))
        {
            if (++seen > MaxPerSync)
            {
                await table.Client.DeleteEntityAsync(partition, row.RowKey, ETag.All, ct);
            }
        }
    }

    /// <summary>
    /// Records the run <paramref name="ended"/> (the schedule row as its end wrote it). A failure is logged, never
    /// thrown: the run has ended already, and its history is only informative.
    /// </summary>
    public async Task RecordAsync(Schedule ended, Dictionary<string, ModelCounts> counts, string? error, long finishedAt, CancellationToken ct)
    {
        try
        {
            await AddAsync(new RunHistoryEntry(ended.Key, ended.RunId ?? "", ended.RunType ?? RunTypes.Incremental, ended.RunStartedAt, finishedAt,
                error is null ? "SUCCESS" : "ERROR", error, counts), ct);
        }
        catch (Exception e)
        {
            logger.LogWarning("Sync {Sync}: run {RunId} ended but could not be added to the run history: {Error}", ended.Key, ended.RunId, e.Message);
        }
    }

    /// <summary>The sync's last <paramref name="limit"/> runs, newest first.</summary>
    public async Task<List<RunHistoryEntry>> ListAsync(SyncKey key, int limit, CancellationToken ct)
    {
        var table = await TableAsync(ct);
        var runs = new List<RunHistoryEntry>();
        await foreach (var row in table.QueryAsync(RunHistoryRows.Filter(key), ct))
        {
            runs.Add(row.Value);
            if (runs.Count >= limit)
            {
                break;
            }
        }
        return runs;
    }

    /// <summary>Removes the sync's history (its schedule is deleted).</summary>
    public async Task DeleteAsync(SyncKey key, CancellationToken ct)
    {
        var table = await TableAsync(ct);
        var partition = StorageKeys.SchedulePartition(key);
        await foreach (var row in table.Client.QueryAsync<TableEntity>(RunHistoryRows.Filter(key), select: ["RowKey"], cancellationToken: ct))
        {
            await table.Client.DeleteEntityAsync(partition, row.RowKey, ETag.All, ct);
        }
    }
}
