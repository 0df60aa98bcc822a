// References: docs/BRIEF.md section 3 "DKG" (QUAL committed by certificate); Komlo and Goldberg,
// FROST (SAC 2020), Figure 1 "KeyGen" round 2 steps 3-4 (s_i, Y_i, Y).
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Dkg;

/// <summary>
/// This server's current candidate for QUAL, encoded (<see cref="DkgQualifiedSet"/>): what the
/// embedder proposes to the agreement when this server leads. Emitted again whenever the view
/// changes (a late dealing, complaint or reveal), so the latest one is the one to propose.
/// </summary>
public sealed record DkgQualifiedSetProposal(InstanceId Instance, byte[] EncodedQualifiedSet) : ProtocolEvent;

/// <summary>
/// The DKG's public result: Y = sum_{i in QUAL} C_i0, the combined commitment (sum of the QUAL
/// dealings, whose evaluation at k is server k's public share) and every server's public share
/// (index k-1 holds Y_k = x_k * G). The secret share stays in the machine (<see cref="DkgMachine.Share"/>):
/// events may be logged, shares never.
/// </summary>
public sealed record DkgCompleted(
    InstanceId Instance,
    Element GroupPublicKey,
    FeldmanCommitment Combined,
    IReadOnlyList<int> QualifiedDealers,
    IReadOnlyList<Element> PublicShares) : ProtocolEvent;

/// <summary>
/// QUAL is decided but this server still lacks the listed dealers' dealings or valid shares. It has
/// complained against each dealer whose dealing it holds; the accused must reveal, and the instance
/// completes when the reveals (or the missing dealings) arrive. If they never do, the embedder
/// recovers this server's share with share recovery (the public result is the same for everyone).
/// </summary>
public sealed record DkgSharesPending(InstanceId Instance, IReadOnlyList<int> Dealers) : ProtocolEvent;

/// <summary>
/// The decided QUAL cannot be combined here: a listed dealing differs from the one this server
/// holds (the dealer equivocated), or the decided value is malformed. The embedder recovers this
/// server's share with share recovery.
/// </summary>
public sealed record DkgFailed(InstanceId Instance, string Reason, IReadOnlyList<int> Dealers) : ProtocolEvent;
