namespace SyncHub.Core.Connections;

/// <summary>Metadata over <see cref="ConnectionStore.MaxMetadataChars"/>: the caller's input, refused before any write.</summary>
public sealed class MetadataTooLargeException(int length, int limit)
    : Exception($"metadata is {length} characters of JSON; the limit is {limit}.");
