using System.Security.Cryptography;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Tests.KeyTable;

public sealed class PeriodCertificateTests
{
    private static readonly ClusterParameters FourServers = ClusterParameters.Create(4, 1, 1);

    private static readonly byte[] StateHash = SHA256.HashData("a committed public state"u8);

    public static TheoryData<string> Suites => new() { "Ed25519", "Ristretto255", "P256" };

    private static Ciphersuite SuiteByName(string name) => name switch
    {
        "Ed25519" => Ciphersuite.Ed25519,
        "Ristretto255" => Ciphersuite.Ristretto255,
        _ => Ciphersuite.P256,
    };

    /// <summary>S_cert on the root of (period, table, hash) by t + 1 = 2 of 4 dealt shares (the FROST session the controller runs).</summary>
    internal static (PeriodCertificate Certificate, GroupPublicKey Key) Certify(Ciphersuite suite, ulong period, byte[] table, byte[] hash, ulong seed)
    {
        var random = new DeterministicRandomSource(seed);
        using var dealt = TrustedDealer.Generate(suite, null, 2, 4, random);
        var signers = dealt.KeyPackages.Take(2).ToArray();
        var nonces = signers.Select(k => Round1.Commit(k.SigningShare, random)).ToArray();
        var package = SigningPackage.Create(suite, nonces.Select(n => n.Commitments), PeriodCertificate.SigningMessage(period, table, hash));
        var shares = signers.Select((k, i) => Round2.Sign(package, nonces[i], k).Value).ToArray();
        var signature = Aggregation.Aggregate(package, shares, dealt.PublicKeyPackage).Value;
        foreach (var n in nonces)
        {
            n.Dispose();
        }

        return (new PeriodCertificate(period, table, hash, signature!), dealt.PublicKeyPackage.GroupPublicKey);
    }

    /// <summary>A decided KeyTable of <see cref="KeyTableFixture.Period"/>.</summary>
    internal static byte[] DecidedTable(ulong seed)
    {
        using var fixture = new KeyTableFixture(FourServers, seed);
        var machines = fixture.Machines();
        var bus = KeyTableFixture.Bus(FourServers, machines, seed + 1);
        bus.Start();
        return bus.EventsOf<KeyTableProposal>(1).Single().EncodedTable;
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void A_threshold_signed_period_root_verifies_under_the_network_key_and_survives_encoding(string name)
    {
        var suite = SuiteByName(name);
        var table = DecidedTable(31);
        var (certificate, key) = Certify(suite, KeyTableFixture.Period, table, StateHash, 32);

        Assert.True(certificate.Verify(key));
        Assert.True(certificate.Certifies(KeyTableFixture.Period, table, StateHash));
        Assert.True(PeriodCertificate.TryDecode(certificate.Encode(), suite, out var decoded));
        Assert.True(decoded.Verify(key));
        Assert.Equal(certificate.Encode(), decoded.Encode());
        Assert.Equal(certificate.EncodedLength, decoded.Encode().Length);
        Assert.Equal(StateHash, decoded.PublicStateHash.ToArray());
        Assert.True(decoded.TryGetTable(out var parsed));
        Assert.Equal(table, parsed.Encode());
        Assert.Equal(FourServers.Servers, parsed.Entries.Select(e => e.ServerId));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Another_period_table_state_hash_signature_or_key_fails_verification(string name)
    {
        var suite = SuiteByName(name);
        var table = DecidedTable(33);
        var (certificate, key) = Certify(suite, KeyTableFixture.Period, table, StateHash, 34);
        var (_, otherKey) = Certify(suite, KeyTableFixture.Period, table, StateHash, 35);
        var signature = certificate.Signature;

        var tamperedTable = (byte[])table.Clone();
        tamperedTable[20] ^= 1;
        var otherHash = (byte[])StateHash.Clone();
        otherHash[0] ^= 1;
        Assert.False(new PeriodCertificate(KeyTableFixture.Period, tamperedTable, StateHash, signature).Verify(key));
        Assert.False(new PeriodCertificate(KeyTableFixture.Period, table, otherHash, signature).Verify(key));
        Assert.False(new PeriodCertificate(KeyTableFixture.Period + 1, table, StateHash, signature).Verify(key));
        Assert.False(new PeriodCertificate(KeyTableFixture.Period, table, StateHash, new Signature(suite, signature.R, suite.Group.Add(signature.Z, suite.Group.One))).Verify(key));
        Assert.False(certificate.Verify(otherKey));

        // A valid signature on a table of another period inside a certificate that claims this one.
        var (ofAnotherPeriod, anotherKey) = Certify(suite, KeyTableFixture.Period + 1, table, StateHash, 36);
        Assert.False(ofAnotherPeriod.Verify(anotherKey));

        var otherSuite = suite == Ciphersuite.Ed25519 ? Ciphersuite.Ristretto255 : Ciphersuite.Ed25519;
        Assert.False(PeriodCertificate.TryDecode(certificate.Encode(), otherSuite, out _));
    }

    [Fact]
    public void Certifies_compares_the_period_the_table_byte_for_byte_and_the_state_hash()
    {
        var table = DecidedTable(37);
        var (certificate, _) = Certify(Ciphersuite.Ed25519, KeyTableFixture.Period, table, StateHash, 38);
        var otherTable = (byte[])table.Clone();
        otherTable[^1] ^= 1;
        var otherHash = (byte[])StateHash.Clone();
        otherHash[^1] ^= 1;

        Assert.True(certificate.Certifies(KeyTableFixture.Period, table, StateHash));
        Assert.True(certificate.Certifies(KeyTableFixture.Period, null, StateHash)); // caught up: no table to compare
        Assert.False(certificate.Certifies(KeyTableFixture.Period, otherTable, StateHash));
        Assert.False(certificate.Certifies(KeyTableFixture.Period, table, otherHash));
        Assert.False(certificate.Certifies(KeyTableFixture.Period + 1, table, StateHash));
    }

    [Fact]
    public void The_public_state_hash_is_sha256_of_its_canonical_encoding()
    {
        var group = PrimeOrderGroup.Ed25519;
        using var polynomial = Polynomial.Random(group, 1, group.FromUInt64(9), new DeterministicRandomSource(39));
        var state = new RefreshPublicState(group, 3, [FeldmanCommitment.Commit(polynomial)]);
        Assert.Equal(SHA256.HashData(state.Encode()), PeriodCertificate.HashPublicState(state));
    }

    /// <summary>The formats are pinned: a change must be a new version, not a silent edit.</summary>
    [Fact]
    public void The_signed_message_and_the_encoding_are_pinned()
    {
        var group = PrimeOrderGroup.Ed25519;
        var signature = new Signature(Ciphersuite.Ed25519, group.Generator, group.FromUInt64(5));
        var hash = Enumerable.Repeat((byte)0x11, 32).ToArray();
        var certificate = new PeriodCertificate(0x0102030405060708, [0xAA, 0xBB], hash, signature);

        var label = Convert.ToHexStringLower("proactive-period-root-v1"u8);
        Assert.Equal(label + "0102030405060708" + "aabb" + string.Concat(Enumerable.Repeat("11", 32)), Convert.ToHexStringLower(certificate.SigningMessage()));
        Assert.Equal(
            "01" + "01" + "0102030405060708" + "00000002aabb" + string.Concat(Enumerable.Repeat("11", 32))
            + "5866666666666666666666666666666666666666666666666666666666666666" + "05" + string.Concat(Enumerable.Repeat("00", 31)),
            Convert.ToHexStringLower(certificate.Encode()));
    }

    [Fact]
    public void Decoding_never_throws_on_truncations_extensions_and_mutations_and_accepts_only_canonical_bytes()
    {
        var (certificate, _) = Certify(Ciphersuite.P256, KeyTableFixture.Period, DecidedTable(40), StateHash, 41);
        var encoded = certificate.Encode();
        for (var length = 0; length < encoded.Length; length += 7)
        {
            Assert.False(PeriodCertificate.TryDecode(encoded.AsSpan(0, length), null, out _));
        }

        Assert.False(PeriodCertificate.TryDecode([.. encoded, 0], null, out _, out var failure));
        Assert.True(failure.IsFailure);
        var random = new Random(42);
        for (var i = 0; i < 2000; i++)
        {
            var copy = (byte[])encoded.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
            }

            if (PeriodCertificate.TryDecode(copy, null, out var decoded))
            {
                Assert.Equal(copy, decoded.Encode());
            }
        }
    }
}
