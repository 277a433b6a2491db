namespace SyncHub.Core.Model;

/// <summary>
/// The records of one model of one connection's sync variant: the unit of storage (one table partition of its own),
/// of ordering (cursors increase per partition) and of fencing (one <c>meta</c> row).
/// </summary>
public sealed record RecordPartition(string Integration, string ConnectionId, string Model, string Variant = RecordPartition.BaseVariant)
{
    public const string BaseVariant = "base";

    public override string ToString() => $"{Integration}/{Model}/{Variant}";
}
