// References: docs/BRIEF.md section 1 ("Adversary": bad shares, silence) and section 8 (the simulator
// injects Byzantine behaviour); docs/PROTOCOLS.md "Refresh".
namespace Proactive.Protocols.Refresh;

/// <summary>
/// Byzantine dealer behaviours for the tests and the simulator (internal: never reachable from the
/// node). Each one is a deviation the protocol must detect and attribute to this dealer.
/// </summary>
internal sealed class RefreshDealerFaults
{
    /// <summary>Deal polynomials with a random non-zero constant term (would shift every secret).</summary>
    public bool NonZeroConstant { get; init; }

    /// <summary>Send this server a wrong sub-share (secret 0 off by one) while committing to the right one: a good reveal clears the dealer.</summary>
    public int SendWrongSubSharesTo { get; init; }

    /// <summary>Send and commit to a wrong sub-share for this server: the reveal exposes it and disqualifies the dealer.</summary>
    public int CommitToWrongSubSharesFor { get; init; }

    /// <summary>Publish the commitment to a different combined polynomial (still zero constant term).</summary>
    public bool CorruptCombinedCommitment { get; init; }

    /// <summary>Never answer complaints.</summary>
    public bool IgnoreComplaints { get; init; }
}
