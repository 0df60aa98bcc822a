using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Proactive.Crypto.Groups;

[InlineArray(Length)]
internal struct ScalarBytes
{
    internal const int Length = 32;
    private byte _first;
}

/// <summary>
/// An element of the scalar field Z_q of a <see cref="PrimeOrderGroup"/>, held in that group's
/// canonical encoding (little-endian for Ed25519 and ristretto255, big-endian for P-256).
/// A scalar does not know its group: only the group that made it may operate on it.
/// </summary>
/// <remarks>
/// Scalars are plain values for public quantities (challenges, Lagrange coefficients, binding
/// factors). Secret values at rest belong in <see cref="Secrets.SecretScalar"/>, which wipes its memory.
/// Equality is constant-time because a scalar may be secret. <see cref="ToString"/> never prints the value.
/// </remarks>
public readonly struct Scalar : IEquatable<Scalar>
{
    private readonly ScalarBytes _bytes;

    internal Scalar(ReadOnlySpan<byte> canonical)
    {
        ScalarBytes value = default;
        canonical.CopyTo(value);
        _bytes = value;
    }

    /// <summary>The canonical encoding in the owning group's byte order.</summary>
    [UnscopedRef]
    internal ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>True for the zero scalar (the same in every group's encoding).</summary>
    public bool IsZero
    {
        get
        {
            ReadOnlySpan<byte> b = _bytes;
            return b.IndexOfAnyExcept((byte)0) < 0;
        }
    }

    public bool Equals(Scalar other) => CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    public override bool Equals(object? obj) => obj is Scalar other && Equals(other);

    /// <summary>Not derived from the value, so that hashing a secret scalar leaks nothing.</summary>
    public override int GetHashCode() => 0;

    public override string ToString() => "<scalar>";

    public static bool operator ==(Scalar left, Scalar right) => left.Equals(right);

    public static bool operator !=(Scalar left, Scalar right) => !left.Equals(right);
}
