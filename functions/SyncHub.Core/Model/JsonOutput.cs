using System.Text.Encodings.Web;
using System.Text.Json;

namespace SyncHub.Core.Model;

/// <summary>
/// JSON output settings, for responses and stored payloads alike. Responses are application/json, never HTML, so only what JSON itself requires is escaped
/// (the default encoder would turn <c>'</c> into <c>\u0027</c> and unicode ids into escapes).
/// </summary>
public static class JsonOutput
{
    public static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    public static readonly JsonSerializerOptions Options = new() { Encoder = Encoder };
}
