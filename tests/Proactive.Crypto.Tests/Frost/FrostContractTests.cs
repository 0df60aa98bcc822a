using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Secrets;

namespace Proactive.Crypto.Tests.Frost;

/// <summary>The FROST contract, run against every suite: signing works, and bad peer data is refused cleanly with its culprit named.</summary>
public class FrostContractTests
{
    public static TheoryData<string> Suites => new() { "Ed25519", "ristretto255", "P-256" };

    public static TheoryData<string, int, int> SuitesAndSizes
    {
        get
        {
            var data = new TheoryData<string, int, int>();
            foreach (var suite in new[] { "Ed25519", "ristretto255", "P-256" })
            {
                data.Add(suite, 2, 3);
                data.Add(suite, 3, 5);
                data.Add(suite, 11, 21);
            }

            return data;
        }
    }

    private static readonly byte[] Message = "proactive frost contract"u8.ToArray();

    internal static Ciphersuite ByName(string name) => Ciphersuite.FromGroupId(Groups.GroupContractTests.ByName(name).Id);

    [Theory]
    [MemberData(nameof(SuitesAndSizes))]
    public void Any_min_signers_subset_produces_a_signature_that_verifies(string name, int minSigners, int maxSigners)
    {
        var suite = ByName(name);
        const ulong seed = 9591;
        var rng = new DeterministicRandomSource(seed + (ulong)maxSigners);
        using var dealt = TrustedDealer.Generate(suite, null, minSigners, maxSigners, rng);
        for (var round = 0; round < 2; round++)
        {
            var signers = RandomSubset(rng, maxSigners, minSigners + round);
            var (package, shares) = RunRounds(dealt, signers, Message, rng);
            var result = Aggregation.Aggregate(package, shares, dealt.PublicKeyPackage);
            Assert.True(result.IsSuccess, $"seed {seed}, signers {string.Join(",", signers)}: {result}");
            Assert.True(dealt.PublicKeyPackage.GroupPublicKey.Verify(Message, result.Value));
            Assert.True(Signature.TryDecode(suite, result.Value.Encode(), out var decoded));
            Assert.True(dealt.PublicKeyPackage.GroupPublicKey.Verify(Message, decoded!));
            Assert.False(dealt.PublicKeyPackage.GroupPublicKey.Verify("another message"u8, result.Value));
            if (suite == Ciphersuite.Ed25519)
            {
                Assert.True(FrostInterop.LibsodiumVerifies(dealt.PublicKeyPackage.GroupPublicKey.Encode(), Message, result.Value.Encode()));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void A_package_reused_under_another_group_key_gets_that_keys_context(string name)
    {
        var suite = ByName(name);
        var rng = new DeterministicRandomSource(4242);
        using var first = TrustedDealer.Generate(suite, null, 2, 3, rng);
        using var second = TrustedDealer.Generate(suite, null, 2, 3, rng);
        var (package, shares) = RunRounds(first, [1, 2], Message, rng);

        // The package computed its context under the first key (signing); under the second key it must not reuse it.
        Assert.False(Aggregation.Aggregate(package, shares, second.PublicKeyPackage).IsSuccess);
        var signature = Aggregation.Aggregate(package, shares, first.PublicKeyPackage);
        Assert.True(signature.IsSuccess);
        Assert.True(first.PublicKeyPackage.GroupPublicKey.Verify(Message, signature.Value));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Dealer_shares_interpolate_to_the_given_group_secret(string name)
    {
        var suite = ByName(name);
        var rng = new DeterministicRandomSource(7);
        using var secret = SecretScalar.Random(suite.Group, rng);
        using var dealt = TrustedDealer.Generate(suite, secret, 3, 5, rng);
        Assert.Equal(suite.Group.MultiplyBase(secret.Value), dealt.PublicKeyPackage.GroupPublicKey.Element);
        var derived = TrustedDealer.DeriveGroupInfo(suite, 5, dealt.VssCommitment);
        foreach (var keyPackage in dealt.KeyPackages)
        {
            Assert.Equal(keyPackage.VerifyingShare.Element, derived.VerifyingShares[keyPackage.Identifier].Element);
            Assert.False(TrustedDealer.VerifyShare(suite, keyPackage.Identifier, suite.Group.Add(keyPackage.SigningShare.Value, suite.Group.One), dealt.VssCommitment));
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void A_wrong_signature_share_is_detected_and_its_sender_named(string name)
    {
        var suite = ByName(name);
        var rng = new DeterministicRandomSource(11);
        using var dealt = TrustedDealer.Generate(suite, null, 3, 5, rng);
        var (package, shares) = RunRounds(dealt, [1, 3, 4], Message, rng);
        var culprit = shares[1].Identifier;
        shares[1] = new SignatureShare(suite, culprit, suite.Group.Add(shares[1].Share, suite.Group.One));

        var result = Aggregation.Aggregate(package, shares, dealt.PublicKeyPackage);
        Assert.False(result.IsSuccess);
        Assert.Equal(FrostError.InvalidSignatureShare, result.Error);
        Assert.Equal([culprit], result.Culprits);
        Assert.Throws<InvalidOperationException>(() => result.Value);
        Assert.False(Round2.VerifySignatureShare(package, shares[1], dealt.PublicKeyPackage));
        Assert.True(Round2.VerifySignatureShare(package, shares[0], dealt.PublicKeyPackage));
        Assert.True(Round2.VerifySignatureShare(package, shares[2], dealt.PublicKeyPackage));

        // A share claimed by another signer (its identifier swapped) fails too, and both are named.
        shares[2] = new SignatureShare(suite, shares[2].Identifier, shares[0].Share);
        var two = Aggregation.Aggregate(package, shares, dealt.PublicKeyPackage);
        Assert.Equal(FrostError.InvalidSignatureShare, two.Error);
        Assert.Equal([shares[1].Identifier, shares[2].Identifier], two.Culprits);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Aggregation_names_missing_duplicate_unexpected_and_unknown_signers(string name)
    {
        var suite = ByName(name);
        var rng = new DeterministicRandomSource(12);
        using var dealt = TrustedDealer.Generate(suite, null, 2, 4, rng);
        var (package, shares) = RunRounds(dealt, [1, 2, 4], Message, rng);

        var missing = Aggregation.Aggregate(package, [shares[0], shares[2]], dealt.PublicKeyPackage);
        Assert.Equal(FrostError.MissingSignatureShare, missing.Error);
        Assert.Equal([shares[1].Identifier], missing.Culprits);

        var duplicate = Aggregation.Aggregate(package, [.. shares, shares[2]], dealt.PublicKeyPackage);
        Assert.Equal(FrostError.DuplicateIdentifier, duplicate.Error);
        Assert.Equal([shares[2].Identifier], duplicate.Culprits);

        var stranger = new SignatureShare(suite, Identifier.FromInt(suite, 3), shares[0].Share);
        var unexpected = Aggregation.Aggregate(package, [.. shares, stranger], dealt.PublicKeyPackage);
        Assert.Equal(FrostError.UnexpectedSignatureShare, unexpected.Error);
        Assert.Equal([stranger.Identifier], unexpected.Culprits);

        // A public key package that does not know signer 4.
        var partial = new PublicKeyPackage(
            dealt.PublicKeyPackage.GroupPublicKey,
            dealt.PublicKeyPackage.VerifyingShares.Values.Where(v => v.Identifier != Identifier.FromInt(suite, 4)),
            2);
        var unknown = Aggregation.Aggregate(package, shares, partial);
        Assert.Equal(FrostError.UnknownSigner, unknown.Error);
        Assert.Equal([Identifier.FromInt(suite, 4)], unknown.Culprits);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Signer_refuses_malformed_signing_packages_without_throwing(string name)
    {
        var suite = ByName(name);
        var rng = new DeterministicRandomSource(13);
        using var dealt = TrustedDealer.Generate(suite, null, 3, 5, rng);
        var signer = dealt.KeyPackages[1];
        var commitments = new[] { 1, 2, 4 }.Select(i => Round1.Commit(dealt.KeyPackages[i - 1].SigningShare, rng).Commitments).ToArray();

        FrostResult<SignatureShare> SignWith(IEnumerable<SigningCommitments> list, bool ownFresh = true)
        {
            var nonces = Round1.Commit(signer.SigningShare, rng);
            var withOwn = list.Select(c => ownFresh && c.Identifier == signer.Identifier ? nonces.Commitments : c);
            return Round2.Sign(new SigningPackage(suite, withOwn, Message), nonces, signer);
        }

        Assert.True(SignWith(commitments).IsSuccess);

        var unsorted = SignWith([commitments[1], commitments[0], commitments[2]]);
        Assert.Equal(FrostError.UnsortedCommitments, unsorted.Error);
        Assert.Equal([commitments[0].Identifier], unsorted.Culprits);

        var duplicate = SignWith([commitments[0], commitments[1], commitments[2], commitments[2]]);
        Assert.Equal(FrostError.DuplicateIdentifier, duplicate.Error);
        Assert.Equal([commitments[2].Identifier], duplicate.Culprits);

        Assert.Equal(FrostError.IncorrectNumberOfCommitments, SignWith([commitments[0], commitments[1]]).Error);
        var six = Enumerable.Range(1, 6).Select(i => new SigningCommitments(suite, Identifier.FromInt(suite, i), commitments[0].Hiding, commitments[0].Binding));
        Assert.Equal(FrostError.IncorrectNumberOfCommitments, SignWith(six).Error);

        var third = Round1.Commit(dealt.KeyPackages[2].SigningShare, rng).Commitments;
        Assert.Equal(FrostError.SignerNotInCommitments, SignWith([commitments[0], third, commitments[2]]).Error);

        // The coordinator tampered with this signer's commitment (swapped D and E): refused.
        var nonces = Round1.Commit(signer.SigningShare, rng);
        var tampered = new SigningCommitments(suite, signer.Identifier, nonces.Commitments.Binding, nonces.Commitments.Hiding);
        var result = Round2.Sign(new SigningPackage(suite, [commitments[0], tampered, commitments[2]], Message), nonces, signer);
        Assert.Equal(FrostError.IncorrectCommitment, result.Error);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void A_share_over_a_tampered_commitment_of_another_signer_is_named_at_aggregation(string name)
    {
        var suite = ByName(name);
        var rng = new DeterministicRandomSource(14);
        using var dealt = TrustedDealer.Generate(suite, null, 2, 3, rng);
        var n1 = Round1.Commit(dealt.KeyPackages[0].SigningShare, rng);
        var n2 = Round1.Commit(dealt.KeyPackages[1].SigningShare, rng);
        var honest = SigningPackage.Create(suite, [n1.Commitments, n2.Commitments], Message);

        // Signer 2 signs a package whose entry for signer 1 was altered; signer 1 signs the honest one.
        var altered = new SigningCommitments(suite, n1.Identifier, n1.Commitments.Hiding, n2.Commitments.Binding);
        var z1 = Round2.Sign(honest, n1, dealt.KeyPackages[0]).Value;
        var z2 = Round2.Sign(SigningPackage.Create(suite, [altered, n2.Commitments], Message), n2, dealt.KeyPackages[1]).Value;
        var result = Aggregation.Aggregate(honest, [z1, z2], dealt.PublicKeyPackage);
        Assert.Equal(FrostError.InvalidSignatureShare, result.Error);
        Assert.Equal([n2.Identifier], result.Culprits);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Nonces_cannot_sign_twice(string name)
    {
        var suite = ByName(name);
        var rng = new DeterministicRandomSource(15);
        using var dealt = TrustedDealer.Generate(suite, null, 2, 3, rng);
        var nonces = Round1.Commit(dealt.KeyPackages[0].SigningShare, rng);
        var other = Round1.Commit(dealt.KeyPackages[2].SigningShare, rng);
        var package = SigningPackage.Create(suite, [nonces.Commitments, other.Commitments], Message);
        Assert.True(Round2.Sign(package, nonces, dealt.KeyPackages[0]).IsSuccess);
        Assert.True(nonces.IsUsed);
        Assert.Throws<InvalidOperationException>(() => Round2.Sign(package, nonces, dealt.KeyPackages[0]));
        var another = SigningPackage.Create(suite, [nonces.Commitments, other.Commitments], "another message"u8);
        Assert.Throws<InvalidOperationException>(() => Round2.Sign(another, nonces, dealt.KeyPackages[0]));

        // A refused package consumes the nonces too.
        var refused = Round1.Commit(dealt.KeyPackages[1].SigningShare, rng);
        Assert.False(Round2.Sign(package, refused, dealt.KeyPackages[1]).IsSuccess);
        Assert.Throws<InvalidOperationException>(() => Round2.Sign(package, refused, dealt.KeyPackages[1]));
        Assert.Equal("SigningNonces(Identifier(1), <redacted>)", nonces.ToString());
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Signature_decoding_refuses_malformed_bytes_without_throwing(string name)
    {
        var suite = ByName(name);
        var group = suite.Group;
        var rng = new DeterministicRandomSource(16);
        using var dealt = TrustedDealer.Generate(suite, null, 2, 3, rng);
        var (package, shares) = RunRounds(dealt, [2, 3], Message, rng);
        var good = Aggregation.Aggregate(package, shares, dealt.PublicKeyPackage).Value.Encode();
        var ne = group.ElementLength;
        Assert.Equal(ne + group.ScalarLength, good.Length);
        Assert.True(Signature.TryDecode(suite, good, out _));

        Assert.False(Signature.TryDecode(suite, good.AsSpan(..^1), out _));
        Assert.False(Signature.TryDecode(suite, [.. good, 0], out _));
        Assert.False(Signature.TryDecode(suite, [], out _));

        // z = q, and z with every bit set: not canonical.
        Assert.False(Signature.TryDecode(suite, [.. good[..ne], .. Order(group)], out _));
        Assert.False(Signature.TryDecode(suite, [.. good[..ne], .. Enumerable.Repeat((byte)0xff, group.ScalarLength)], out _));

        // R the identity (in whatever encoding the group has for it) or a small-order / invalid point.
        foreach (var r in BadElementEncodings(group))
        {
            Assert.False(Signature.TryDecode(suite, [.. r, .. good[ne..]], out _));
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Message_decoding_refuses_malformed_bytes_without_throwing(string name)
    {
        var suite = ByName(name);
        var group = suite.Group;
        var rng = new DeterministicRandomSource(17);
        using var dealt = TrustedDealer.Generate(suite, null, 2, 3, rng);
        var nonces = Round1.Commit(dealt.KeyPackages[0].SigningShare, rng);
        var other = Round1.Commit(dealt.KeyPackages[1].SigningShare, rng);
        var encoded = nonces.Commitments.Encode();
        Assert.True(SigningCommitments.TryDecode(suite, encoded, out var decoded));
        Assert.Equal(nonces.Commitments.Identifier, decoded!.Identifier);
        Assert.Equal(nonces.Commitments.Hiding, decoded.Hiding);
        Assert.Equal(nonces.Commitments.Binding, decoded.Binding);

        var ns = group.ScalarLength;
        var ne = group.ElementLength;
        Assert.False(SigningCommitments.TryDecode(suite, encoded.AsSpan(..^1), out _));
        Assert.False(SigningCommitments.TryDecode(suite, [.. encoded, 0], out _));
        Assert.False(SigningCommitments.TryDecode(suite, [2, .. encoded[1..]], out _));
        foreach (var otherSuite in Ciphersuite.All.Where(s => s != suite))
        {
            Assert.False(SigningCommitments.TryDecode(otherSuite, encoded, out _));
        }

        Assert.False(SigningCommitments.TryDecode(suite, [.. encoded[..2], .. new byte[ns], .. encoded[(2 + ns)..]], out _));
        Assert.False(SigningCommitments.TryDecode(suite, [.. encoded[..2], .. Order(group), .. encoded[(2 + ns)..]], out _));
        foreach (var bad in BadElementEncodings(group))
        {
            Assert.False(SigningCommitments.TryDecode(suite, [.. encoded[..(2 + ns)], .. bad, .. encoded[(2 + ns + ne)..]], out _));
            Assert.False(SigningCommitments.TryDecode(suite, [.. encoded[..(2 + ns + ne)], .. bad], out _));
        }

        // Building one from the identity element is a caller mistake.
        Assert.Throws<ArgumentException>(() => new SigningCommitments(suite, nonces.Identifier, group.Identity, nonces.Commitments.Binding));

        // Signature shares: round trip, then the same failures.
        var package = SigningPackage.Create(suite, [nonces.Commitments, other.Commitments], Message);
        var share = Round2.Sign(package, nonces, dealt.KeyPackages[0]).Value;
        var shareBytes = share.Encode();
        Assert.True(SignatureShare.TryDecode(suite, shareBytes, out var decodedShare));
        Assert.Equal(share.Share, decodedShare!.Share);
        Assert.Equal(share.Identifier, decodedShare.Identifier);
        Assert.False(SignatureShare.TryDecode(suite, shareBytes.AsSpan(..^1), out _));
        Assert.False(SignatureShare.TryDecode(suite, [.. shareBytes, 0], out _));
        Assert.False(SignatureShare.TryDecode(suite, [.. shareBytes[..(2 + ns)], .. Order(group)], out _));
        Assert.False(SignatureShare.TryDecode(suite, [.. shareBytes[..2], .. new byte[ns], .. shareBytes[(2 + ns)..]], out _));

        Assert.False(GroupPublicKey.TryDecode(suite, new byte[ne], out _));
        Assert.False(GroupPublicKey.TryDecode(suite, [], out _));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Identifiers_order_numerically_and_round_trip(string name)
    {
        var suite = ByName(name);
        var ids = new[] { 257, 1, 256, 2, 129 }.Select(i => Identifier.FromInt(suite, i)).ToArray();
        Array.Sort(ids);
        Assert.Equal(new[] { 1, 2, 129, 256, 257 }.Select(i => Identifier.FromInt(suite, i)), ids);
        Assert.True(Identifier.TryDecode(suite, ids[4].Encode(), out var decoded));
        Assert.Equal(ids[4], decoded);
        Assert.Equal("Identifier(257)", decoded.ToString());
        Assert.False(Identifier.TryDecode(suite, new byte[suite.Group.ScalarLength], out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => Identifier.FromInt(suite, 0));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Secrets_print_redacted(string name)
    {
        var suite = ByName(name);
        var rng = new DeterministicRandomSource(18);
        using var dealt = TrustedDealer.Generate(suite, null, 2, 3, rng);
        Assert.Contains("<redacted>", dealt.KeyPackages[0].ToString());
        Assert.Contains("<redacted>", dealt.KeyPackages[0].SigningShare.ToString());
        Assert.Contains("<redacted>", dealt.ToString());
    }

    [Fact]
    public void Caller_mistakes_throw_argument_exceptions()
    {
        var rng = new DeterministicRandomSource(19);
        Assert.Throws<ArgumentOutOfRangeException>(() => TrustedDealer.Generate(Ciphersuite.P256, null, 1, 3, rng));
        Assert.Throws<ArgumentOutOfRangeException>(() => TrustedDealer.Generate(Ciphersuite.P256, null, 4, 3, rng));
        using var ed = TrustedDealer.Generate(Ciphersuite.Ed25519, null, 2, 3, rng);
        using var p = TrustedDealer.Generate(Ciphersuite.P256, null, 2, 3, rng);
        var nonces = Round1.Commit(ed.KeyPackages[0].SigningShare, rng);
        var package = SigningPackage.Create(Ciphersuite.Ed25519, [nonces.Commitments], Message);
        Assert.Throws<ArgumentException>(() => Round2.Sign(package, nonces, p.KeyPackages[0]));
        Assert.Throws<ArgumentException>(() => Round2.Sign(package, nonces, ed.KeyPackages[1]));
        Assert.Throws<ArgumentException>(() => SigningPackage.Create(Ciphersuite.P256, [nonces.Commitments], Message));
    }

    internal static (SigningPackage Package, List<SignatureShare> Shares) RunRounds(TrustedDealerOutput dealt, int[] signers, byte[] message, IRandomSource rng)
    {
        var suite = dealt.PublicKeyPackage.Suite;
        var nonces = signers.Select(i => Round1.Commit(dealt.KeyPackages[i - 1].SigningShare, rng)).ToArray();
        var package = SigningPackage.Create(suite, nonces.Select(n => n.Commitments), message);
        var shares = new List<SignatureShare>();
        for (var k = 0; k < signers.Length; k++)
        {
            var result = Round2.Sign(package, nonces[k], dealt.KeyPackages[signers[k] - 1]);
            Assert.True(result.IsSuccess, result.ToString());
            shares.Add(result.Value);
        }

        shares.Sort((a, b) => a.Identifier.CompareTo(b.Identifier));
        return (package, shares);
    }

    private static int[] RandomSubset(DeterministicRandomSource rng, int n, int size)
    {
        var all = Enumerable.Range(1, n).ToArray();
        Span<byte> b = stackalloc byte[4];
        for (var i = n - 1; i > 0; i--)
        {
            rng.Fill(b);
            var j = (int)(BitConverter.ToUInt32(b) % (uint)(i + 1));
            (all[i], all[j]) = (all[j], all[i]);
        }

        return all[..size];
    }

    /// <summary>The group order q in the group's scalar byte order: the smallest non-canonical scalar.</summary>
    private static byte[] Order(PrimeOrderGroup group) => group.Id == GroupId.P256
        ? Convert.FromHexString("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
        : Convert.FromHexString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");

    /// <summary>Encodings of the identity, small-order points and non-points for a group.</summary>
    private static IEnumerable<byte[]> BadElementEncodings(PrimeOrderGroup group)
    {
        yield return group.EncodeElement(group.Identity, allowIdentity: true);
        yield return Enumerable.Repeat((byte)0xff, group.ElementLength).ToArray();
        if (group.Id == GroupId.Ed25519)
        {
            yield return Convert.FromHexString("0000000000000000000000000000000000000000000000000000000000000000"); // order 4
            yield return Convert.FromHexString("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"); // order 2
            yield return Convert.FromHexString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"); // order 8
            yield return Convert.FromHexString("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"); // order 8
        }
        else if (group.Id == GroupId.P256)
        {
            yield return [0x04, .. new byte[32]]; // uncompressed tag in a compressed-length encoding
            yield return [0x02, .. Enumerable.Repeat((byte)0xff, 32)]; // x >= p
        }
        else
        {
            // Non-canonical ristretto255: a negative field element (odd), and p itself.
            yield return [0x01, .. new byte[31]];
            yield return Convert.FromHexString("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        }
    }
}
