using System.Runtime.InteropServices;

namespace Proactive.Crypto.Interop;

/// <summary>The extra <c>openssl/bn.h</c> calls the P-256 hash to curve needs (RFC 9380 constants).</summary>
internal static partial class Libcrypto
{
    /// <summary>r = a &gt;&gt; n; gives c1 = (p - 3) / 4 = floor(p / 4) for p = 3 mod 4.</summary>
    [LibraryImport(NativeLibraries.Crypto)] internal static partial int BN_rshift(IntPtr r, IntPtr a, int n);
}
