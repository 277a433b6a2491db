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
            ids.Add($"issue-{i:D6}");
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
            ids.Add($"issue-{i:D6}");
        }
        Assert.DoesNotContain(Enumerable.Range(3_000, 100_000), i => ids.MightContain($"issue-{i:D6}"));
    }
}
