using Proactive.Crypto.Groups;
using Proactive.Crypto.Interop;
using Proactive.Crypto.Random;

namespace Proactive.Crypto.Tests.Groups;

/// <summary>The contract every prime-order group keeps, run against all three.</summary>
public class GroupContractTests
{
    public static TheoryData<string> Groups => new() { "Ed25519", "ristretto255", "P-256" };

    internal static PrimeOrderGroup ByName(string name) => name switch
    {
        "Ed25519" => PrimeOrderGroup.Ed25519,
        "ristretto255" => PrimeOrderGroup.Ristretto255,
        "P-256" => PrimeOrderGroup.P256,
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Groups))]
    public void Scalar_field_arithmetic_is_consistent(string name)
    {
        var g = ByName(name);
        var rng = new DeterministicRandomSource(1);
        for (var i = 0; i < 20; i++)
        {
            var a = g.RandomScalar(rng);
            var b = g.RandomNonzeroScalar(rng);
            Assert.Equal(a, g.Subtract(g.Add(a, b), b));
            Assert.Equal(a, g.Multiply(g.Multiply(a, b), g.Invert(b)));
            Assert.Equal(g.Zero, g.Add(a, g.Negate(a)));
            Assert.Equal(g.FromUInt64(12), g.Multiply(g.FromUInt64(3), g.FromUInt64(4)));
        }
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Element_arithmetic_matches_scalar_arithmetic(string name)
    {
        var g = ByName(name);
        var rng = new DeterministicRandomSource(2);
        var a = g.RandomNonzeroScalar(rng);
        var b = g.RandomNonzeroScalar(rng);
        var aG = g.MultiplyBase(a);
        var bG = g.MultiplyBase(b);
        Assert.Equal(g.MultiplyBase(g.Add(a, b)), g.Add(aG, bG));
        Assert.Equal(g.MultiplyBase(g.Subtract(a, b)), g.Subtract(aG, bG));
        Assert.Equal(g.MultiplyBase(g.Multiply(a, b)), g.Multiply(aG, b));
        Assert.Equal(g.Generator, g.MultiplyBase(g.One));
        Assert.True(g.IsIdentity(g.MultiplyBase(g.Zero)));
        Assert.True(g.IsIdentity(g.Multiply(aG, g.Zero)));
        Assert.True(g.IsIdentity(g.Subtract(aG, aG)));
        Assert.Equal(aG, g.Add(aG, g.Identity));
        Assert.Equal(aG, g.Add(g.Identity, aG));
        Assert.True(g.IsIdentity(g.Add(aG, g.Negate(aG))));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Default_element_is_the_identity(string name)
    {
        var g = ByName(name);
        Element unset = default;
        Assert.True(g.IsIdentity(unset));
        Assert.Equal(g.Identity, unset);
        Assert.Equal(g.Generator, g.Add(unset, g.Generator));
        Assert.Equal(g.Generator, g.Subtract(g.Generator, unset));
        Assert.Equal(g.Negate(g.Generator), g.Subtract(unset, g.Generator));
        Assert.True(g.IsIdentity(g.Multiply(unset, g.One)));
        Assert.Equal(g.EncodeElement(g.Identity, allowIdentity: true), g.EncodeElement(unset, allowIdentity: true));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Multi_scalar_multiplication_equals_the_sum_of_products(string name)
    {
        var g = ByName(name);
        var rng = new DeterministicRandomSource(3);
        foreach (var count in new[] { 1, 2, 5, 60, 130 })
        {
            var scalars = new Scalar[count];
            var points = new Element[count];
            var expected = g.Identity;
            var baseScalar = g.RandomScalar(rng);
            for (var i = 0; i < count; i++)
            {
                // Include zero scalars, the identity and short scalars, which the bucket method special-cases.
                scalars[i] = i % 7 == 3 ? g.Zero : i % 5 == 1 ? g.FromUInt64((ulong)i * 977) : g.RandomScalar(rng);
                points[i] = i % 11 == 4 ? g.Identity : g.MultiplyBase(g.RandomNonzeroScalar(rng));
                expected = g.Add(expected, g.Multiply(points[i], scalars[i]));
            }

            Assert.Equal(expected, g.MultiplyMany(scalars, points));
            Assert.Equal(g.Add(expected, g.MultiplyBase(baseScalar)), g.MultiplyBaseAndMany(baseScalar, scalars, points));
        }
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Encodings_round_trip_and_identity_needs_permission(string name)
    {
        var g = ByName(name);
        var rng = new DeterministicRandomSource(4);
        var s = g.RandomScalar(rng);
        Assert.True(g.TryDecodeScalar(g.EncodeScalar(s), out var s2));
        Assert.Equal(s, s2);

        var e = g.MultiplyBase(g.RandomNonzeroScalar(rng));
        var encoded = g.EncodeElement(e);
        Assert.Equal(g.ElementLength, encoded.Length);
        Assert.True(g.TryDecodeElement(encoded, out var e2));
        Assert.Equal(e, e2);

        Assert.Throws<ArgumentException>(() => g.EncodeElement(g.Identity));
        var identity = g.EncodeElement(g.Identity, allowIdentity: true);
        Assert.False(g.TryDecodeElement(identity, out _));
        Assert.True(g.TryDecodeElement(identity, out var id, allowIdentity: true));
        Assert.True(g.IsIdentity(id));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Decoders_reject_wrong_lengths_without_throwing(string name)
    {
        var g = ByName(name);
        var good = g.EncodeElement(g.Generator);
        Assert.False(g.TryDecodeElement(good.AsSpan(0, good.Length - 1), out _));
        Assert.False(g.TryDecodeElement([.. good, 0], out _));
        Assert.False(g.TryDecodeElement([], out _));
        Assert.False(g.TryDecodeScalar(new byte[g.ScalarLength - 1], out _));
        Assert.False(g.TryDecodeScalar(new byte[g.ScalarLength + 1], out _));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Scalar_decoder_rejects_the_order_and_above(string name)
    {
        var g = ByName(name);
        // q - 1 is canonical; q and 2^256 - 1 are not.
        var qMinusOne = g.EncodeScalar(g.Negate(g.One));
        Assert.True(g.TryDecodeScalar(qMinusOne, out _));
        var q = (byte[])qMinusOne.Clone();
        var lsb = g.Id == GroupId.P256 ? q.Length - 1 : 0;
        q[lsb]++; // q - 1 ends in ...0 / ...0x50 etc, so no carry
        Assert.False(g.TryDecodeScalar(q, out _));
        Assert.False(g.TryDecodeScalar(Enumerable.Repeat((byte)0xff, g.ScalarLength).ToArray(), out _));
    }

    [Fact]
    public void Ed25519_decoder_rejects_small_order_and_non_canonical_points()
    {
        var g = PrimeOrderGroup.Ed25519;
        string[] rejected =
        [
            "0000000000000000000000000000000000000000000000000000000000000000", // order 4
            "0000000000000000000000000000000000000000000000000000000000000080", // order 4, sign bit set
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p + 1: non-canonical
            "0100000000000000000000000000000000000000000000000000000000000080", // identity with sign bit: non-canonical
        ];
        foreach (var hex in rejected)
        {
            Assert.False(g.TryDecodeElement(Convert.FromHexString(hex), out _, allowIdentity: true), hex);
        }

        // The generator plus a point of order 8 is on the curve but outside the prime-order subgroup.
        var torsion = Convert.FromHexString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a");
        var mixed = new byte[32];
        unsafe
        {
            fixed (byte* r = mixed, a = g.EncodeElement(g.Generator), b = torsion)
            {
                Assert.Equal(0, Libsodium.crypto_core_ed25519_add(r, a, b));
            }
        }

        Assert.False(g.TryDecodeElement(mixed, out _));
    }

    [Fact]
    public void Ristretto255_decoder_rejects_non_canonical_encodings()
    {
        var g = PrimeOrderGroup.Ristretto255;
        string[] rejected =
        [
            "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // RFC 9496 A.2: non-canonical field element
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "0100000000000000000000000000000000000000000000000000000000000000", // negative field element
            "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371", // RFC 9496 A.2: non-square x^2
        ];
        foreach (var hex in rejected)
        {
            Assert.False(g.TryDecodeElement(Convert.FromHexString(hex), out _, allowIdentity: true), hex);
        }
    }

    [Fact]
    public void P256_decoder_rejects_points_off_the_curve_and_bad_prefixes()
    {
        var g = PrimeOrderGroup.P256;
        var good = g.EncodeElement(g.Generator);
        var uncompressedPrefix = (byte[])good.Clone();
        uncompressedPrefix[0] = 0x04;
        Assert.False(g.TryDecodeElement(uncompressedPrefix, out _));
        var badPrefix = (byte[])good.Clone();
        badPrefix[0] = 0x05;
        Assert.False(g.TryDecodeElement(badPrefix, out _));
        // x = p (non-canonical) and x = 5, which has no y on P-256 (5^3 - 15 + b is a non-residue).
        var xIsP = Convert.FromHexString("02ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
        Assert.False(g.TryDecodeElement(xIsP, out _));
        var found = 0;
        for (byte x = 1; x < 40; x++)
        {
            var candidate = new byte[33];
            candidate[0] = 0x02;
            candidate[32] = x;
            if (!g.TryDecodeElement(candidate, out _))
            {
                found++;
            }
        }

        Assert.InRange(found, 5, 35); // about half of all x have no point
    }

    [Theory]
    [InlineData("Ed25519")]
    [InlineData("ristretto255")]
    public void Hash_to_element_is_deterministic_and_domain_separated(string name)
    {
        var g = ByName(name);
        var a = g.HashToElement("message"u8, "DST-A"u8);
        Assert.Equal(a, g.HashToElement("message"u8, "DST-A"u8));
        Assert.NotEqual(a, g.HashToElement("message"u8, "DST-B"u8));
        Assert.NotEqual(a, g.HashToElement("messagf"u8, "DST-A"u8));
        Assert.True(g.TryDecodeElement(g.EncodeElement(a), out _));
    }

    [Fact]
    public void Ristretto255_hash_to_element_matches_RFC_9380_appendix_B()
    {
        // RFC 9380 does not give ristretto255 vectors; RFC 9496 A.3 gives the one-way map on 64 bytes.
        var uniform = Convert.FromHexString(
            "5d1be09e3d0c82fc538112490e35701979d99e06ca3e2b5b54bffe8b4dc772c1" +
            "4d98b696a1bbfb5ca32c436cc61c16563790306c79eaca7705668b47dffe5bb6");
        var expected = "3066f82a1a747d45120d1740f14358531a8f04bbffe6a819f86dfe50f44a0a46";
        var r = new byte[32];
        unsafe
        {
            fixed (byte* pr = r, pu = uniform)
            {
                Assert.Equal(0, Libsodium.crypto_core_ristretto255_from_hash(pr, pu));
            }
        }

        Assert.Equal(expected, Convert.ToHexString(r).ToLowerInvariant());
    }
}
