using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Crypto.Tests.Groups;

namespace Proactive.Crypto.Tests.Sharing;

public class FeldmanBatchVerifierTests
{
    public static TheoryData<string> Groups => GroupContractTests.Groups;

    private static (Scalar[] Shares, FeldmanCommitment[] Commitments) Dealings(
        PrimeOrderGroup g, int count, int index, IRandomSource rng)
    {
        var shares = new Scalar[count];
        var commitments = new FeldmanCommitment[count];
        for (var k = 0; k < count; k++)
        {
            // Mix refresh dealings (C_0 = identity) with ordinary ones.
            using var p = Polynomial.Random(g, 2, k % 3 == 0 ? g.RandomScalar(rng) : g.Zero, rng);
            commitments[k] = FeldmanCommitment.Commit(p);
            shares[k] = p.Evaluate(g.FromUInt64((ulong)index));
        }

        return (shares, commitments);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void A_batch_of_200_good_shares_is_accepted(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(40);
        var (shares, commitments) = Dealings(g, 200, 4, rng);
        Assert.True(FeldmanBatchVerifier.VerifyAll(4, shares, commitments, rng));
        var result = FeldmanBatchVerifier.Verify(4, shares, commitments, rng);
        Assert.True(result.AllValid);
        Assert.Empty(result.InvalidPositions);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Exactly_the_three_corrupted_shares_among_200_are_named(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(41);
        var (shares, commitments) = Dealings(g, 200, 3, rng);
        int[] corrupted = [7, 100, 199];
        shares[7] = g.Add(shares[7], g.One);
        shares[100] = g.RandomScalar(rng);
        commitments[199] = commitments[198]; // right share, wrong commitment
        Assert.False(FeldmanBatchVerifier.VerifyAll(3, shares, commitments, rng));
        var result = FeldmanBatchVerifier.Verify(3, shares, commitments, rng);
        Assert.False(result.AllValid);
        Assert.Equal(corrupted, result.InvalidPositions);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Shares_checked_at_the_wrong_server_index_are_all_named(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(42);
        var (shares, commitments) = Dealings(g, 6, 2, rng);
        Assert.Equal([0, 1, 2, 3, 4, 5], FeldmanBatchVerifier.Verify(5, shares, commitments, rng).InvalidPositions);
    }

    [Fact]
    public void Mismatched_counts_and_an_empty_batch_are_handled()
    {
        var g = PrimeOrderGroup.Ristretto255;
        var rng = new DeterministicRandomSource(43);
        var (shares, commitments) = Dealings(g, 3, 1, rng);
        Assert.Throws<ArgumentException>(() => FeldmanBatchVerifier.Verify(1, shares.AsSpan(0, 2), commitments, rng));
        Assert.Throws<ArgumentOutOfRangeException>(() => FeldmanBatchVerifier.Verify(0, shares, commitments, rng));
        Assert.True(FeldmanBatchVerifier.Verify(1, [], [], rng).AllValid);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Combined_share_check_accepts_honest_refresh_dealings_and_rejects_one_wrong_sub_share(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(44);
        const int secrets = 20, server = 3;
        var dealings = new Polynomial[secrets];
        var subShares = new Scalar[secrets];
        for (var k = 0; k < secrets; k++)
        {
            dealings[k] = Polynomial.Random(g, 2, g.Zero, rng);
            subShares[k] = dealings[k].Evaluate(g.FromUInt64(server));
        }

        var rho = g.RandomNonzeroScalar(rng);
        using (var combined = CombinedShareCheck.CombinePolynomials(rho, dealings))
        {
            var commitment = FeldmanCommitment.Commit(combined);
            Assert.True(CombinedShareCheck.Verify(commitment, server, rho, subShares));
            subShares[11] = g.Add(subShares[11], g.One);
            Assert.False(CombinedShareCheck.Verify(commitment, server, rho, subShares));
        }

        // A dealer that moves a secret (nonzero constant term) is caught even with consistent shares.
        using var moving = Polynomial.Random(g, 2, g.One, rng);
        var movingCommitment = FeldmanCommitment.Commit(moving);
        Assert.False(CombinedShareCheck.Verify(movingCommitment, server, rho, [moving.Evaluate(g.FromUInt64(server))]));
        Assert.Throws<ArgumentException>(() => CombinedShareCheck.Combine(g, g.Zero, subShares));
        ShamirTests.DisposeAll(dealings);
    }
}
