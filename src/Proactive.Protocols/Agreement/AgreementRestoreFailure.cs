// References: E. Buchman, J. Kwon, Z. Milosevic, arXiv:1807.04938, Algorithm 1 (the per-process
// state that must survive a crash); docs/BRIEF.md section 3 ("equivocation is proof").

namespace Proactive.Protocols.Agreement;

/// <summary>Why <see cref="TendermintAgreement.TryRestore"/> refused a persisted state.</summary>
public enum AgreementRestoreError : byte
{
    /// <summary>Restored.</summary>
    None = 0,

    /// <summary>The bytes do not decode as an <see cref="AgreementPersistedState"/> (truncated, wrong version, broken rules).</summary>
    Undecodable,

    /// <summary>The state is of another instance, server, n, instance context or proposer seed.</summary>
    WrongInstance,

    /// <summary>A statement in the state is not validly signed (by this server's key, or a relayed header by its proposer).</summary>
    InvalidSignature,

    /// <summary>The state contradicts itself: two own statements for one (round, step), a lock without its prevote, a justification short of n - f.</summary>
    Inconsistent,

    /// <summary>The persisted decision's certificate does not verify.</summary>
    InvalidCertificate,
}

/// <summary>The named error and a human-readable detail (for the operator's report).</summary>
public readonly record struct AgreementRestoreFailure(AgreementRestoreError Error, string Detail)
{
    /// <summary>True when nothing failed.</summary>
    public bool IsNone => Error == AgreementRestoreError.None;
}

/// <summary>
/// Thrown by <see cref="TendermintAgreement.Restore"/> when the persisted state is corrupted. The
/// controller must NOT start the instance afresh (that could sign a vote conflicting with one it sent
/// before the crash): it refuses to participate in this instance, reports the failure to the operator,
/// and lets the other servers decide without it (it can still learn the decision from a peer's
/// certificate, which it can verify with <see cref="Certificate.Verify"/>).
/// </summary>
public sealed class AgreementStateCorruptedException : Exception
{
    /// <summary>Wraps a restore failure.</summary>
    public AgreementStateCorruptedException(AgreementRestoreFailure failure)
        : base($"Persisted agreement state refused ({failure.Error}): {failure.Detail}. Do not run this instance again from scratch; refuse to participate in it.")
    {
        Failure = failure;
    }

    /// <summary>Creates the exception with a message only (for serialization tooling).</summary>
    public AgreementStateCorruptedException()
        : this(new AgreementRestoreFailure(AgreementRestoreError.Undecodable, "unspecified"))
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    public AgreementStateCorruptedException(string message)
        : base(message)
    {
        Failure = new AgreementRestoreFailure(AgreementRestoreError.Undecodable, message);
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public AgreementStateCorruptedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Failure = new AgreementRestoreFailure(AgreementRestoreError.Undecodable, message);
    }

    /// <summary>What was wrong.</summary>
    public AgreementRestoreFailure Failure { get; }
}
