using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;

namespace Proactive.Crypto.Sharing;

/// <summary>
/// A polynomial f(x) = a_0 + a_1 x + ... + a_t x^t over a group's scalar field, whose coefficients
/// are secret: they live in pinned memory owned by this object and are wiped on <see cref="Dispose"/>.
/// </summary>
public sealed class Polynomial : IDisposable
{
    private readonly Scalar[] _coefficients;
    private bool _disposed;

    private Polynomial(PrimeOrderGroup group, int degree)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(degree);
        Group = group;
        _coefficients = GC.AllocateArray<Scalar>(degree + 1, pinned: true);
    }

    ~Polynomial() => Wipe();

    public PrimeOrderGroup Group { get; }

    /// <summary>t: the highest power; t+1 points determine the polynomial.</summary>
    public int Degree => _coefficients.Length - 1;

    /// <summary>f(0), the shared secret.</summary>
    public Scalar ConstantTerm => Coefficient(0);

    /// <summary>A uniformly random polynomial of the given degree with f(0) = <paramref name="constantTerm"/>.</summary>
    public static Polynomial Random(PrimeOrderGroup group, int degree, Scalar constantTerm, IRandomSource random)
    {
        var p = new Polynomial(group, degree);
        p._coefficients[0] = constantTerm;
        for (var k = 1; k <= degree; k++)
        {
            p._coefficients[k] = group.RandomScalar(random);
        }

        return p;
    }

    /// <summary>A polynomial with the given coefficients, lowest power first (copied).</summary>
    public static Polynomial FromCoefficients(PrimeOrderGroup group, ReadOnlySpan<Scalar> coefficients)
    {
        if (coefficients.IsEmpty)
        {
            throw new ArgumentException("A polynomial needs at least one coefficient.", nameof(coefficients));
        }

        var p = new Polynomial(group, coefficients.Length - 1);
        coefficients.CopyTo(p._coefficients);
        return p;
    }

    public Scalar Coefficient(int power)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _coefficients[power];
    }

    /// <summary>f(x) by Horner's rule.</summary>
    public Scalar Evaluate(Scalar x)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return PolynomialArithmetic.Evaluate(Group, _coefficients, x);
    }

    /// <summary>
    /// Feldman commitments C_k = a_k * G for every coefficient (seed 002, "Feldman VSS"), flagged as a
    /// zero-constant-term commitment exactly when f(0) = 0 (a refresh dealing). Throws for a degree
    /// above what a commitment may hold (<see cref="FeldmanCommitment.MaxCount"/> - 1).
    /// </summary>
    public FeldmanCommitment CommitFeldman()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_coefficients.Length > FeldmanCommitment.MaxCount)
        {
            throw new InvalidOperationException($"A Feldman commitment holds degree {FeldmanCommitment.MaxCount - 1} at most; this polynomial has degree {Degree}.");
        }

        var commitments = new Element[_coefficients.Length];
        for (var k = 0; k < commitments.Length; k++)
        {
            commitments[k] = Group.MultiplyBase(_coefficients[k]);
        }

        return FeldmanCommitment.FromComputed(Group, commitments);
    }

    public override string ToString() => $"Polynomial(degree {Degree}, <redacted>)";

    public void Dispose()
    {
        Wipe();
        _disposed = true;
        GC.SuppressFinalize(this);
    }

    private void Wipe() => CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(_coefficients.AsSpan()));
}
