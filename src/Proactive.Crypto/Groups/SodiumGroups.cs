using System.Buffers.Binary;
using System.Security.Cryptography;
using Proactive.Crypto.Interop;

namespace Proactive.Crypto.Groups;

/// <summary>
/// Scalar arithmetic modulo L = 2^252 + 27742317777372353535851937790883648493, the order shared by
/// Ed25519's prime-order subgroup and ristretto255, through libsodium's <c>crypto_core_ed25519_scalar_*</c>.
/// </summary>
internal abstract unsafe class SodiumGroup : PrimeOrderGroup
{
    // L in little-endian, for the canonical check (a byte comparison, not arithmetic).
    private static readonly byte[] OrderLittleEndian = Convert.FromHexString(
        "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");

    protected SodiumGroup()
    {
        Libsodium.EnsureInitialized();
        var one = new byte[32];
        one[0] = 1;
        One = new Scalar(one);
    }

    public sealed override int ScalarLength => 32;

    public sealed override int ElementLength => 32;

    public sealed override int WideScalarLength => 64;

    public sealed override Scalar Zero => default;

    public sealed override Scalar One { get; }

    public sealed override Scalar Add(Scalar a, Scalar b)
    {
        Span<byte> r = stackalloc byte[32];
        fixed (byte* pa = a.Bytes, pb = b.Bytes, pr = r)
        {
            Libsodium.crypto_core_ed25519_scalar_add(pr, pa, pb);
        }

        return new Scalar(r);
    }

    public sealed override Scalar Subtract(Scalar a, Scalar b)
    {
        Span<byte> r = stackalloc byte[32];
        fixed (byte* pa = a.Bytes, pb = b.Bytes, pr = r)
        {
            Libsodium.crypto_core_ed25519_scalar_sub(pr, pa, pb);
        }

        return new Scalar(r);
    }

    public sealed override Scalar Multiply(Scalar a, Scalar b)
    {
        Span<byte> r = stackalloc byte[32];
        fixed (byte* pa = a.Bytes, pb = b.Bytes, pr = r)
        {
            Libsodium.crypto_core_ed25519_scalar_mul(pr, pa, pb);
        }

        return new Scalar(r);
    }

    public sealed override Scalar Negate(Scalar a)
    {
        Span<byte> r = stackalloc byte[32];
        fixed (byte* pa = a.Bytes, pr = r)
        {
            Libsodium.crypto_core_ed25519_scalar_negate(pr, pa);
        }

        return new Scalar(r);
    }

    private protected sealed override Scalar InvertCore(Scalar a)
    {
        Span<byte> r = stackalloc byte[32];
        fixed (byte* pa = a.Bytes, pr = r)
        {
            if (Libsodium.crypto_core_ed25519_scalar_invert(pr, pa) != 0)
            {
                throw new CryptographicException("crypto_core_ed25519_scalar_invert failed on a nonzero scalar.");
            }
        }

        return new Scalar(r);
    }

    public sealed override Scalar FromUInt64(ulong value)
    {
        Span<byte> r = stackalloc byte[32];
        r.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(r, value);
        return new Scalar(r); // below L for every 64-bit value
    }

    public sealed override Scalar ReduceWide(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 64)
        {
            throw new ArgumentException("At most 64 bytes can be reduced.", nameof(bytes));
        }

        Span<byte> wide = stackalloc byte[64];
        Span<byte> r = stackalloc byte[32];
        wide.Clear();
        bytes.CopyTo(wide);
        fixed (byte* pw = wide, pr = r)
        {
            Libsodium.crypto_core_ed25519_scalar_reduce(pr, pw);
        }

        CryptographicOperations.ZeroMemory(wide);
        return new Scalar(r);
    }

    private protected sealed override bool IsCanonicalScalar(ReadOnlySpan<byte> encoding)
    {
        // Little-endian comparison with L, most significant byte first, branch-free over the bytes.
        int less = 0, decided = 0;
        for (var i = 31; i >= 0; i--)
        {
            int x = encoding[i], l = OrderLittleEndian[i];
            var lt = ((x - l) >> 31) & 1;      // x < l
            var gt = ((l - x) >> 31) & 1;      // x > l
            less |= lt & ~decided;
            decided |= lt | gt;
        }

        return less == 1;
    }

    /// <summary>Runs a libsodium point operation that may legitimately refuse an identity result.</summary>
    protected static Element ResultOrIdentity(int rc, ReadOnlySpan<byte> result, Element identity) =>
        rc == 0 ? new Element(result) : identity;
}

/// <summary>The prime-order subgroup of edwards25519, through libsodium.</summary>
internal sealed unsafe class Ed25519Group : SodiumGroup
{
    private static readonly byte[] IdentityEncoding = Convert.FromHexString(
        "0100000000000000000000000000000000000000000000000000000000000000");

    private static readonly byte[] BasePointEncoding = Convert.FromHexString(
        "5866666666666666666666666666666666666666666666666666666666666666");

    // Declared after the constants above: static initializers run in textual order.
    internal static readonly Ed25519Group Instance = new();

    private Ed25519Group()
    {
        // In memory the identity is all zeros, as in the other groups, so that default(Element)
        // is the identity; 32 zero bytes as an Ed25519 encoding would be a point of order 4.
        // It is translated to and from libsodium's encoding (0x01, 0, ...) at the boundary.
        Identity = default;
        Generator = new Element(BasePointEncoding);
    }

    public override GroupId Id => GroupId.Ed25519;

    public override string Name => "Ed25519";

    public override Element Identity { get; }

    public override Element Generator { get; }

    public override bool IsIdentity(Element a) => a.Bytes[..32].IndexOfAnyExcept((byte)0) < 0;

    public override Element Add(Element a, Element b)
    {
        if (IsIdentity(a))
        {
            return b;
        }

        if (IsIdentity(b))
        {
            return a;
        }

        Span<byte> r = stackalloc byte[32];
        fixed (byte* pa = a.Bytes, pb = b.Bytes, pr = r)
        {
            // Both inputs are valid elements; add only checks they are on the curve.
            if (Libsodium.crypto_core_ed25519_add(pr, pa, pb) != 0)
            {
                throw new CryptographicException("crypto_core_ed25519_add refused a valid element.");
            }
        }

        return FromSodium(r);
    }

    public override Element Subtract(Element a, Element b)
    {
        if (IsIdentity(b))
        {
            return a;
        }

        Span<byte> r = stackalloc byte[32];
        ReadOnlySpan<byte> left = IsIdentity(a) ? IdentityEncoding : a.Bytes;
        fixed (byte* pa = left, pb = b.Bytes, pr = r)
        {
            if (Libsodium.crypto_core_ed25519_sub(pr, pa, pb) != 0)
            {
                throw new CryptographicException("crypto_core_ed25519_sub refused a valid element.");
            }
        }

        return FromSodium(r);
    }

    /// <summary>libsodium's identity encoding becomes the all-zero in-memory identity.</summary>
    private Element FromSodium(ReadOnlySpan<byte> encoding) =>
        encoding.SequenceEqual(IdentityEncoding) ? Identity : new Element(encoding);

    public override Element MultiplyBase(Scalar k)
    {
        if (k.IsZero)
        {
            return Identity;
        }

        Span<byte> r = stackalloc byte[32];
        fixed (byte* pk = k.Bytes, pr = r)
        {
            return ResultOrIdentity(Libsodium.crypto_scalarmult_ed25519_base_noclamp(pr, pk), r, Identity);
        }
    }

    public override Element Multiply(Element p, Scalar k)
    {
        if (k.IsZero || IsIdentity(p))
        {
            return Identity;
        }

        Span<byte> r = stackalloc byte[32];
        fixed (byte* pk = k.Bytes, pp = p.Bytes, pr = r)
        {
            // -1 only for an identity result, impossible for a nonzero reduced scalar and a
            // prime-order point; kept total anyway.
            return ResultOrIdentity(Libsodium.crypto_scalarmult_ed25519_noclamp(pr, pk, pp), r, Identity);
        }
    }

    private protected override void EncodeElementCore(Element e, Span<byte> destination) =>
        (IsIdentity(e) ? IdentityEncoding : e.Bytes[..32]).CopyTo(destination);

    private protected override bool TryDecodeElementCore(ReadOnlySpan<byte> encoding, out Element element)
    {
        if (encoding.SequenceEqual(IdentityEncoding))
        {
            element = Identity;
            return true;
        }

        fixed (byte* p = encoding)
        {
            // Rejects non-canonical encodings, points off the curve, small-order points and points
            // outside the prime-order subgroup.
            if (Libsodium.crypto_core_ed25519_is_valid_point(p) != 1)
            {
                element = default;
                return false;
            }
        }

        element = new Element(encoding);
        return true;
    }

    /// <summary>
    /// Hash to the prime-order subgroup in the random-oracle shape of RFC 9380 section 3
    /// (hash_to_curve = map(u0) + map(u1), then clear the cofactor): expand_message_xmd(SHA-512, msg,
    /// DST, 128) gives two independent 64-byte strings; libsodium 1.0.18's
    /// <c>crypto_core_ed25519_from_hash</c> maps each (reduction mod p, Elligator 2, cofactor
    /// cleared) and the two points are added. One map alone (encode_to_curve) is not
    /// indifferentiable from a random oracle; the sum of two independent maps is, which is what the
    /// DPRF and the Pedersen generator need. Not byte-compatible with edwards25519_XMD:SHA-512_ELL2_RO_,
    /// whose hash_to_field reduces 48-byte strings (libsodium 1.0.19's <c>from_string_ro</c>);
    /// the output is a valid, uniformly distributed subgroup point with unknown discrete log.
    /// </summary>
    public override Element HashToElement(ReadOnlySpan<byte> message, ReadOnlySpan<byte> dst)
    {
        const int hashBytes = Libsodium.crypto_core_ed25519_HASHBYTES;
        Span<byte> uniform = stackalloc byte[2 * hashBytes];
        Hashing.ExpandMessageXmd.Expand(System.Security.Cryptography.HashAlgorithmName.SHA512, message, dst, uniform);
        Span<byte> q0 = stackalloc byte[32];
        Span<byte> q1 = stackalloc byte[32];
        fixed (byte* pu = uniform, p0 = q0, p1 = q1)
        {
            if (Libsodium.crypto_core_ed25519_from_hash(p0, pu) != 0 ||
                Libsodium.crypto_core_ed25519_from_hash(p1, pu + hashBytes) != 0)
            {
                throw new CryptographicException("crypto_core_ed25519_from_hash failed.");
            }
        }

        var e = Add(new Element(q0), new Element(q1));
        return IsIdentity(e) ? throw new CryptographicException("Hash to group produced the identity.") : e;
    }
}

/// <summary>ristretto255 (RFC 9496), through libsodium.</summary>
internal sealed unsafe class Ristretto255Group : SodiumGroup
{
    private static readonly byte[] BasePointEncoding = Convert.FromHexString(
        "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76");

    // Declared after the constants above: static initializers run in textual order.
    internal static readonly Ristretto255Group Instance = new();

    private Ristretto255Group()
    {
        Identity = default; // all zeros: ristretto255's canonical identity encoding
        Generator = new Element(BasePointEncoding);
    }

    public override GroupId Id => GroupId.Ristretto255;

    public override string Name => "ristretto255";

    public override Element Identity { get; }

    public override Element Generator { get; }

    public override bool IsIdentity(Element a) => a.Bytes[..32].IndexOfAnyExcept((byte)0) < 0;

    public override Element Add(Element a, Element b)
    {
        Span<byte> r = stackalloc byte[32];
        fixed (byte* pa = a.Bytes, pb = b.Bytes, pr = r)
        {
            if (Libsodium.crypto_core_ristretto255_add(pr, pa, pb) != 0)
            {
                throw new CryptographicException("crypto_core_ristretto255_add refused a valid element.");
            }
        }

        return new Element(r);
    }

    public override Element Subtract(Element a, Element b)
    {
        Span<byte> r = stackalloc byte[32];
        fixed (byte* pa = a.Bytes, pb = b.Bytes, pr = r)
        {
            if (Libsodium.crypto_core_ristretto255_sub(pr, pa, pb) != 0)
            {
                throw new CryptographicException("crypto_core_ristretto255_sub refused a valid element.");
            }
        }

        return new Element(r);
    }

    public override Element MultiplyBase(Scalar k)
    {
        if (k.IsZero)
        {
            return Identity;
        }

        Span<byte> r = stackalloc byte[32];
        fixed (byte* pk = k.Bytes, pr = r)
        {
            return ResultOrIdentity(Libsodium.crypto_scalarmult_ristretto255_base(pr, pk), r, Identity);
        }
    }

    public override Element Multiply(Element p, Scalar k)
    {
        if (k.IsZero || IsIdentity(p))
        {
            return Identity;
        }

        Span<byte> r = stackalloc byte[32];
        fixed (byte* pk = k.Bytes, pp = p.Bytes, pr = r)
        {
            return ResultOrIdentity(Libsodium.crypto_scalarmult_ristretto255(pr, pk, pp), r, Identity);
        }
    }

    private protected override void EncodeElementCore(Element e, Span<byte> destination) => e.Bytes[..32].CopyTo(destination);

    private protected override bool TryDecodeElementCore(ReadOnlySpan<byte> encoding, out Element element)
    {
        if (encoding.IndexOfAnyExcept((byte)0) < 0)
        {
            element = Identity;
            return true;
        }

        fixed (byte* p = encoding)
        {
            // Every canonical ristretto255 encoding is a prime-order element; this rejects the rest.
            if (Libsodium.crypto_core_ristretto255_is_valid_point(p) != 1)
            {
                element = default;
                return false;
            }
        }

        element = new Element(encoding);
        return true;
    }

    /// <summary>hash_to_ristretto255 of RFC 9380 appendix B / RFC 9496: expand_message_xmd(SHA-512, msg,
    /// DST, 64) followed by libsodium's <c>crypto_core_ristretto255_from_hash</c> (the one-way map).</summary>
    public override Element HashToElement(ReadOnlySpan<byte> message, ReadOnlySpan<byte> dst)
    {
        Span<byte> uniform = stackalloc byte[Libsodium.crypto_core_ristretto255_HASHBYTES];
        Hashing.ExpandMessageXmd.Expand(System.Security.Cryptography.HashAlgorithmName.SHA512, message, dst, uniform);
        Span<byte> r = stackalloc byte[32];
        fixed (byte* pu = uniform, pr = r)
        {
            if (Libsodium.crypto_core_ristretto255_from_hash(pr, pu) != 0)
            {
                throw new CryptographicException("crypto_core_ristretto255_from_hash failed.");
            }
        }

        var e = new Element(r);
        return IsIdentity(e) ? throw new CryptographicException("Hash to group produced the identity.") : e;
    }
}
