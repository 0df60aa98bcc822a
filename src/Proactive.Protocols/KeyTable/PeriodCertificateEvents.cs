// References: toolkit paper (seed 001) Table 1 steps 4-5 (S_cert on the KeyTable); docs/PROTOCOLS.md
// "KeyTable" ("Certificate") and "Controller and simulator" ("Period certificate every period").
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.KeyTable;

/// <summary>
/// This server knows its period root (its decided table and the hash of its committed public state):
/// <paramref name="MessageToSign"/> is what S_cert must sign (<see cref="PeriodCertificate.SigningMessage(ulong, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>).
/// The driver now opens its nonce channel over the network-key share of the period, if it signs.
/// </summary>
public sealed record PeriodRootReady(InstanceId Instance, byte[] MessageToSign) : ProtocolEvent;

/// <summary>
/// This server's turn in the coordinator schedule came while no certificate is held here: the driver
/// runs the FROST session <paramref name="Session"/> (this server as coordinator) on the period root,
/// once it has nonce commitments of t+1 servers. Ignored by a server that does not sign.
/// </summary>
public sealed record PeriodCertificateCoordinationDue(InstanceId Instance, InstanceId Session) : ProtocolEvent;

/// <summary>
/// This server holds a verified certificate of the period (<see cref="PeriodCertificate"/> encoding):
/// the signature verifies with the network key and it certifies this server's decided table and
/// committed public state. Emitted again only if a smaller valid certificate of the same root replaces
/// it (see <see cref="PeriodCertificateMachine"/>); the driver persists the latest.
/// </summary>
public sealed record PeriodCertified(InstanceId Instance, byte[] EncodedCertificate) : ProtocolEvent
{
    /// <summary>The period certified.</summary>
    public ulong Period => Instance.Period;
}
