using System.Runtime.InteropServices;

namespace Proactive.Crypto.Interop;

/// <summary>libsodium: <c>sodium/crypto_sign_ed25519.h</c> (through the generic <c>crypto_sign</c> names, which are Ed25519).</summary>
internal static unsafe partial class Libsodium
{
    internal const int crypto_sign_BYTES = 64;
    internal const int crypto_sign_PUBLICKEYBYTES = 32;
    internal const int crypto_sign_SECRETKEYBYTES = 64;
    internal const int crypto_sign_SEEDBYTES = 32;

    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_sign_bytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_sign_publickeybytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_sign_secretkeybytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_sign_seedbytes();

    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_sign_seed_keypair(byte* pk, byte* sk, byte* seed);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_sign_detached(byte* sig, ulong* siglen, byte* m, ulong mlen, byte* sk);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_sign_verify_detached(byte* sig, byte* m, ulong mlen, byte* pk);
}
