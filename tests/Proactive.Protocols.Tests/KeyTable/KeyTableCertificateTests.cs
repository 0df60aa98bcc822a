using Proactive.Crypto.Codec;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Random;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.KeyTable;

namespace Proactive.Protocols.Tests.KeyTable;

public sealed class KeyTableCertificateTests
{
    private static readonly ClusterParameters FourServers = ClusterParameters.Create(4, 1, 1);

    public static TheoryData<string> Suites => new() { "Ed25519", "Ristretto255", "P256" };

    private static Ciphersuite SuiteByName(string name) => name switch
    {
        "Ed25519" => Ciphersuite.Ed25519,
        "Ristretto255" => Ciphersuite.Ristretto255,
        _ => Ciphersuite.P256,
    };

    /// <summary>S_cert(table) by t + 1 = 2 of 4 dealt shares (the FROST session the controller runs).</summary>
    private static (KeyTableCertificate Certificate, GroupPublicKey Key) Certify(Ciphersuite suite, byte[] table, ulong seed)
    {
        var random = new DeterministicRandomSource(seed);
        using var dealt = TrustedDealer.Generate(suite, null, 2, 4, random);
        var signers = dealt.KeyPackages.Take(2).ToArray();
        var nonces = signers.Select(k => Round1.Commit(k.SigningShare, random)).ToArray();
        var package = SigningPackage.Create(suite, nonces.Select(n => n.Commitments), KeyTableCertificate.SigningMessage(table));
        var shares = signers.Select((k, i) => Round2.Sign(package, nonces[i], k).Value).ToArray();
        var signature = Aggregation.Aggregate(package, shares, dealt.PublicKeyPackage).Value;
        foreach (var n in nonces)
        {
            n.Dispose();
        }

        return (new KeyTableCertificate(table, signature), dealt.PublicKeyPackage.GroupPublicKey);
    }

    private static byte[] DecidedTable(ulong seed)
    {
        using var fixture = new KeyTableFixture(FourServers, seed);
        var machines = fixture.Machines();
        var bus = KeyTableFixture.Bus(FourServers, machines, seed + 1);
        bus.Start();
        return bus.EventsOf<KeyTableProposal>(1).Single().EncodedTable;
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void A_threshold_signed_table_verifies_under_the_group_key_and_survives_encoding(string name)
    {
        var suite = SuiteByName(name);
        var table = DecidedTable(31);
        var (certificate, key) = Certify(suite, table, 32);

        Assert.True(certificate.Verify(key));
        Assert.True(KeyTableCertificate.TryDecode(certificate.Encode(), suite, out var decoded));
        Assert.True(decoded.Verify(key));
        Assert.Equal(certificate.Encode(), decoded.Encode());
        Assert.True(decoded.TryGetTable(out var parsed));
        Assert.Equal(table, parsed.Encode());
        Assert.Equal(FourServers.Servers, parsed.Entries.Select(e => e.ServerId));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Tampering_with_the_table_the_signature_or_the_key_fails_verification(string name)
    {
        var suite = SuiteByName(name);
        var table = DecidedTable(33);
        var (certificate, key) = Certify(suite, table, 34);
        var (_, otherKey) = Certify(suite, table, 35);

        var tamperedTable = (byte[])table.Clone();
        tamperedTable[20] ^= 1;
        Assert.False(new KeyTableCertificate(tamperedTable, certificate.Signature).Verify(key));
        Assert.False(certificate.Verify(otherKey));

        // The signature of another message (the table without the label) does not verify either.
        var encoded = certificate.Encode();
        encoded[^1] ^= 1;
        Assert.True(!KeyTableCertificate.TryDecode(encoded, suite, out var bitFlipped) || !bitFlipped.Verify(key));

        var otherSuite = suite == Ciphersuite.Ed25519 ? Ciphersuite.Ristretto255 : Ciphersuite.Ed25519;
        Assert.False(KeyTableCertificate.TryDecode(certificate.Encode(), otherSuite, out _));
    }

    [Fact]
    public void Decoding_never_throws_on_truncations_and_bit_flips()
    {
        var (certificate, _) = Certify(Ciphersuite.Ed25519, DecidedTable(36), 37);
        var encoded = certificate.Encode();
        for (var length = 0; length < encoded.Length; length += 7)
        {
            Assert.False(KeyTableCertificate.TryDecode(encoded.AsSpan(0, length), null, out _));
        }

        Assert.False(KeyTableCertificate.TryDecode([.. encoded, 0], null, out _, out var failure));
        Assert.True(failure.IsFailure);
        for (var i = 0; i < encoded.Length; i += 13)
        {
            var copy = (byte[])encoded.Clone();
            copy[i] ^= 0x80;
            _ = KeyTableCertificate.TryDecode(copy, null, out _);
        }
    }

    [Fact]
    public void Table_and_entry_encodings_round_trip_and_reject_non_canonical_forms()
    {
        var table = DecidedTable(38);
        Assert.True(KeyTableDocument.TryDecode(table, 4, out var parsed));
        Assert.Equal(table, parsed.Encode());
        Assert.False(KeyTableDocument.TryDecode(table, 3, out _)); // server 4 is beyond n = 3
        Assert.False(KeyTableDocument.TryDecode([.. table, 0], 4, out _));

        var entries = parsed.Entries;
        Assert.Equal(SignedKeyTableEntry.MaxEncodedLength, entries[0].Encode().Length);
        Assert.True(SignedKeyTableEntry.TryDecode(entries[0].Encode(), out var entry));
        Assert.Equal(entries[0].Encode(), entry.Encode());
        Assert.Equal(SignedKeyTableEntry.MinEncodedLength, entry.WithoutPreviousKeySignature().Encode().Length);

        // Unsorted or repeated servers: not a table (built by hand, since the constructor sorts).
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        var w = new CanonicalWriter(writer);
        w.WriteU8(KeyTableDocument.FormatVersion);
        w.WriteU64(KeyTableFixture.Period);
        w.WriteCount(2, 255);
        entries[1].WriteTo(ref w);
        entries[0].WriteTo(ref w);
        Assert.False(KeyTableDocument.TryDecode(writer.WrittenSpan, 4, out _));
        Assert.Throws<ArgumentException>(() => new KeyTableDocument(KeyTableFixture.Period, [entries[0], entries[0]]));
        Assert.Throws<ArgumentException>(() => new KeyTableDocument(KeyTableFixture.Period + 1, [entries[0]]));
    }
}
