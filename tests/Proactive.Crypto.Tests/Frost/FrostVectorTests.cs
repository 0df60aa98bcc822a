using System.Text.Json;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using static Proactive.Crypto.Tests.TestVectors;

namespace Proactive.Crypto.Tests.Frost;

/// <summary>
/// RFC 9591 Appendix E vectors and the ZcashFoundation/frost supplementary vectors (same layout; the big-identifier
/// files use identifiers 129, 256, 257 out of 257): every intermediate value is reproduced.
/// </summary>
public class FrostVectorTests
{
    public static TheoryData<string> Files => new()
    {
        "ed25519-sha512.json",
        "ristretto255-sha512.json",
        "p256-sha256.json",
        "zcash/ed25519-sha512/vectors.json",
        "zcash/ristretto255-sha512/vectors.json",
        "zcash/p256-sha256/vectors.json",
        "zcash/ed25519-sha512/vectors-big-identifier.json",
        "zcash/ristretto255-sha512/vectors-big-identifier.json",
        "zcash/p256-sha256/vectors-big-identifier.json",
    };

    internal static Ciphersuite SuiteOf(string group) => group switch
    {
        "ed25519" => Ciphersuite.Ed25519,
        "ristretto255" => Ciphersuite.Ristretto255,
        "P-256" => Ciphersuite.P256,
        _ => throw new ArgumentException(group),
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void Vector_reproduces_keys_nonces_commitments_binding_factors_shares_and_signature(string file)
    {
        using var document = LoadJson(["frost", .. file.Split('/')]);
        var root = document.RootElement;
        var config = root.GetProperty("config");
        var inputs = root.GetProperty("inputs");
        var suite = SuiteOf(config.GetProperty("group").GetString()!);
        var group = suite.Group;
        Assert.Equal(config.GetProperty("name").GetString(), suite.Name);
        var minSigners = int.Parse(config.GetProperty("MIN_PARTICIPANTS").GetString()!);
        var maxSigners = int.Parse(config.GetProperty("MAX_PARTICIPANTS").GetString()!);
        var message = Hex(inputs.GetProperty("message"));

        // Keys: the group key from the secret, every share from the polynomial coefficients.
        var coefficients = new List<Scalar> { DecodeScalar(group, inputs.GetProperty("group_secret_key")) };
        coefficients.AddRange(inputs.GetProperty("share_polynomial_coefficients").EnumerateArray().Select(c => DecodeScalar(group, c)));
        Assert.Equal(minSigners, coefficients.Count);
        using var dealt = TrustedDealer.FromCoefficients(suite, coefficients.ToArray(), maxSigners);
        var groupKeyHex = inputs.TryGetProperty("group_public_key", out var gpk) ? gpk : inputs.GetProperty("verifying_key_key");
        Assert.Equal(Hex(groupKeyHex), dealt.PublicKeyPackage.GroupPublicKey.Encode());
        Assert.True(GroupPublicKey.TryDecode(suite, Hex(groupKeyHex), out var decodedKey));
        Assert.Equal(dealt.PublicKeyPackage.GroupPublicKey.Element, decodedKey!.Element);
        var shareBuffer = new byte[group.ScalarLength];
        foreach (var share in inputs.GetProperty("participant_shares").EnumerateArray())
        {
            var id = share.GetProperty("identifier").GetInt32();
            var keyPackage = dealt.KeyPackages[id - 1];
            Assert.Equal(Identifier.FromInt(suite, id), keyPackage.Identifier);
            keyPackage.SigningShare.WriteTo(shareBuffer);
            Assert.Equal(Hex(share.GetProperty("participant_share")), shareBuffer);
            Assert.True(TrustedDealer.VerifyShare(suite, keyPackage.Identifier, DecodeScalar(group, share.GetProperty("participant_share")), dealt.VssCommitment));
        }

        // Round one: nonces from the given randomness, and their commitments.
        var participants = inputs.GetProperty("participant_list").EnumerateArray().Select(p => p.GetInt32()).ToArray();
        var roundOne = root.GetProperty("round_one_outputs").GetProperty("outputs").EnumerateArray().ToArray();
        Assert.Equal(participants, roundOne.Select(o => o.GetProperty("identifier").GetInt32()));
        var nonces = new Dictionary<int, SigningNonces>();
        foreach (var output in roundOne)
        {
            var id = output.GetProperty("identifier").GetInt32();
            var random = new FixedRandomSource(Hex(output.GetProperty("hiding_nonce_randomness")), Hex(output.GetProperty("binding_nonce_randomness")));
            var n = Round1.Commit(dealt.KeyPackages[id - 1].SigningShare, random);
            Assert.Equal(0, random.Remaining);
            Assert.Equal(Hex(output.GetProperty("hiding_nonce")), group.EncodeScalar(n.HidingValue));
            Assert.Equal(Hex(output.GetProperty("binding_nonce")), group.EncodeScalar(n.BindingValue));
            Assert.Equal(Hex(output.GetProperty("hiding_nonce_commitment")), group.EncodeElement(n.Commitments.Hiding));
            Assert.Equal(Hex(output.GetProperty("binding_nonce_commitment")), group.EncodeElement(n.Commitments.Binding));
            nonces[id] = n;
        }

        // Binding factors, from the coordinator's sorted list.
        var package = SigningPackage.Create(suite, nonces.Values.Select(n => n.Commitments), message);
        var groupKey = dealt.PublicKeyPackage.GroupPublicKey;
        var bindingFactors = FrostCore.ComputeBindingFactors(suite, groupKey.Encoding, package.Commitments, message);
        for (var i = 0; i < roundOne.Length; i++)
        {
            var id = Identifier.FromInt(suite, participants[i]);
            Assert.Equal(id, package.Commitments[i].Identifier);
            Assert.Equal(Hex(roundOne[i].GetProperty("binding_factor_input")), FrostCore.BindingFactorInput(suite, groupKey.Encoding, package.Commitments, message, id));
            Assert.Equal(Hex(roundOne[i].GetProperty("binding_factor")), group.EncodeScalar(bindingFactors[i]));
        }

        // Round two: every signature share, each one verifying on its own.
        var shares = new List<SignatureShare>();
        foreach (var output in root.GetProperty("round_two_outputs").GetProperty("outputs").EnumerateArray())
        {
            var id = output.GetProperty("identifier").GetInt32();
            var result = Round2.Sign(package, nonces[id], dealt.KeyPackages[id - 1]);
            Assert.True(result.IsSuccess, result.ToString());
            Assert.Equal(Hex(output.GetProperty("sig_share")), group.EncodeScalar(result.Value.Share));
            Assert.True(Round2.VerifySignatureShare(package, result.Value, dealt.PublicKeyPackage));
            shares.Add(result.Value);
        }

        // The final signature.
        var aggregate = Aggregation.Aggregate(package, shares, dealt.PublicKeyPackage);
        Assert.True(aggregate.IsSuccess, aggregate.ToString());
        var expected = Hex(root.GetProperty("final_output").GetProperty("sig"));
        Assert.Equal(expected, aggregate.Value.Encode());
        Assert.True(Signature.TryDecode(suite, expected, out var decoded));
        Assert.True(groupKey.Verify(message, decoded!));
        Assert.False(groupKey.Verify([.. message, 0], decoded!));
        if (suite == Ciphersuite.Ed25519)
        {
            Assert.True(FrostInterop.LibsodiumVerifies(groupKey.Encode(), message, expected));
        }
    }

    [Fact]
    public void Context_strings_are_the_RFC_9591_ones()
    {
        Assert.Equal("FROST-ED25519-SHA512-v1", Ciphersuite.Ed25519.ContextString);
        Assert.Equal("FROST-RISTRETTO255-SHA512-v1", Ciphersuite.Ristretto255.ContextString);
        Assert.Equal("FROST-P256-SHA256-v1", Ciphersuite.P256.ContextString);
        foreach (var suite in Ciphersuite.All)
        {
            Assert.Same(suite, Ciphersuite.FromGroupId(suite.Id));
        }

        Assert.False(Ciphersuite.TryFromGroupId((GroupId)0, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ciphersuite.FromGroupId((GroupId)9));
    }

    private static Scalar DecodeScalar(PrimeOrderGroup group, JsonElement element)
    {
        Assert.True(group.TryDecodeScalar(Hex(element), out var scalar));
        return scalar;
    }
}

/// <summary>Checks FROST(Ed25519, SHA-512) signatures with libsodium's own RFC 8032 verifier.</summary>
internal static class FrostInterop
{
    internal static unsafe bool LibsodiumVerifies(byte[] publicKey, byte[] message, byte[] signature)
    {
        _ = PrimeOrderGroup.Ed25519; // initializes libsodium
        Assert.Equal(32, publicKey.Length);
        Assert.Equal(64, signature.Length);
        var m = message.Length == 0 ? new byte[1] : message;
        fixed (byte* s = signature, pm = m, pk = publicKey)
        {
            return Crypto.Interop.Libsodium.crypto_sign_verify_detached(s, pm, (ulong)message.Length, pk) == 0;
        }
    }
}
