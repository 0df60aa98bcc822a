using System.Diagnostics.CodeAnalysis;
using Proactive.Protocols.Machines;

namespace Proactive.Simulation.Wire;

/// <summary>
/// Turns what a machine sends into bytes on the wire and bytes back into what a machine receives.
/// Every message in the simulator goes through one (BRIEF section 3: the same code runs in the
/// simulator and the node, so the simulator must move real bytes): the honest
/// <see cref="PlainWireCodec"/> (the simulator's default, and fast unit tests) or
/// <see cref="EnvelopeWireCodec"/>, the real signed, encrypted and replay-guarded envelope layer (the
/// default of <c>ProactiveScenario</c> and of <c>proactive simulate</c>).
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

    /// <summary>
    /// As <see cref="TryDecode(int, ReadOnlyMemory{byte}, out DecodedMessage?, out string?)"/> for bytes
    /// that <paramref name="linkSender"/> put on the link: the transport's authenticated peer (TLS in
    /// the node, the simulator's from-id), not a field of the bytes. When a rejection proves that the
    /// link-level sender misbehaved (it delivered again an envelope the recipient had already
    /// accepted), <paramref name="alert"/> is the alert the recipient raises, naming
    /// <paramref name="linkSender"/>; null otherwise, and always for a codec that authenticates nothing.
    /// </summary>
    bool TryDecode(int recipient, int linkSender, ReadOnlyMemory<byte> bytes, [NotNullWhen(true)] out DecodedMessage? message, [NotNullWhen(false)] out string? rejection, out Alert? alert)
    {
        alert = null;
        return TryDecode(recipient, bytes, out message, out rejection);
    }
}

/// <summary>Bytes for one recipient.</summary>
public sealed record WirePacket(int Recipient, byte[] Bytes);

/// <summary>What a codec recovered from a packet: the instance it is for and the message itself.</summary>
public sealed record DecodedMessage(InstanceId Instance, InboundMessage Message);
