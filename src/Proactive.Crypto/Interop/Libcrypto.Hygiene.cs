using System.Runtime.InteropServices;

namespace Proactive.Crypto.Interop;

/// <summary>OpenSSL <c>openssl/bn.h</c>: wiping and constant-time flags for BIGNUMs that hold secrets.</summary>
internal static partial class Libcrypto
{
    internal const int BN_FLG_CONSTTIME = 0x04;

    /// <summary>Zeroes the BIGNUM's limbs (not only its length, as BN_set_word(0) would).</summary>
    [LibraryImport(NativeLibraries.Crypto)] internal static partial void BN_clear(IntPtr a);

    [LibraryImport(NativeLibraries.Crypto)] internal static partial void BN_set_flags(IntPtr b, int n);
}
