using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Crypto.Tests.Groups;

namespace Proactive.Crypto.Tests.Sharing;

public class PedersenTests
{
    public static TheoryData<string> Groups => GroupContractTests.Groups;

    [Theory]
    [MemberData(nameof(Groups))]
    public void Second_generator_is_fixed_and_independent_of_G(string name)
    {
        var g = GroupContractTests.ByName(name);

        var h = PedersenGenerators.H(g);
        Assert.Equal(h, PedersenGenerators.H(g));
        Assert.NotEqual(g.Generator, h);
        Assert.False(g.IsIdentity(h));
        Assert.Equal("proactive-pedersen-H-v1-" + g.Name, PedersenGenerators.DomainSeparationTag(g));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Correct_pedersen_shares_verify_and_altered_ones_do_not(string name)
    {
        var g = GroupContractTests.ByName(name);

        var rng = new DeterministicRandomSource(30);
        var secret = g.RandomScalar(rng);
        using var dealing = PedersenPolynomial.Random(g, 2, secret, rng);
        var commitment = dealing.Commit();
        Assert.Equal(2, commitment.Degree);
        Assert.NotEqual(g.MultiplyBase(secret), commitment.Coefficients[0]); // hiding: not Feldman's C_0
        for (var i = 1; i <= 5; i++)
        {
            using var share = dealing.ShareFor(i);
            Assert.True(commitment.VerifyShare(share));
            Assert.False(commitment.VerifyShare(i, g.Add(share.Value, g.One), share.Blinding));
            Assert.False(commitment.VerifyShare(i, share.Value, g.Add(share.Blinding, g.One)));
            Assert.False(commitment.VerifyShare(i + 1, share.Value, share.Blinding));
        }

        using var other = PedersenPolynomial.Random(g, 2, secret, rng);
        using var otherShare = other.ShareFor(1);
        Assert.False(commitment.VerifyShare(otherShare));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Adding_pedersen_commitments_matches_adding_shares(string name)
    {
        var g = GroupContractTests.ByName(name);

        var rng = new DeterministicRandomSource(31);
        using var a = PedersenPolynomial.Random(g, 1, g.RandomScalar(rng), rng);
        using var b = PedersenPolynomial.Random(g, 1, g.Zero, rng);
        var sum = a.Commit().Add(b.Commit());
        using var sa = a.ShareFor(3);
        using var sb = b.ShareFor(3);
        Assert.True(sum.VerifyShare(3, g.Add(sa.Value, sb.Value), g.Add(sa.Blinding, sb.Blinding)));
    }
}
