using SyncHub.Core.Records;

namespace SyncHub.Tests.Records;

/// <summary>The Bloom filter of inserted ids: never a false "no", rarely a false "maybe", memory per id as documented.</summary>
public sealed class InsertedIdsTests
{
    [Fact]
    public void Every_added_id_might_be_contained_and_few_others_are()
    {
        var ids = new InsertedIds();
        Assert.False(ids.MightContain("issue-000000"));
        for (var i = 0; i < 100_000; i++)
        {
            Assert.True(ids.TryAdd($"issue-{i:D6}"));
        }
        Assert.Equal(100_000, ids.Count);
        Assert.All(Enumerable.Range(0, 100_000), i => Assert.True(ids.MightContain($"issue-{i:D6}")));
        var wrong = Enumerable.Range(100_000, 100_000).Count(i => ids.MightContain($"issue-{i:D6}"));
        // Three layers (16,384 + 32,768 + 65,536 ids), the last one underfilled: a few percent at most.
        Assert.InRange(wrong, 0, 3_000);
        // 10 bits per id of capacity: 114,688 ids → 143,360 bytes.
        Assert.Equal(143_360, ids.Bytes);
    }

    [Fact]
    public void A_few_thousand_ids_give_no_false_maybe()
    {
        var ids = new InsertedIds();
        for (var i = 0; i < 3_000; i++)
        {
            Assert.True(ids.TryAdd($"issue-{i:D6}"));
        }
        Assert.DoesNotContain(Enumerable.Range(3_000, 100_000), i => ids.MightContain($"issue-{i:D6}"));
    }

    [Fact]
    public void Its_memory_stops_at_the_cap_and_what_was_added_stays_found()
    {
        // Layers of 20,480 and 40,960 bytes fit in 64 KiB; the third (81,920) would not.
        var ids = new InsertedIds(maxBytes: 64 * 1024);
        var added = 0;
        while (ids.TryAdd($"issue-{added:D6}"))
        {
            added++;
        }
        Assert.Equal(16_384 + 32_768, added);
        Assert.Equal(61_440, ids.Bytes);
        Assert.False(ids.TryAdd("another"));
        Assert.Equal(added, ids.Count);
        Assert.All(Enumerable.Range(0, added), i => Assert.True(ids.MightContain($"issue-{i:D6}")));
        Assert.True(InsertedIds.MaxBytes <= 16 * 1024 * 1024);
    }
}
