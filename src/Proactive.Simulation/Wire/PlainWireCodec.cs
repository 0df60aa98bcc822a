using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Simulation.Wire;

/// <summary>
/// An honest codec without cryptography: it frames the message with the canonical codec so that the
/// simulator moves, counts and corrupts real bytes, but signs and encrypts nothing. The sender field is
/// taken on trust, so a Byzantine strategy can impersonate; the envelope codec (signed by the
/// sender's period key, confidential payloads sealed to the recipient) closes that.
/// </summary>
/// <remarks>
/// Layout (<see cref="FormatVersion"/> 1; no suite byte: no group is involved):
/// u8 version, u8 protocol, u64 period, u64 sequence, u32 attempt, u8 round, u8 type,
/// u16 sender, u16 recipient, bool confidential, bytes payload (at most <see cref="MaxPayloadLength"/>).
/// The inbound message's <c>Signed</c> field carries the whole frame, as the envelope layer would
/// carry the signed envelope.
/// </remarks>
public sealed class PlainWireCodec : IWireCodec
{
    public const byte FormatVersion = 1;

    /// <summary>16 MiB: more than any dealing of the refresh at the sizes we simulate.</summary>
    public const int MaxPayloadLength = 16 << 20;

    private readonly ClusterParameters _parameters;

    public PlainWireCodec(ClusterParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters;
    }

    public IReadOnlyList<WirePacket> Encode(int sender, InstanceId instance, OutboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        CheckServer(sender, nameof(sender));
        if (message.Recipient is { } recipient)
        {
            CheckServer(recipient, nameof(message));
            return [new WirePacket(recipient, Frame(sender, recipient, instance, message))];
        }

        if (message.Confidential)
        {
            throw new ArgumentException("A confidential message must name its one recipient.", nameof(message));
        }

        var packets = new WirePacket[_parameters.ServerCount];
        for (var i = 0; i < packets.Length; i++)
        {
            packets[i] = new WirePacket(i + 1, Frame(sender, i + 1, instance, message));
        }

        return packets;
    }

    public bool TryDecode(int recipient, ReadOnlyMemory<byte> bytes, [NotNullWhen(true)] out DecodedMessage? message, [NotNullWhen(false)] out string? rejection)
    {
        message = null;
        var reader = new CanonicalReader(bytes.Span);
        var start = reader.Offset;
        if (!reader.TryReadU8(out var version, "version"))
        {
            return Reject(ref reader, out rejection);
        }

        if (version != FormatVersion)
        {
            reader.Fail(CodecError.WrongVersion, start, "version");
            return Reject(ref reader, out rejection);
        }

        var protocolOffset = reader.Offset;
        _ = reader.TryReadU8(out var protocol, "protocol");
        if (!reader.Failed && !Enum.IsDefined((ProtocolKind)protocol))
        {
            reader.Fail(CodecError.InvalidValue, protocolOffset, "protocol");
        }

        _ = reader.TryReadU64(out var period, "period");
        _ = reader.TryReadU64(out var sequence, "sequence");
        _ = reader.TryReadU32(out var attempt, "attempt");
        _ = reader.TryReadU8(out var round, "round");
        _ = reader.TryReadU8(out var type, "type");
        var senderOffset = reader.Offset;
        _ = reader.TryReadU16(out var sender, "sender");
        if (!reader.Failed && !IsServer(sender))
        {
            reader.Fail(CodecError.InvalidValue, senderOffset, "sender");
        }

        var recipientOffset = reader.Offset;
        _ = reader.TryReadU16(out var addressee, "recipient");
        if (!reader.Failed && addressee != recipient)
        {
            reader.Fail(CodecError.InvalidValue, recipientOffset, "recipient");
        }

        _ = reader.TryReadBool(out var confidential, "confidential");
        var payloadOffset = reader.Offset;
        _ = reader.TryReadBytes(MaxPayloadLength, out var payload, "payload");
        if (!reader.TryReadEnd())
        {
            return Reject(ref reader, out rejection);
        }

        // The payload is a view into the frame: slice the memory instead of copying it.
        var payloadMemory = bytes.Slice(payloadOffset + CanonicalWriter.LengthPrefixSize, payload.Length);
        var inbound = new InboundMessage(sender, attempt, round, type, payloadMemory, confidential, bytes);
        message = new DecodedMessage(new InstanceId((ProtocolKind)protocol, period, sequence), inbound);
        rejection = null;
        return true;
    }

    private static bool Reject(ref CanonicalReader reader, out string rejection)
    {
        rejection = reader.Failed ? reader.Failure.ToString() : "undecodable frame";
        return false;
    }

    private static byte[] Frame(int sender, int recipient, InstanceId instance, OutboundMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(40 + message.Payload.Length);
        var writer = new CanonicalWriter(buffer);
        writer.WriteU8(FormatVersion);
        writer.WriteU8((byte)instance.Protocol);
        writer.WriteU64(instance.Period);
        writer.WriteU64(instance.Sequence);
        writer.WriteU32(message.Attempt);
        writer.WriteU8(message.Round);
        writer.WriteU8(message.Type);
        writer.WriteU16((ushort)sender);
        writer.WriteU16((ushort)recipient);
        writer.WriteBool(message.Confidential);
        writer.WriteBytes(message.Payload, MaxPayloadLength);
        return buffer.WrittenSpan.ToArray();
    }

    private bool IsServer(int id) => id >= 1 && id <= _parameters.ServerCount;

    private void CheckServer(int id, string name)
    {
        if (!IsServer(id))
        {
            throw new ArgumentOutOfRangeException(name, id, $"Server ids are 1..{_parameters.ServerCount}.");
        }
    }
}
