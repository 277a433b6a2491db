using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using SyncHub.Core.Configuration;

namespace SyncHub.Core.Connections;

/// <summary>
/// AES-256-GCM for credentials at rest. The blob is <c>version(1) | nonce(12) | tag(16) | ciphertext</c>; the row's
/// identity is bound in as associated data, so a ciphertext copied onto another connection's row fails to decrypt.
/// </summary>
public sealed class CredentialProtector
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public CredentialProtector(IOptions<SyncHubOptions> options)
    {
        _key = Convert.FromBase64String(options.Value.EncryptionKey);
        if (_key.Length != 32)
        {
            throw new InvalidOperationException("SyncHub__EncryptionKey must be the base64 encoding of exactly 32 bytes.");
        }
    }

    public byte[] Protect(ReadOnlySpan<byte> plaintext, string associatedData)
    {
        var blob = new byte[1 + NonceSize + TagSize + plaintext.Length];
        blob[0] = Version;
        var nonce = blob.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, blob.AsSpan(1 + NonceSize + TagSize), blob.AsSpan(1 + NonceSize, TagSize), Encoding.UTF8.GetBytes(associatedData));
        return blob;
    }

    /// <exception cref="CryptographicException">The blob was altered, belongs to another row, or another key made it.</exception>
    public byte[] Unprotect(ReadOnlySpan<byte> blob, string associatedData)
    {
        if (blob.Length < 1 + NonceSize + TagSize || blob[0] != Version)
        {
            throw new CryptographicException("The stored credentials are not in a format this version of SyncHub can read.");
        }
        var plaintext = new byte[blob.Length - 1 - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(blob.Slice(1, NonceSize), blob[(1 + NonceSize + TagSize)..], blob.Slice(1 + NonceSize, TagSize), plaintext, Encoding.UTF8.GetBytes(associatedData));
        return plaintext;
    }
}
