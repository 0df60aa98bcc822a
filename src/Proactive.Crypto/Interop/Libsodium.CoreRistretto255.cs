using System.Runtime.InteropServices;

namespace Proactive.Crypto.Interop;

/// <summary>libsodium: <c>sodium/crypto_core_ristretto255.h</c> and <c>sodium/crypto_scalarmult_ristretto255.h</c>.</summary>
internal static unsafe partial class Libsodium
{
    internal const int crypto_core_ristretto255_BYTES = 32;
    internal const int crypto_core_ristretto255_HASHBYTES = 64;
    internal const int crypto_core_ristretto255_SCALARBYTES = 32;
    internal const int crypto_core_ristretto255_NONREDUCEDSCALARBYTES = 64;
    internal const int crypto_scalarmult_ristretto255_BYTES = 32;
    internal const int crypto_scalarmult_ristretto255_SCALARBYTES = 32;

    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_core_ristretto255_bytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_core_ristretto255_hashbytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_core_ristretto255_scalarbytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_core_ristretto255_nonreducedscalarbytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_scalarmult_ristretto255_bytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_scalarmult_ristretto255_scalarbytes();

    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_core_ristretto255_is_valid_point(byte* p);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_core_ristretto255_add(byte* r, byte* p, byte* q);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_core_ristretto255_sub(byte* r, byte* p, byte* q);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_core_ristretto255_from_hash(byte* p, byte* r);

    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_core_ristretto255_scalar_invert(byte* recip, byte* s);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial void crypto_core_ristretto255_scalar_negate(byte* neg, byte* s);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial void crypto_core_ristretto255_scalar_add(byte* z, byte* x, byte* y);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial void crypto_core_ristretto255_scalar_sub(byte* z, byte* x, byte* y);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial void crypto_core_ristretto255_scalar_mul(byte* z, byte* x, byte* y);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial void crypto_core_ristretto255_scalar_reduce(byte* r, byte* s);

    /// <summary>q = n*p. Returns -1 if p does not decode or the result is the identity.</summary>
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_scalarmult_ristretto255(byte* q, byte* n, byte* p);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_scalarmult_ristretto255_base(byte* q, byte* n);
}
