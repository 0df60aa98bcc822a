using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;

namespace Proactive.Crypto.Tests.Hpke;

/// <summary>Untrusted input (enc, ciphertexts, their order) fails with false, never an exception.</summary>
public class HpkeBadInputTests
{
    private static readonly byte[] Info = "proactive hpke tests"u8.ToArray();
    private static readonly byte[] Aad = "aad"u8.ToArray();
    private static readonly byte[] Plaintext = "a share of a secret"u8.ToArray();

    public static TheoryData<string> Suites => HpkeSuites.Names;

    /// <summary>X25519 u-coordinates of small order (RFC 7748 / libsodium's blocklist): X25519 with any of them is all zeros.</summary>
    public static TheoryData<string> SmallOrderPoints => new()
    {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };

    [Theory]
    [MemberData(nameof(Suites))]
    public void SetupBaseR_with_wrong_enc_length_fails_cleanly(string name)
    {
        var suite = HpkeSuites.ByName(name);
        using var recipient = HpkeBaseMode.GenerateKeyPair(new DeterministicRandomSource(1));
        foreach (var length in new[] { 0, 1, 31, 33, 64 })
        {
            Assert.False(HpkeBaseMode.TrySetupBaseR(suite, new byte[length], recipient, Info, out var context));
            Assert.Null(context);
        }
    }

    [Theory]
    [MemberData(nameof(SmallOrderPoints))]
    public void SetupBaseR_with_small_order_enc_fails_cleanly_because_the_DH_output_is_all_zeros(string pointHex)
    {
        using var recipient = HpkeBaseMode.GenerateKeyPair(new DeterministicRandomSource(2));
        foreach (var suite in HpkeSuite.All)
        {
            Assert.False(HpkeBaseMode.TrySetupBaseR(suite, Convert.FromHexString(pointHex), recipient, Info, out var context));
            Assert.Null(context);
        }
    }

    [Theory]
    [MemberData(nameof(SmallOrderPoints))]
    public void Setup_to_a_small_order_recipient_key_is_refused(string pointHex)
    {
        var key = HpkePublicKey.Decode(Convert.FromHexString(pointHex));
        var suite = HpkeSuite.X25519Sha256ChaCha20Poly1305;
        Assert.False(HpkeBaseMode.TrySetupBaseS(suite, key, Info, new DeterministicRandomSource(3), out var enc, out var context));
        Assert.Null(enc);
        Assert.Null(context);
        Assert.Throws<ArgumentException>(() => HpkeBaseMode.SetupBaseS(suite, key, Info, new DeterministicRandomSource(3)));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Open_with_flipped_tag_bit_fails_cleanly(string name)
    {
        var (sender, receiver) = Pair(HpkeSuites.ByName(name));
        using (sender)
        using (receiver)
        {
            var ct = sender.Seal(Aad, Plaintext);
            ct[^1] ^= 0x01;
            Assert.False(receiver.TryOpen(Aad, ct, out var pt));
            Assert.Null(pt);
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Open_with_flipped_ciphertext_bit_or_wrong_aad_fails_cleanly(string name)
    {
        var (sender, receiver) = Pair(HpkeSuites.ByName(name));
        using (sender)
        using (receiver)
        {
            var ct = sender.Seal(Aad, Plaintext);
            var flipped = (byte[])ct.Clone();
            flipped[0] ^= 0x80;
            Assert.False(receiver.TryOpen(Aad, flipped, out _));
            Assert.False(receiver.TryOpen("other aad"u8, ct, out _));
            Assert.True(receiver.TryOpen(Aad, ct, out var pt));
            Assert.Equal(Plaintext, pt);
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Open_of_truncated_ciphertext_fails_cleanly(string name)
    {
        var (sender, receiver) = Pair(HpkeSuites.ByName(name));
        using (sender)
        using (receiver)
        {
            var ct = sender.Seal(Aad, Plaintext);
            for (var length = 0; length < ct.Length; length++)
            {
                Assert.False(receiver.TryOpen(Aad, ct.AsSpan(0, length), out var pt));
                Assert.Null(pt);
            }

            Assert.Equal(0UL, receiver.SequenceNumber);
            Assert.True(receiver.TryOpen(Aad, ct, out _));
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Open_of_ciphertext_shorter_than_the_tag_fails_even_with_a_span_destination(string name)
    {
        var (sender, receiver) = Pair(HpkeSuites.ByName(name));
        using (sender)
        using (receiver)
        {
            // No destination length can be right for these, so none is demanded: it is data, not misuse.
            Assert.False(receiver.TryOpen(Aad, new byte[HpkeSuite.TagLength - 1], Span<byte>.Empty));
            Assert.False(receiver.TryOpen(Aad, ReadOnlySpan<byte>.Empty, Span<byte>.Empty));
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Failed_open_does_not_advance_the_sequence_number(string name)
    {
        var (sender, receiver) = Pair(HpkeSuites.ByName(name));
        using (sender)
        using (receiver)
        {
            var first = sender.Seal(Aad, Plaintext);
            var forged = (byte[])first.Clone();
            forged[3] ^= 0x10;
            Assert.False(receiver.TryOpen(Aad, forged, out _));
            Assert.Equal(0UL, receiver.SequenceNumber);
            Assert.True(receiver.TryOpen(Aad, first, out _));
            Assert.Equal(1UL, receiver.SequenceNumber);
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Replayed_ciphertext_does_not_open_a_second_time(string name)
    {
        var (sender, receiver) = Pair(HpkeSuites.ByName(name));
        using (sender)
        using (receiver)
        {
            var first = sender.Seal(Aad, Plaintext);
            Assert.True(receiver.TryOpen(Aad, first, out _));
            Assert.False(receiver.TryOpen(Aad, first, out _));

            var second = sender.Seal(Aad, Plaintext);
            Assert.True(receiver.TryOpen(Aad, second, out _));
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Out_of_order_ciphertext_fails_and_the_in_order_one_still_opens(string name)
    {
        var (sender, receiver) = Pair(HpkeSuites.ByName(name));
        using (sender)
        using (receiver)
        {
            var first = sender.Seal(Aad, Plaintext);
            var second = sender.Seal(Aad, Plaintext);
            Assert.NotEqual(first, second);
            Assert.False(receiver.TryOpen(Aad, second, out _));
            Assert.True(receiver.TryOpen(Aad, first, out _));
            Assert.True(receiver.TryOpen(Aad, second, out _));
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Sealing_at_the_message_limit_throws_and_opening_there_fails_cleanly(string name)
    {
        var (sender, receiver) = Pair(HpkeSuites.ByName(name));
        using (sender)
        using (receiver)
        {
            sender.SetSequenceNumberForTesting(ulong.MaxValue - 1);
            receiver.SetSequenceNumberForTesting(ulong.MaxValue - 1);
            var last = sender.Seal(Aad, Plaintext);
            Assert.True(receiver.TryOpen(Aad, last, out _));
            Assert.True(sender.MessageLimitReached);
            Assert.True(receiver.MessageLimitReached);

            Assert.Throws<InvalidOperationException>(() => sender.Seal(Aad, Plaintext));
            Assert.Equal(ulong.MaxValue, sender.SequenceNumber);

            // Even a ciphertext that was valid under the wrapped-around nonce must not open.
            Assert.False(receiver.TryOpen(Aad, last, out _));
            Assert.Equal(ulong.MaxValue, receiver.SequenceNumber);
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Message_for_another_recipient_or_info_does_not_open(string name)
    {
        var suite = HpkeSuites.ByName(name);
        using var recipient = HpkeBaseMode.GenerateKeyPair(new DeterministicRandomSource(10));
        using var other = HpkeBaseMode.GenerateKeyPair(new DeterministicRandomSource(11));
        var message = HpkeBaseMode.Seal(suite, recipient.PublicKey, Info, Aad, Plaintext, new DeterministicRandomSource(12));

        Assert.False(HpkeBaseMode.TryOpen(suite, other, Info, Aad, message, out _));
        Assert.False(HpkeBaseMode.TryOpen(suite, recipient, "other info"u8, Aad, message, out _));
        Assert.True(HpkeBaseMode.TryOpen(suite, recipient, Info, Aad, message, out var pt));
        Assert.Equal(Plaintext, pt);
    }

    [Fact]
    public void Message_sealed_under_one_suite_is_refused_by_a_recipient_expecting_another()
    {
        using var recipient = HpkeBaseMode.GenerateKeyPair(new DeterministicRandomSource(13));
        var message = HpkeBaseMode.Seal(HpkeSuite.X25519Sha256Aes128Gcm, recipient.PublicKey, Info, Aad, Plaintext, new DeterministicRandomSource(14));
        Assert.False(HpkeBaseMode.TryOpen(HpkeSuite.X25519Sha256ChaCha20Poly1305, recipient, Info, Aad, message, out _));
    }

    private static (HpkeSenderContext Sender, HpkeRecipientContext Receiver) Pair(HpkeSuite suite)
    {
        using var recipient = HpkeBaseMode.GenerateKeyPair(new DeterministicRandomSource(99));
        var (enc, sender) = HpkeBaseMode.SetupBaseS(suite, recipient.PublicKey, Info, new DeterministicRandomSource(100));
        Assert.True(HpkeBaseMode.TrySetupBaseR(suite, enc, recipient, Info, out var receiver));
        return (sender, receiver);
    }
}
