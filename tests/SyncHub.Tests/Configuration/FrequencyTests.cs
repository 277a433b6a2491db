using SyncHub.Core.Scheduling;
using SyncHub.Core.Model;

namespace SyncHub.Tests.Configuration;

public sealed class FrequencyTests
{
    [Theory]
    // The examples of API.md.
    [InlineData("every 30 minutes", 30 * 60, "every 30 minutes")]
    [InlineData("every 2 hours", 2 * 3600, "every 2 hours")]
    [InlineData("every day", 86400, "every day")]
    [InlineData("30m", 30 * 60, "every 30 minutes")]
    [InlineData("1h", 3600, "every hour")]
    [InlineData("every half hour", 30 * 60, "every 30 minutes")]
    [InlineData("every quarter hour", 15 * 60, "every 15 minutes")]
    [InlineData("every half day", 12 * 3600, "every 12 hours")]
    [InlineData("every week", 7 * 86400, "every 7 days")]
    [InlineData("every month", 30 * 86400, "every 30 days")]
    // Every unit spelling of the grammar.
    [InlineData("30s", 30, "every 30 seconds")]
    [InlineData("45 sec", 45, "every 45 seconds")]
    [InlineData("45 secs", 45, "every 45 seconds")]
    [InlineData("every 90 seconds", 90, "every 90 seconds")]
    [InlineData("every 60 second", 60, "every minute")]
    [InlineData("every 5 min", 300, "every 5 minutes")]
    [InlineData("every 5 mins", 300, "every 5 minutes")]
    [InlineData("every 1 minute", 60, "every minute")]
    [InlineData("every minute", 60, "every minute")]
    [InlineData("every 3 hrs", 3 * 3600, "every 3 hours")]
    [InlineData("every 3 hr", 3 * 3600, "every 3 hours")]
    [InlineData("every hour", 3600, "every hour")]
    [InlineData("every 2 hour", 7200, "every 2 hours")]
    [InlineData("2d", 2 * 86400, "every 2 days")]
    [InlineData("every 2 days", 2 * 86400, "every 2 days")]
    [InlineData("every 1 days", 86400, "every day")]
    [InlineData("week", 7 * 86400, "every 7 days")]
    [InlineData("half hour", 30 * 60, "every 30 minutes")]
    [InlineData("quarter hour", 15 * 60, "every 15 minutes")]
    [InlineData("120 minutes", 7200, "every 2 hours")]
    [InlineData("90m", 5400, "every 90 minutes")]
    [InlineData("1440m", 86400, "every day")]
    // Case and surrounding whitespace do not matter.
    [InlineData("Every 30 Minutes", 30 * 60, "every 30 minutes")]
    [InlineData("  every hour  ", 3600, "every hour")]
    public void Parses_and_normalises_every_form_of_the_grammar(string text, int seconds, string canonical)
    {
        Assert.True(Frequency.TryParse(text, out var frequency, out var error), error);
        Assert.Equal(TimeSpan.FromSeconds(seconds), frequency.Interval);
        Assert.Equal(canonical, frequency.Text);
        Assert.Equal(canonical, frequency.ToString());
    }

    [Fact]
    public void Normalised_text_parses_back_to_the_same_frequency()
    {
        foreach (var text in new[] { "every half day", "30m", "every week", "45 secs", "1h", "every month" })
        {
            var frequency = Frequency.Parse(text);
            Assert.Equal(frequency, Frequency.Parse(frequency.Text));
        }
    }

    [Theory]
    [InlineData("29s")]
    [InlineData("every 10 seconds")]
    [InlineData("every second")]
    [InlineData("0m")]
    [InlineData("every 0 hours")]
    public void Shorter_than_30_seconds_is_rejected(string text)
    {
        Assert.False(Frequency.TryParse(text, out _, out var error));
        Assert.Contains("30 seconds", error);
    }

    [Fact]
    public void Exactly_30_seconds_is_the_minimum_allowed()
    {
        Assert.Equal(Frequency.Minimum, Frequency.Parse("30s").Interval);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("30")]
    [InlineData("every")]
    [InlineData("every fortnight")]
    [InlineData("every 2 weeks")]
    [InlineData("every 2 months")]
    [InlineData("every 1 month")]
    [InlineData("30 ms")]
    [InlineData("every30m")]
    [InlineData("every -5 minutes")]
    [InlineData("every 1.5 hours")]
    [InlineData("5 minutes ago")]
    [InlineData("every 30 minutes\nevery 1 minute")]
    public void Text_outside_the_grammar_is_rejected(string? text)
    {
        Assert.False(Frequency.TryParse(text, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Theory]
    [InlineData("99999999999999999999 days")]
    [InlineData("3651 days")]
    [InlineData("every 100000 hours")]
    public void Absurdly_long_frequencies_are_rejected_without_overflow(string text)
    {
        Assert.False(Frequency.TryParse(text, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void Parse_throws_a_FormatException_naming_the_problem()
    {
        var error = Assert.Throws<FormatException>(() => Frequency.Parse("every 5 seconds"));
        Assert.Contains("30 seconds", error.Message);
    }
}
