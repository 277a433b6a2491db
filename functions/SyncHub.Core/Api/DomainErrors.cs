using SyncHub.Core.Connections;

namespace SyncHub.Core.Api;

/// <summary>
/// The one place where the capabilities' own exceptions become HTTP answers: storage and engine code throw domain
/// exceptions and never choose a status code.
/// </summary>
public static class DomainErrors
{
    /// <summary>The answer for a domain exception, or null for one that is a fault in SyncHub (a 500).</summary>
    public static ApiException? ToApi(Exception exception) => exception switch
    {
        MetadataTooLargeException e => ApiException.BadRequest("invalid_body", $"Invalid body: {e.Message}"),
        _ => null,
    };
}
