namespace Proactive.Protocols.Machines;

/// <summary>What was detected. The byte values are stored and reported, so they never change.</summary>
public enum AlertType : byte
{
    /// <summary>Two different signed messages from one sender for the same slot (the evidence holds both).</summary>
    Equivocation = 1,

    /// <summary>A share or sub-share that does not match its dealer's commitments.</summary>
    InvalidShare = 2,

    /// <summary>Commitments that are malformed or inconsistent with what the dealer sent to others.</summary>
    InvalidCommitment = 3,

    /// <summary>A refresh dealing whose constant term is not zero (C_0 is not the identity).</summary>
    NonZeroRefreshConstant = 4,

    /// <summary>A zero-knowledge proof (proof of knowledge, DLEQ) that does not verify.</summary>
    InvalidProof = 5,

    /// <summary>A FROST signature share that does not verify.</summary>
    InvalidSignatureShare = 6,

    /// <summary>A message of an earlier period, or one already seen, sent again.</summary>
    Replay = 7,

    /// <summary>A message signed with a key that is not the sender's for that period.</summary>
    InvalidSignature = 8,

    /// <summary>The signed KeyTable does not hold this server's own entry (toolkit Table 1).</summary>
    ImpersonationDetected = 9,

    /// <summary>No valid [S_cert(M), M] arrived in time (toolkit Table 2).</summary>
    RecoveryFailed = 10,

    /// <summary>This server's stored shares do not match the public commitments or the share digest.</summary>
    CorruptedShares = 11,

    /// <summary>A server that had to answer did not, within the protocol's time.</summary>
    Unresponsive = 12,

    /// <summary>A message that does not decode, or breaks the protocol's rules in a way no honest server would.</summary>
    MalformedMessage = 13,
}

/// <summary>
/// A detection, with the server it blames (0 when nobody can be blamed, e.g. recovery failed),
/// the period and instance, a human-readable detail and transferable evidence (the offending signed
/// messages, so that a third party can check the blame).
/// </summary>
public sealed record Alert(AlertType Type, int Culprit, ulong Period, InstanceId? Instance, string Detail, byte[] Evidence)
    : ProtocolEvent;

/// <summary>Something a protocol instance reports to its driver: a decision, a result, an alert.</summary>
public abstract record ProtocolEvent;
