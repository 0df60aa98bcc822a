// References: toolkit paper (seed 001) Table 1 steps 3-5; docs/BRIEF.md section 3 "Broadcast and
// agreement" (the KeyTable is committed by agreement) and "Refresh for period p".
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.KeyTable;

/// <summary>
/// This server's proposal for the KeyTable (<see cref="KeyTableDocument"/> encoding): the entries it
/// accepts under the Table 1 judging rules, by server id. The driver hands it to agreement as this
/// server's input (or, better, passes <see cref="KeyTableMachine.CurrentTable"/> as agreement's
/// getValue, which also reflects entries that arrive later); agreement checks candidates with
/// <see cref="KeyTableMachine.IsAcceptableKeyTable"/> and reports the decision through
/// <see cref="KeyTableMachine.OnKeyTableDecided"/>.
/// </summary>
public sealed record KeyTableProposal(InstanceId Instance, byte[] EncodedTable) : ProtocolEvent;

/// <summary>
/// Agreement decided <paramref name="EncodedTable"/>. With the public state the refresh of the period
/// commits, it is the period root the network threshold-signs (<see cref="PeriodCertificate"/>, run by
/// <see cref="PeriodCertificateMachine"/>). If this server's own K_i was not in the table an
/// <see cref="AlertType.ImpersonationDetected"/> alert was emitted just before this event.
/// </summary>
public sealed record KeyTableDecided(InstanceId Instance, byte[] EncodedTable) : ProtocolEvent;
