using System.Security.Cryptography;
using Proactive.Crypto.Hashing;
using Proactive.Crypto.Interop;

namespace Proactive.Crypto.Groups;

/// <summary>
/// RFC 9380 section 8.2, suite P256_XMD:SHA-256_SSWU_RO_: hash_to_field (section 5.2) with
/// expand_message_xmd over SHA-256, count 2, L = 48, m = 1; map_to_curve_simple_swu (section 6.6.2,
/// the straight-line steps) with Z = -10 on each field element; the two points added; cofactor 1.
/// </summary>
/// <remarks>
/// Every field operation is an OpenSSL <c>BN_mod_*</c> call modulo p (read from the group with
/// <c>EC_GROUP_get_curve</c>); this file only orders the RFC's steps. The square root ratio is the
/// q = 3 mod 4 routine of appendix F.2.1.2. OpenSSL's BIGNUM arithmetic is not constant time, and the
/// CMOVs here are branches: the input is a public message (DPRF inputs, FROST does not use this), so
/// only its hash, not a secret, could leak through timing.
/// </remarks>
internal static unsafe class P256HashToCurve
{
    /// <summary>L = ceil((ceil(log2(p)) + k) / 8) with k = 128 (section 8.2).</summary>
    internal const int FieldElementBytes = 48;

    [ThreadStatic]
    private static Workspace? _threadWorkspace;

    internal static Element Hash(P256Group group, ReadOnlySpan<byte> message, ReadOnlySpan<byte> dst)
    {
        var w = _threadWorkspace ??= new Workspace(group.NativeGroup);

        // hash_to_curve (section 3): u = hash_to_field(msg, 2); Q0 = map(u0); Q1 = map(u1); P = Q0 + Q1.
        Span<byte> uniform = stackalloc byte[2 * FieldElementBytes];
        ExpandMessageXmd.Expand(HashAlgorithmName.SHA256, message, dst, uniform);
        HashToField(w, uniform[..FieldElementBytes], w.U);
        MapToCurve(w, w.U, w.Q0);
        HashToField(w, uniform[FieldElementBytes..], w.U);
        MapToCurve(w, w.U, w.Q1);
        Check(Libcrypto.EC_POINT_add(group.NativeGroup, w.Sum, w.Q0, w.Q1, w.Ctx), "EC_POINT_add");

        // clear_cofactor is the identity map (h_eff = 1). The sum is the identity only if Q1 = -Q0,
        // which a random oracle output hits with probability about 2^-256.
        var result = group.Store(w.Sum, w.Ctx);
        return group.IsIdentity(result)
            ? throw new CryptographicException("Hash to curve produced the identity.")
            : result;
    }

    /// <summary>The field elements u0, u1 of hash_to_field, big-endian (for the appendix J vectors).</summary>
    internal static (byte[] U0, byte[] U1) HashToFieldForTest(ReadOnlySpan<byte> message, ReadOnlySpan<byte> dst)
    {
        var w = _threadWorkspace ??= new Workspace(P256Group.Instance.NativeGroup);
        Span<byte> uniform = stackalloc byte[2 * FieldElementBytes];
        ExpandMessageXmd.Expand(HashAlgorithmName.SHA256, message, dst, uniform);
        HashToField(w, uniform[..FieldElementBytes], w.U);
        var u0 = ToBytes(w.U);
        HashToField(w, uniform[FieldElementBytes..], w.U);
        return (u0, ToBytes(w.U));
    }

    /// <summary>map_to_curve_simple_swu(u) as affine x||y, for the appendix J Q0/Q1 vectors.</summary>
    internal static Element MapToCurveForTest(ReadOnlySpan<byte> fieldElement)
    {
        var w = _threadWorkspace ??= new Workspace(P256Group.Instance.NativeGroup);
        fixed (byte* pu = fieldElement)
        {
            Libcrypto.BN_bin2bn(pu, fieldElement.Length, w.U);
        }

        MapToCurve(w, w.U, w.Q0);
        return P256Group.Instance.Store(w.Q0, w.Ctx);
    }

    /// <summary>Section 5.2 with m = 1: e = OS2IP(tv) mod p.</summary>
    private static void HashToField(Workspace w, ReadOnlySpan<byte> tv, IntPtr e)
    {
        fixed (byte* pt = tv)
        {
            Libcrypto.BN_bin2bn(pt, tv.Length, w.Tv1);
        }

        Check(Libcrypto.BN_nnmod(e, w.Tv1, w.P, w.Ctx), "BN_nnmod");
    }

    /// <summary>
    /// map_to_curve_simple_swu, section 6.6.2 straight-line steps 1-27, then the point is built with
    /// <c>EC_POINT_set_affine_coordinates</c>, which also checks that it is on the curve.
    /// </summary>
    private static void MapToCurve(Workspace w, IntPtr u, IntPtr point)
    {
        IntPtr p = w.P, ctx = w.Ctx;
        IntPtr tv1 = w.Tv1, tv2 = w.Tv2, tv3 = w.Tv3, tv4 = w.Tv4, tv5 = w.Tv5, tv6 = w.Tv6, x = w.X, y = w.Y;

        Mod(Libcrypto.BN_mod_sqr(tv1, u, p, ctx));             // 1.  tv1 = u^2
        Mod(Libcrypto.BN_mod_mul(tv1, w.Z, tv1, p, ctx));      // 2.  tv1 = Z * tv1
        Mod(Libcrypto.BN_mod_sqr(tv2, tv1, p, ctx));           // 3.  tv2 = tv1^2
        Mod(Libcrypto.BN_mod_add(tv2, tv2, tv1, p, ctx));      // 4.  tv2 = tv2 + tv1
        Mod(Libcrypto.BN_mod_add(tv3, tv2, w.One, p, ctx));    // 5.  tv3 = tv2 + 1
        Mod(Libcrypto.BN_mod_mul(tv3, w.B, tv3, p, ctx));      // 6.  tv3 = B * tv3
        if (Libcrypto.BN_is_zero(tv2) == 1)                    // 7.  tv4 = CMOV(Z, -tv2, tv2 != 0)
        {
            Copy(tv4, w.Z);
        }
        else
        {
            Mod(Libcrypto.BN_mod_sub(tv4, w.Zero, tv2, p, ctx));
        }

        Mod(Libcrypto.BN_mod_mul(tv4, w.A, tv4, p, ctx));      // 8.  tv4 = A * tv4
        Mod(Libcrypto.BN_mod_sqr(tv2, tv3, p, ctx));           // 9.  tv2 = tv3^2
        Mod(Libcrypto.BN_mod_sqr(tv6, tv4, p, ctx));           // 10. tv6 = tv4^2
        Mod(Libcrypto.BN_mod_mul(tv5, w.A, tv6, p, ctx));      // 11. tv5 = A * tv6
        Mod(Libcrypto.BN_mod_add(tv2, tv2, tv5, p, ctx));      // 12. tv2 = tv2 + tv5
        Mod(Libcrypto.BN_mod_mul(tv2, tv2, tv3, p, ctx));      // 13. tv2 = tv2 * tv3
        Mod(Libcrypto.BN_mod_mul(tv6, tv6, tv4, p, ctx));      // 14. tv6 = tv6 * tv4
        Mod(Libcrypto.BN_mod_mul(tv5, w.B, tv6, p, ctx));      // 15. tv5 = B * tv6
        Mod(Libcrypto.BN_mod_add(tv2, tv2, tv5, p, ctx));      // 16. tv2 = tv2 + tv5
        Mod(Libcrypto.BN_mod_mul(x, tv1, tv3, p, ctx));        // 17. x = tv1 * tv3
        var isGx1Square = SqrtRatio(w, tv2, tv6, w.Y1);        // 18. (is_gx1_square, y1) = sqrt_ratio(tv2, tv6)
        Mod(Libcrypto.BN_mod_mul(y, tv1, u, p, ctx));          // 19. y = tv1 * u
        Mod(Libcrypto.BN_mod_mul(y, y, w.Y1, p, ctx));         // 20. y = y * y1
        if (isGx1Square)
        {
            Copy(x, tv3);                                      // 21. x = CMOV(x, tv3, is_gx1_square)
            Copy(y, w.Y1);                                     // 22. y = CMOV(y, y1, is_gx1_square)
        }

        var e1 = Libcrypto.BN_is_odd(u) == Libcrypto.BN_is_odd(y); // 23. e1 = sgn0(u) == sgn0(y)
        if (!e1)                                                   // 24. y = CMOV(-y, y, e1)
        {
            Mod(Libcrypto.BN_mod_sub(y, w.Zero, y, p, ctx));
        }

        // 25. tv4 = inv0(tv4). tv4 = A * (Z or -tv2) is never zero: A != 0, Z != 0, and tv2 != 0 in that branch.
        if (Libcrypto.BN_mod_inverse(tv4, tv4, p, ctx) == IntPtr.Zero)
        {
            throw Failure("BN_mod_inverse");
        }

        Mod(Libcrypto.BN_mod_mul(x, x, tv4, p, ctx));          // 26. x = x * tv4
        Check(Libcrypto.EC_POINT_set_affine_coordinates(w.Group, point, x, y, ctx), "EC_POINT_set_affine_coordinates");
    }

    /// <summary>
    /// sqrt_ratio(u, v) for q = 3 mod 4, appendix F.2.1.2: (true, sqrt(u/v)) if u/v is a square,
    /// else (false, sqrt(Z * u/v)).
    /// </summary>
    private static bool SqrtRatio(Workspace w, IntPtr u, IntPtr v, IntPtr y)
    {
        IntPtr p = w.P, ctx = w.Ctx, tv1 = w.S1, tv2 = w.S2, tv3 = w.S3;
        Mod(Libcrypto.BN_mod_sqr(tv1, v, p, ctx));             // 1. tv1 = v^2
        Mod(Libcrypto.BN_mod_mul(tv2, u, v, p, ctx));          // 2. tv2 = u * v
        Mod(Libcrypto.BN_mod_mul(tv1, tv1, tv2, p, ctx));      // 3. tv1 = tv1 * tv2
        Mod(Libcrypto.BN_mod_exp(y, tv1, w.C1, p, ctx));       // 4. y1 = tv1^c1
        Mod(Libcrypto.BN_mod_mul(y, y, tv2, p, ctx));          // 5. y1 = y1 * tv2
        Mod(Libcrypto.BN_mod_mul(tv1, y, w.C2, p, ctx));       // 6. y2 = y1 * c2 (kept in tv1)
        Mod(Libcrypto.BN_mod_sqr(tv3, y, p, ctx));             // 7. tv3 = y1^2
        Mod(Libcrypto.BN_mod_mul(tv3, tv3, v, p, ctx));        // 8. tv3 = tv3 * v
        var isQr = Libcrypto.BN_cmp(tv3, u) == 0;              // 9. isQR = tv3 == u
        if (!isQr)                                             // 10. y = CMOV(y2, y1, isQR)
        {
            Copy(y, tv1);
        }

        return isQr;
    }

    private static byte[] ToBytes(IntPtr bn)
    {
        var bytes = new byte[32];
        fixed (byte* pb = bytes)
        {
            if (Libcrypto.BN_bn2binpad(bn, pb, 32) != 32)
            {
                throw Failure("BN_bn2binpad");
            }
        }

        return bytes;
    }

    private static void Copy(IntPtr to, IntPtr from)
    {
        if (Libcrypto.BN_copy(to, from) == IntPtr.Zero)
        {
            throw Failure("BN_copy");
        }
    }

    private static void Mod(int rc) => Check(rc, "BN_mod_*");

    private static void Check(int rc, string function) => P256Group.Check(rc, function);

    private static CryptographicException Failure(string function) => P256Group.OpenSslFailure(function);

    /// <summary>
    /// Per-thread constants (p, A, B, Z, c1, c2 from the library) and temporaries; nothing here is
    /// secret, so the finalizer only frees.
    /// </summary>
    private sealed class Workspace
    {
        internal readonly IntPtr Group;
        internal readonly IntPtr Ctx = Libcrypto.BN_CTX_new();
        internal readonly IntPtr P = Libcrypto.BN_new();
        internal readonly IntPtr A = Libcrypto.BN_new();
        internal readonly IntPtr B = Libcrypto.BN_new();
        internal readonly IntPtr Z = Libcrypto.BN_new();
        internal readonly IntPtr Zero = Libcrypto.BN_new();
        internal readonly IntPtr One = Libcrypto.BN_new();
        internal readonly IntPtr C1 = Libcrypto.BN_new();
        internal readonly IntPtr C2 = Libcrypto.BN_new();
        internal readonly IntPtr U = Libcrypto.BN_new();
        internal readonly IntPtr Tv1 = Libcrypto.BN_new();
        internal readonly IntPtr Tv2 = Libcrypto.BN_new();
        internal readonly IntPtr Tv3 = Libcrypto.BN_new();
        internal readonly IntPtr Tv4 = Libcrypto.BN_new();
        internal readonly IntPtr Tv5 = Libcrypto.BN_new();
        internal readonly IntPtr Tv6 = Libcrypto.BN_new();
        internal readonly IntPtr X = Libcrypto.BN_new();
        internal readonly IntPtr Y = Libcrypto.BN_new();
        internal readonly IntPtr Y1 = Libcrypto.BN_new();
        internal readonly IntPtr S1 = Libcrypto.BN_new();
        internal readonly IntPtr S2 = Libcrypto.BN_new();
        internal readonly IntPtr S3 = Libcrypto.BN_new();
        internal readonly IntPtr Q0;
        internal readonly IntPtr Q1;
        internal readonly IntPtr Sum;

        internal Workspace(IntPtr group)
        {
            Group = group;
            Q0 = Libcrypto.EC_POINT_new(group);
            Q1 = Libcrypto.EC_POINT_new(group);
            Sum = Libcrypto.EC_POINT_new(group);
            if (Ctx == IntPtr.Zero || Q0 == IntPtr.Zero || Q1 == IntPtr.Zero || Sum == IntPtr.Zero ||
                Array.IndexOf(Handles(), IntPtr.Zero) >= 0)
            {
                throw new CryptographicException("OpenSSL could not allocate hash-to-curve values.");
            }

            // p, A = -3, B of the curve y^2 = x^3 + A x + B, from OpenSSL's own group parameters.
            Check(Libcrypto.EC_GROUP_get_curve(group, P, A, B, Ctx), "EC_GROUP_get_curve");
            Check(Libcrypto.BN_set_word(Zero, 0), "BN_set_word");
            Check(Libcrypto.BN_set_word(One, 1), "BN_set_word");

            // Z = -10 (section 8.2).
            Check(Libcrypto.BN_set_word(Tv1, 10), "BN_set_word");
            Mod(Libcrypto.BN_mod_sub(Z, Zero, Tv1, P, Ctx));

            // c1 = (p - 3) / 4 = p >> 2 since p = 3 mod 4; c2 = sqrt(-Z) = sqrt(10). Either root of 10
            // works: sqrt_ratio's result only feeds y, whose sign step 24 fixes.
            Check(Libcrypto.BN_rshift(C1, P, 2), "BN_rshift");
            if (Libcrypto.BN_mod_sqrt(C2, Tv1, P, Ctx) == IntPtr.Zero)
            {
                throw Failure("BN_mod_sqrt");
            }
        }

        ~Workspace()
        {
            foreach (var handle in Handles())
            {
                Libcrypto.BN_free(handle);
            }

            Libcrypto.EC_POINT_free(Q0);
            Libcrypto.EC_POINT_free(Q1);
            Libcrypto.EC_POINT_free(Sum);
            Libcrypto.BN_CTX_free(Ctx);
        }

        private IntPtr[] Handles() =>
            [P, A, B, Z, Zero, One, C1, C2, U, Tv1, Tv2, Tv3, Tv4, Tv5, Tv6, X, Y, Y1, S1, S2, S3];
    }
}
