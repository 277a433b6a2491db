using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using SyncHub.Core.Configuration;
using SyncHub.Core.Connections;
using SyncHub.Tests.Infrastructure;

namespace SyncHub.Tests.Connections;

public sealed class CredentialProtectorTests
{
    private const string AssociatedData = "connections\u0000github\u0000c1";
    private static readonly byte[] Plaintext = Encoding.UTF8.GetBytes("""{"type":"API_KEY","apiKey":"sk_live_123"}""");

    private static CredentialProtector Protector(string? key = null) =>
        new(Options.Create(new SyncHubOptions { EncryptionKey = key ?? TestEnvironment.EncryptionKey }));

    [Fact]
    public void Round_trips()
    {
        var protector = Protector();
        var blob = protector.Protect(Plaintext, AssociatedData);
        Assert.Equal(Plaintext, protector.Unprotect(blob, AssociatedData));
        // A second instance with the same key (another process) reads it too.
        Assert.Equal(Plaintext, Protector().Unprotect(blob, AssociatedData));
    }

    [Fact]
    public void Round_trips_an_empty_plaintext()
    {
        var protector = Protector();
        Assert.Empty(protector.Unprotect(protector.Protect([], AssociatedData), AssociatedData));
    }

    [Fact]
    public void The_ciphertext_does_not_contain_the_plaintext_and_differs_every_time()
    {
        var protector = Protector();
        var first = protector.Protect(Plaintext, AssociatedData);
        var second = protector.Protect(Plaintext, AssociatedData);
        Assert.NotEqual(first, second);
        Assert.DoesNotContain("sk_live_123", Encoding.UTF8.GetString(first));
        Assert.DoesNotContain("sk_live_123", Encoding.Latin1.GetString(first));
        Assert.Equal(1 + 12 + 16 + Plaintext.Length, first.Length);
    }

    [Theory]
    [InlineData(0)]   // version
    [InlineData(1)]   // nonce
    [InlineData(13)]  // tag
    [InlineData(29)]  // first ciphertext byte
    [InlineData(-1)]  // last ciphertext byte
    public void A_tampered_blob_throws(int index)
    {
        var protector = Protector();
        var blob = protector.Protect(Plaintext, AssociatedData);
        blob[index < 0 ? blob.Length + index : index] ^= 0x01;
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(blob, AssociatedData));
    }

    [Fact]
    public void A_truncated_blob_throws()
    {
        var protector = Protector();
        var blob = protector.Protect(Plaintext, AssociatedData);
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(blob.AsSpan(0, blob.Length - 1), AssociatedData));
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(blob.AsSpan(0, 20), AssociatedData));
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect([], AssociatedData));
    }

    [Fact]
    public void Wrong_associated_data_throws()
    {
        // Ciphertext copied onto another connection's row does not decrypt there.
        var protector = Protector();
        var blob = protector.Protect(Plaintext, AssociatedData);
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(blob, "connections\u0000github\u0000c2"));
    }

    [Fact]
    public void A_wrong_key_throws()
    {
        var blob = Protector().Protect(Plaintext, AssociatedData);
        var otherKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        Assert.ThrowsAny<CryptographicException>(() => Protector(otherKey).Unprotect(blob, AssociatedData));
    }

    [Fact]
    public void A_key_that_is_not_32_bytes_is_refused()
    {
        Assert.Throws<InvalidOperationException>(() => Protector(Convert.ToBase64String(new byte[16])));
    }
}
