using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http;
using SyncHub.Core.Records;
using SyncHub.Core.Model;

namespace SyncHub.Core.Api;

/// <summary>
/// Writes <c>{ "records": [...], "next_cursor": ... }</c> straight to the response. Each stored payload is the
/// record's own JSON; it is copied as bytes with <c>_nango_metadata</c> spliced in before its closing brace, so a page
/// costs no JSON parsing or re-serialization. Metadata values are ASCII (timestamps, actions, base64url cursors) and
/// need no escaping.
/// </summary>
public sealed class RecordsPageResult(RecordPage page) : IResult
{
    private const int FlushEvery = 64 * 1024;

    private static readonly byte[] Open = "{\"records\":["u8.ToArray();
    private static readonly byte[] MetadataOpen = ",\"_nango_metadata\":{\"first_seen_at\":\""u8.ToArray();

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json; charset=utf-8";
        var writer = response.BodyWriter;
        var ct = httpContext.RequestAborted;
        writer.Write(Open);
        long unflushed = 0;
        for (var i = 0; i < page.Records.Count; i++)
        {
            var record = page.Records[i];
            if (i > 0)
            {
                writer.Write(","u8);
            }
            writer.Write(record.Payload.AsSpan(0, record.Payload.Length - 1));
            WriteMetadata(writer, record);
            unflushed += record.Payload.Length + 256;
            if (unflushed >= FlushEvery)
            {
                await writer.FlushAsync(ct);
                unflushed = 0;
            }
        }
        writer.Write("],\"next_cursor\":"u8);
        if (page.Next is { } next)
        {
            writer.Write("\""u8);
            WriteAscii(writer, next.Encode());
            writer.Write("\"}"u8);
        }
        else
        {
            writer.Write("null}"u8);
        }
        await writer.FlushAsync(ct);
    }

    private static void WriteMetadata(IBufferWriter<byte> writer, StoredRecord record)
    {
        writer.Write(MetadataOpen);
        WriteAscii(writer, RecordTimestamps.Format(record.FirstSeen));
        writer.Write("\",\"last_modified_at\":\""u8);
        WriteAscii(writer, RecordTimestamps.Format(record.Cursor.Ticks));
        writer.Write("\",\"last_action\":\""u8);
        WriteAscii(writer, record.Action);
        writer.Write("\",\"deleted_at\":"u8);
        WriteTimeOrNull(writer, record.DeletedAt);
        writer.Write(",\"pruned_at\":"u8);
        WriteTimeOrNull(writer, record.PrunedAt);
        writer.Write(",\"cursor\":\""u8);
        WriteAscii(writer, record.Cursor.Encode());
        writer.Write("\"}}"u8);
    }

    private static void WriteTimeOrNull(IBufferWriter<byte> writer, long ticks)
    {
        if (ticks > 0)
        {
            writer.Write("\""u8);
            WriteAscii(writer, RecordTimestamps.Format(ticks));
            writer.Write("\""u8);
        }
        else
        {
            writer.Write("null"u8);
        }
    }

    private static void WriteAscii(IBufferWriter<byte> writer, string value)
    {
        var span = writer.GetSpan(value.Length);
        var written = Encoding.ASCII.GetBytes(value, span);
        writer.Advance(written);
    }
}
