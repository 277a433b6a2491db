using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using SyncHub.Core.Model;

namespace SyncHub.Core.Records;

/// <summary>
/// A record as stored: its id (always a string) and its canonical UTF-8 JSON (<c>id</c> first, no
/// <c>_nango_metadata</c>), which the read path splices into responses without re-serializing, plus a hash of it.
/// </summary>
public sealed record RecordPayload(string Id, byte[] Json, string Hash)
{
    public const int MaxIdLength = 256;

    public static bool TryCreate(JsonObject record, out RecordPayload payload, out string problem)
    {
        payload = null!;
        if (!TryGetId(record, out var id, out problem))
        {
            return false;
        }
        var json = Canonical(record, id);
        if (json.Length > RecordRows.MaxPayloadBytes)
        {
            problem = $"record is {json.Length} bytes of JSON; the limit is {RecordRows.MaxPayloadBytes} bytes ({RecordRows.MaxPayloadBytes / 1024} KiB)";
            return false;
        }
        payload = new RecordPayload(id, json, HashOf(json));
        return true;
    }

    public static bool TryGetId(JsonObject record, out string id, out string problem)
    {
        id = "";
        problem = "";
        if (!record.TryGetPropertyValue("id", out var node) || node is null)
        {
            problem = "record has no id";
            return false;
        }
        switch (node.GetValueKind())
        {
            case JsonValueKind.String:
                id = node.GetValue<string>();
                break;
            case JsonValueKind.Number:
                id = node.ToJsonString();
                break;
            default:
                problem = $"record id must be a string or a number, got {JsonKinds.Describe(node)}";
                return false;
        }
        if (id.Length == 0 || id.Length > MaxIdLength)
        {
            problem = $"record id must be 1 to {MaxIdLength} characters";
            return false;
        }
        return true;
    }

    /// <summary>A pruned record keeps only its id.</summary>
    public static byte[] IdOnly(string id) => Canonical([], id);

    public static string HashOf(ReadOnlySpan<byte> json)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(json, digest);
        return Convert.ToBase64String(digest[..16]);
    }

    private static byte[] Canonical(JsonObject record, string id)
    {
        using var buffer = new MemoryStream(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JsonOutput.Encoder }))
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            foreach (var (name, value) in record)
            {
                if (name is "id" or "_nango_metadata")
                {
                    continue;
                }
                writer.WritePropertyName(name);
                if (value is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    value.WriteTo(writer, JsonOutput.Options);
                }
            }
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
