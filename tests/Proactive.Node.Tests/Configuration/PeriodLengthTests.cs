using Proactive.Node.Configuration;

namespace Proactive.Node.Tests.Configuration;

public sealed class PeriodLengthTests
{
    [Theory]
    [InlineData("30s", 30)]
    [InlineData("15m", 900)]
    [InlineData("1h", 3600)]
    [InlineData("1d", 86400)]
    [InlineData("1h30m", 5400)]
    [InlineData("1d2h3m4s", 93784)]
    [InlineData("90s", 90)]
    [InlineData("366d", 31622400)]
    public void Periods_are_a_number_and_a_unit_or_several(string text, long seconds)
    {
        Assert.True(PeriodLength.TryParse(text, out var period, out var error), error);
        Assert.Equal(TimeSpan.FromSeconds(seconds), period);
    }

    [Theory]
    [InlineData(null, "empty")]
    [InlineData("", "empty")]
    [InlineData("1", "unit")]
    [InlineData("h", "unit")]
    [InlineData("1x", "unknown unit 'x'")]
    [InlineData("1 h", "unknown unit ' '")]
    [InlineData("-1h", "unit")]
    [InlineData("1.5h", "unknown unit '.'")]
    [InlineData("0s", "between 1s and 366d")]
    [InlineData("367d", "between 1s and 366d")]
    [InlineData("99999999999999999999s", "unit")]
    [InlineData("999999999d999999999d999999999d", "between 1s and 366d")]
    public void Anything_else_is_refused_with_the_reason(string? text, string reason)
    {
        Assert.False(PeriodLength.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(30, "30s")]
    [InlineData(3600, "1h")]
    [InlineData(5400, "1h30m")]
    [InlineData(86400, "1d")]
    [InlineData(93784, "1d2h3m4s")]
    public void A_period_is_written_the_shortest_way(long seconds, string text) =>
        Assert.Equal(text, PeriodLength.Format(TimeSpan.FromSeconds(seconds)));
}
