using System.Text.Encodings.Web;
using System.Text.Json;

namespace SyncHub.Core.Api;

/// <summary>
/// JSON output settings. Responses are application/json, never HTML, so only what JSON itself requires is escaped
/// (the default encoder would turn <c>'</c> into <c>\u0027</c> and unicode ids into escapes).
/// </summary>
public static class ApiJson
{
    public static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    public static readonly JsonSerializerOptions Options = new() { Encoder = Encoder };
}
