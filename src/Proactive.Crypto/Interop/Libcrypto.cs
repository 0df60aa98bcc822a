using System.Runtime.InteropServices;

namespace Proactive.Crypto.Interop;

/// <summary>
/// OpenSSL 3 libcrypto: <c>openssl/bn.h</c> and <c>openssl/ec.h</c>, the subset the P-256 group needs.
/// Handles are raw pointers; their owners free them in <c>finally</c> blocks or finalizers.
/// Return conventions differ per call (CRYPTO-COSTS.md): most return 1 on success,
/// <c>EC_POINT_cmp</c> returns 0 for equal, <c>EC_POINT_point2oct</c> the length written.
/// </summary>
internal static unsafe partial class Libcrypto
{
    internal const int NID_X9_62_prime256v1 = 415;

    internal enum PointConversion
    {
        Compressed = 2,
        Uncompressed = 4,
    }

    // ---- BIGNUM ----
    [LibraryImport(NativeLibraries.Crypto)] internal static partial IntPtr BN_new();
    [LibraryImport(NativeLibraries.Crypto)] internal static partial void BN_free(IntPtr a);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial void BN_clear_free(IntPtr a);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial IntPtr BN_CTX_new();
    [LibraryImport(NativeLibraries.Crypto)] internal static partial void BN_CTX_free(IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial IntPtr BN_bin2bn(byte* s, int len, IntPtr ret);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int BN_bn2binpad(IntPtr a, byte* to, int tolen);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int BN_num_bits(IntPtr a);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int BN_ucmp(IntPtr a, IntPtr b);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int BN_cmp(IntPtr a, IntPtr b);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int BN_is_zero(IntPtr a);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int BN_is_odd(IntPtr a);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int BN_set_word(IntPtr a, ulong w);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial IntPtr BN_copy(IntPtr to, IntPtr from);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int BN_nnmod(IntPtr r, IntPtr m, IntPtr d, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int BN_mod_add(IntPtr r, IntPtr a, IntPtr b, IntPtr m, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int BN_mod_sub(IntPtr r, IntPtr a, IntPtr b, IntPtr m, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int BN_mod_mul(IntPtr r, IntPtr a, IntPtr b, IntPtr m, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int BN_mod_sqr(IntPtr r, IntPtr a, IntPtr m, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int BN_mod_exp(IntPtr r, IntPtr a, IntPtr p, IntPtr m, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial IntPtr BN_mod_inverse(IntPtr r, IntPtr a, IntPtr n, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial IntPtr BN_mod_sqrt(IntPtr r, IntPtr a, IntPtr p, IntPtr ctx);

    // ---- EC_GROUP ----
    [LibraryImport(NativeLibraries.Crypto)] internal static partial IntPtr EC_GROUP_new_by_curve_name(int nid);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial IntPtr EC_GROUP_get0_order(IntPtr group);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial IntPtr EC_GROUP_get0_generator(IntPtr group);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_GROUP_get_curve(IntPtr group, IntPtr p, IntPtr a, IntPtr b, IntPtr ctx);

    // ---- EC_POINT ----
    [LibraryImport(NativeLibraries.Crypto)] internal static partial IntPtr EC_POINT_new(IntPtr group);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial void EC_POINT_free(IntPtr point);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_POINT_copy(IntPtr dst, IntPtr src);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_POINT_set_to_infinity(IntPtr group, IntPtr point);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_POINT_is_at_infinity(IntPtr group, IntPtr point);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_POINT_is_on_curve(IntPtr group, IntPtr point, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_POINT_cmp(IntPtr group, IntPtr a, IntPtr b, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_POINT_oct2point(IntPtr group, IntPtr p, byte* buf, nuint len, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial nuint EC_POINT_point2oct(IntPtr group, IntPtr p, PointConversion form, byte* buf, nuint len, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_POINT_set_affine_coordinates(IntPtr group, IntPtr p, IntPtr x, IntPtr y, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_POINT_get_affine_coordinates(IntPtr group, IntPtr p, IntPtr x, IntPtr y, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_POINT_add(IntPtr group, IntPtr r, IntPtr a, IntPtr b, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_POINT_dbl(IntPtr group, IntPtr r, IntPtr a, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_POINT_invert(IntPtr group, IntPtr a, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_POINT_mul(IntPtr group, IntPtr r, IntPtr gScalar, IntPtr q, IntPtr m, IntPtr ctx);

    /// <summary>r = n*G + sum p[i]*m[i]. Deprecated in 3.0 but exported, and the only multi-scalar call.</summary>
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_POINTs_mul(IntPtr group, IntPtr r, IntPtr n, nuint num, IntPtr* p, IntPtr* m, IntPtr ctx);
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int EC_POINTs_make_affine(IntPtr group, nuint num, IntPtr* points, IntPtr ctx);

    // ---- errors: OpenSSL keeps a per-thread error queue; clear it after an expected failure ----
    [LibraryImport(NativeLibraries.Crypto)] internal static partial void ERR_clear_error();
}
