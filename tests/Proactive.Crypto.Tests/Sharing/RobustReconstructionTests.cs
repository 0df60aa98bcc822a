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
    public void Up_to_max_errors_wrong_shares_are_corrected_and_named(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(50);
        foreach (var (t, n) in new[] { (1, 4), (2, 7), (2, 8), (3, 10) })
        {
            var secret = g.RandomScalar(rng);
            var (shares, polynomial) = Shamir.Split(g, secret, t, n, rng);
            var f = RobustReconstruction.CorrectableErrors(n, t);
            for (var errors = 0; errors <= f; errors++)
            {
                var positions = Enumerable.Range(0, n).OrderBy(_ => rng.NextInt()).Take(errors).ToArray();
                var received = Corrupt(g, shares, positions, rng);
                using var result = RobustReconstruction.Reconstruct(g, received, t, f);
                Assert.True(result.Succeeded, $"t={t} n={n} errors={errors}");
                Assert.Equal(secret, result.Value);
                Assert.Equal(positions.Select(p => p + 1).Order(), result.WrongShareIndices);

                // Any point, not only the secret: rebuild server 2's share.
                using var atTwo = RobustReconstruction.Reconstruct(g, received, t, f, g.FromUInt64(2));
                Assert.Equal(polynomial.Evaluate(g.FromUInt64(2)), atTwo.Value);

                // A smaller bound than the share count allows works too, as long as it holds.
                using var tight = RobustReconstruction.Reconstruct(g, received, t, errors);
                Assert.True(tight.Succeeded, $"t={t} n={n} f={errors}");
                Assert.Equal(secret, tight.Value);
                ShamirTests.DisposeAll(received);
            }

            polynomial.Dispose();
            ShamirTests.DisposeAll(shares);
        }
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void More_than_max_errors_random_wrong_shares_fail_cleanly(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(51);
        foreach (var (t, n) in new[] { (1, 4), (2, 7), (2, 8), (3, 10) })
        {
            var secret = g.RandomScalar(rng);
            var (shares, polynomial) = Shamir.Split(g, secret, t, n, rng);
            polynomial.Dispose();
            var f = RobustReconstruction.CorrectableErrors(n, t);
            var received = Corrupt(g, shares, Enumerable.Range(0, f + 1), rng);
            using var result = RobustReconstruction.Reconstruct(g, received, t, f);
            // With random errors no other degree-t polynomial lies within distance f of the received
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

    [Theory]
    [MemberData(nameof(Groups))]
    public void Coordinated_bad_shares_within_max_errors_never_change_the_result(string name)
    {
        // The strongest coordinated attack: the f bad shares all lie on one degree-t polynomial h that
        // also passes through t honest shares (h != f can share at most t points with f).
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(53);
        foreach (var (t, maxErrors, extra) in new[] { (1, 1, 0), (1, 2, 0), (1, 2, 1), (2, 1, 0), (2, 2, 0), (3, 2, 1) })
        {
            var n = t + 1 + (2 * maxErrors) + extra;
            var secret = g.RandomScalar(rng);
            var (shares, polynomial) = Shamir.Split(g, secret, t, n, rng);
            polynomial.Dispose();
            var bad = Enumerable.Range(n - maxErrors, maxErrors).ToArray();
            var received = CoordinatedCorruption(g, shares, honestOnTheLie: Enumerable.Range(0, t).ToArray(), bad, rng, out var lieSecret);
            Assert.NotEqual(secret, lieSecret);

            using var result = RobustReconstruction.Reconstruct(g, received, t, maxErrors);
            Assert.True(result.Succeeded, $"t={t} f={maxErrors} n={n}");
            Assert.Equal(secret, result.Value);
            Assert.Equal(bad.Select(p => p + 1), result.WrongShareIndices);

            ShamirTests.DisposeAll(received);
            ShamirTests.DisposeAll(shares);
        }
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Coordinated_bad_shares_beyond_max_errors_can_outvote_honest_ones_which_is_why_the_bound_is_explicit(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(54);
        var secret = g.RandomScalar(rng);
        var (shares, polynomial) = Shamir.Split(g, secret, 1, 6, rng);
        var commitment = polynomial.CommitFeldman();
        polynomial.Dispose();

        // t = 1: shares 3 and 4 are bad, on a line h through honest share 1; shares 1..4 are received.
        var corrupted = CoordinatedCorruption(g, shares, honestOnTheLie: [0], bad: [2, 3], rng, out var lieSecret);
        var four = corrupted.Take(4).ToArray();

        // A caller that claims f = 1 (all that four shares allow) while two are bad gets h: h is within
        // distance 1 of the received shares and nothing distinguishes it from the dealt line. This is
        // the documented limit, not a decoder bug: the result is trustworthy only when f holds.
        using (var fooled = RobustReconstruction.Reconstruct(g, four, 1, maxErrors: 1))
        {
            Assert.True(fooled.Succeeded);
            Assert.Equal(lieSecret, fooled.Value);
            Assert.Equal([2], fooled.WrongShareIndices); // an honest server, blamed
        }

        // The correct bound, f = 2, needs n' >= t + 1 + 2f = 6 shares: with four it is a caller error.
        Assert.Throws<ArgumentException>(() => RobustReconstruction.Reconstruct(g, four, 1, maxErrors: 2));

        // Five shares with f = 1 still understate the adversary, but no line is within distance 1 of
        // them now: a clean failure, never the lie.
        using (var failed = RobustReconstruction.Reconstruct(g, corrupted.Take(5).ToArray(), 1, maxErrors: 1))
        {
            Assert.False(failed.Succeeded);
            Assert.Empty(failed.WrongShareIndices);
        }

        // Six shares with the correct f = 2: the dealt secret, and exactly the two bad servers named.
        using (var correct = RobustReconstruction.Reconstruct(g, corrupted, 1, maxErrors: 2))
        {
            Assert.True(correct.Succeeded);
            Assert.Equal(secret, correct.Value);
            Assert.Equal([3, 4], correct.WrongShareIndices);
        }

        // With the commitments no bound is needed: even from the four shares, each bad one is proven bad.
        using (var checkedResult = RobustReconstruction.ReconstructWithCommitment(commitment, four, g.Zero))
        {
            Assert.True(checkedResult.Succeeded);
            Assert.Equal(secret, checkedResult.Value);
            Assert.Equal([3, 4], checkedResult.WrongShareIndices);
        }

        ShamirTests.DisposeAll(corrupted);
        ShamirTests.DisposeAll(shares);
    }

    [Fact]
    public void Max_errors_inconsistent_with_the_share_count_is_a_caller_error()
    {
        var g = PrimeOrderGroup.Ed25519;
        var shares = Enumerable.Range(1, 4).Select(i => new SecretShare(g, i, g.FromUInt64((ulong)i))).ToArray();

        // n' = 4, t = 1: f = 1 fits (4 >= 1 + 1 + 2), f = 2 does not (needs 6).
        using (var ok = RobustReconstruction.Reconstruct(g, shares, 1, 1))
        {
            Assert.True(ok.Succeeded);
        }

        Assert.Throws<ArgumentException>(() => RobustReconstruction.Reconstruct(g, shares, 1, 2));
        Assert.Throws<ArgumentException>(() => RobustReconstruction.Reconstruct(g, shares, 2, 1, g.One));
        Assert.Throws<ArgumentException>(() => RobustReconstruction.Reconstruct(g, shares[..2], 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => RobustReconstruction.Reconstruct(g, shares, 1, -1));
        ShamirTests.DisposeAll(shares);
    }

    /// <summary>
    /// Copies the shares, then moves those at <paramref name="bad"/> onto one random degree-t polynomial
    /// h that agrees with the honest shares at <paramref name="honestOnTheLie"/> (t of them: as many as
    /// a different polynomial can share). Returns h(0) too.
    /// </summary>
    private static SecretShare[] CoordinatedCorruption(
        PrimeOrderGroup g, SecretShare[] shares, int[] honestOnTheLie, int[] bad, IRandomSource rng, out Scalar lieSecret)
    {
        // h is fixed by t + 1 points: the t honest shares it keeps and one random point at x = 0.
        lieSecret = g.RandomScalar(rng);
        var anchor = new SecretShare[honestOnTheLie.Length];
        for (var k = 0; k < anchor.Length; k++)
        {
            anchor[k] = new SecretShare(g, shares[honestOnTheLie[k]].Index, shares[honestOnTheLie[k]].Value);
        }

        var xs = anchor.Select(s => s.X).Append(g.Zero).ToArray();
        var copy = shares.Select(s => new SecretShare(g, s.Index, s.Value)).ToArray();
        foreach (var p in bad)
        {
            // h(x_p) = sum_k lambda_k(x_p) h(x_k) over the anchors and (0, lieSecret).
            var lambdas = Lagrange.Coefficients(g, xs, shares[p].X);
            var value = g.Multiply(lambdas[^1], lieSecret);
            for (var k = 0; k < anchor.Length; k++)
            {
                value = g.Add(value, g.Multiply(lambdas[k], anchor[k].Value));
            }

            copy[p].Dispose();
            copy[p] = new SecretShare(g, shares[p].Index, value);
        }

        ShamirTests.DisposeAll(anchor);
        return copy;
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
