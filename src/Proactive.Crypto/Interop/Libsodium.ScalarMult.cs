using System.Runtime.InteropServices;

namespace Proactive.Crypto.Interop;

/// <summary>libsodium: <c>sodium/crypto_scalarmult.h</c> (X25519, RFC 7748).</summary>
internal static unsafe partial class Libsodium
{
    internal const int crypto_scalarmult_BYTES = 32;
    internal const int crypto_scalarmult_SCALARBYTES = 32;

    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_scalarmult_bytes();
    [LibraryImport(NativeLibraries.Sodium)] internal static partial nuint crypto_scalarmult_scalarbytes();

    /// <summary>X25519(n, p). Returns -1 when the result is all zeros (p of small order).</summary>
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_scalarmult(byte* q, byte* n, byte* p);
    [LibraryImport(NativeLibraries.Sodium)] internal static partial int crypto_scalarmult_base(byte* q, byte* n);
}
