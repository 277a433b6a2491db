using SyncHub.Core.Storage;

namespace SyncHub.Tests.Connections;

public sealed class StorageKeysTests
{
    private static bool IsValidTableKey(string key) =>
        key.Length <= 512 && !key.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c));

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a/b", "a%2Fb")]
    [InlineData(@"a\b", "a%5Cb")]
    [InlineData("a#b?c", "a%23b%3Fc")]
    [InlineData("100%", "100%25")]
    [InlineData("tab\there", "tab%09here")]
    public void Escapes_what_table_keys_forbid(string value, string expected)
    {
        Assert.Equal(expected, StorageKeys.Escape(value));
        Assert.True(IsValidTableKey(StorageKeys.Escape(value)));
    }

    [Fact]
    public void Distinct_values_get_distinct_keys()
    {
        string[] values = ["a/b", "a%2Fb", "a%252Fb", @"a\b", "a%5Cb", "a b", "a+b", "A/B"];
        Assert.Equal(values.Length, values.Select(StorageKeys.Escape).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Values_too_long_to_escape_are_hashed_to_a_valid_key()
    {
        var worst = new string('/', 255);
        var key = StorageKeys.Escape(worst);
        Assert.True(IsValidTableKey(key));
        Assert.StartsWith("~", key);
        Assert.NotEqual(key, StorageKeys.Escape(new string('/', 254) + "\\"));
        Assert.Equal(key, StorageKeys.Escape(worst));
    }

    [Fact]
    public void Hashes_are_url_safe_fixed_length_and_separate_their_parts()
    {
        var hash = StorageKeys.Hash("github", "c1");
        Assert.Equal(43, hash.Length);
        Assert.True(IsValidTableKey(hash));
        Assert.NotEqual(StorageKeys.Hash("ab", "c"), StorageKeys.Hash("a", "bc"));
        Assert.Matches("^[0-9a-f]{32}$", StorageKeys.HexHash(32, "x"));
    }
}
