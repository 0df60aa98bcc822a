// References: toolkit paper (seed 001) Table 1 step 3 (a recovering server sends K_i "in the clear"),
// Table 2 (a recovering server adopts [S_cert(M), M] from whoever sends a valid copy) and Table 3 (the
// period-0 keys and M_i are exchanged before any period key is known); docs/PROTOCOLS.md "Messages".
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Envelopes;

/// <summary>
/// The one unsigned frame: a message whose payload authenticates itself, sent to peers that cannot
/// verify its sender's period key because no such key is known to them yet.
/// </summary>
/// <remarks>
/// <para><b>Why it exists.</b> Envelopes are signed with the sender's key of the instance's period,
/// which a peer learns from the KeyTable of that period. Three messages must travel before that: the
/// initialization exchanges (Table 3: there are no period keys yet), the Vcert-recover push and request
/// (Table 2: a recovering server knows no keys), and the KeyTable entries themselves (Table 1: they are
/// how the new keys become known). Each of them carries its own proof: an exchange item is signed
/// with the sender's start key (checked against C), a copy of [S_cert(M), M] is checked against the
/// recipient's own V_start and V_cert, a KeyTable entry is signed with the new key and, unless it is
/// sent in the clear by a recovering server, with the previous one. A fourth, the period certificate and
/// its request, lets a server that restarted without the keys of the current period learn them: the
/// certificate is the network's threshold signature over the decided KeyTable and the public-state hash,
/// checked against the network key before anything in it is used. <see cref="IsAllowed"/> is that
/// list and nothing else: anything else in an open frame is refused.</para>
/// <para><b>Format</b>: the 46 bytes of an <see cref="EnvelopeHeader"/> with the version byte replaced by
/// <see cref="FormatVersion"/> (so an open frame never parses as an envelope and vice versa), the
/// payload length (u32) and the payload. Never confidential, no signature.</para>
/// <para><b>Sender.</b> The header's sender is a claim. The node accepts an open frame only when the
/// claim matches the peer the transport authenticated at the TLS layer, and the machines that receive
/// open frames treat the sender as unauthenticated unless the payload proves otherwise.</para>
/// </remarks>
public static class OpenFrame
{
    /// <summary>The first byte of every open frame (an envelope starts with <see cref="Envelope.FormatVersion"/>).</summary>
    public const byte FormatVersion = 0x81;

    /// <summary>The largest payload an open frame carries (an invariant certificate for 1024 servers fits).</summary>
    public const int MaxPayloadLength = 256 * 1024;

    /// <summary>The largest encoded open frame.</summary>
    public const int MaxEncodedLength = EnvelopeHeader.EncodedLength + 4 + MaxPayloadLength;

    /// <summary>Whether a message of <paramref name="instance"/>, round and type may travel unsigned (see the remarks).</summary>
    public static bool IsAllowed(InstanceId instance, byte round, byte type) => instance.Protocol switch
    {
        ProtocolKind.Bootstrap => true,
        ProtocolKind.KeyTable => (instance.Sequence == 0 && round == KeyTableWire.EntryRound && type == KeyTableWire.EntryType)
            || (instance.Sequence == PeriodCertificateMachine.CertificateSequence && round == PeriodCertificateWire.Round),
        _ => false,
    };

    /// <summary>Encodes <paramref name="message"/> of <paramref name="instance"/> from <paramref name="sender"/>.</summary>
    /// <exception cref="ArgumentException">The message may not travel unsigned, is confidential, or is too large.</exception>
    public static byte[] Encode(GroupId suite, NetworkId network, int sender, InstanceId instance, OutboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        PeriodPublicKeys.CheckServerId(sender);
        if (!IsAllowed(instance, message.Round, message.Type) || message.Confidential)
        {
            throw new ArgumentException($"A message of {instance} round {message.Round} type {message.Type} must be signed.", nameof(message));
        }

        if (message.Payload.Length > MaxPayloadLength)
        {
            throw new ArgumentException($"An open frame holds at most {MaxPayloadLength} bytes.", nameof(message));
        }

        var header = new EnvelopeHeader(suite, network, instance, message.Attempt, message.Round, message.Type, (ushort)sender, (ushort)(message.Recipient ?? EnvelopeHeader.Broadcast), false);
        var bytes = new byte[EnvelopeHeader.EncodedLength + 4 + message.Payload.Length];
        var writer = new CanonicalWriter(bytes);
        header.WriteTo(ref writer);
        writer.WriteU32((uint)message.Payload.Length);
        writer.WriteFixedBytes(message.Payload);
        bytes[0] = FormatVersion;
        return bytes;
    }

    /// <summary>Whether <paramref name="bytes"/> claims to be an open frame (its first byte); an envelope does not.</summary>
    public static bool LooksLikeOpenFrame(ReadOnlySpan<byte> bytes) => bytes.Length > 0 && bytes[0] == FormatVersion;

    /// <summary>
    /// Reads untrusted bytes: a well-formed frame of this network and suite, for this recipient,
    /// carrying an allowed message. Never throws; <paramref name="rejection"/> says why not.
    /// </summary>
    public static bool TryDecode(
        ReadOnlySpan<byte> bytes, PrimeOrderGroup suite, NetworkId network, int self,
        out EnvelopeHeader header, [NotNullWhen(true)] out InboundMessage? message, [NotNullWhen(false)] out string? rejection)
    {
        ArgumentNullException.ThrowIfNull(suite);
        header = default;
        message = null;
        if (bytes.Length > MaxEncodedLength)
        {
            rejection = "oversized open frame";
            return false;
        }

        if (!LooksLikeOpenFrame(bytes) || bytes.Length < EnvelopeHeader.EncodedLength)
        {
            rejection = "not an open frame";
            return false;
        }

        var copy = bytes.ToArray();
        copy[0] = Envelope.FormatVersion;
        var reader = new CanonicalReader(copy);
        if (!EnvelopeHeader.TryRead(ref reader, suite, out header)
            || !reader.TryReadBytes(MaxPayloadLength, out var payload, "payload")
            || !reader.TryReadEnd())
        {
            rejection = $"malformed open frame ({reader.Failure})";
            return false;
        }

        if (header.Network != network)
        {
            rejection = "open frame of another network";
            return false;
        }

        if (header.Confidential || !IsAllowed(header.Instance, header.Round, header.Type))
        {
            rejection = $"{header.Instance} round {header.Round} type {header.Type} may not travel unsigned";
            return false;
        }

        if (header.Recipient != EnvelopeHeader.Broadcast && header.Recipient != self)
        {
            rejection = "open frame for another server";
            return false;
        }

        message = new InboundMessage(header.Sender, header.Attempt, header.Round, header.Type, payload.ToArray(), false, bytes.ToArray());
        rejection = null;
        return true;
    }
}
