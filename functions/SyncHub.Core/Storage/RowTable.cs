using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;

namespace SyncHub.Core.Storage;

/// <summary>
/// How one kind of row is stored: its columns, both ways, named and typed in one place. Each capability keeps the codec
/// of its rows next to its store (<c>ScheduleRows</c>, <c>ConnectionRows</c>, <c>RecordSetRows</c>, and in
/// <c>RecordRows.cs</c> <c>RecordMetaRows</c> and <c>IndexEntryRows</c>).
/// </summary>
public interface IRowCodec<T>
{
    TableEntity Encode(T value);

    T Decode(TableEntity row);
}

/// <summary>A value as read from its row, with the ETag a conditional write of it must match.</summary>
public readonly record struct Versioned<T>(T Value, ETag ETag);

/// <summary>
/// One table seen through a codec: typed reads and writes, and the one ETag-conditional read-modify-write loop of the
/// code base (<see cref="UpdateAsync"/>), so that concurrent writers (runner, scheduler, API) never overwrite each
/// other's changes.
/// </summary>
public sealed class RowTable<T>(TableClient table, IRowCodec<T> codec)
{
    public TableClient Client => table;

    /// <param name="select">Only these columns (the codec must read a row without the others).</param>
    public async Task<Versioned<T>?> GetAsync(string partitionKey, string rowKey, CancellationToken ct, IEnumerable<string>? select = null)
    {
        var row = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, select, ct);
        return row.HasValue ? new Versioned<T>(codec.Decode(row.Value!), row.Value!.ETag) : null;
    }

    /// <param name="select">Only these columns (the codec must read a row without the others).</param>
    public async IAsyncEnumerable<Versioned<T>> QueryAsync(string? filter, [EnumeratorCancellation] CancellationToken ct, IEnumerable<string>? select = null)
    {
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: select, cancellationToken: ct))
        {
            yield return new Versioned<T>(codec.Decode(row), row.ETag);
        }
    }

    /// <summary>Adds the row; null when one with its keys exists already (nothing is written then).</summary>
    public async Task<Versioned<T>?> TryAddAsync(T value, CancellationToken ct)
    {
        try
        {
            var response = await table.AddEntityAsync(codec.Encode(value), ct);
            return new Versioned<T>(value, response.Headers.ETag ?? default);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return null;
        }
    }

    /// <summary>
    /// Replaces the row if it is still the version read (<paramref name="ifMatch"/>): one request. Null when another
    /// writer changed or deleted it since; the caller holds a lease and knows what that means for it.
    /// </summary>
    public async Task<Versioned<T>?> TryReplaceAsync(T value, ETag ifMatch, CancellationToken ct)
    {
        try
        {
            var response = await table.UpdateEntityAsync(codec.Encode(value), ifMatch, TableUpdateMode.Replace, ct);
            return new Versioned<T>(value, response.Headers.ETag ?? default);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null;
        }
    }

    /// <summary>
    /// Reads the row, applies <paramref name="change"/> (given null when the row does not exist) and writes the result
    /// back on condition that nobody wrote the row in between; on a conflict it reads again and re-applies. A change
    /// returning null leaves the row as it is. Returns the row as written, or null when nothing was written.
    /// </summary>
    public Task<Versioned<T>?> UpdateAsync(string partitionKey, string rowKey, Func<T?, T?> change, CancellationToken ct) =>
        UpdateAsync(partitionKey, rowKey, current => Task.FromResult(change(current)), ct);

    /// <inheritdoc cref="UpdateAsync(string, string, Func{T, T}, CancellationToken)"/>
    public async Task<Versioned<T>?> UpdateAsync(string partitionKey, string rowKey, Func<T?, Task<T?>> change, CancellationToken ct)
    {
        while (true)
        {
            var current = await GetAsync(partitionKey, rowKey, ct);
            var next = await change(current is { } c ? c.Value : default);
            if (next is null)
            {
                return null;
            }
            var written = current is { } existing ? await TryReplaceAsync(next, existing.ETag, ct) : await TryAddAsync(next, ct);
            if (written is not null)
            {
                return written;
            }
            // Another writer changed (or created, or deleted) the row since it was read: apply the change to theirs.
        }
    }

    /// <summary>
    /// Writes a row read at <paramref name="ifMatch"/> (replaced by <paramref name="replacement"/>, or deleted when it is
    /// null) and applies <paramref name="change"/> to another row of the same partition (given null when that row does
    /// not exist), in one transaction: both or neither. A conflict on the other row reads it again and re-applies the
    /// change; false when the first row changed since it was read (nothing is written then).
    /// </summary>
    public async Task<bool> TryWriteWithAsync(string partitionKey, string rowKey, ETag ifMatch, T? replacement, string otherRowKey, Func<T?, T> change, CancellationToken ct)
    {
        var first = replacement is null
            ? new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partitionKey, rowKey), ifMatch)
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, codec.Encode(replacement), ifMatch);
        while (true)
        {
            var other = await GetAsync(partitionKey, otherRowKey, ct);
            var next = codec.Encode(change(other is { } o ? o.Value : default));
            TableTransactionAction second = other is { } existing
                ? new(TableTransactionActionType.UpdateReplace, next, existing.ETag)
                : new(TableTransactionActionType.Add, next);
            try
            {
                await table.SubmitTransactionAsync([first, second], ct);
                return true;
            }
            catch (TableTransactionFailedException e) when (e.Status is 404 or 409 or 412)
            {
                if (e.FailedTransactionActionIndex == 0 || (e.FailedTransactionActionIndex is null && !await IsAtAsync(partitionKey, rowKey, ifMatch, ct)))
                {
                    return false;
                }
                // The other row changed (or appeared) since it was read: apply the change to the new version.
            }
        }
    }

    /// <summary>Whether the row still exists at version <paramref name="etag"/> (keys only read).</summary>
    private async Task<bool> IsAtAsync(string partitionKey, string rowKey, ETag etag, CancellationToken ct)
    {
        var row = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, ["PartitionKey"], ct);
        return row.HasValue && row.Value!.ETag == etag;
    }

    public async Task DeleteAsync(string partitionKey, string rowKey, CancellationToken ct) =>
        await table.DeleteEntityAsync(partitionKey, rowKey, ETag.All, ct);
}
