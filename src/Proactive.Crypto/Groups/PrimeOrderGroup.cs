using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Random;

namespace Proactive.Crypto.Groups;

/// <summary>Which group; its byte value is the suite id on the wire, so it never changes.</summary>
public enum GroupId : byte
{
    Ed25519 = 1,
    Ristretto255 = 2,
    P256 = 3,
}

/// <summary>
/// A prime-order group with its scalar field, in the shape of RFC 9591 section 3.1
/// (Order, Identity, RandomScalar, ElementAdd, ScalarMult, ScalarBaseMult, Serialize/Deserialize).
/// Arithmetic is done by libsodium or OpenSSL; this class only validates and dispatches.
/// </summary>
/// <remarks>
/// Bad data never throws here: <c>TryDecode*</c> returns false for wrong lengths, non-canonical
/// encodings, points off the curve or outside the prime-order subgroup, and the identity unless
/// explicitly allowed. Caller mistakes (a wrong-sized destination) throw <see cref="ArgumentException"/>.
/// </remarks>
public abstract class PrimeOrderGroup
{
    private protected PrimeOrderGroup()
    {
    }

    public static PrimeOrderGroup Ed25519 => Ed25519Group.Instance;

    public static PrimeOrderGroup Ristretto255 => Ristretto255Group.Instance;

    public static PrimeOrderGroup P256 => P256Group.Instance;

    /// <summary>The group a wire suite id names; false for an unknown id (untrusted input).</summary>
    public static bool TryFromId(GroupId id, [NotNullWhen(true)] out PrimeOrderGroup? group)
    {
        group = id switch
        {
            GroupId.Ed25519 => Ed25519,
            GroupId.Ristretto255 => Ristretto255,
            GroupId.P256 => P256,
            _ => null,
        };
        return group is not null;
    }

    public abstract GroupId Id { get; }

    public abstract string Name { get; }

    /// <summary>Ns: bytes of a serialized scalar.</summary>
    public abstract int ScalarLength { get; }

    /// <summary>Ne: bytes of a serialized element.</summary>
    public abstract int ElementLength { get; }

    public abstract Scalar Zero { get; }

    public abstract Scalar One { get; }

    public abstract Element Identity { get; }

    public abstract Element Generator { get; }

    // ---------------- scalars ----------------

    public abstract Scalar Add(Scalar a, Scalar b);

    public abstract Scalar Subtract(Scalar a, Scalar b);

    public abstract Scalar Multiply(Scalar a, Scalar b);

    public abstract Scalar Negate(Scalar a);

    /// <summary>The multiplicative inverse; <paramref name="a"/> must not be zero.</summary>
    public Scalar Invert(Scalar a)
    {
        if (a.IsZero)
        {
            throw new ArgumentException("Zero has no inverse.", nameof(a));
        }

        return InvertCore(a);
    }

    private protected abstract Scalar InvertCore(Scalar a);

    /// <summary>The scalar equal to <paramref name="value"/> modulo the order.</summary>
    public abstract Scalar FromUInt64(ulong value);

    /// <summary>
    /// Reduces a uniformly random or hashed byte string modulo the order, reading it in the group's
    /// byte order (little-endian for the libsodium groups, big-endian for P-256).
    /// At least <see cref="WideScalarLength"/> bytes make the bias negligible.
    /// </summary>
    public abstract Scalar ReduceWide(ReadOnlySpan<byte> bytes);

    /// <summary>Bytes that <see cref="ReduceWide"/> needs for a negligible bias.</summary>
    public abstract int WideScalarLength { get; }

    /// <summary>RFC 9591 RandomScalar: uniform in [0, q-1].</summary>
    public Scalar RandomScalar(IRandomSource random)
    {
        Span<byte> wide = stackalloc byte[WideScalarLength];
        try
        {
            random.Fill(wide);
            return ReduceWide(wide);
        }
        finally
        {
            wide.Clear();
        }
    }

    /// <summary>A uniform scalar that is not zero.</summary>
    public Scalar RandomNonzeroScalar(IRandomSource random)
    {
        while (true)
        {
            var s = RandomScalar(random);
            if (!s.IsZero)
            {
                return s;
            }
        }
    }

    public void EncodeScalar(Scalar s, Span<byte> destination)
    {
        if (destination.Length != ScalarLength)
        {
            throw new ArgumentException($"A {Name} scalar takes {ScalarLength} bytes.", nameof(destination));
        }

        s.Bytes[..ScalarLength].CopyTo(destination);
    }

    public byte[] EncodeScalar(Scalar s)
    {
        var bytes = new byte[ScalarLength];
        EncodeScalar(s, bytes);
        return bytes;
    }

    /// <summary>Accepts exactly <see cref="ScalarLength"/> bytes encoding an integer below the order.</summary>
    public bool TryDecodeScalar(ReadOnlySpan<byte> encoding, out Scalar scalar)
    {
        if (encoding.Length != ScalarLength || !IsCanonicalScalar(encoding))
        {
            scalar = default;
            return false;
        }

        scalar = new Scalar(encoding);
        return true;
    }

    private protected abstract bool IsCanonicalScalar(ReadOnlySpan<byte> encoding);

    // ---------------- elements ----------------

    public abstract Element Add(Element a, Element b);

    public abstract Element Subtract(Element a, Element b);

    public Element Negate(Element a) => Subtract(Identity, a);

    public abstract bool IsIdentity(Element a);

    /// <summary>k*G.</summary>
    public abstract Element MultiplyBase(Scalar k);

    /// <summary>k*P.</summary>
    public abstract Element Multiply(Element p, Scalar k);

    /// <summary>
    /// sum of k[i]*P[i] (a multi-scalar multiplication). Groups with a native multi-scalar routine
    /// use it; for many points P-256 uses a bucket method over decoded points.
    /// </summary>
    public Element MultiplyMany(ReadOnlySpan<Scalar> scalars, ReadOnlySpan<Element> points)
    {
        if (scalars.Length != points.Length)
        {
            throw new ArgumentException("As many scalars as points are needed.", nameof(points));
        }

        return points.IsEmpty ? Identity : MultiplyManyCore(scalars, points);
    }

    /// <summary>a*G + sum of k[i]*P[i]: the shape of every Schnorr and Feldman check.</summary>
    public Element MultiplyBaseAndMany(Scalar a, ReadOnlySpan<Scalar> scalars, ReadOnlySpan<Element> points)
    {
        if (scalars.Length != points.Length)
        {
            throw new ArgumentException("As many scalars as points are needed.", nameof(points));
        }

        return MultiplyBaseAndManyCore(a, scalars, points);
    }

    /// <summary>
    /// True when <see cref="MultiplyMany"/> costs much less than one multiplication per point (P-256's
    /// bucket method); false when it multiplies point by point (libsodium has no multi-scalar
    /// routine), in which case batching checks by random linear combination saves nothing.
    /// </summary>
    internal virtual bool HasFastMultiScalarMultiplication => false;

    private protected virtual Element MultiplyManyCore(ReadOnlySpan<Scalar> scalars, ReadOnlySpan<Element> points)
    {
        // Point by point; a coefficient of one (i^0 in every Feldman check) needs no multiplication.
        var one = One;
        var sum = Identity;
        for (var i = 0; i < points.Length; i++)
        {
            sum = Add(sum, scalars[i] == one ? points[i] : Multiply(points[i], scalars[i]));
        }

        return sum;
    }

    private protected virtual Element MultiplyBaseAndManyCore(Scalar a, ReadOnlySpan<Scalar> scalars, ReadOnlySpan<Element> points) =>
        Add(MultiplyBase(a), MultiplyManyCore(scalars, points));

    /// <summary>
    /// Serializes an element (RFC 9591 SerializeElement). The identity has no encoding in
    /// RFC 9591 and is refused unless <paramref name="allowIdentity"/>; then the libsodium groups
    /// use their canonical identity encoding and P-256 uses <see cref="ElementLength"/> zero bytes.
    /// </summary>
    public void EncodeElement(Element e, Span<byte> destination, bool allowIdentity = false)
    {
        if (destination.Length != ElementLength)
        {
            throw new ArgumentException($"A {Name} element takes {ElementLength} bytes.", nameof(destination));
        }

        if (!allowIdentity && IsIdentity(e))
        {
            throw new ArgumentException("The identity element has no encoding here.", nameof(e));
        }

        EncodeElementCore(e, destination);
    }

    public byte[] EncodeElement(Element e, bool allowIdentity = false)
    {
        var bytes = new byte[ElementLength];
        EncodeElement(e, bytes, allowIdentity);
        return bytes;
    }

    private protected abstract void EncodeElementCore(Element e, Span<byte> destination);

    /// <summary>
    /// Deserializes and validates an element (RFC 9591 DeserializeElement): exact length,
    /// canonical encoding, on the curve, in the prime-order subgroup (so never a small-order point),
    /// and not the identity unless <paramref name="allowIdentity"/>.
    /// </summary>
    public bool TryDecodeElement(ReadOnlySpan<byte> encoding, out Element element, bool allowIdentity = false)
    {
        if (encoding.Length != ElementLength)
        {
            element = default;
            return false;
        }

        if (!TryDecodeElementCore(encoding, out element))
        {
            return false;
        }

        if (!allowIdentity && IsIdentity(element))
        {
            element = default;
            return false;
        }

        return true;
    }

    private protected abstract bool TryDecodeElementCore(ReadOnlySpan<byte> encoding, out Element element);

    /// <summary>
    /// Hashes a message to a group element under a domain separation tag. Never the identity in
    /// practice (probability negligible; a function that hits it throws rather than return it).
    /// See docs/CRYPTO.md for the construction per group.
    /// </summary>
    public abstract Element HashToElement(ReadOnlySpan<byte> message, ReadOnlySpan<byte> dst);

    public override string ToString() => Name;
}
