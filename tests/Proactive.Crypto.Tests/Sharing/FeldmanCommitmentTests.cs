using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Crypto.Tests.Groups;

namespace Proactive.Crypto.Tests.Sharing;

public class FeldmanCommitmentTests
{
    public static TheoryData<string> Groups => GroupContractTests.Groups;

    [Theory]
    [MemberData(nameof(Groups))]
    public void Correct_shares_verify_and_their_public_shares_match(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(20);
        var secret = g.RandomScalar(rng);
        var (shares, polynomial) = Shamir.Split(g, secret, 2, 5, rng);
        var commitment = FeldmanCommitment.Commit(polynomial);
        polynomial.Dispose();
        Assert.Equal(2, commitment.Degree);
        Assert.Equal(g.MultiplyBase(secret), commitment.ConstantTerm);
        Assert.False(commitment.HasZeroConstantTerm);
        foreach (var share in shares)
        {
            Assert.True(commitment.VerifyShare(share));
            Assert.True(commitment.VerifyShare(share.Index, share.Value));
            Assert.Equal(g.MultiplyBase(share.Value), commitment.PublicShare(share.Index));
        }

        ShamirTests.DisposeAll(shares);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void A_share_off_by_one_at_a_wrong_index_or_under_a_wrong_commitment_is_rejected(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(21);
        using var p = Polynomial.Random(g, 2, g.RandomScalar(rng), rng);
        using var other = Polynomial.Random(g, 2, g.RandomScalar(rng), rng);
        var commitment = FeldmanCommitment.Commit(p);
        var otherCommitment = FeldmanCommitment.Commit(other);
        var s3 = p.Evaluate(g.FromUInt64(3));
        Assert.True(commitment.VerifyShare(3, s3));
        Assert.False(commitment.VerifyShare(3, g.Add(s3, g.One)));
        Assert.False(commitment.VerifyShare(4, s3));
        Assert.False(otherCommitment.VerifyShare(3, s3));
        Assert.Throws<ArgumentOutOfRangeException>(() => commitment.VerifyShare(0, s3));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void A_zero_constant_term_is_detected(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(22);
        using var refresh = Polynomial.Random(g, 3, g.Zero, rng);
        var commitment = FeldmanCommitment.Commit(refresh);
        Assert.True(commitment.HasZeroConstantTerm);
        Assert.True(g.IsIdentity(commitment.ConstantTerm));
        Assert.True(commitment.VerifyShare(2, refresh.Evaluate(g.FromUInt64(2))));
        Assert.True(commitment.VerifyEvaluation(g.Zero, g.Zero));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Adding_commitments_matches_adding_shares(string name)
    {
        var g = GroupContractTests.ByName(name);
        var rng = new DeterministicRandomSource(23);
        var secret = g.RandomScalar(rng);
        using var original = Polynomial.Random(g, 2, secret, rng);
        using var refreshA = Polynomial.Random(g, 2, g.Zero, rng);
        using var refreshB = Polynomial.Random(g, 2, g.Zero, rng);
        var oldCommitment = FeldmanCommitment.Commit(original);
        var dealings = new[] { FeldmanCommitment.Commit(refreshA), FeldmanCommitment.Commit(refreshB) };
        var newCommitment = oldCommitment.Add(FeldmanCommitment.Sum(dealings));
        Assert.Equal(FeldmanCommitment.Sum([oldCommitment, dealings[0], dealings[1]]).ConstantTerm, newCommitment.ConstantTerm);
        Assert.Equal(oldCommitment.ConstantTerm, newCommitment.ConstantTerm); // the public key is unchanged
        for (var i = 1; i <= 4; i++)
        {
            var x = g.FromUInt64((ulong)i);
            var newShare = g.Add(original.Evaluate(x), g.Add(refreshA.Evaluate(x), refreshB.Evaluate(x)));
            Assert.True(newCommitment.VerifyShare(i, newShare));
            Assert.False(oldCommitment.VerifyShare(i, newShare));
        }

        var w = new[] { g.FromUInt64(3), g.FromUInt64(7) };
        var combined = FeldmanCommitment.Combine(w, dealings);
        var combinedShare = g.Add(
            g.Multiply(w[0], refreshA.Evaluate(g.FromUInt64(5))), g.Multiply(w[1], refreshB.Evaluate(g.FromUInt64(5))));
        Assert.True(combined.VerifyShare(5, combinedShare));
        Assert.True(combined.HasZeroConstantTerm);
    }

    [Fact]
    public void Commitments_of_different_groups_do_not_mix()
    {
        var rng = new DeterministicRandomSource(24);
        using var a = Polynomial.Random(PrimeOrderGroup.Ed25519, 1, PrimeOrderGroup.Ed25519.One, rng);
        using var b = Polynomial.Random(PrimeOrderGroup.Ristretto255, 1, PrimeOrderGroup.Ristretto255.One, rng);
        Assert.Throws<ArgumentException>(() => FeldmanCommitment.Commit(a).Add(FeldmanCommitment.Commit(b)));
    }
}
