using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using SyncHub.Core.Configuration;
using SyncHub.Core.Model;

namespace SyncHub.Core.Api;

/// <summary>
/// Bearer auth against the configured secret keys (several at once, for rotation). Every configured key is compared
/// in constant time, and all of them are always compared, so timing says nothing about which key or how much matched.
/// </summary>
public sealed partial class SecretKeyAuthenticator(IOptions<SyncHubOptions> options)
{
    private readonly byte[][] _keys = options.Value.ParsedSecretKeys()
        .Select(k => Encoding.ASCII.GetBytes(k))
        .ToArray();

    public void Authenticate(string? authorization)
    {
        if (string.IsNullOrWhiteSpace(authorization))
        {
            throw new ApiException(401, "missing_auth_header", "Authentication failed: the Authorization header is missing.");
        }
        const string scheme = "Bearer ";
        var token = authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? authorization[scheme.Length..].Trim() : "";
        if (token.Length == 0)
        {
            throw new ApiException(401, "malformed_auth_header", "Authentication failed: the Authorization header must be 'Bearer <secret-key>'.");
        }
        if (!Names.SecretKey().IsMatch(token))
        {
            throw new ApiException(401, "invalid_secret_key_format", "Authentication failed: the secret key must be a UUID v4.");
        }
        var candidate = Encoding.ASCII.GetBytes(token.ToLowerInvariant());
        var matched = false;
        foreach (var key in _keys)
        {
            matched |= CryptographicOperations.FixedTimeEquals(candidate, key);
        }
        if (!matched)
        {
            throw new ApiException(401, "unknown_account", "Authentication failed: the secret key is not valid for this deployment.");
        }
    }
}
