using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Crypto.Tests.Groups;

namespace Proactive.Crypto.Tests.Sharing;

public class ShamirTests
{
    public static TheoryData<string> Groups => GroupContractTests.Groups;

    internal static void DisposeAll(IEnumerable<IDisposable> items)
    {
        foreach (var item in items)
        {
            item.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Split_then_reconstruct_returns_the_secret_for_several_thresholds(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(10);
        foreach (var (t, n) in new[] { (0, 1), (1, 3), (2, 5), (3, 4), (4, 9) })
        {
            var secret = g.RandomScalar(rng);
            var (shares, polynomial) = Shamir.Split(g, secret, t, n, rng);
            using (polynomial)
            {
                Assert.Equal(secret, polynomial.ConstantTerm);
                Assert.Equal(secret, Shamir.Reconstruct(g, shares));
                Assert.Equal(secret, Shamir.Reconstruct(g, shares.Take(t + 1).ToArray()));
            }

            DisposeAll(shares);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => Shamir.Split(g, g.One, 4, 4, rng));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Every_subset_of_t_plus_one_shares_reconstructs_the_secret(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(11);
        const int t = 2, n = 5;
        var secret = g.RandomScalar(rng);
        var (shares, polynomial) = Shamir.Split(g, secret, t, n, rng);
        polynomial.Dispose();
        for (var a = 0; a < n; a++)
        {
            for (var b = a + 1; b < n; b++)
            {
                for (var c = b + 1; c < n; c++)
                {
                    Assert.Equal(secret, Shamir.Reconstruct(g, [shares[a], shares[b], shares[c]]));
                }
            }
        }

        DisposeAll(shares);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Fewer_than_t_plus_one_shares_give_a_different_value(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(12);
        var secret = g.RandomScalar(rng);
        var (shares, polynomial) = Shamir.Split(g, secret, 3, 6, rng);
        polynomial.Dispose();
        Assert.NotEqual(secret, Shamir.Reconstruct(g, shares.Take(3).ToArray()));
        Assert.NotEqual(secret, Shamir.Reconstruct(g, shares.Skip(2).Take(2).ToArray()));
        DisposeAll(shares);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Interpolating_at_a_server_index_rebuilds_that_servers_share(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(13);
        var (shares, polynomial) = Shamir.Split(g, g.RandomScalar(rng), 2, 6, rng);
        polynomial.Dispose();
        var lost = shares[3]; // server 4
        var helpers = new[] { shares[0], shares[4], shares[5] };
        Assert.Equal(lost.Value, Shamir.Interpolate(g, helpers, lost.X));
        var lambdas = Lagrange.Coefficients(g, helpers.Select(s => s.X).ToArray(), lost.X);
        for (var i = 0; i < helpers.Length; i++)
        {
            Assert.Equal(lambdas[i], Lagrange.Coefficient(g, helpers.Select(s => s.X).ToArray(), i, lost.X));
        }

        DisposeAll(shares);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Duplicate_indices_are_rejected_as_a_caller_error(string name)
    {
        var g = GroupContractTests.ByName(name);
        using var a = new SecretShare(g, 2, g.FromUInt64(5));
        using var b = new SecretShare(g, 2, g.FromUInt64(7));
        using var c = new SecretShare(g, 3, g.FromUInt64(9));
        Assert.Throws<ArgumentException>(() => Shamir.Reconstruct(g, [a, b, c]));
        Assert.Throws<ArgumentException>(() => RobustReconstruction.Reconstruct(g, [a, b, c], 1, maxErrors: 0));
    }
}
