using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using static Proactive.Crypto.Tests.Codec.CodecTestData;
using static Proactive.Crypto.Tests.TestVectors;

namespace Proactive.Crypto.Tests.Sharing;

/// <summary>
/// The wire format of <see cref="FeldmanCommitment"/> (moved here from the former Codec/CommitmentVector
/// tests; the format and the pinned bytes are unchanged). Pinned bytes change only with a new format
/// version; untrusted bytes are refused with a reason and an offset, never an exception.
/// </summary>
public class FeldmanCommitmentCodecTests
{
    public static TheoryData<string> Suites => Codec.CodecTestData.Suites;

    [Theory]
    [InlineData(
        "Ed25519",
        "0101" + "00" + "00000003"
        + "5866666666666666666666666666666666666666666666666666666666666666"
        + "c9a3f86aae465f0e56513864510f3997561fa2c9e85ea21dc2292309f3cd6022"
        + "d4b4f5784868c3020403246717ec169ff79e26608ea126a1ab69ee77d1b16712")]
    [InlineData(
        "ristretto255",
        "0102" + "00" + "00000003"
        + "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"
        + "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919"
        + "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259")]
    [InlineData(
        "P-256",
        "0103" + "00" + "00000003"
        + "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
        + "037cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978"
        + "025ecbe4d1a6330a44c8f7ef951d4bf165e6c6b721efada985fb41661bc6e7fd6c")]
    public void Feldman_commitment_to_G_2G_3G_has_pinned_bytes(string suite, string expected)
    {
        var g = Group(suite);
        var commitment = Vector(g);
        Assert.Equal(expected, Convert.ToHexStringLower(commitment.Encode()));
        Assert.True(FeldmanCommitment.TryDecode(Hex(expected), g, out var decoded, out CodecError error), error.ToString());
        Assert.Equal(commitment, decoded);
    }

    [Theory]
    [InlineData(
        "Ed25519",
        "0101" + "01" + "00000002"
        + "0100000000000000000000000000000000000000000000000000000000000000"
        + "5866666666666666666666666666666666666666666666666666666666666666")]
    [InlineData(
        "ristretto255",
        "0102" + "01" + "00000002"
        + "0000000000000000000000000000000000000000000000000000000000000000"
        + "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")]
    [InlineData(
        "P-256",
        "0103" + "01" + "00000002"
        + "000000000000000000000000000000000000000000000000000000000000000000"
        + "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")]
    public void Zero_constant_feldman_commitment_has_pinned_bytes(string suite, string expected)
    {
        var g = Group(suite);
        var commitment = ZeroConstantVector(g);
        Assert.Equal(expected, Convert.ToHexStringLower(commitment.Encode()));
        Assert.True(FeldmanCommitment.TryDecode(Hex(expected), g, out var decoded, out CodecError error), error.ToString());
        Assert.Equal(commitment, decoded);
        Assert.True(decoded.HasZeroConstantTerm);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void A_dealt_commitment_round_trips_and_still_checks_the_shares(string suite)
    {
        var g = Group(suite);
        var rng = new DeterministicRandomSource(60);
        var (shares, polynomial) = Shamir.Split(g, g.RandomScalar(rng), 3, 5, rng);
        using var refresh = Polynomial.Random(g, 3, g.Zero, rng);
        var commitment = polynomial.CommitFeldman();
        var refreshCommitment = refresh.CommitFeldman();
        polynomial.Dispose();

        Assert.True(FeldmanCommitment.TryDecode(commitment.Encode(), g, out var decoded, out CodecError error), error.ToString());
        Assert.Equal(commitment, decoded);
        Assert.All(shares, share => Assert.True(decoded.VerifyShare(share)));

        Assert.True(refreshCommitment.HasZeroConstantTerm);
        Assert.True(FeldmanCommitment.TryDecode(refreshCommitment.Encode(), g, out decoded, out error), error.ToString());
        Assert.Equal(refreshCommitment, decoded);
        ShamirTests.DisposeAll(shares);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Every_proper_prefix_of_a_feldman_commitment_is_truncated(string suite)
    {
        var g = Group(suite);
        foreach (var commitment in new[] { Vector(g), ZeroConstantVector(g) })
        {
            var bytes = commitment.Encode();
            for (var n = 0; n < bytes.Length; n++)
            {
                Assert.False(FeldmanCommitment.TryDecode(bytes.AsSpan(0, n), g, out _, out CodecError error), $"prefix {n}");
                Assert.True(error == CodecError.Truncated, $"prefix {n}: {error}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Trailing_bytes_after_a_feldman_commitment_are_rejected_at_the_end_offset(string suite)
    {
        var g = Group(suite);
        var bytes = Vector(g).Encode();
        byte[] longer = [.. bytes, 0];
        Assert.False(FeldmanCommitment.TryDecode(longer, g, out _, out CodecFailure failure));
        Assert.Equal(new CodecFailure(CodecError.TrailingBytes, bytes.Length, null), failure);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Feldman_commitment_count_over_the_maximum_or_zero_is_rejected(string suite)
    {
        var g = Group(suite);
        var header = $"01{(byte)g.Id:x2}00";
        Assert.False(FeldmanCommitment.TryDecode(Hex(header + "00000401"), g, out _, out CodecFailure failure));
        Assert.Equal(new CodecFailure(CodecError.TooLong, 3, "count"), failure);
        Assert.False(FeldmanCommitment.TryDecode(Hex(header + "ffffffff"), g, out _, out failure));
        Assert.Equal(CodecError.TooLong, failure.Error);
        Assert.False(FeldmanCommitment.TryDecode(Hex(header + "00000000"), g, out _, out failure));
        Assert.Equal(new CodecFailure(CodecError.InvalidValue, 3, "count"), failure);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Identity_at_C0_is_accepted_exactly_when_the_zero_constant_flag_is_set(string suite)
    {
        var g = Group(suite);
        var identity = Convert.ToHexStringLower(g.EncodeElement(g.Identity, allowIdentity: true));
        var gHex = Convert.ToHexStringLower(g.EncodeElement(g.Generator));
        var header = $"01{(byte)g.Id:x2}";

        // Identity at C_0 without the flag.
        Assert.False(FeldmanCommitment.TryDecode(Hex(header + "00" + "00000002" + identity + gHex), g, out _, out CodecFailure failure));
        Assert.Equal(new CodecFailure(CodecError.InvalidElement, 7, "commitment"), failure);

        // The flag claims a zero constant term but C_0 is not the identity.
        Assert.False(FeldmanCommitment.TryDecode(Hex(header + "01" + "00000002" + gHex + gHex), g, out _, out failure));
        Assert.Equal(new CodecFailure(CodecError.InvalidValue, 7, "commitment"), failure);

        // Flag and identity agree.
        Assert.True(FeldmanCommitment.TryDecode(Hex(header + "01" + "00000002" + identity + gHex), g, out var decoded, out failure), failure.ToString());
        Assert.True(decoded.HasZeroConstantTerm);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Identity_at_C1_and_above_is_accepted_and_re_encodes_to_the_same_bytes(string suite)
    {
        // A zero coefficient, or a sum of commitments whose coefficients cancel, gives the identity there.
        var g = Group(suite);
        var identity = Convert.ToHexStringLower(g.EncodeElement(g.Identity, allowIdentity: true));
        var gHex = Convert.ToHexStringLower(g.EncodeElement(g.Generator));
        var header = $"01{(byte)g.Id:x2}";
        foreach (var hex in new[]
        {
            header + "00" + "00000002" + gHex + identity,
            header + "01" + "00000002" + identity + identity,
            header + "00" + "00000003" + gHex + identity + gHex,
        })
        {
            Assert.True(FeldmanCommitment.TryDecode(Hex(hex), g, out var decoded, out CodecFailure failure), failure.ToString());
            Assert.True(g.IsIdentity(decoded.Coefficient(1)));
            Assert.Equal(hex, Convert.ToHexStringLower(decoded.Encode()));
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Sums_and_zero_coefficients_that_produce_the_identity_can_be_encoded(string suite)
    {
        var g = Group(suite);
        var rng = new DeterministicRandomSource(61);
        var a = g.RandomNonzeroScalar(rng);
        var b = g.RandomNonzeroScalar(rng);

        // f = 0 + a x, g = 0 - a x + b x^2: both refresh dealings; f + g = b x^2 has C_1 = identity.
        using var f = Polynomial.FromCoefficients(g, [g.Zero, a]);
        using var h = Polynomial.FromCoefficients(g, [g.Zero, g.Negate(a), b]);
        var sum = f.CommitFeldman().Add(h.CommitFeldman());
        Assert.True(sum.HasZeroConstantTerm);
        Assert.True(g.IsIdentity(sum.Coefficient(1)));
        Assert.True(FeldmanCommitment.TryDecode(sum.Encode(), g, out var decoded, out CodecError error), error.ToString());
        Assert.Equal(sum, decoded);

        // A secret polynomial with a zero middle coefficient commits to the identity there too.
        using var sparse = Polynomial.FromCoefficients(g, [a, g.Zero, b]);
        var sparseCommitment = sparse.CommitFeldman();
        Assert.False(sparseCommitment.HasZeroConstantTerm);
        Assert.True(FeldmanCommitment.TryDecode(sparseCommitment.Encode(), g, out decoded, out error), error.ToString());
        Assert.True(decoded.VerifyEvaluation(g.FromUInt64(3), sparse.Evaluate(g.FromUInt64(3))));
    }

    [Fact]
    public void Ed25519_small_order_point_in_a_feldman_commitment_is_invalid_even_where_identity_is_allowed()
    {
        var g = PrimeOrderGroup.Ed25519;
        const string order8 = "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a";
        Assert.False(FeldmanCommitment.TryDecode(Hex("0101" + "01" + "00000001" + order8), g, out _, out CodecFailure failure));
        Assert.Equal(new CodecFailure(CodecError.InvalidElement, 7, "commitment"), failure);

        var gHex = Convert.ToHexStringLower(g.EncodeElement(g.Generator));
        Assert.False(FeldmanCommitment.TryDecode(Hex("0101" + "00" + "00000002" + gHex + order8), g, out _, out failure));
        Assert.Equal(new CodecFailure(CodecError.InvalidElement, 7 + g.ElementLength, "commitment"), failure);
    }

    [Theory]
    [InlineData((byte)0)]
    [InlineData((byte)2)]
    [InlineData((byte)0xff)]
    public void Wrong_version_is_rejected(byte version)
    {
        var bytes = Vector(PrimeOrderGroup.Ed25519).Encode();
        bytes[0] = version;
        Assert.False(FeldmanCommitment.TryDecode(bytes, null, out _, out CodecFailure failure));
        Assert.Equal(new CodecFailure(CodecError.WrongVersion, 0, "version"), failure);
    }

    [Fact]
    public void Wrong_suite_is_rejected()
    {
        var bytes = Vector(PrimeOrderGroup.Ed25519).Encode();
        Assert.False(FeldmanCommitment.TryDecode(bytes, PrimeOrderGroup.Ristretto255, out _, out CodecFailure failure));
        Assert.Equal(new CodecFailure(CodecError.WrongSuite, 1, "suite"), failure);
        Assert.False(FeldmanCommitment.TryDecode(bytes, PrimeOrderGroup.P256, out _, out CodecError error));
        Assert.Equal(CodecError.WrongSuite, error);
    }

    [Theory]
    [InlineData((byte)0)]
    [InlineData((byte)4)]
    [InlineData((byte)0xff)]
    public void Unknown_suite_is_rejected_even_when_any_suite_is_accepted(byte suite)
    {
        var bytes = Vector(PrimeOrderGroup.Ed25519).Encode();
        bytes[1] = suite;
        Assert.False(FeldmanCommitment.TryDecode(bytes, null, out _, out CodecFailure failure));
        Assert.Equal(new CodecFailure(CodecError.UnknownSuite, 1, "suite"), failure);
    }

    [Fact]
    public void Ristretto_encoding_is_rejected_when_read_as_Ed25519_even_with_bytes_that_decode()
    {
        // Same element length, so only the suite byte keeps one suite's bytes from another's.
        var bytes = Vector(PrimeOrderGroup.Ristretto255).Encode();
        bytes[1] = (byte)GroupId.Ed25519;
        Assert.False(FeldmanCommitment.TryDecode(bytes, null, out _, out CodecError error));
        Assert.Equal(CodecError.InvalidElement, error);
    }

    [Theory]
    [InlineData((byte)2)]
    [InlineData((byte)0x80)]
    [InlineData((byte)0xff)]
    public void Zero_constant_flag_other_than_zero_or_one_is_non_canonical(byte value)
    {
        var bytes = Vector(PrimeOrderGroup.P256).Encode();
        bytes[2] = value;
        Assert.False(FeldmanCommitment.TryDecode(bytes, null, out _, out CodecFailure failure));
        Assert.Equal(new CodecFailure(CodecError.NonCanonical, 2, "constantTermIsZero"), failure);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Constructor_refuses_what_could_not_be_decoded(string suite)
    {
        var g = Group(suite);
        Assert.Throws<ArgumentException>(() => new FeldmanCommitment(g, []));
        Assert.Throws<ArgumentException>(() => new FeldmanCommitment(g, new Element[FeldmanCommitment.MaxCount + 1]));
        Assert.Throws<ArgumentException>(() => new FeldmanCommitment(g, [g.Identity, g.Generator]));
        Assert.Throws<ArgumentException>(() => new FeldmanCommitment(g, [g.Generator], hasZeroConstantTerm: true));

        // Allowed: the identity above C_0, and C_0 the identity when flagged.
        Assert.Equal(1, new FeldmanCommitment(g, [g.Generator, g.Identity]).Degree);
        Assert.True(new FeldmanCommitment(g, [g.Identity, g.Identity], hasZeroConstantTerm: true).HasZeroConstantTerm);
    }

    [Fact]
    public void A_polynomial_above_the_maximum_degree_cannot_be_committed()
    {
        var g = PrimeOrderGroup.Ristretto255;
        using var p = Polynomial.Random(g, FeldmanCommitment.MaxCount, g.One, new DeterministicRandomSource(62));
        Assert.Throws<InvalidOperationException>(() => p.CommitFeldman());
    }
}
