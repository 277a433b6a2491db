using System.Security.Cryptography;
using System.Text;
using SyncHub.Core.Model;

namespace SyncHub.Core.Storage;

/// <summary>
/// Table keys may not hold <c>/ \ # ?</c> or control characters, and may be at most 1 KiB (512 UTF-16 chars).
/// User values never go into a key raw: short ones are escaped reversibly, composite ones are hashed
/// (the raw values always live in the row's properties too).
/// </summary>
public static class StorageKeys
{
    /// <summary>
    /// Escapes forbidden characters as <c>%XX</c> (and <c>%</c> itself). A 255-char connection id made only of
    /// escaped characters would be 765 chars, so values that would not fit are hashed instead.
    /// </summary>
    public static string Escape(string value)
    {
        var builder = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            if (c is '%' or '/' or '\\' or '#' or '?' or '\'' || char.IsControl(c))
            {
                builder.Append('%').Append(((int)c).ToString("X2"));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.Length <= 500 ? builder.ToString() : "~" + Hash(value);
    }

    /// <summary>A fixed-length key for any combination of values (base64url SHA-256, 43 chars).</summary>
    public static string Hash(params string[] parts)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u0000', parts)), digest);
        return System.Buffers.Text.Base64Url.EncodeToString(digest);
    }

    /// <summary>The <c>schedules</c> partition of a connection: all its syncs and variants.</summary>
    public static string SchedulePartition(string integration, string connectionId) => Hash(integration, connectionId);

    public static string SchedulePartition(SyncKey key) => SchedulePartition(key.Integration, key.ConnectionId);

    /// <summary>Hex of a SHA-256 over the parts: used where only [a-z0-9] is allowed (table names).</summary>
    public static string HexHash(int length, params string[] parts)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u0000', parts)), digest);
        return Convert.ToHexStringLower(digest)[..length];
    }
}
