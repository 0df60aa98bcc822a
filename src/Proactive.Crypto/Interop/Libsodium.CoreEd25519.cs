using System.Runtime.InteropServices;

namespace Proactive.Crypto.Interop;

/// <summary>libsodium: <c>sodium/crypto_core_ed25519.h</c> and <c>sodium/crypto_scalarmult_ed25519.h</c>.</summary>
internal static unsafe partial class Libsodium
{
    internal const int crypto_core_ed25519_BYTES = 32;
    internal const int crypto_core_ed25519_UNIFORMBYTES = 32;
    internal const int crypto_core_ed25519_HASHBYTES = 64;
    internal const int crypto_core_ed25519_SCALARBYTES = 32;
    internal const int crypto_core_ed25519_NONREDUCEDSCALARBYTES = 64;
    internal const int crypto_scalarmult_ed25519_BYTES = 32;
    internal const int crypto_scalarmult_ed25519_SCALARBYTES = 32;

    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_core_ed25519_bytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_core_ed25519_uniformbytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_core_ed25519_hashbytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_core_ed25519_scalarbytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_core_ed25519_nonreducedscalarbytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_scalarmult_ed25519_bytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_scalarmult_ed25519_scalarbytes();

    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_core_ed25519_is_valid_point(byte* p);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_core_ed25519_add(byte* r, byte* p, byte* q);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_core_ed25519_sub(byte* r, byte* p, byte* q);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_core_ed25519_from_uniform(byte* p, byte* r);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_core_ed25519_from_hash(byte* p, byte* h);

    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_core_ed25519_scalar_invert(byte* recip, byte* s);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial void crypto_core_ed25519_scalar_negate(byte* neg, byte* s);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial void crypto_core_ed25519_scalar_add(byte* z, byte* x, byte* y);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial void crypto_core_ed25519_scalar_sub(byte* z, byte* x, byte* y);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial void crypto_core_ed25519_scalar_mul(byte* z, byte* x, byte* y);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial void crypto_core_ed25519_scalar_reduce(byte* r, byte* s);

    /// <summary>q = n*p without clamping. Returns -1 if p is not a valid prime-order point, n is zero,
    /// or the result is the identity. libsodium clears the top bit of n (harmless for reduced scalars).</summary>
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_scalarmult_ed25519_noclamp(byte* q, byte* n, byte* p);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_scalarmult_ed25519_base_noclamp(byte* q, byte* n);
}
