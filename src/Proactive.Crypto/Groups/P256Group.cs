using System.Buffers.Binary;
using System.Security.Cryptography;
using Proactive.Crypto.Interop;

namespace Proactive.Crypto.Groups;

/// <summary>
/// NIST P-256 (secp256r1) through OpenSSL 3. Elements live as affine coordinates x||y (decoded once:
/// a compressed point costs a square root); scalars as 32 big-endian bytes. The shared EC_GROUP is
/// read-only; each thread has its own BN_CTX and scratch values.
/// </summary>
internal sealed unsafe partial class P256Group : PrimeOrderGroup
{
    // Field prime p and group order n, big-endian; the canonical checks are byte comparisons.
    private static readonly byte[] FieldPrime = Convert.FromHexString(
        "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");

    private static readonly byte[] OrderBytes = Convert.FromHexString(
        "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

    private static readonly byte[] GeneratorAffine = Convert.FromHexString(
        "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296" +
        "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");

    // Declared after the constants above: static initializers run in textual order.
    internal static readonly P256Group Instance = new();

    private readonly IntPtr _group;
    private readonly IntPtr _order;

    [ThreadStatic]
    private static Scratch? _threadScratch;

    private P256Group()
    {
        _group = Libcrypto.EC_GROUP_new_by_curve_name(Libcrypto.NID_X9_62_prime256v1);
        if (_group == IntPtr.Zero)
        {
            throw new CryptographicException("OpenSSL does not provide the P-256 group (prime256v1).");
        }

        _order = Libcrypto.EC_GROUP_get0_order(_group);
        One = FromUInt64(1);
        Generator = new Element(GeneratorAffine);
    }

    public override GroupId Id => GroupId.P256;

    public override string Name => "P-256";

    public override int ScalarLength => 32;

    /// <summary>SEC1 compressed: 0x02/0x03 || x.</summary>
    public override int ElementLength => 33;

    /// <summary>48 bytes: hash_to_field's L for P-256 (RFC 9380 section 5: ceil((256+128)/8)).</summary>
    public override int WideScalarLength => 48;

    public override Scalar Zero => default;

    public override Scalar One { get; }

    public override Element Identity => default;

    public override Element Generator { get; }

    internal IntPtr NativeGroup => _group;

    private static Scratch Current => _threadScratch ??= new Scratch(Instance._group);

    // ---------------- scalars ----------------

    public override Scalar Add(Scalar a, Scalar b) => ScalarOp(a, b, ScalarOperation.Add);

    public override Scalar Subtract(Scalar a, Scalar b) => ScalarOp(a, b, ScalarOperation.Subtract);

    public override Scalar Multiply(Scalar a, Scalar b) => ScalarOp(a, b, ScalarOperation.Multiply);

    public override Scalar Negate(Scalar a) => ScalarOp(Zero, a, ScalarOperation.Subtract);

    private protected override Scalar InvertCore(Scalar a) => ScalarOp(a, a, ScalarOperation.Invert);

    private enum ScalarOperation
    {
        Add,
        Subtract,
        Multiply,
        Invert,
    }

    private Scalar ScalarOp(Scalar a, Scalar b, ScalarOperation op)
    {
        var s = Current;
        Span<byte> r = stackalloc byte[32];
        try
        {
            fixed (byte* pa = a.Bytes, pb = b.Bytes, pr = r)
            {
                Libcrypto.BN_bin2bn(pa, 32, s.A);
                Libcrypto.BN_bin2bn(pb, 32, s.B);
                var ok = op switch
                {
                    ScalarOperation.Add => Libcrypto.BN_mod_add(s.R, s.A, s.B, _order, s.Ctx),
                    ScalarOperation.Subtract => Libcrypto.BN_mod_sub(s.R, s.A, s.B, _order, s.Ctx),
                    ScalarOperation.Multiply => Libcrypto.BN_mod_mul(s.R, s.A, s.B, _order, s.Ctx),
                    _ => Libcrypto.BN_mod_inverse(s.R, s.A, _order, s.Ctx) == IntPtr.Zero ? 0 : 1,
                };
                if (ok != 1 || Libcrypto.BN_bn2binpad(s.R, pr, 32) != 32)
                {
                    throw OpenSslFailure($"BN scalar {op}");
                }
            }
        }
        finally
        {
            // Operands may be secret (a share times a Lagrange coefficient): leave nothing behind.
            Libcrypto.BN_clear(s.A);
            Libcrypto.BN_clear(s.B);
            Libcrypto.BN_clear(s.R);
        }

        return new Scalar(r);
    }

    public override Scalar FromUInt64(ulong value)
    {
        Span<byte> r = stackalloc byte[32];
        r.Clear();
        BinaryPrimitives.WriteUInt64BigEndian(r[24..], value);
        return new Scalar(r);
    }

    public override Scalar ReduceWide(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 64)
        {
            throw new ArgumentException("At most 64 bytes can be reduced.", nameof(bytes));
        }

        var s = Current;
        Span<byte> r = stackalloc byte[32];
        fixed (byte* pin = bytes, pr = r)
        {
            Libcrypto.BN_bin2bn(pin, bytes.Length, s.A);
            var ok = Libcrypto.BN_nnmod(s.R, s.A, _order, s.Ctx) == 1 && Libcrypto.BN_bn2binpad(s.R, pr, 32) == 32;
            Libcrypto.BN_clear(s.A);
            Libcrypto.BN_clear(s.R);
            if (!ok)
            {
                throw OpenSslFailure("BN_nnmod");
            }
        }

        return new Scalar(r);
    }

    private protected override bool IsCanonicalScalar(ReadOnlySpan<byte> encoding) => LessThan(encoding, OrderBytes);

    /// <summary>Big-endian a &lt; b over equal lengths, without an early exit.</summary>
    private static bool LessThan(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int less = 0, decided = 0;
        for (var i = 0; i < a.Length; i++)
        {
            int x = a[i], y = b[i];
            var lt = ((x - y) >> 31) & 1;
            var gt = ((y - x) >> 31) & 1;
            less |= lt & ~decided;
            decided |= lt | gt;
        }

        return less == 1;
    }

    // ---------------- elements ----------------

    public override bool IsIdentity(Element a) => a.Bytes.IndexOfAnyExcept((byte)0) < 0;

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

        var s = Current;
        Load(a, s.P1, s.Ctx);
        Load(b, s.P2, s.Ctx);
        Check(Libcrypto.EC_POINT_add(_group, s.P3, s.P1, s.P2, s.Ctx), "EC_POINT_add");
        return Store(s.P3, s.Ctx);
    }

    public override Element Subtract(Element a, Element b)
    {
        if (IsIdentity(b))
        {
            return a;
        }

        var s = Current;
        Load(a, s.P1, s.Ctx);
        Load(b, s.P2, s.Ctx);
        Check(Libcrypto.EC_POINT_invert(_group, s.P2, s.Ctx), "EC_POINT_invert");
        Check(Libcrypto.EC_POINT_add(_group, s.P3, s.P1, s.P2, s.Ctx), "EC_POINT_add");
        return Store(s.P3, s.Ctx);
    }

    public override Element MultiplyBase(Scalar k)
    {
        var s = Current;
        fixed (byte* pk = k.Bytes)
        {
            Libcrypto.BN_bin2bn(pk, 32, s.A);
        }

        Check(Libcrypto.EC_POINT_mul(_group, s.P3, s.A, IntPtr.Zero, IntPtr.Zero, s.Ctx), "EC_POINT_mul");
        Libcrypto.BN_clear(s.A);
        return Store(s.P3, s.Ctx);
    }

    public override Element Multiply(Element p, Scalar k)
    {
        if (IsIdentity(p) || k.IsZero)
        {
            return Identity;
        }

        var s = Current;
        Load(p, s.P1, s.Ctx);
        fixed (byte* pk = k.Bytes)
        {
            Libcrypto.BN_bin2bn(pk, 32, s.A);
        }

        Check(Libcrypto.EC_POINT_mul(_group, s.P3, IntPtr.Zero, s.P1, s.A, s.Ctx), "EC_POINT_mul");
        Libcrypto.BN_clear(s.A);
        return Store(s.P3, s.Ctx);
    }

    private protected override Element MultiplyManyCore(ReadOnlySpan<Scalar> scalars, ReadOnlySpan<Element> points) =>
        MultiScalarMultiply(null, scalars, points);

    private protected override Element MultiplyBaseAndManyCore(Scalar a, ReadOnlySpan<Scalar> scalars, ReadOnlySpan<Element> points) =>
        MultiScalarMultiply(a, scalars, points);

    private protected override void EncodeElementCore(Element e, Span<byte> destination)
    {
        if (IsIdentity(e))
        {
            destination.Clear();
            return;
        }

        var xy = e.Bytes;
        destination[0] = (byte)(0x02 | (xy[63] & 1));
        xy[..32].CopyTo(destination[1..]);
    }

    private protected override bool TryDecodeElementCore(ReadOnlySpan<byte> encoding, out Element element)
    {
        element = default;
        if (encoding.IndexOfAnyExcept((byte)0) < 0)
        {
            return true; // our fixed-length identity encoding; refused by the caller unless allowed
        }

        if ((encoding[0] != 0x02 && encoding[0] != 0x03) || !LessThan(encoding[1..], FieldPrime))
        {
            return false;
        }

        var s = Current;
        fixed (byte* pe = encoding)
        {
            // oct2point recovers y (one square root) and checks the point is on the curve;
            // P-256 has cofactor 1, so on the curve means in the prime-order group.
            if (Libcrypto.EC_POINT_oct2point(_group, s.P1, pe, (nuint)encoding.Length, s.Ctx) != 1)
            {
                Libcrypto.ERR_clear_error();
                return false;
            }
        }

        element = Store(s.P1, s.Ctx);
        return true;
    }

    /// <summary>P256_XMD:SHA-256_SSWU_RO_ of RFC 9380 section 8.2.</summary>
    public override Element HashToElement(ReadOnlySpan<byte> message, ReadOnlySpan<byte> dst) =>
        P256HashToCurve.Hash(this, message, dst);

    // ---------------- native plumbing ----------------

    /// <summary>Puts an element into a native point: 0.4 us, no square root (uncompressed form).</summary>
    internal void Load(Element e, IntPtr point, IntPtr ctx)
    {
        if (IsIdentity(e))
        {
            Check(Libcrypto.EC_POINT_set_to_infinity(_group, point), "EC_POINT_set_to_infinity");
            return;
        }

        Span<byte> buffer = stackalloc byte[65];
        buffer[0] = 0x04;
        e.Bytes.CopyTo(buffer[1..]);
        fixed (byte* pb = buffer)
        {
            Check(Libcrypto.EC_POINT_oct2point(_group, point, pb, 65, ctx), "EC_POINT_oct2point");
        }
    }

    /// <summary>Takes a native point back to affine x||y (one field inversion).</summary>
    internal Element Store(IntPtr point, IntPtr ctx)
    {
        if (Libcrypto.EC_POINT_is_at_infinity(_group, point) == 1)
        {
            return Identity;
        }

        Span<byte> buffer = stackalloc byte[65];
        fixed (byte* pb = buffer)
        {
            if (Libcrypto.EC_POINT_point2oct(_group, point, Libcrypto.PointConversion.Uncompressed, pb, 65, ctx) != 65)
            {
                throw OpenSslFailure("EC_POINT_point2oct");
            }
        }

        return new Element(buffer[1..]);
    }

    internal static void Check(int rc, string function)
    {
        if (rc != 1)
        {
            throw OpenSslFailure(function);
        }
    }

    internal static CryptographicException OpenSslFailure(string function)
    {
        Libcrypto.ERR_clear_error();
        return new CryptographicException($"OpenSSL {function} failed on valid input.");
    }

    /// <summary>Per-thread native scratch, freed when the thread's last reference goes.</summary>
    private sealed class Scratch
    {
        internal readonly IntPtr Ctx = Libcrypto.BN_CTX_new();
        internal readonly IntPtr A = Libcrypto.BN_new();
        internal readonly IntPtr B = Libcrypto.BN_new();
        internal readonly IntPtr R = Libcrypto.BN_new();
        internal readonly IntPtr P1;
        internal readonly IntPtr P2;
        internal readonly IntPtr P3;

        internal Scratch(IntPtr group)
        {
            P1 = Libcrypto.EC_POINT_new(group);
            P2 = Libcrypto.EC_POINT_new(group);
            P3 = Libcrypto.EC_POINT_new(group);
            if (Ctx == IntPtr.Zero || A == IntPtr.Zero || B == IntPtr.Zero || R == IntPtr.Zero ||
                P1 == IntPtr.Zero || P2 == IntPtr.Zero || P3 == IntPtr.Zero)
            {
                throw new CryptographicException("OpenSSL could not allocate scratch values.");
            }

            // Scalars may be secret: ask OpenSSL for its constant-time code paths (modular inverse,
            // division in the reductions, the ladder in EC_POINT_mul). BIGNUM arithmetic is still not
            // guaranteed constant-time throughout; see docs/CRYPTO.md.
            foreach (var bn in new[] { A, B, R })
            {
                Libcrypto.BN_set_flags(bn, Libcrypto.BN_FLG_CONSTTIME);
            }
        }

        ~Scratch()
        {
            Libcrypto.BN_clear_free(A);
            Libcrypto.BN_clear_free(B);
            Libcrypto.BN_clear_free(R);
            Libcrypto.EC_POINT_free(P1);
            Libcrypto.EC_POINT_free(P2);
            Libcrypto.EC_POINT_free(P3);
            Libcrypto.BN_CTX_free(Ctx);
        }
    }
}
