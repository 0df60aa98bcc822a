using System.Buffers.Binary;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;

namespace Proactive.Crypto.Tests.Hpke;

/// <summary>The single-shot wire form: one canonical encoding, every malformed variant rejected by TryDecode.</summary>
public class HpkeSealedMessageTests
{
    private static readonly byte[] Info = "wire tests"u8.ToArray();
    private static readonly byte[] Plaintext = "payload"u8.ToArray();

    public static TheoryData<string> Suites => HpkeSuites.Names;

    [Theory]
    [MemberData(nameof(Suites))]
    public void Encoded_message_decodes_to_the_same_message_and_opens(string name)
    {
        var suite = HpkeSuites.ByName(name);
        using var recipient = HpkeBaseMode.GenerateKeyPair(new DeterministicRandomSource(1));
        var wire = HpkeBaseMode.Seal(suite, recipient.PublicKey, Info, [], Plaintext, new DeterministicRandomSource(2)).Encode();

        Assert.True(HpkeSealedMessage.TryDecode(wire, out var decoded));
        Assert.Same(suite, decoded.Suite);
        Assert.Equal(wire, decoded.Encode());
        Assert.True(HpkeBaseMode.TryOpen(suite, recipient, Info, [], decoded, out var pt));
        Assert.Equal(Plaintext, pt);
    }

    [Fact]
    public void Encoding_layout_is_version_suite_enc_length_ciphertext()
    {
        using var recipient = HpkeBaseMode.GenerateKeyPair(new DeterministicRandomSource(1));
        var message = HpkeBaseMode.Seal(HpkeSuite.X25519Sha256ChaCha20Poly1305, recipient.PublicKey, Info, [], Plaintext, new DeterministicRandomSource(2));
        var wire = message.Encode();

        Assert.Equal(43 + Plaintext.Length + 16, wire.Length);
        Assert.Equal(Convert.FromHexString("01" + "0020" + "0001" + "0003"), wire[..7]);
        Assert.Equal(message.EncapsulatedKey.ToArray(), wire[7..39]);
        Assert.Equal((uint)(Plaintext.Length + 16), BinaryPrimitives.ReadUInt32BigEndian(wire.AsSpan(39)));
        Assert.Equal(message.Ciphertext.ToArray(), wire[43..]);
    }

    [Fact]
    public void TryDecode_rejects_trailing_bytes()
    {
        var wire = Sample();
        Assert.False(HpkeSealedMessage.TryDecode([.. wire, 0x00], out var message));
        Assert.Null(message);
    }

    [Fact]
    public void TryDecode_rejects_every_truncation()
    {
        var wire = Sample();
        for (var length = 0; length < wire.Length; length++)
        {
            Assert.False(HpkeSealedMessage.TryDecode(wire.AsSpan(0, length), out _), $"length {length}");
        }
    }

    [Fact]
    public void TryDecode_rejects_unknown_version_and_unknown_suite()
    {
        var wire = Sample();
        var version = (byte[])wire.Clone();
        version[0] = 0x02;
        Assert.False(HpkeSealedMessage.TryDecode(version, out _));

        foreach (var offset in new[] { 1, 3, 5 })
        {
            var suite = (byte[])wire.Clone();
            suite[offset + 1] ^= 0x40;
            Assert.False(HpkeSealedMessage.TryDecode(suite, out _), $"suite byte {offset + 1}");
        }

        var exportOnly = (byte[])wire.Clone();
        exportOnly[5] = 0xff;
        exportOnly[6] = 0xff;
        Assert.False(HpkeSealedMessage.TryDecode(exportOnly, out _));
    }

    [Fact]
    public void TryDecode_rejects_a_ciphertext_length_below_the_tag_or_above_the_bound()
    {
        var header = Sample()[..HpkeSealedMessage.HeaderLength];

        var shortCt = (byte[])header.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(shortCt.AsSpan(39), 15);
        Assert.False(HpkeSealedMessage.TryDecode([.. shortCt, .. new byte[15]], out _));

        var huge = (byte[])header.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(huge.AsSpan(39), uint.MaxValue);
        Assert.False(HpkeSealedMessage.TryDecode(huge, out _));

        var overBound = (byte[])header.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(overBound.AsSpan(39), HpkeSealedMessage.MaxCiphertextLength + 1);
        Assert.False(HpkeSealedMessage.TryDecode([.. overBound, .. new byte[HpkeSealedMessage.MaxCiphertextLength + 1]], out _));
    }

    [Fact]
    public void Decoded_message_with_small_order_enc_fails_to_open_cleanly()
    {
        var suite = HpkeSuite.X25519Sha256ChaCha20Poly1305;
        using var recipient = HpkeBaseMode.GenerateKeyPair(new DeterministicRandomSource(1));
        var wire = Sample();
        wire.AsSpan(7, 32).Clear();
        Assert.True(HpkeSealedMessage.TryDecode(wire, out var message));
        Assert.False(HpkeBaseMode.TryOpen(suite, recipient, Info, [], message, out var pt));
        Assert.Null(pt);
    }

    [Fact]
    public void Single_shot_seal_refuses_plaintext_over_the_wire_bound()
    {
        using var recipient = HpkeBaseMode.GenerateKeyPair(new DeterministicRandomSource(1));
        var tooLong = new byte[HpkeSealedMessage.MaxCiphertextLength - HpkeSuite.TagLength + 1];
        Assert.Throws<ArgumentException>(() =>
            HpkeBaseMode.Seal(HpkeSuite.X25519Sha256ChaCha20Poly1305, recipient.PublicKey, Info, [], tooLong, new DeterministicRandomSource(2)));
    }

    [Fact]
    public void Encode_into_a_wrong_size_buffer_throws()
    {
        Assert.True(HpkeSealedMessage.TryDecode(Sample(), out var message));
        Assert.Throws<ArgumentException>(() => message.Encode(new byte[message.EncodedLength - 1]));
        Assert.Throws<ArgumentException>(() => message.Encode(new byte[message.EncodedLength + 1]));
    }

    private static byte[] Sample()
    {
        using var recipient = HpkeBaseMode.GenerateKeyPair(new DeterministicRandomSource(1));
        return HpkeBaseMode.Seal(HpkeSuite.X25519Sha256ChaCha20Poly1305, recipient.PublicKey, Info, [], Plaintext, new DeterministicRandomSource(2)).Encode();
    }
}
