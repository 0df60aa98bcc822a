// References: RFC 9591 section 5.2 (the coordinator sends the message and the sorted commitment list),
// section 4.3 (list operations), ZF frost SigningPackage.
namespace Proactive.Crypto.Frost;

/// <summary>
/// What the coordinator sends every signer for round two: the message and the commitment list
/// (ZF frost <c>SigningPackage</c>). It is untrusted input to signers: <see cref="Round2.Sign"/> and
/// <see cref="Aggregation.Aggregate"/> check its structure (count, order, duplicates) before any cryptography.
/// </summary>
public sealed class SigningPackage
{
    private readonly SigningCommitments[] _commitments;
    private readonly byte[] _message;

    // The package is immutable and its context depends only on it and the group key: a coordinator that
    // makes its own share and then aggregates computes the binding factors and R once, not twice.
    private (byte[] GroupKey, SigningContext Context)? _context;

    /// <summary>Copies the list as given (the coordinator sorts it by identifier; see <see cref="Create"/>).</summary>
    public SigningPackage(Ciphersuite suite, IEnumerable<SigningCommitments> commitments, ReadOnlySpan<byte> message)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(commitments);
        _commitments = [.. commitments];
        foreach (var c in _commitments)
        {
            ArgumentNullException.ThrowIfNull(c, nameof(commitments));
            if (c.Suite != suite)
            {
                throw new ArgumentException("A commitment belongs to another suite.", nameof(commitments));
            }
        }

        Suite = suite;
        _message = message.ToArray();
    }

    public Ciphersuite Suite { get; }

    /// <summary>The commitment list in the order received.</summary>
    public IReadOnlyList<SigningCommitments> Commitments => _commitments;

    public ReadOnlySpan<byte> Message => _message;

    /// <summary>The coordinator's constructor: sorts the commitments by identifier, as RFC 9591 section 5.2 requires.</summary>
    public static SigningPackage Create(Ciphersuite suite, IEnumerable<SigningCommitments> commitments, ReadOnlySpan<byte> message)
    {
        ArgumentNullException.ThrowIfNull(commitments);
        var sorted = commitments.ToArray();
        Array.Sort(sorted, static (a, b) => a.Identifier.CompareTo(b.Identifier));
        return new SigningPackage(suite, sorted, message);
    }

    /// <summary>The signing context under <paramref name="groupPublicKey"/>, computed once per package and key.</summary>
    internal SigningContext ContextFor(GroupPublicKey groupPublicKey)
    {
        var cached = _context;
        if (cached is { } known && known.GroupKey.AsSpan().SequenceEqual(groupPublicKey.Encoding))
        {
            return known.Context;
        }

        var context = SigningContext.Compute(this, groupPublicKey);
        _context = (groupPublicKey.Encoding.ToArray(), context);
        return context;
    }

    public override string ToString() => $"SigningPackage({Suite.Name}, {_commitments.Length} signers, {_message.Length}-byte message)";

    /// <summary>
    /// The structural checks, before any cryptography: MIN_PARTICIPANTS &lt;= count &lt;= MAX_PARTICIPANTS,
    /// identifiers strictly ascending (which also rules out duplicates).
    /// </summary>
    internal FrostError Validate(int minSigners, int maxSigners, out Identifier culprit)
    {
        culprit = default;
        if (_commitments.Length < minSigners || _commitments.Length > maxSigners)
        {
            return FrostError.IncorrectNumberOfCommitments;
        }

        for (var i = 1; i < _commitments.Length; i++)
        {
            var order = _commitments[i].Identifier.CompareTo(_commitments[i - 1].Identifier);
            if (order == 0)
            {
                culprit = _commitments[i].Identifier;
                return FrostError.DuplicateIdentifier;
            }

            if (order < 0)
            {
                culprit = _commitments[i].Identifier;
                return FrostError.UnsortedCommitments;
            }
        }

        return FrostError.None;
    }

    /// <summary>The index of <paramref name="identifier"/> in the (validated, sorted) list, or -1.</summary>
    internal int IndexOf(Identifier identifier)
    {
        int lo = 0, hi = _commitments.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var order = _commitments[mid].Identifier.CompareTo(identifier);
            if (order == 0)
            {
                return mid;
            }

            if (order < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return -1;
    }
}
