using Proactive.Crypto.Codec;
using Proactive.Crypto.Dprf;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Hpke;
using static Proactive.Crypto.Tests.Codec.CodecTestData;
using static Proactive.Crypto.Tests.TestVectors;

namespace Proactive.Crypto.Tests.Codec;

/// <summary>
/// Pins the bytes of the protocol wire types built on the codec (inputs in <see cref="WireSamples"/>).
/// As in <see cref="SnapshotTests"/>, a change here changes what peers send, hash and sign: it needs
/// a new format version, never an edited snapshot. The FROST and HPKE bytes are the ones these
/// types wrote before they moved onto the codec; the DPRF output is format version 2.
/// </summary>
public class ProtocolSnapshotTests
{
    [Theory]
    [InlineData(
        "Ed25519",
        "0101" // version 1, suite
        + "0300000000000000000000000000000000000000000000000000000000000000" // identifier 3
        + "5866666666666666666666666666666666666666666666666666666666666666" // D = G
        + "c9a3f86aae465f0e56513864510f3997561fa2c9e85ea21dc2292309f3cd6022" // E = 2G
    )]
    [InlineData(
        "ristretto255",
        "0102" // version 1, suite
        + "0300000000000000000000000000000000000000000000000000000000000000" // identifier 3
        + "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76" // D = G
        + "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919" // E = 2G
    )]
    [InlineData(
        "P-256",
        "0103" // version 1, suite
        + "0000000000000000000000000000000000000000000000000000000000000003" // identifier 3
        + "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296" // D = G
        + "037cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978" // E = 2G
    )]
    public void Frost_signing_commitments_have_pinned_bytes(string suite, string expected)
    {
        var ciphersuite = Ciphersuite.FromGroupId(Group(suite).Id);
        var commitments = WireSamples.Commitments(ciphersuite);
        Assert.Equal(expected, Convert.ToHexStringLower(commitments.Encode()));
        Assert.True(SigningCommitments.TryDecode(ciphersuite, Hex(expected), out var decoded, out CodecFailure failure), failure.ToString());
        Assert.Equal(commitments.Identifier, decoded.Identifier);
        Assert.Equal(commitments.Hiding, decoded.Hiding);
        Assert.Equal(commitments.Binding, decoded.Binding);
    }

    [Theory]
    [InlineData(
        "Ed25519",
        "0101" // version 1, suite
        + "0300000000000000000000000000000000000000000000000000000000000000" // identifier 3
        + "0500000000000000000000000000000000000000000000000000000000000000" // z = 5
    )]
    [InlineData(
        "ristretto255",
        "0102" // version 1, suite
        + "0300000000000000000000000000000000000000000000000000000000000000" // identifier 3
        + "0500000000000000000000000000000000000000000000000000000000000000" // z = 5
    )]
    [InlineData(
        "P-256",
        "0103" // version 1, suite
        + "0000000000000000000000000000000000000000000000000000000000000003" // identifier 3
        + "0000000000000000000000000000000000000000000000000000000000000005" // z = 5
    )]
    public void Frost_signature_shares_have_pinned_bytes(string suite, string expected)
    {
        var ciphersuite = Ciphersuite.FromGroupId(Group(suite).Id);
        var share = WireSamples.Share(ciphersuite);
        Assert.Equal(expected, Convert.ToHexStringLower(share.Encode()));
        Assert.True(SignatureShare.TryDecode(ciphersuite, Hex(expected), out var decoded, out CodecFailure failure), failure.ToString());
        Assert.Equal(share.Identifier, decoded.Identifier);
        Assert.Equal(share.Share, decoded.Share);
    }

    [Theory]
    [InlineData(
        "Ed25519",
        "0101" // version 1, suite
        + "00000003" // server index 3
        + "2f1132ca61ab38dff00f2fea3228f24c6c71d58085b80e47e19515cb27e8d047" // Y = 4G
        + "0700000000000000000000000000000000000000000000000000000000000000" // c = 7
        + "0900000000000000000000000000000000000000000000000000000000000000" // z = 9
    )]
    [InlineData(
        "ristretto255",
        "0102" // version 1, suite
        + "00000003" // server index 3
        + "da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57" // Y = 4G
        + "0700000000000000000000000000000000000000000000000000000000000000" // c = 7
        + "0900000000000000000000000000000000000000000000000000000000000000" // z = 9
    )]
    [InlineData(
        "P-256",
        "0103" // version 1, suite
        + "00000003" // server index 3
        + "02e2534a3532d08fbba02dde659ee62bd0031fe2db785596ef509302446b030852" // Y = 4G
        + "0000000000000000000000000000000000000000000000000000000000000007" // c = 7
        + "0000000000000000000000000000000000000000000000000000000000000009" // z = 9
    )]
    public void Dprf_partial_evaluations_have_pinned_bytes(string suite, string expected)
    {
        var g = Group(suite);
        var partial = WireSamples.Partial(g);
        Assert.Equal(expected, Convert.ToHexStringLower(partial.Encode()));
        Assert.True(DprfPartialEvaluation.TryDecode(g, Hex(expected), out var decoded, out CodecFailure failure), failure.ToString());
        Assert.Equal(partial.ServerIndex, decoded.ServerIndex);
        Assert.Equal(partial.Value, decoded.Value);
        Assert.Equal(partial.Proof.Challenge, decoded.Proof.Challenge);
        Assert.Equal(partial.Proof.Response, decoded.Proof.Response);
    }

    [Theory]
    [InlineData(
        "Ed25519",
        "0201" // version 2, suite
        + "00000001" // message length
        + "6d" // "m"
        + "00000002" // 2 partials
        + "00000001" // server 1
        + "c9a3f86aae465f0e56513864510f3997561fa2c9e85ea21dc2292309f3cd6022" // Y = 2G
        + "0700000000000000000000000000000000000000000000000000000000000000" // c = 7
        + "0900000000000000000000000000000000000000000000000000000000000000" // z = 9
        + "00000003" // server 3
        + "2f1132ca61ab38dff00f2fea3228f24c6c71d58085b80e47e19515cb27e8d047" // Y = 4G
        + "0700000000000000000000000000000000000000000000000000000000000000" // c = 7
        + "0900000000000000000000000000000000000000000000000000000000000000" // z = 9
    )]
    [InlineData(
        "ristretto255",
        "0202" // version 2, suite
        + "00000001" // message length
        + "6d" // "m"
        + "00000002" // 2 partials
        + "00000001" // server 1
        + "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919" // Y = 2G
        + "0700000000000000000000000000000000000000000000000000000000000000" // c = 7
        + "0900000000000000000000000000000000000000000000000000000000000000" // z = 9
        + "00000003" // server 3
        + "da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57" // Y = 4G
        + "0700000000000000000000000000000000000000000000000000000000000000" // c = 7
        + "0900000000000000000000000000000000000000000000000000000000000000" // z = 9
    )]
    [InlineData(
        "P-256",
        "0203" // version 2, suite
        + "00000001" // message length
        + "6d" // "m"
        + "00000002" // 2 partials
        + "00000001" // server 1
        + "037cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978" // Y = 2G
        + "0000000000000000000000000000000000000000000000000000000000000007" // c = 7
        + "0000000000000000000000000000000000000000000000000000000000000009" // z = 9
        + "00000003" // server 3
        + "02e2534a3532d08fbba02dde659ee62bd0031fe2db785596ef509302446b030852" // Y = 4G
        + "0000000000000000000000000000000000000000000000000000000000000007" // c = 7
        + "0000000000000000000000000000000000000000000000000000000000000009" // z = 9
    )]
    public void Dprf_outputs_have_pinned_bytes(string suite, string expected)
    {
        var g = Group(suite);
        var output = WireSamples.Output(g);
        Assert.Equal(expected, Convert.ToHexStringLower(output.Encode()));
        Assert.True(DprfOutput.TryDecode(g, Hex(expected), out var decoded, out CodecFailure failure), failure.ToString());
        Assert.Equal(output.Message.ToArray(), decoded.Message.ToArray());
        Assert.Equal([1, 3], decoded.Partials.Select(p => p.ServerIndex));
        Assert.Equal(output.Combined, decoded.Combined);
        Assert.Equal(output.Value.ToArray(), decoded.Value.ToArray());
    }

    [Theory]
    [InlineData(
        "ChaCha20Poly1305",
        "01" // version 1
        + "0020" // kem_id DHKEM(X25519, HKDF-SHA256)
        + "0001" // kdf_id HKDF-SHA256
        + "0003" // aead_id
        + "1111111111111111111111111111111111111111111111111111111111111111" // enc
        + "00000013" // ct length 19
        + "000102030405060708090a0b0c0d0e0f101112" // ct
    )]
    [InlineData(
        "Aes128Gcm",
        "01" // version 1
        + "0020" // kem_id DHKEM(X25519, HKDF-SHA256)
        + "0001" // kdf_id HKDF-SHA256
        + "0001" // aead_id
        + "1111111111111111111111111111111111111111111111111111111111111111" // enc
        + "00000013" // ct length 19
        + "000102030405060708090a0b0c0d0e0f101112" // ct
    )]
    public void Hpke_sealed_messages_have_pinned_bytes(string aead, string expected)
    {
        var suite = aead == "Aes128Gcm" ? HpkeSuite.X25519Sha256Aes128Gcm : HpkeSuite.X25519Sha256ChaCha20Poly1305;
        var message = WireSamples.Sealed(suite);
        Assert.Equal(expected, Convert.ToHexStringLower(message.Encode()));
        Assert.True(HpkeSealedMessage.TryDecode(Hex(expected), out var decoded, out var failure), failure.ToString());
        Assert.Same(suite, decoded.Suite);
        Assert.Equal(message.EncapsulatedKey.ToArray(), decoded.EncapsulatedKey.ToArray());
        Assert.Equal(message.Ciphertext.ToArray(), decoded.Ciphertext.ToArray());
    }

    [Theory]
    [InlineData("Ed25519", "5866666666666666666666666666666666666666666666666666666666666666" + "0500000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("P-256", "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296" + "0000000000000000000000000000000000000000000000000000000000000005")]
    public void Frost_signature_stays_headerless_R_then_z(string suite, string expected)
    {
        var ciphersuite = Ciphersuite.FromGroupId(Group(suite).Id);
        Assert.Equal(expected, Convert.ToHexStringLower(WireSamples.FrostSignature(ciphersuite).Encode()));
    }
}
