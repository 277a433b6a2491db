namespace SyncHub.Core.Sdk;

/// <summary>
/// A provider answered with success but with a body the SDK cannot use: not JSON, empty, or not the shape a pagination
/// helper was told to expect (no items array, a pagination loop). The message names the method and the URL path, never
/// the body nor the query string.
/// </summary>
public sealed class ProviderResponseException : Exception
{
    public ProviderResponseException(string method, string path, string message)
        : base(message)
    {
        Method = method;
        Path = path;
    }

    /// <summary>The HTTP method, e.g. <c>GET</c>.</summary>
    public string Method { get; }

    /// <summary>The URL path that was requested, without its query string.</summary>
    public string Path { get; }
}
