using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Proactive.Crypto.Groups;

[InlineArray(Length)]
internal struct ElementBytes
{
    internal const int Length = 64;
    private byte _first;
}

/// <summary>
/// A validated element of a <see cref="PrimeOrderGroup"/>, kept in the form that group computes
/// on fastest: the 32-byte canonical encoding for Ed25519 and ristretto255 (libsodium's native
/// form), the 64-byte affine coordinates x||y for P-256 (so that no square root is ever paid twice;
/// all zeros stands for the identity, which is not on the curve).
/// Only a group makes elements, so every element is in the prime-order group.
/// </summary>
public readonly struct Element : IEquatable<Element>
{
    private readonly ElementBytes _bytes;

    internal Element(ReadOnlySpan<byte> internalForm)
    {
        ElementBytes value = default;
        internalForm.CopyTo(value);
        _bytes = value;
    }

    [UnscopedRef]
    internal ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Representations are unique per group, so byte equality is element equality.</summary>
    public bool Equals(Element other)
    {
        ReadOnlySpan<byte> a = _bytes;
        ReadOnlySpan<byte> b = other._bytes;
        return a.SequenceEqual(b);
    }

    public override bool Equals(object? obj) => obj is Element other && Equals(other);

    public override int GetHashCode()
    {
        ReadOnlySpan<byte> b = _bytes;
        return BitConverter.ToInt32(b[..4]) ^ BitConverter.ToInt32(b[28..32]);
    }

    public override string ToString() => "<element>";

    public static bool operator ==(Element left, Element right) => left.Equals(right);

    public static bool operator !=(Element left, Element right) => !left.Equals(right);
}
