using Proactive.Node.Transport;

namespace Proactive.Node.Tests.Transport;

public sealed class PeerHostNameTests
{
    [Theory]
    [InlineData(1, 0UL)]
    [InlineData(255, ulong.MaxValue)]
    [InlineData(7, 1234UL)]
    public void A_formatted_name_gives_back_its_period(int server, ulong period)
    {
        var name = PeerHostName.Format(server, period);

        Assert.EndsWith(".proactive.invalid", name, StringComparison.Ordinal);
        Assert.True(PeerHostName.TryParsePeriod(name, out var parsed));
        Assert.Equal(period, parsed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("127.0.0.1")]
    [InlineData("example.com")]
    [InlineData("s1.p.proactive.invalid")]
    [InlineData("s1.p-1.proactive.invalid")]
    [InlineData("s1.q5.proactive.invalid")]
    [InlineData("x1.p5.proactive.invalid")]
    [InlineData("p5.proactive.invalid")]
    [InlineData("s1.p18446744073709551616.proactive.invalid")]
    [InlineData("s1.p5.proactive.example")]
    public void Anything_else_has_no_period(string? name) =>
        Assert.False(PeerHostName.TryParsePeriod(name, out _));
}
