// References: ZcashFoundation/frost error design (errors name the culprit), RFC 9591 section 5.4 (identifiable abort).
namespace Proactive.Crypto.Frost;

/// <summary>Why a FROST step refused untrusted input. Culprits, when known, are in <see cref="FrostResult{T}.Culprits"/>.</summary>
public enum FrostError
{
    None = 0,

    /// <summary>Fewer commitments than MIN_PARTICIPANTS, or more than MAX_PARTICIPANTS.</summary>
    IncorrectNumberOfCommitments,

    /// <summary>Two commitments (or two signature shares) with one identifier; the culprit is that identifier.</summary>
    DuplicateIdentifier,

    /// <summary>The commitment list is not in ascending identifier order (RFC 9591 section 5.2); the culprit is the first out-of-order entry.</summary>
    UnsortedCommitments,

    /// <summary>The signer's own commitment is not in the signing package.</summary>
    SignerNotInCommitments,

    /// <summary>The signing package carries a commitment for this signer that is not the one its nonces made.</summary>
    IncorrectCommitment,

    /// <summary>A signer in the package has no verifying share in the public key package; culprits are those signers.</summary>
    UnknownSigner,

    /// <summary>A signer in the package sent no signature share; culprits are those signers.</summary>
    MissingSignatureShare,

    /// <summary>A signature share came from a participant outside the signing package; culprits are those participants.</summary>
    UnexpectedSignatureShare,

    /// <summary>The group commitment R came out as the identity, which no signature can encode.</summary>
    IdentityGroupCommitment,

    /// <summary>Signature shares that fail RFC 9591 section 5.4 verification; culprits are their senders.</summary>
    InvalidSignatureShare,

    /// <summary>The aggregate does not verify although every share does: the key material is inconsistent.</summary>
    InvalidSignature,
}

/// <summary>
/// The outcome of a FROST step on untrusted input: a value, or an error code with the identifiers
/// to blame. Bad peer data never throws; asking for <see cref="Value"/> of a failure does (caller misuse).
/// </summary>
public sealed class FrostResult<T>
    where T : class
{
    private readonly T? _value;

    private FrostResult(T? value, FrostError error, IReadOnlyList<Identifier> culprits)
    {
        _value = value;
        Error = error;
        Culprits = culprits;
    }

    public bool IsSuccess => Error == FrostError.None;

    public FrostError Error { get; }

    /// <summary>Participants whose data caused the failure, in identifier order; empty on success or when nobody can be named.</summary>
    public IReadOnlyList<Identifier> Culprits { get; }

    public T Value => _value ?? throw new InvalidOperationException($"The FROST step failed with {Error}; there is no value.");

    public bool TryGetValue(out T? value)
    {
        value = _value;
        return IsSuccess;
    }

    internal static FrostResult<T> Success(T value) => new(value, FrostError.None, []);

    internal static FrostResult<T> Failure(FrostError error, params Identifier[] culprits)
    {
        Array.Sort(culprits);
        return new(null, error, culprits);
    }

    public override string ToString() => IsSuccess
        ? $"Success({_value})"
        : $"Failure({Error}{(Culprits.Count == 0 ? string.Empty : ", culprits: " + string.Join(", ", Culprits))})";
}
