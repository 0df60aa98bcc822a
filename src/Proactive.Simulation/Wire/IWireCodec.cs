using System.Diagnostics.CodeAnalysis;
using Proactive.Protocols.Machines;

namespace Proactive.Simulation.Wire;

/// <summary>
/// Turns what a machine sends into bytes on the wire and bytes back into what a machine receives.
/// Every message in the simulator goes through one (BRIEF section 3: the same code runs in the
/// simulator and the node, so the simulator must move real bytes): the honest
/// <see cref="PlainWireCodec"/> by default, or <see cref="EnvelopeWireCodec"/>, the real signed,
/// encrypted and replay-guarded envelope layer.
/// </summary>
public interface IWireCodec
{
    /// <summary>
    /// Encodes one outbound message of <paramref name="sender"/>'s instance <paramref name="instance"/>:
    /// one packet per recipient (every server 1..n for a broadcast, the sender included; the one
    /// recipient otherwise). A codec may give every recipient the same bytes (a signed broadcast) or
    /// different ones (encrypted to each).
    /// </summary>
    /// <exception cref="ArgumentException">The message names a recipient outside 1..n or breaks a size limit (a bug in the sender).</exception>
    IReadOnlyList<WirePacket> Encode(int sender, InstanceId instance, OutboundMessage message);

    /// <summary>
    /// Decodes bytes that arrived at <paramref name="recipient"/>. Never throws on bad bytes: returns
    /// false with a reason fit for a log line (it never contains the input).
    /// </summary>
    bool TryDecode(int recipient, ReadOnlyMemory<byte> bytes, [NotNullWhen(true)] out DecodedMessage? message, [NotNullWhen(false)] out string? rejection);
}

/// <summary>Bytes for one recipient.</summary>
public sealed record WirePacket(int Recipient, byte[] Bytes);

/// <summary>What a codec recovered from a packet: the instance it is for and the message itself.</summary>
public sealed record DecodedMessage(InstanceId Instance, InboundMessage Message);
