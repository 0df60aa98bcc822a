using System.Buffers.Binary;
using System.Text;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Envelopes;

public sealed class EnvelopeTests : IDisposable
{
    private const ulong Period = EnvelopeTestNetwork.Period;
    private static readonly InstanceId Instance = EnvelopeTestNetwork.Instance;
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("sub-share for server 2: do not leak");

    private readonly EnvelopeTestNetwork _net = new();

    public void Dispose() => _net.Dispose();

    private static OutboundMessage BroadcastMessage(byte[]? payload = null) =>
        new(null, Attempt: 2, Round: 1, Type: 4, payload ?? [1, 2, 3], Confidential: false);

    private static OutboundMessage PrivateMessage(int recipient, byte[]? payload = null) =>
        new(recipient, Attempt: 2, Round: 1, Type: 4, payload ?? Secret, Confidential: true);

    [Fact]
    public void Broadcast_opens_at_every_server_including_the_sender()
    {
        var bytes = _net.Sealer(1).Seal(Instance, BroadcastMessage());

        for (var server = 1; server <= EnvelopeTestNetwork.ServerCount; server++)
        {
            var result = _net.Opener(server).Open(bytes, Period);

            Assert.True(result.IsAccepted, result.Rejection.ToString());
            Assert.Equal(Instance, result.Instance);
            var message = result.Message!;
            Assert.Equal(1, message.Sender);
            Assert.Equal(2u, message.Attempt);
            Assert.Equal(1, message.Round);
            Assert.Equal(4, message.Type);
            Assert.False(message.Confidential);
            Assert.Equal([1, 2, 3], message.Payload.ToArray());
            Assert.Equal(bytes, message.Signed.ToArray());
        }
    }

    [Fact]
    public void Broadcast_to_one_recipient_in_the_clear_opens_only_there()
    {
        var bytes = _net.Sealer(1).Seal(Instance, new OutboundMessage(2, 0, 1, 4, [9], Confidential: false));

        Assert.True(_net.Opener(2).Open(bytes, Period).IsAccepted);
        Assert.Equal(EnvelopeRejection.NotForThisServer, _net.Opener(3).Open(bytes, Period).Rejection);
    }

    [Fact]
    public void Confidential_message_opens_at_its_recipient_and_hides_the_payload_on_the_wire()
    {
        var bytes = _net.Sealer(1).Seal(Instance, PrivateMessage(2));

        Assert.Equal(-1, bytes.AsSpan().IndexOf(Secret.AsSpan(0, 8)));
        var result = _net.Opener(2).Open(bytes, Period);
        Assert.True(result.IsAccepted, result.Rejection.ToString());
        Assert.True(result.Message!.Confidential);
        Assert.Equal(Secret, result.Message.Payload.ToArray());
        Assert.Equal(bytes, result.Message.Signed.ToArray());
    }

    [Fact]
    public void Confidential_message_for_another_server_cannot_be_opened_even_if_readdressed()
    {
        var bytes = _net.Sealer(1).Seal(Instance, PrivateMessage(2));

        Assert.Equal(EnvelopeRejection.NotForThisServer, _net.Opener(3).Open(bytes, Period).Rejection);

        // Rewriting the recipient breaks the signature.
        var readdressed = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(readdressed.AsSpan(43), 3);
        Assert.Equal(EnvelopeRejection.BadSignature, _net.Opener(3).Open(readdressed, Period).Rejection);

        // Even signed by the sender itself, server 3's key does not open a ciphertext made for server 2.
        var envelope = Decode(bytes);
        var resigned = Envelope.Sign(envelope.Header with { Recipient = 3 }, envelope.Payload.Span, _net.Keys(1).Signing);
        var result = _net.Opener(3).Open(resigned, Period);
        Assert.Equal(EnvelopeRejection.DecryptionFailed, result.Rejection);
        Assert.True(result.SenderAuthenticated);
    }

    [Fact]
    public void Ciphertext_moved_under_another_header_by_its_own_sender_does_not_decrypt()
    {
        var envelope = Decode(_net.Sealer(1).Seal(Instance, PrivateMessage(2)));

        var moved = Envelope.Sign(envelope.Header with { Round = 9 }, envelope.Payload.Span, _net.Keys(1).Signing);

        Assert.Equal(EnvelopeRejection.DecryptionFailed, _net.Opener(2).Open(moved, Period).Rejection);
    }

    [Fact]
    public void Confidential_message_without_own_keys_for_the_period_fails_to_decrypt()
    {
        var bytes = _net.Sealer(1).Seal(Instance, PrivateMessage(2));
        var opener = new EnvelopeOpener(2, _ => null, _net.Directory, EnvelopeTestNetwork.Network, EnvelopeTestNetwork.Suite, new ReplayGuard());

        Assert.Equal(EnvelopeRejection.DecryptionFailed, opener.Open(bytes, Period).Rejection);
    }

    [Fact]
    public void Signed_garbage_or_a_short_ciphertext_fails_to_decrypt()
    {
        var header = EnvelopeTestNetwork.Header(sender: 1, recipient: 2, confidential: true);

        var shortPayload = Envelope.Sign(header, new byte[EnvelopeSealer.ConfidentialOverhead - 1], _net.Keys(1).Signing);
        var garbage = Envelope.Sign(header, new byte[100], _net.Keys(1).Signing);

        Assert.Equal(EnvelopeRejection.DecryptionFailed, _net.Opener(2).Open(shortPayload, Period).Rejection);
        Assert.Equal(EnvelopeRejection.DecryptionFailed, _net.Opener(2).Open(garbage, Period).Rejection);
    }

    [Fact]
    public void Confidential_broadcast_is_refused()
    {
        var bytes = Envelope.Sign(EnvelopeTestNetwork.Header(sender: 1, recipient: 0, confidential: true), new byte[64], _net.Keys(1).Signing);

        Assert.Equal(EnvelopeRejection.ConfidentialBroadcast, _net.Opener(2).Open(bytes, Period).Rejection);
    }

    [Fact]
    public void Tampered_payload_or_signature_is_a_bad_signature()
    {
        var bytes = _net.Sealer(1).Seal(Instance, BroadcastMessage());

        var payload = (byte[])bytes.Clone();
        payload[EnvelopeHeader.EncodedLength + 4] ^= 1;
        var signature = (byte[])bytes.Clone();
        signature[^1] ^= 0x80;

        Assert.Equal(EnvelopeRejection.BadSignature, _net.Opener(2).Open(payload, Period).Rejection);
        Assert.Equal(EnvelopeRejection.BadSignature, _net.Opener(2).Open(signature, Period).Rejection);
    }

    public static TheoryData<int, byte, EnvelopeRejection> HeaderTampering => new()
    {
        { 0, 0x02, EnvelopeRejection.WrongVersion },
        { 1, (byte)GroupId.Ristretto255, EnvelopeRejection.WrongSuite },
        { 1, 0x77, EnvelopeRejection.WrongSuite },
        { 5, 0x00, EnvelopeRejection.WrongNetwork },
        { 25, 0x06, EnvelopeRejection.BadSignature },  // period 7 -> 6: in the window, keys exist, signature breaks
        { 25, 0x09, EnvelopeRejection.FuturePeriod },
        { 26, 0x02, EnvelopeRejection.BadSignature },  // protocol Refresh -> Dkg
        { 26, 0x63, EnvelopeRejection.Malformed },     // no such protocol
        { 34, 0x04, EnvelopeRejection.BadSignature },  // sequence
        { 38, 0x03, EnvelopeRejection.BadSignature },  // attempt
        { 39, 0x05, EnvelopeRejection.BadSignature },  // round
        { 40, 0x07, EnvelopeRejection.BadSignature },  // type
        { 42, 0x02, EnvelopeRejection.BadSignature },  // sender 1 -> 2: signed by 1, claims 2
        { 42, 0x09, EnvelopeRejection.UnknownSender },
        { 42, 0x00, EnvelopeRejection.Malformed },     // sender 0
        { 44, 0x02, EnvelopeRejection.BadSignature },  // broadcast -> to server 2
        { 44, 0x03, EnvelopeRejection.NotForThisServer },
        { 45, 0x01, EnvelopeRejection.ConfidentialBroadcast },
        { 45, 0x02, EnvelopeRejection.Malformed },     // not a bool
    };

    [Theory]
    [MemberData(nameof(HeaderTampering))]
    public void Tampered_header_byte_is_refused_with_its_reason(int offset, byte value, EnvelopeRejection expected)
    {
        var bytes = _net.Sealer(1).Seal(Instance, BroadcastMessage());
        Assert.NotEqual(value, bytes[offset]);
        bytes[offset] = value;

        var result = _net.Opener(2).Open(bytes, Period);

        Assert.Equal(expected, result.Rejection);
        Assert.Null(result.Message);
        Assert.False(result.SenderAuthenticated);
    }

    [Fact]
    public void Every_single_bit_flip_is_refused()
    {
        var bytes = _net.Sealer(1).Seal(Instance, BroadcastMessage());
        var opener = _net.Opener(2);

        for (var i = 0; i < bytes.Length; i++)
        {
            var copy = (byte[])bytes.Clone();
            copy[i] ^= (byte)(1 << (i % 8));
            Assert.False(opener.Open(copy, Period).IsAccepted, $"bit flip at byte {i} was accepted");
        }
    }

    [Fact]
    public void Envelope_signed_by_another_servers_key_is_a_bad_signature()
    {
        var bytes = Envelope.Sign(EnvelopeTestNetwork.Header(sender: 1), [1, 2, 3], _net.Keys(2).Signing);

        Assert.Equal(EnvelopeRejection.BadSignature, _net.Opener(3).Open(bytes, Period).Rejection);
    }

    [Fact]
    public void Envelope_signed_with_the_previous_periods_key_is_a_bad_signature()
    {
        var bytes = Envelope.Sign(EnvelopeTestNetwork.Header(sender: 1), [1, 2, 3], _net.Keys(1, Period - 1).Signing);

        Assert.Equal(EnvelopeRejection.BadSignature, _net.Opener(3).Open(bytes, Period).Rejection);
    }

    [Fact]
    public void Envelope_of_another_network_is_refused()
    {
        var sealer = new EnvelopeSealer(1, _net.Keys(1), _net.Directory, EnvelopeTestNetwork.OtherNetwork, EnvelopeTestNetwork.Suite, new DeterministicRandomSource(1));

        var bytes = sealer.Seal(Instance, BroadcastMessage());

        Assert.Equal(EnvelopeRejection.WrongNetwork, _net.Opener(2).Open(bytes, Period).Rejection);
    }

    [Fact]
    public void Envelope_of_another_suite_is_refused()
    {
        var sealer = new EnvelopeSealer(1, _net.Keys(1), _net.Directory, EnvelopeTestNetwork.Network, PrimeOrderGroup.P256, new DeterministicRandomSource(1));

        var bytes = sealer.Seal(Instance, BroadcastMessage());

        Assert.Equal(EnvelopeRejection.WrongSuite, _net.Opener(2).Open(bytes, Period).Rejection);
    }

    [Fact]
    public void Envelope_from_a_server_without_keys_in_the_period_is_an_unknown_sender()
    {
        using var stranger = PeriodKeys.Generate(4, Period, new DeterministicRandomSource(4));
        var bytes = Envelope.Sign(EnvelopeTestNetwork.Header(sender: 4), [1], stranger.Signing);

        Assert.Equal(EnvelopeRejection.UnknownSender, _net.Opener(2).Open(bytes, Period).Rejection);
    }

    [Theory]
    [InlineData(Period, true, EnvelopeRejection.None)]
    [InlineData(Period + 1, true, EnvelopeRejection.None)]      // one period of lag
    [InlineData(Period - 1, true, EnvelopeRejection.None)]      // one period of lead
    [InlineData(Period + 2, false, EnvelopeRejection.StalePeriod)]
    [InlineData(Period + 100, false, EnvelopeRejection.StalePeriod)]
    [InlineData(Period - 2, false, EnvelopeRejection.FuturePeriod)]
    [InlineData(0, false, EnvelopeRejection.FuturePeriod)]
    public void Period_window_is_the_current_period_plus_or_minus_one(ulong current, bool accepted, EnvelopeRejection expected)
    {
        var bytes = _net.Sealer(1).Seal(Instance, BroadcastMessage());

        var result = _net.Opener(2).Open(bytes, current);

        Assert.Equal(accepted, result.IsAccepted);
        Assert.Equal(expected, result.Rejection);
    }

    [Fact]
    public void Current_period_never_goes_back()
    {
        var bytes = _net.Sealer(1).Seal(Instance, BroadcastMessage());
        var opener = _net.Opener(2);

        Assert.Equal(EnvelopeRejection.StalePeriod, opener.Open(bytes, Period + 2).Rejection);
        Assert.Equal(EnvelopeRejection.StalePeriod, opener.Open(bytes, Period).Rejection);
        Assert.Equal(Period + 2, opener.CurrentPeriod);
    }

    [Fact]
    public void Same_signed_bytes_are_accepted_once_then_refused_as_replay()
    {
        var bytes = _net.Sealer(1).Seal(Instance, BroadcastMessage());
        var opener = _net.Opener(2);

        Assert.True(opener.Open(bytes, Period).IsAccepted);
        var replay = opener.Open(bytes, Period);

        Assert.Equal(EnvelopeRejection.Replay, replay.Rejection);
        Assert.True(replay.SenderAuthenticated);
        Assert.Equal(EnvelopeRejection.Replay, opener.Open(bytes, Period + 1).Rejection);
    }

    [Fact]
    public void Resending_the_same_broadcast_gives_the_same_bytes_so_the_replay_guard_deduplicates_it()
    {
        var sealer = _net.Sealer(1);

        Assert.Equal(sealer.Seal(Instance, BroadcastMessage()), sealer.Seal(Instance, BroadcastMessage()));
    }

    [Fact]
    public void Replay_guard_forgets_periods_that_are_over_and_they_stay_refused_as_stale()
    {
        var guard = new ReplayGuard();
        var opener = _net.Opener(2, guard);
        var bytes = _net.Sealer(1).Seal(Instance, BroadcastMessage());
        var next = _net.Sealer(1, Period + 1).Seal(Instance with { Period = Period + 1 }, BroadcastMessage());

        Assert.True(opener.Open(bytes, Period).IsAccepted);
        Assert.True(opener.Open(next, Period + 1).IsAccepted);
        Assert.Equal(2, guard.Count);

        Assert.Equal(EnvelopeRejection.StalePeriod, opener.Open(bytes, Period + 2).Rejection);
        Assert.Equal(1, guard.Count);
        Assert.False(guard.Contains(Period, bytes));
        Assert.Equal(EnvelopeRejection.Replay, opener.Open(next, Period + 2).Rejection);
    }

    [Fact]
    public void Truncation_at_every_length_is_refused_as_malformed()
    {
        var bytes = _net.Sealer(1).Seal(Instance, BroadcastMessage());
        var opener = _net.Opener(2);

        for (var length = 0; length < bytes.Length; length++)
        {
            var result = opener.Open(bytes.AsSpan(0, length), Period);
            Assert.True(result.Rejection == EnvelopeRejection.Malformed, $"length {length}: {result.Rejection}");
            Assert.Equal(CodecError.Truncated, result.Failure.Error);
        }
    }

    [Fact]
    public void Trailing_bytes_are_refused_as_malformed()
    {
        var bytes = _net.Sealer(1).Seal(Instance, BroadcastMessage());

        var result = _net.Opener(2).Open([.. bytes, 0], Period);

        Assert.Equal(EnvelopeRejection.Malformed, result.Rejection);
        Assert.Equal(CodecError.TrailingBytes, result.Failure.Error);
    }

    [Fact]
    public void Input_over_the_maximum_length_is_oversized_before_parsing()
    {
        var result = _net.Opener(2).Open(new byte[Envelope.MaxEncodedLength + 1], Period);

        Assert.Equal(EnvelopeRejection.Oversized, result.Rejection);
        Assert.Null(result.Header);
    }

    [Fact]
    public void Payload_length_over_the_maximum_is_oversized()
    {
        var bytes = _net.Sealer(1).Seal(Instance, BroadcastMessage());
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(EnvelopeHeader.EncodedLength), Envelope.MaxPayloadLength + 1);

        Assert.Equal(EnvelopeRejection.Oversized, _net.Opener(2).Open(bytes, Period).Rejection);
    }

    [Fact]
    public void Largest_payload_round_trips()
    {
        var payload = new byte[Envelope.MaxPayloadLength];
        payload[^1] = 7;
        var bytes = _net.Sealer(1).Seal(Instance, BroadcastMessage(payload));

        Assert.Equal(Envelope.MaxEncodedLength, bytes.Length);
        var result = _net.Opener(2).Open(bytes, Period);
        Assert.True(result.IsAccepted);
        Assert.Equal(7, result.Message!.Payload.Span[^1]);
        Assert.Throws<ArgumentException>(() => _net.Sealer(1).Seal(Instance, BroadcastMessage(new byte[Envelope.MaxPayloadLength + 1])));
        Assert.Throws<ArgumentException>(() => _net.Sealer(1).Seal(Instance, PrivateMessage(2, new byte[EnvelopeSealer.MaxConfidentialPlaintextLength + 1])));
    }

    [Fact]
    public void Sealer_refuses_caller_mistakes()
    {
        var sealer = _net.Sealer(1);

        Assert.Throws<ArgumentException>(() => sealer.Seal(Instance with { Period = Period + 1 }, BroadcastMessage()));
        Assert.Throws<ArgumentException>(() => sealer.Seal(Instance, new OutboundMessage(null, 0, 1, 1, [1], Confidential: true)));
        Assert.Throws<ArgumentOutOfRangeException>(() => sealer.Seal(Instance, new OutboundMessage(0, 0, 1, 1, [1], Confidential: false)));
        Assert.Throws<ArgumentException>(() => new EnvelopeSealer(2, _net.Keys(1), _net.Directory, EnvelopeTestNetwork.Network, EnvelopeTestNetwork.Suite, new DeterministicRandomSource(1)));
    }

    [Fact]
    public void Confidential_message_to_a_server_without_a_known_key_cannot_be_sealed()
    {
        var sealer = _net.Sealer(1);

        Assert.False(sealer.TrySeal(Instance, PrivateMessage(9), out var envelope));
        Assert.Null(envelope);
        Assert.Throws<InvalidOperationException>(() => sealer.Seal(Instance, PrivateMessage(9)));
    }

    [Fact]
    public void Confidential_message_to_a_small_order_key_cannot_be_sealed()
    {
        // A peer registered the all-zero X25519 key, which has small order.
        var directory = new PeriodKeyDirectory();
        var signing = _net.Keys(3).PublicKeys.Signing;
        Assert.True(directory.TryAdd(new PeriodPublicKeys(3, Period, signing, Proactive.Crypto.Hpke.HpkePublicKey.Decode(new byte[32]))));
        var sealer = new EnvelopeSealer(1, _net.Keys(1), directory, EnvelopeTestNetwork.Network, EnvelopeTestNetwork.Suite, new DeterministicRandomSource(1));

        Assert.False(sealer.TrySeal(Instance, PrivateMessage(3), out _));
    }

    [Fact]
    public void Decoded_envelope_re_encodes_to_the_same_bytes_and_verifies()
    {
        var bytes = _net.Sealer(1).Seal(Instance, PrivateMessage(2));

        var envelope = Decode(bytes);

        Assert.Equal(bytes, envelope.Encode());
        Assert.True(envelope.VerifySignature(_net.Keys(1).PublicKeys.Signing));
        Assert.False(envelope.VerifySignature(_net.Keys(2).PublicKeys.Signing));
        Assert.Equal(EnvelopeTestNetwork.Header(1, 2, confidential: true), envelope.Header);
        Assert.Equal(Secret.Length + EnvelopeSealer.ConfidentialOverhead, envelope.Payload.Length);
    }

    private static Envelope Decode(byte[] bytes)
    {
        Assert.True(Envelope.TryDecode(bytes, EnvelopeTestNetwork.Suite, out var envelope, out var failure), failure.ToString());
        return envelope;
    }
}
