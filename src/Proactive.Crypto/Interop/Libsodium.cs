using System.Runtime.InteropServices;

namespace Proactive.Crypto.Interop;

/// <summary>libsodium: <c>sodium/core.h</c>. Every entry point of the crypto core calls
/// <see cref="EnsureInitialized"/> (through the static constructors of its users) before use.</summary>
internal static partial class Libsodium
{
    private static readonly Lock InitLock = new();
    private static volatile bool _initialized;

    /// <summary>Calls <c>sodium_init</c> exactly once per process, thread-safely.</summary>
    internal static void EnsureInitialized()
    {
        if (_initialized)
        {
            return;
        }

        lock (InitLock)
        {
            if (_initialized)
            {
                return;
            }

            // 0 = initialized now, 1 = already initialized (by someone else in the process), -1 = failure.
            if (sodium_init() < 0)
            {
                throw new InvalidOperationException("sodium_init failed: libsodium cannot be used in this process.");
            }

            CheckSizeConstants();
            _initialized = true;
        }
    }

    /// <summary>
    /// Our compile-time size constants must equal libsodium's own answers; a mismatch means a
    /// different library than the one this code was written for, and nothing may run on it.
    /// </summary>
    internal static void CheckSizeConstants()
    {
        Check(crypto_core_ed25519_BYTES, crypto_core_ed25519_bytes(), nameof(crypto_core_ed25519_bytes));
        Check(crypto_core_ed25519_UNIFORMBYTES, crypto_core_ed25519_uniformbytes(), nameof(crypto_core_ed25519_uniformbytes));
        Check(crypto_core_ed25519_HASHBYTES, crypto_core_ed25519_hashbytes(), nameof(crypto_core_ed25519_hashbytes));
        Check(crypto_core_ed25519_SCALARBYTES, crypto_core_ed25519_scalarbytes(), nameof(crypto_core_ed25519_scalarbytes));
        Check(crypto_core_ed25519_NONREDUCEDSCALARBYTES, crypto_core_ed25519_nonreducedscalarbytes(), nameof(crypto_core_ed25519_nonreducedscalarbytes));
        Check(crypto_scalarmult_ed25519_BYTES, crypto_scalarmult_ed25519_bytes(), nameof(crypto_scalarmult_ed25519_bytes));
        Check(crypto_scalarmult_ed25519_SCALARBYTES, crypto_scalarmult_ed25519_scalarbytes(), nameof(crypto_scalarmult_ed25519_scalarbytes));
        Check(crypto_core_ristretto255_BYTES, crypto_core_ristretto255_bytes(), nameof(crypto_core_ristretto255_bytes));
        Check(crypto_core_ristretto255_HASHBYTES, crypto_core_ristretto255_hashbytes(), nameof(crypto_core_ristretto255_hashbytes));
        Check(crypto_core_ristretto255_SCALARBYTES, crypto_core_ristretto255_scalarbytes(), nameof(crypto_core_ristretto255_scalarbytes));
        Check(crypto_core_ristretto255_NONREDUCEDSCALARBYTES, crypto_core_ristretto255_nonreducedscalarbytes(), nameof(crypto_core_ristretto255_nonreducedscalarbytes));
        Check(crypto_scalarmult_ristretto255_BYTES, crypto_scalarmult_ristretto255_bytes(), nameof(crypto_scalarmult_ristretto255_bytes));
        Check(crypto_scalarmult_ristretto255_SCALARBYTES, crypto_scalarmult_ristretto255_scalarbytes(), nameof(crypto_scalarmult_ristretto255_scalarbytes));
        Check(crypto_sign_BYTES, crypto_sign_bytes(), nameof(crypto_sign_bytes));
        Check(crypto_sign_PUBLICKEYBYTES, crypto_sign_publickeybytes(), nameof(crypto_sign_publickeybytes));
        Check(crypto_sign_SECRETKEYBYTES, crypto_sign_secretkeybytes(), nameof(crypto_sign_secretkeybytes));
        Check(crypto_sign_SEEDBYTES, crypto_sign_seedbytes(), nameof(crypto_sign_seedbytes));
        Check(crypto_scalarmult_BYTES, crypto_scalarmult_bytes(), nameof(crypto_scalarmult_bytes));
        Check(crypto_scalarmult_SCALARBYTES, crypto_scalarmult_scalarbytes(), nameof(crypto_scalarmult_scalarbytes));

        static void Check(int ours, nuint theirs, string function)
        {
            if ((nuint)ours != theirs)
            {
                throw new InvalidOperationException(
                    $"libsodium self-test failed: {function}() returned {theirs}, Proactive expects {ours}.");
            }
        }
    }

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial int sodium_init();

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial IntPtr sodium_version_string();
}
