// References: docs/BRIEF.md section 3 "Share recovery"; docs/PROTOCOLS.md "Share recovery".
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Recovery;

/// <summary>
/// A helper's proposal for the blinding set B (encoded with <see cref="Refresh.QualifiedSetCodec"/>):
/// agreement must decide one B for all helpers, or the blinded values would not lie on one polynomial.
/// </summary>
public sealed record RecoveryHelperSetProposal(InstanceId Instance, byte[] EncodedSet) : ProtocolEvent;

/// <summary>
/// At the recovering server: its share vector is restored (checked against the signing-key
/// commitments and its recorded digest) and persisted under <see cref="RecoveryMachine.SharesPersistKey"/>;
/// <paramref name="WrongHelpers"/> sent values off the common polynomial (each also raised as an alert).
/// </summary>
public sealed record ShareRecovered(InstanceId Instance, IReadOnlyList<int> UsedHelpers, IReadOnlyList<int> WrongHelpers) : ProtocolEvent;

/// <summary>At a helper: it sent its blinded shares to the recovering server and is done.</summary>
public sealed record RecoveryHelped(InstanceId Instance, int Recovering) : ProtocolEvent;
