// References: docs/BRIEF.md section 3 "Broadcast and agreement" (the qualified set is committed by
// agreement) and "Refresh"; docs/PROTOCOLS.md "Refresh".
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Refresh;

/// <summary>
/// This server's proposal for the qualified dealers (<see cref="QualifiedSetCodec"/>): the driver hands
/// it to agreement as this server's input; agreement checks candidates with
/// <see cref="RefreshMachine.IsAcceptableQualifiedSet"/> and reports the decision through
/// <see cref="RefreshMachine.OnQualifiedSetDecided"/>.
/// </summary>
public sealed record RefreshQualifiedSetProposal(InstanceId Instance, byte[] EncodedSet) : ProtocolEvent;

/// <summary>
/// The refresh committed at this server: its new shares are persisted (under
/// <see cref="RefreshMachine.SharesPersistKey"/>, before anything else was sent), the public state is
/// <paramref name="NewState"/> (same group keys, new commitments), and <paramref name="NewOwnDigest"/> is
/// the digest of this server's new share vector, for the period root. The driver now erases the old
/// shares and takes the new ones with <see cref="RefreshMachine.TakeNewShares"/>.
/// </summary>
public sealed record RefreshCompleted(InstanceId Instance, RefreshPublicState NewState, ShareVectorDigest NewOwnDigest, IReadOnlyList<int> QualifiedDealers)
    : ProtocolEvent;

/// <summary>
/// The refresh committed in the network but this server could not compute its new shares (its old
/// shares were corrupt, or it lacks a decided dealing): the driver runs share recovery for it.
/// <paramref name="NewState"/> is null when even the public part could not be computed here.
/// </summary>
public sealed record RefreshSharesLost(InstanceId Instance, RefreshPublicState? NewState, IReadOnlyList<int> QualifiedDealers, string Reason)
    : ProtocolEvent;
