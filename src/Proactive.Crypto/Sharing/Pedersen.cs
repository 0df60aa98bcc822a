// References: Pedersen, "Non-Interactive and Information-Theoretic Secure Verifiable Secret Sharing",
// CRYPTO 1991, section 4; docs/BRIEF.md section 2 ("Pedersen where hiding is needed");
// RFC 9380 (hashing to elliptic curves) for the second generator.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Secrets;

namespace Proactive.Crypto.Sharing;

/// <summary>
/// The second Pedersen generator H of each group, fixed forever by a hash:
/// H = HashToElement("Proactive Pedersen generator H v1", DST "proactive-pedersen-H-v1-&lt;group name&gt;").
/// </summary>
/// <remarks>
/// Pedersen commitments bind only while nobody knows log_G(H): whoever knew it could open a commitment
/// to any value. H comes out of a hash-to-group function (RFC 9380 for P-256; expand_message_xmd then
/// libsodium's Elligator map for Ed25519 and ristretto255), which behaves as a random oracle, so H is a
/// uniformly random element whose discrete logarithm nobody, including us, has ever computed or been
/// able to choose. Anyone can recompute H from the two public strings above.
/// </remarks>
public static class PedersenGenerators
{
    // Boxed, so that a reader on another thread sees either nothing or a whole element.
    private static readonly StrongBox<Element>?[] Cache = new StrongBox<Element>?[4];

    /// <summary>The domain separation tag used for a group's H.</summary>
    public static string DomainSeparationTag(PrimeOrderGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return "proactive-pedersen-H-v1-" + group.Name;
    }

    /// <summary>H for <paramref name="group"/> (computed once, then cached).</summary>
    public static Element H(PrimeOrderGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        var slot = (int)group.Id;
        if (Volatile.Read(ref Cache[slot]) is { } cached)
        {
            return cached.Value;
        }

        var h = group.HashToElement(
            "Proactive Pedersen generator H v1"u8, System.Text.Encoding.ASCII.GetBytes(DomainSeparationTag(group)));
        Volatile.Write(ref Cache[slot], new StrongBox<Element>(h));
        return h;
    }
}

/// <summary>
/// A Pedersen dealing: the secret polynomial f (f(0) is the shared secret) and an independent random
/// blinding polynomial f'. Both are wiped on dispose.
/// </summary>
public sealed class PedersenPolynomial : IDisposable
{
    private PedersenPolynomial(Polynomial value, Polynomial blinding)
    {
        Value = value;
        Blinding = blinding;
    }

    public PrimeOrderGroup Group => Value.Group;

    public int Degree => Value.Degree;

    /// <summary>f, with f(0) the shared secret.</summary>
    public Polynomial Value { get; }

    /// <summary>f', uniformly random (constant term included): it makes the commitments hiding.</summary>
    public Polynomial Blinding { get; }

    /// <summary>A random dealing of <paramref name="secret"/> with threshold <paramref name="degree"/>.</summary>
    public static PedersenPolynomial Random(PrimeOrderGroup group, int degree, Scalar secret, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(random);
        var value = Polynomial.Random(group, degree, secret, random);
        try
        {
            var blinding = Polynomial.Random(group, degree, group.RandomScalar(random), random);
            return new PedersenPolynomial(value, blinding);
        }
        catch
        {
            value.Dispose();
            throw;
        }
    }

    /// <summary>Pairs two polynomials of the same group and degree; takes ownership of both.</summary>
    public static PedersenPolynomial FromPolynomials(Polynomial value, Polynomial blinding)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(blinding);
        if (!ReferenceEquals(value.Group, blinding.Group) || value.Degree != blinding.Degree)
        {
            throw new ArgumentException("Both polynomials need the same group and degree.", nameof(blinding));
        }

        return new PedersenPolynomial(value, blinding);
    }

    /// <summary>C_k = a_k * G + b_k * H for every power k.</summary>
    public PedersenCommitment Commit()
    {
        var h = PedersenGenerators.H(Group);
        var commitments = new Element[Degree + 1];
        Span<Scalar> scalar = stackalloc Scalar[1];
        Span<Element> point = [h];
        try
        {
            for (var k = 0; k <= Degree; k++)
            {
                scalar[0] = Blinding.Coefficient(k);
                commitments[k] = Group.MultiplyBaseAndMany(Value.Coefficient(k), scalar, point);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(scalar));
        }

        return new PedersenCommitment(Group, commitments);
    }

    /// <summary>Server <paramref name="index"/>'s share (f(index), f'(index)).</summary>
    public PedersenShare ShareFor(int index)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        var x = Group.FromUInt64((ulong)index);
        return new PedersenShare(Group, index, Value.Evaluate(x), Blinding.Evaluate(x));
    }

    public override string ToString() => $"PedersenPolynomial(degree {Degree}, <redacted>)";

    public void Dispose()
    {
        Value.Dispose();
        Blinding.Dispose();
    }
}

/// <summary>Server <see cref="Index"/>'s Pedersen share (s, s') = (f(index), f'(index)); wiped on dispose.</summary>
public sealed class PedersenShare : IDisposable
{
    private readonly SecretScalar _value;
    private readonly SecretScalar _blinding;

    public PedersenShare(PrimeOrderGroup group, int index, Scalar value, Scalar blinding)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        Index = index;
        _value = new SecretScalar(group, value);
        _blinding = new SecretScalar(group, blinding);
    }

    public int Index { get; }

    public PrimeOrderGroup Group => _value.Group;

    public Scalar X => Group.FromUInt64((ulong)Index);

    /// <summary>s = f(index), a transient copy.</summary>
    public Scalar Value => _value.Value;

    /// <summary>s' = f'(index), a transient copy.</summary>
    public Scalar Blinding => _blinding.Value;

    public override string ToString() => $"PedersenShare({Index}, <redacted>)";

    public void Dispose()
    {
        _value.Dispose();
        _blinding.Dispose();
    }
}

/// <summary>
/// Pedersen commitments C_k = a_k G + b_k H to a dealing: unlike Feldman's they reveal nothing about
/// the secret, not even f(0) * G (information-theoretic hiding), and bind under the discrete logarithm
/// assumption given that log_G(H) is unknown (see <see cref="PedersenGenerators"/>).
/// </summary>
public sealed class PedersenCommitment
{
    private readonly Element[] _coefficients;

    public PedersenCommitment(PrimeOrderGroup group, ReadOnlySpan<Element> coefficients)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (coefficients.IsEmpty)
        {
            throw new ArgumentException("A commitment needs at least C_0.", nameof(coefficients));
        }

        Group = group;
        _coefficients = coefficients.ToArray();
    }

    public PrimeOrderGroup Group { get; }

    public int Degree => _coefficients.Length - 1;

    public ReadOnlySpan<Element> Coefficients => _coefficients;

    /// <summary>
    /// Checks s * G + s' * H == sum_j index^j C_j (Pedersen 1991, section 4), as one multi-scalar
    /// multiplication (-s) G + (-s') H + sum_j index^j C_j tested against the identity.
    /// False for a wrong share; never throws for bad data.
    /// </summary>
    public bool VerifyShare(int index, Scalar shareValue, Scalar blindingValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        var count = _coefficients.Length;
        // The last scalar is -s', secret: the array is pinned so that wiping it reaches the only copy.
        var scalars = GC.AllocateArray<Scalar>(count + 1, pinned: true);
        var points = new Element[count + 1];
        try
        {
            PolynomialArithmetic.Powers(Group, Group.FromUInt64((ulong)index), scalars.AsSpan(0, count));
            _coefficients.CopyTo(points, 0);
            scalars[count] = Group.Negate(blindingValue);
            points[count] = PedersenGenerators.H(Group);
            return Group.IsIdentity(Group.MultiplyBaseAndMany(Group.Negate(shareValue), scalars, points));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(scalars.AsSpan(count)));
        }
    }

    public bool VerifyShare(PedersenShare share)
    {
        ArgumentNullException.ThrowIfNull(share);
        if (!ReferenceEquals(share.Group, Group))
        {
            throw new ArgumentException($"Expected a {Group.Name} share, got {share.Group.Name}.", nameof(share));
        }

        return VerifyShare(share.Index, share.Value, share.Blinding);
    }

    /// <summary>The commitment to (f + g, f' + g'): Pedersen commitments are additive too.</summary>
    public PedersenCommitment Add(PedersenCommitment other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!ReferenceEquals(other.Group, Group))
        {
            throw new ArgumentException($"Expected a {Group.Name} commitment, got {other.Group.Name}.", nameof(other));
        }

        return new PedersenCommitment(Group, PolynomialArithmetic.AddCommitments(Group, _coefficients, other._coefficients));
    }

    public override string ToString() => $"PedersenCommitment({Group.Name}, degree {Degree})";
}
