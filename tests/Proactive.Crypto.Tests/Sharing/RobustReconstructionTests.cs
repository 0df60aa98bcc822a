using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Crypto.Tests.Groups;

namespace Proactive.Crypto.Tests.Sharing;

public class RobustReconstructionTests
{
    public static TheoryData<string> Groups => GroupContractTests.Groups;

    /// <summary>Replaces the shares at the given positions with random values (new objects).</summary>
    private static SecretShare[] Corrupt(PrimeOrderGroup g, SecretShare[] shares, IEnumerable<int> positions, IRandomSource rng)
    {
        var copy = shares.Select(s => new SecretShare(g, s.Index, s.Value)).ToArray();
        foreach (var p in positions)
        {
            copy[p].Dispose();
            copy[p] = new SecretShare(g, shares[p].Index, g.Add(shares[p].Value, g.RandomNonzeroScalar(rng)));
        }

        return copy;
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Up_to_e_wrong_shares_are_corrected_and_named(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(50);
        foreach (var (t, n) in new[] { (1, 4), (2, 7), (2, 8), (3, 10) })
        {
            var secret = g.RandomScalar(rng);
            var (shares, polynomial) = Shamir.Split(g, secret, t, n, rng);
            var e = RobustReconstruction.CorrectableErrors(n, t);
            for (var errors = 0; errors <= e; errors++)
            {
                var positions = Enumerable.Range(0, n).OrderBy(_ => rng.NextInt()).Take(errors).ToArray();
                var received = Corrupt(g, shares, positions, rng);
                using var result = RobustReconstruction.Reconstruct(g, received, t);
                Assert.True(result.Succeeded, $"t={t} n={n} errors={errors}");
                Assert.Equal(secret, result.Value);
                Assert.Equal(positions.Select(p => p + 1).Order(), result.WrongShareIndices);

                // Any point, not only the secret: rebuild server 2's share.
                using var atTwo = RobustReconstruction.Reconstruct(g, received, t, g.FromUInt64(2));
                Assert.Equal(polynomial.Evaluate(g.FromUInt64(2)), atTwo.Value);
                ShamirTests.DisposeAll(received);
            }

            polynomial.Dispose();
            ShamirTests.DisposeAll(shares);
        }
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void More_than_e_wrong_shares_fail_cleanly(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(51);
        foreach (var (t, n) in new[] { (1, 4), (2, 7), (2, 8), (3, 10) })
        {
            var secret = g.RandomScalar(rng);
            var (shares, polynomial) = Shamir.Split(g, secret, t, n, rng);
            polynomial.Dispose();
            var e = RobustReconstruction.CorrectableErrors(n, t);
            var received = Corrupt(g, shares, Enumerable.Range(0, e + 1), rng);
            using var result = RobustReconstruction.Reconstruct(g, received, t);
            // With random errors no other degree-t polynomial lies within distance e of the received
            // shares (probability about 1/q), so the decoder must report failure, not a wrong secret.
            Assert.False(result.Succeeded, $"t={t} n={n}");
            Assert.Throws<InvalidOperationException>(() => result.Value);
            Assert.Empty(result.WrongShareIndices);

            ShamirTests.DisposeAll(received);
            ShamirTests.DisposeAll(shares);
        }
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void With_commitments_wrong_shares_are_named_and_the_rest_reconstruct(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(52);
        var secret = g.RandomScalar(rng);
        var (shares, polynomial) = Shamir.Split(g, secret, 2, 6, rng);
        var commitment = FeldmanCommitment.Commit(polynomial);
        polynomial.Dispose();
        var received = Corrupt(g, shares, [0, 2, 5], rng);
        using (var result = RobustReconstruction.ReconstructWithCommitment(commitment, received, g.Zero))
        {
            Assert.True(result.Succeeded);
            Assert.Equal(secret, result.Value);
            Assert.Equal([1, 3, 6], result.WrongShareIndices);
        }

        ShamirTests.DisposeAll(received);
        received = Corrupt(g, shares, [0, 1, 2, 3], rng);
        using (var result = RobustReconstruction.ReconstructWithCommitment(commitment, received, g.Zero))
        {
            Assert.False(result.Succeeded);
            Assert.Equal([1, 2, 3, 4], result.WrongShareIndices);
        }

        ShamirTests.DisposeAll(received);
        ShamirTests.DisposeAll(shares);
    }

    [Fact]
    public void Too_few_shares_for_the_threshold_is_a_caller_error()
    {
        var g = PrimeOrderGroup.Ed25519;
        using var a = new SecretShare(g, 1, g.One);
        using var b = new SecretShare(g, 2, g.One);
        Assert.Throws<ArgumentOutOfRangeException>(() => RobustReconstruction.Reconstruct(g, [a, b], 2));
    }
}

internal static class RandomSourceExtensions
{
    internal static int NextInt(this IRandomSource random)
    {
        Span<byte> b = stackalloc byte[4];
        random.Fill(b);
        return BitConverter.ToInt32(b) & int.MaxValue;
    }
}
