namespace SyncHub.Core.Model;

/// <summary>A record a batch did not store, and why (too large, bad id, duplicate in the batch, ...).</summary>
public sealed record RejectedRecord(int Index, string? Id, string Reason);

/// <summary>What one batch did to one model: counts by outcome, and the records it rejected.</summary>
public sealed class BatchResult
{
    public int Added { get; set; }
    public int Updated { get; set; }
    public int Deleted { get; set; }
    public int Unchanged { get; set; }

    /// <summary>The first and last cursor (ticks) this batch wrote; 0 when it moved no record.</summary>
    public long FirstCursor { get; set; }
    public long LastCursor { get; set; }
    public List<RejectedRecord> Rejected { get; } = [];
}
