using Proactive.Protocols.Cluster;

namespace Proactive.Protocols.Tests;

public class ClusterParametersTests
{
    [Theory]
    [InlineData(1, 0, 0)]
    [InlineData(4, 1, 1)]
    [InlineData(5, 2, 1)]
    [InlineData(7, 4, 2)]
    [InlineData(31, 15, 10)]
    [InlineData(255, 127, 84)]
    public void Valid_combinations_are_accepted(int n, int t, int f)
    {
        Assert.True(ClusterParameters.TryCreate(n, t, f, out var p, out var error), error);
        Assert.Equal(n - f, p.Quorum);
        Assert.Equal(t + 1, p.ReconstructionThreshold);
        Assert.Equal(Enumerable.Range(1, n), p.Servers);
    }

    [Theory]
    [InlineData(3, 1, 1, "n >= 3f + 1")]
    [InlineData(6, 2, 2, "n >= 3f + 1")]
    [InlineData(5, 0, 1, "f <= t")]
    [InlineData(7, 1, 2, "f <= t")]
    [InlineData(5, 4, 1, "t + 1 <= n - f")]
    [InlineData(7, 5, 2, "t + 1 <= n - f")]
    [InlineData(0, 0, 0, "number of servers")]
    [InlineData(256, 100, 10, "number of servers")]
    [InlineData(5, -1, 0, "negative")]
    public void Invalid_combinations_are_refused_naming_the_rule(int n, int t, int f, string rule)
    {
        Assert.False(ClusterParameters.TryCreate(n, t, f, out var p, out var error));
        Assert.Null(p);
        Assert.Contains(rule, error);
        var e = Assert.Throws<ArgumentException>(() => ClusterParameters.Create(n, t, f));
        Assert.Contains(rule, e.Message);
    }

    [Theory]
    [InlineData(4, 1, 1)]
    [InlineData(5, 2, 1)]
    [InlineData(7, 3, 2)]
    [InlineData(31, 15, 10)]
    public void Defaults_follow_the_brief(int n, int t, int f)
    {
        var p = ClusterParameters.Default(n);
        Assert.Equal((n, t, f), (p.ServerCount, p.Threshold, p.Faults));
    }
}
