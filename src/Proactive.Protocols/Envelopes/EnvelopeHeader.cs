// References: docs/BRIEF.md section 3 ("each message names network, period, protocol instance,
// round, sender"); toolkit paper (seed 001) section 6.2 (one canonical encoding for signed data).

using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Envelopes;

/// <summary>
/// Everything an envelope says about a message except its payload: where it belongs (suite,
/// network, instance with its period, attempt, round, type), who sent it to whom, and whether the
/// payload is encrypted. Its bytes are the HPKE associated data of a confidential payload, so a
/// ciphertext cannot be moved under another header.
/// </summary>
/// <param name="Suite">The network's group (its GroupId is the suite byte).</param>
/// <param name="Network">The network.</param>
/// <param name="Instance">The protocol instance; its period is also the period of the keys that sign and encrypt.</param>
/// <param name="Attempt">The sender's attempt.</param>
/// <param name="Round">The protocol round.</param>
/// <param name="Type">The message type within the protocol.</param>
/// <param name="Sender">The sender, 1..65535.</param>
/// <param name="Recipient">The recipient, or 0 for every server.</param>
/// <param name="Confidential">Whether the payload is HPKE-encrypted to the recipient.</param>
public readonly record struct EnvelopeHeader(
    GroupId Suite,
    NetworkId Network,
    InstanceId Instance,
    uint Attempt,
    byte Round,
    byte Type,
    ushort Sender,
    ushort Recipient,
    bool Confidential)
{
    /// <summary>
    /// Encoded length: version 1, suite 1, network 16, period 8, protocol 1, sequence 8, attempt 4,
    /// round 1, type 1, sender 2, recipient 2, confidential 1.
    /// </summary>
    public const int EncodedLength = 46;

    /// <summary>The recipient value that means "every server".</summary>
    public const ushort Broadcast = 0;

    /// <summary>The period of the instance, the keys and the replay window.</summary>
    public ulong Period => Instance.Period;

    /// <summary>The header bytes as they open the envelope (the HPKE aad of a confidential payload).</summary>
    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        var writer = new CanonicalWriter(bytes);
        WriteTo(ref writer);
        return bytes;
    }

    internal void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteHeader(Envelope.FormatVersion, Suite);
        writer.WriteFixedBytes(Network.ToArray());
        writer.WriteU64(Instance.Period);
        writer.WriteU8((byte)Instance.Protocol);
        writer.WriteU64(Instance.Sequence);
        writer.WriteU32(Attempt);
        writer.WriteU8(Round);
        writer.WriteU8(Type);
        writer.WriteU16(Sender);
        writer.WriteU16(Recipient);
        writer.WriteBool(Confidential);
    }

    /// <summary>Reads a header from untrusted bytes; on failure the reader holds the reason.</summary>
    internal static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, out EnvelopeHeader header)
    {
        header = default;
        if (!reader.TryReadHeader(Envelope.FormatVersion, expectedSuite, out var suite)
            || !reader.TryReadFixedBytes(NetworkId.Length, out var network, "network")
            || !reader.TryReadU64(out var period, "period"))
        {
            return false;
        }

        var networkId = NetworkId.FromBytes(network);
        var protocolOffset = reader.Offset;
        if (!reader.TryReadU8(out var protocol, "protocol"))
        {
            return false;
        }

        if (!Enum.IsDefined((ProtocolKind)protocol))
        {
            return reader.Fail(CodecError.InvalidValue, protocolOffset, "protocol");
        }

        if (!reader.TryReadU64(out var sequence, "sequence")
            || !reader.TryReadU32(out var attempt, "attempt")
            || !reader.TryReadU8(out var round, "round")
            || !reader.TryReadU8(out var type, "type"))
        {
            return false;
        }

        var senderOffset = reader.Offset;
        if (!reader.TryReadU16(out var sender, "sender"))
        {
            return false;
        }

        if (sender == 0)
        {
            return reader.Fail(CodecError.InvalidValue, senderOffset, "sender");
        }

        if (!reader.TryReadU16(out var recipient, "recipient") || !reader.TryReadBool(out var confidential, "confidential"))
        {
            return false;
        }

        header = new EnvelopeHeader(
            suite.Id,
            networkId,
            new InstanceId((ProtocolKind)protocol, period, sequence),
            attempt,
            round,
            type,
            sender,
            recipient,
            confidential);
        return true;
    }
}
