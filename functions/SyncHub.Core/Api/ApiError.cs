namespace SyncHub.Core.Api;

/// <summary>One field-level problem, reported inside the error envelope's <c>errors</c> list.</summary>
public sealed record FieldError(string Code, string Message, IReadOnlyList<string> Path);

/// <summary>
/// A failure the API reports to the caller: an HTTP status, a stable machine code and a sentence.
/// Thrown by handlers and validators; the <see cref="ApiPipeline"/> turns it into the error envelope.
/// </summary>
public sealed class ApiException(int status, string code, string message, IReadOnlyList<FieldError>? errors = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public IReadOnlyList<FieldError> Errors { get; } = errors ?? [];
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    public static ApiException BadRequest(string code, string message, params FieldError[] errors) => new(400, code, message, errors);
    public static ApiException NotFound(string code, string message) => new(404, code, message);
    public static ApiException UnknownConnection(int status = 400) =>
        new(status, "unknown_connection", "No connection matches the given connection id and provider config key.");
    public static ApiException UnknownProviderConfig(string key) =>
        new(400, "unknown_provider_config", $"No integration with the key '{key}' is configured.");
}
