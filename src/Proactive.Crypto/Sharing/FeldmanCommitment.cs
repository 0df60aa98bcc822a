// References: Feldman, "A Practical Scheme for Non-interactive Verifiable Secret Sharing", FOCS 1987;
// seed 002 (Numao, IBM RT0280) section 2 "Feldman VSS", "Share Update" and section 4.3 step 3;
// Herzberg, Jarecki, Krawczyk, Yung, "Proactive Secret Sharing", CRYPTO 1995 (refresh by adding
// zero-constant dealings); RFC 9591 Appendix C.2 (vss_commit, vss_verify); docs/BRIEF.md section 3 "Refresh".
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Sharing;

/// <summary>
/// Feldman commitments C_0..C_t to a polynomial f(x) = a_0 + ... + a_t x^t, with C_k = a_k * G: public
/// values that let anyone check a share against the dealing without learning the polynomial (beyond
/// f(0) * G). Because commitments are linear, the commitment of a sum of polynomials is the sum of the
/// commitments, which is how refresh updates the public record. Dealings in the DKG, refresh and share
/// recovery publish it; it is hashed into transcripts and signed, hence its single canonical encoding.
/// </summary>
/// <remarks>
/// <para>Wire format, version 1 (all integers big-endian):</para>
/// <code>
/// u8    version = 1
/// u8    suite (GroupId)
/// bool  constantTermIsZero   (0 or 1)
/// u32   count                (1..MaxCount; count = t + 1)
/// count x element            (ElementLength bytes each, the group's canonical encoding)
/// </code>
/// <para>Identity rules. C_0 is the identity exactly when <see cref="HasZeroConstantTerm"/> is set:
/// a refresh dealing (seed 002, Share Update) commits to a polynomial with f(0) = 0, and the flag makes
/// that claim explicit and checked at decode time, so a dealer cannot shift the shared secret (BRIEF
/// section 3) unnoticed. C_k for k &gt;= 1 may be the identity: a zero coefficient, or the sum of
/// commitments whose coefficients cancel, legitimately produces it. <see cref="Degree"/> is therefore
/// the declared degree, an upper bound on the committed polynomial's degree.</para>
/// <para>Every element came from a group or passed its canonical decoding, so all of them are in the
/// prime-order group. Nested inside a larger message (whose header fixes version and suite), use
/// <see cref="WriteBodyTo"/> and <see cref="TryReadBody"/>, which omit the header.</para>
/// </remarks>
public sealed class FeldmanCommitment : ICanonicalEncodable, ICanonicalDecodable<FeldmanCommitment>, IEquatable<FeldmanCommitment>
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 1;

    /// <summary>
    /// Most commitments a vector may hold (t + 1 with t &lt;= 1023): far above any cluster we run,
    /// and it bounds what a peer can make us allocate and multiply.
    /// </summary>
    public const int MaxCount = 1024;

    private readonly Element[] _coefficients;

    /// <summary>
    /// Wraps commitments C_0..C_t, lowest power first (copied). Throws when the vector could not be
    /// encoded: empty, longer than <see cref="MaxCount"/>, or with C_0 the identity when
    /// <paramref name="hasZeroConstantTerm"/> is false (or not the identity when it is true).
    /// </summary>
    public FeldmanCommitment(PrimeOrderGroup group, ReadOnlySpan<Element> coefficients, bool hasZeroConstantTerm = false)
    {
        ArgumentNullException.ThrowIfNull(group);
        EnsureCountInRange(coefficients.Length, nameof(coefficients));
        if (group.IsIdentity(coefficients[0]) != hasZeroConstantTerm)
        {
            throw new ArgumentException(
                hasZeroConstantTerm
                    ? "With a zero constant term, C_0 must be the identity."
                    : "C_0 is the identity; pass hasZeroConstantTerm: true to commit to f(0) = 0.",
                nameof(coefficients));
        }

        Group = group;
        HasZeroConstantTerm = hasZeroConstantTerm;
        _coefficients = coefficients.ToArray();
    }

    private FeldmanCommitment(PrimeOrderGroup group, Element[] owned, bool hasZeroConstantTerm)
    {
        Group = group;
        HasZeroConstantTerm = hasZeroConstantTerm;
        _coefficients = owned;
    }

    /// <summary>The suite the commitments live in; it is written as the header's suite id.</summary>
    public PrimeOrderGroup Group { get; }

    /// <summary>t: the declared degree of the committed polynomial (t+1 shares determine it).</summary>
    public int Degree => _coefficients.Length - 1;

    /// <summary>C_0..C_t, lowest power first, without copying.</summary>
    public ReadOnlySpan<Element> Coefficients => _coefficients;

    /// <summary>C_0 = f(0) * G: the public key of the shared secret (the identity for a refresh dealing).</summary>
    public Element ConstantTerm => _coefficients[0];

    /// <summary>
    /// True when f(0) = 0, and then C_0 is the identity: what every refresh dealing must satisfy, so
    /// that adding it to the shares leaves the secret (and the public key) unchanged.
    /// </summary>
    public bool HasZeroConstantTerm { get; }

    /// <inheritdoc />
    public int EncodedLength => CanonicalWriter.HeaderSize + BodyLength;

    private int BodyLength => 1 + CanonicalWriter.CountPrefixSize + (_coefficients.Length * Group.ElementLength);

    /// <summary>Commits to a polynomial (the dealer's side of seed 002 section 4.3 step 2).</summary>
    public static FeldmanCommitment Commit(Polynomial polynomial)
    {
        ArgumentNullException.ThrowIfNull(polynomial);
        return polynomial.CommitFeldman();
    }

    /// <summary>C_k.</summary>
    public Element Coefficient(int power) => _coefficients[power];

    /// <summary>
    /// Checks share s of server <paramref name="index"/> against the dealing: s * G == sum_j index^j C_j
    /// (seed 002, "Feldman VSS"). Computed as one multi-scalar multiplication
    /// (-s) * G + sum_j index^j C_j, which is the identity exactly when the share is right.
    /// Returns false for a wrong share; never throws for bad data.
    /// </summary>
    public bool VerifyShare(int index, Scalar shareValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        return VerifyEvaluation(Group.FromUInt64((ulong)index), shareValue);
    }

    /// <summary>Checks a share object against this dealing.</summary>
    public bool VerifyShare(SecretShare share)
    {
        ArgumentNullException.ThrowIfNull(share);
        EnsureSameGroup(share.Group, nameof(share));
        return VerifyEvaluation(share.X, share.Value);
    }

    /// <summary>
    /// Checks y == f(x) at any point x, not only a server index: seed 002 section 4.3 also checks
    /// f(e_l) = 0 at the points e_l where other users' secrets live (then y is zero).
    /// </summary>
    public bool VerifyEvaluation(Scalar x, Scalar y)
    {
        var powers = PolynomialArithmetic.Powers(Group, x, _coefficients.Length);
        return Group.IsIdentity(Group.MultiplyBaseAndMany(Group.Negate(y), powers, _coefficients));
    }

    /// <summary>
    /// sum_j index^j C_j = f(index) * G: server <paramref name="index"/>'s public key share, which
    /// verifies its signature shares and partial decryptions (seed 002 section 4.6).
    /// </summary>
    public Element PublicShare(int index)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        return EvaluateInExponent(Group.FromUInt64((ulong)index));
    }

    /// <summary>f(x) * G = sum_j x^j C_j for any x, in one multi-scalar multiplication.</summary>
    public Element EvaluateInExponent(Scalar x) =>
        Group.MultiplyMany(PolynomialArithmetic.Powers(Group, x, _coefficients.Length), _coefficients);

    /// <summary>
    /// The commitment to f + g. Refresh: new commitments = old commitments + the sum of the qualified
    /// dealings (HJKY95), matching new share = old share + the sum of the sub-shares. The degrees may
    /// differ; the result has the larger one. The result has a zero constant term when its C_0 is
    /// the identity (two refresh dealings, or constant terms that cancel).
    /// </summary>
    public FeldmanCommitment Add(FeldmanCommitment other)
    {
        ArgumentNullException.ThrowIfNull(other);
        EnsureSameGroup(other.Group, nameof(other));
        return FromComputed(Group, PolynomialArithmetic.AddCommitments(Group, _coefficients, other._coefficients));
    }

    /// <summary>The commitment to the sum of all the committed polynomials (several dealings at once).</summary>
    public static FeldmanCommitment Sum(IReadOnlyList<FeldmanCommitment> commitments)
    {
        ArgumentNullException.ThrowIfNull(commitments);
        if (commitments.Count == 0)
        {
            throw new ArgumentException("Nothing to add.", nameof(commitments));
        }

        var result = commitments[0];
        for (var k = 1; k < commitments.Count; k++)
        {
            result = result.Add(commitments[k]);
        }

        return result;
    }

    /// <summary>
    /// The commitment to sum_k w_k f_k: what a verifier who holds every commitment computes to check a
    /// combined share sum_k w_k s_k (the refresh-at-scale check of BRIEF section 3 with w_k = rho^k).
    /// Each coefficient is one multi-scalar multiplication over the m commitments.
    /// </summary>
    public static FeldmanCommitment Combine(ReadOnlySpan<Scalar> weights, IReadOnlyList<FeldmanCommitment> commitments)
    {
        ArgumentNullException.ThrowIfNull(commitments);
        if (commitments.Count == 0 || weights.Length != commitments.Count)
        {
            throw new ArgumentException("One weight per commitment, and at least one commitment.", nameof(weights));
        }

        var group = commitments[0].Group;
        var degree = 0;
        foreach (var c in commitments)
        {
            c.EnsureSameGroup(group, nameof(commitments));
            degree = Math.Max(degree, c.Degree);
        }

        var combined = new Element[degree + 1];
        var scalars = new List<Scalar>(commitments.Count);
        var points = new List<Element>(commitments.Count);
        for (var j = 0; j <= degree; j++)
        {
            scalars.Clear();
            points.Clear();
            for (var k = 0; k < commitments.Count; k++)
            {
                var c = commitments[k]._coefficients;
                if (j < c.Length && !group.IsIdentity(c[j]))
                {
                    scalars.Add(weights[k]);
                    points.Add(c[j]);
                }
            }

            combined[j] = group.MultiplyMany(
                CollectionsMarshal.AsSpan(scalars),
                CollectionsMarshal.AsSpan(points));
        }

        return FromComputed(group, combined);
    }

    /// <summary>The canonical encoding (header included), the bytes that are hashed and signed.</summary>
    public byte[] Encode() => CanonicalEncoding.Encode(this);

    /// <inheritdoc />
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteHeader(FormatVersion, Group);
        WriteBodyTo(ref writer);
    }

    /// <summary>The fields without the header, for embedding in a message of the same suite.</summary>
    public void WriteBodyTo(ref CanonicalWriter writer)
    {
        writer.WriteBool(HasZeroConstantTerm);
        writer.WriteCount(_coefficients.Length, MaxCount);
        for (var k = 0; k < _coefficients.Length; k++)
        {
            writer.WriteElement(Group, _coefficients[k], allowIdentity: IdentityAllowed(k, HasZeroConstantTerm));
        }
    }

    /// <summary>
    /// Decodes a whole buffer. Never throws on bad data.
    /// </summary>
    /// <param name="encoding">The untrusted bytes.</param>
    /// <param name="expectedSuite">The suite the caller expects, or null to accept any known suite.</param>
    /// <param name="value">The commitment, when the method returns true.</param>
    /// <param name="error">Why decoding failed, or <see cref="CodecError.None"/>.</param>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup? expectedSuite, [NotNullWhen(true)] out FeldmanCommitment? value, out CodecError error)
    {
        var ok = TryDecode(encoding, expectedSuite, out value, out CodecFailure failure);
        error = failure.Error;
        return ok;
    }

    /// <summary>As the other overload, but the failure also says at which offset and in which field.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup? expectedSuite, [NotNullWhen(true)] out FeldmanCommitment? value, out CodecFailure failure) =>
        CanonicalEncoding.TryDecode<FeldmanCommitment>(encoding, expectedSuite, out value, out failure);

    /// <inheritdoc />
    public static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out FeldmanCommitment value)
    {
        value = null;
        return reader.TryReadHeader(FormatVersion, expectedSuite, out var group)
            && TryReadBody(ref reader, group, out value);
    }

    /// <summary>Reads the fields without a header, in <paramref name="group"/>; see <see cref="WriteBodyTo"/>.</summary>
    public static bool TryReadBody(ref CanonicalReader reader, PrimeOrderGroup group, [NotNullWhen(true)] out FeldmanCommitment? value)
    {
        ArgumentNullException.ThrowIfNull(group);
        value = null;
        if (!reader.TryReadBool(out var hasZeroConstantTerm, "constantTermIsZero"))
        {
            return false;
        }

        var countOffset = reader.Offset;
        if (!reader.TryReadCount(MaxCount, group.ElementLength, out var count, "count"))
        {
            return false;
        }

        if (count == 0)
        {
            return reader.Fail(CodecError.InvalidValue, countOffset, "count");
        }

        var elements = new Element[count];
        for (var k = 0; k < count; k++)
        {
            var elementOffset = reader.Offset;
            if (!reader.TryReadElement(group, out elements[k], IdentityAllowed(k, hasZeroConstantTerm), "commitment"))
            {
                return false;
            }

            if (k == 0 && hasZeroConstantTerm && !group.IsIdentity(elements[0]))
            {
                // The flag claims a zero constant term; a non-identity C_0 contradicts it.
                return reader.Fail(CodecError.InvalidValue, elementOffset, "commitment");
            }
        }

        value = new FeldmanCommitment(group, elements, hasZeroConstantTerm);
        return true;
    }

    /// <inheritdoc />
    public bool Equals(FeldmanCommitment? other) =>
        other is not null
        && Group.Id == other.Group.Id
        && HasZeroConstantTerm == other.HasZeroConstantTerm
        && Coefficients.SequenceEqual(other.Coefficients);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as FeldmanCommitment);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Group.Id, HasZeroConstantTerm, _coefficients.Length, _coefficients[0]);

    public override string ToString() => $"FeldmanCommitment({Group.Name}, degree {Degree})";

    /// <summary>
    /// Wraps commitments computed from other commitments or from a polynomial (taking ownership):
    /// the zero-constant-term flag is whatever C_0 says, so the identity rules hold by construction.
    /// </summary>
    internal static FeldmanCommitment FromComputed(PrimeOrderGroup group, Element[] owned)
    {
        EnsureCountInRange(owned.Length, nameof(owned));
        return new FeldmanCommitment(group, owned, group.IsIdentity(owned[0]));
    }

    internal void EnsureSameGroup(PrimeOrderGroup group, string parameterName)
    {
        if (!ReferenceEquals(group, Group))
        {
            throw new ArgumentException($"Expected a {Group.Name} value, got {group.Name}.", parameterName);
        }
    }

    /// <summary>The identity is allowed at C_k for k &gt;= 1, and at C_0 only with a zero constant term.</summary>
    private static bool IdentityAllowed(int power, bool hasZeroConstantTerm) => power > 0 || hasZeroConstantTerm;

    private static void EnsureCountInRange(int count, string parameterName)
    {
        if (count == 0 || count > MaxCount)
        {
            throw new ArgumentException($"A Feldman commitment has 1 to {MaxCount} elements (degree 0 to {MaxCount - 1}).", parameterName);
        }
    }
}
