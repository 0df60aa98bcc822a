namespace Proactive.Protocols.Machines;

/// <summary>
/// A message delivered to a protocol instance. The envelope layer has already checked it: the
/// sender's period-key signature, the network, period and instance, freshness; a confidential
/// payload has been decrypted. What remains is the protocol's own validation of the payload.
/// </summary>
/// <param name="Sender">The authenticated sender, 1..n.</param>
/// <param name="Attempt">The attempt (agreement round, retry) the sender was in.</param>
/// <param name="Round">The protocol round or step.</param>
/// <param name="Type">The message type within the protocol.</param>
/// <param name="Payload">The protocol payload (untrusted content).</param>
/// <param name="Confidential">True when it came encrypted to this server alone.</param>
/// <param name="Signed">The whole signed envelope, kept as transferable evidence for alerts.</param>
public sealed record InboundMessage(int Sender, uint Attempt, byte Round, byte Type, ReadOnlyMemory<byte> Payload, bool Confidential, ReadOnlyMemory<byte> Signed);

/// <summary>
/// A message a protocol instance wants sent. <see cref="Recipient"/> null means every server
/// (including the sender itself, so that a broadcast is processed the same way everywhere).
/// Confidential messages must have one recipient; the envelope layer encrypts them to it.
/// </summary>
public sealed record OutboundMessage(int? Recipient, uint Attempt, byte Round, byte Type, byte[] Payload, bool Confidential);
