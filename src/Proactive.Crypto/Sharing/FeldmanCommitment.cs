// References: Feldman, "A Practical Scheme for Non-interactive Verifiable Secret Sharing", FOCS 1987;
// seed 002 (Numao, IBM RT0280) section 2 "Feldman VSS", "Share Update" and section 4.3 step 3;
// Herzberg, Jarecki, Krawczyk, Yung, "Proactive Secret Sharing", CRYPTO 1995 (refresh by adding
// zero-constant dealings); docs/BRIEF.md section 3 "Refresh".
using System.Runtime.InteropServices;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Sharing;

/// <summary>
/// Feldman commitments C_0..C_t to a polynomial f(x) = a_0 + ... + a_t x^t, with C_k = a_k * G: public
/// values that let anyone check a share against the dealing without learning the polynomial (beyond
/// f(0) * G). Because commitments are linear, the commitment of a sum of polynomials is the sum of the
/// commitments, which is how refresh updates the public record.
/// </summary>
/// <remarks>
/// C_0 may be the identity: a refresh dealing has f(0) = 0, and <see cref="HasZeroConstantTerm"/> is
/// exactly how a server checks that a dealer did not shift the shared secret (BRIEF section 3).
/// Every element came from a group, so all of them are in the prime-order group.
/// </remarks>
public sealed class FeldmanCommitment
{
    private readonly Element[] _coefficients;

    /// <summary>Wraps commitments C_0..C_t, lowest power first (copied).</summary>
    public FeldmanCommitment(PrimeOrderGroup group, ReadOnlySpan<Element> coefficients)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (coefficients.IsEmpty)
        {
            throw new ArgumentException("A commitment needs at least C_0.", nameof(coefficients));
        }

        Group = group;
        _coefficients = coefficients.ToArray();
    }

    private FeldmanCommitment(PrimeOrderGroup group, Element[] owned)
    {
        Group = group;
        _coefficients = owned;
    }

    public PrimeOrderGroup Group { get; }

    /// <summary>t: the degree of the committed polynomial (t+1 shares determine it).</summary>
    public int Degree => _coefficients.Length - 1;

    /// <summary>C_0..C_t, lowest power first.</summary>
    public ReadOnlySpan<Element> Coefficients => _coefficients;

    /// <summary>C_0 = f(0) * G: the public key of the shared secret.</summary>
    public Element ConstantTerm => _coefficients[0];

    /// <summary>
    /// True when C_0 is the identity, i.e. f(0) = 0: what every refresh dealing must satisfy, so that
    /// adding it to the shares leaves the secret (and the public key) unchanged.
    /// </summary>
    public bool HasZeroConstantTerm => Group.IsIdentity(_coefficients[0]);

    /// <summary>Commits to a polynomial (the dealer's side of seed 002 section 4.3 step 2).</summary>
    public static FeldmanCommitment Commit(Polynomial polynomial)
    {
        ArgumentNullException.ThrowIfNull(polynomial);
        return new FeldmanCommitment(polynomial.Group, polynomial.CommitFeldman());
    }

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
        var powers = Powers(Group, x, _coefficients.Length);
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

    /// <summary>f(x) * G for any x, in one multi-scalar multiplication.</summary>
    public Element EvaluateInExponent(Scalar x) =>
        Group.MultiplyMany(Powers(Group, x, _coefficients.Length), _coefficients);

    /// <summary>
    /// The commitment to f + g. Refresh: new commitments = old commitments + the sum of the qualified
    /// dealings (HJKY95), matching new share = old share + the sum of the sub-shares. The degrees may
    /// differ; the result has the larger one.
    /// </summary>
    public FeldmanCommitment Add(FeldmanCommitment other)
    {
        ArgumentNullException.ThrowIfNull(other);
        EnsureSameGroup(other.Group, nameof(other));
        var (longer, shorter) = _coefficients.Length >= other._coefficients.Length
            ? (_coefficients, other._coefficients)
            : (other._coefficients, _coefficients);
        var sum = (Element[])longer.Clone();
        for (var k = 0; k < shorter.Length; k++)
        {
            sum[k] = Group.Add(sum[k], shorter[k]);
        }

        return new FeldmanCommitment(Group, sum);
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

        return new FeldmanCommitment(group, combined);
    }

    public override string ToString() => $"FeldmanCommitment({Group.Name}, degree {Degree})";

    /// <summary>x^0, x^1, ..., x^(count-1).</summary>
    internal static Scalar[] Powers(PrimeOrderGroup group, Scalar x, int count)
    {
        var powers = new Scalar[count];
        var p = group.One;
        for (var j = 0; j < count; j++)
        {
            powers[j] = p;
            p = group.Multiply(p, x);
        }

        return powers;
    }

    internal void EnsureSameGroup(PrimeOrderGroup group, string parameterName)
    {
        if (!ReferenceEquals(group, Group))
        {
            throw new ArgumentException($"Expected a {Group.Name} value, got {group.Name}.", parameterName);
        }
    }
}
