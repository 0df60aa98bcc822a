// References: docs/PROTOCOLS.md "Application ledger".
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Application;

/// <summary>A ledger instance has a batch to propose (its value may still grow: see <see cref="LedgerMachine.CurrentProposal"/>).</summary>
public sealed record LedgerBatchProposal(InstanceId Instance) : ProtocolEvent;

/// <summary>An agreed request was applied here; the server that received it answers its client with <paramref name="Result"/>.</summary>
public sealed record LedgerRequestApplied(InstanceId Instance, byte[] RequestId, ApplyResult Result) : ProtocolEvent;

/// <summary>The ledger of <paramref name="Period"/> is sealed: its state is final and the next period's refresh may use it.</summary>
public sealed record LedgerSealed(InstanceId Instance, ulong Period) : ProtocolEvent;

/// <summary>
/// A copy of the application state was installed here from peers (this server was too far behind to
/// follow by agreement): everything derived from the state (the node's directory of registered
/// instances) must be rebuilt, since no request's application announced the change.
/// </summary>
public sealed record LedgerStateInstalled(InstanceId Instance, ulong Period, ulong NextSequence) : ProtocolEvent;
