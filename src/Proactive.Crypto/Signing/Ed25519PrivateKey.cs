// References: RFC 8032 section 5.1.5 (key generation), section 5.1.6 (sign); libsodium crypto_sign.

using System.Security.Cryptography;
using Proactive.Crypto.Interop;
using Proactive.Crypto.Random;

namespace Proactive.Crypto.Signing;

/// <summary>
/// An Ed25519 signing key (a server's long-term identity). libsodium's 64-byte secret key
/// (seed || public key) lives in pinned memory this object owns, so the GC never copies it, and is
/// wiped on <see cref="Dispose"/> (or by the finalizer if a caller forgets).
/// </summary>
/// <remarks>
/// Security: never log or serialize by accident; <see cref="ToString"/> prints <c>&lt;redacted&gt;</c>.
/// Signing is deterministic (RFC 8032), so it needs no randomness and cannot leak the key through a bad RNG.
/// </remarks>
public sealed unsafe class Ed25519PrivateKey : IDisposable
{
    /// <summary>Length of the RFC 8032 seed, the portable form of the key.</summary>
    public const int SeedLength = Libsodium.crypto_sign_SEEDBYTES;

    private readonly byte[] _secretKey;
    private bool _disposed;

    private Ed25519PrivateKey(ReadOnlySpan<byte> seed)
    {
        _secretKey = GC.AllocateArray<byte>(Libsodium.crypto_sign_SECRETKEYBYTES, pinned: true);
        Span<byte> pk = stackalloc byte[Ed25519PublicKey.Length];
        Libsodium.EnsureInitialized();
        int rc;
        fixed (byte* pkPointer = pk)
        fixed (byte* skPointer = _secretKey)
        fixed (byte* seedPointer = seed)
        {
            rc = Libsodium.crypto_sign_seed_keypair(pkPointer, skPointer, seedPointer);
        }

        if (rc != 0)
        {
            CryptographicOperations.ZeroMemory(_secretKey);
            throw new InvalidOperationException("crypto_sign_seed_keypair failed: libsodium is broken.");
        }

        PublicKey = new Ed25519PublicKey(pk);
    }

    ~Ed25519PrivateKey() => CryptographicOperations.ZeroMemory(_secretKey);

    /// <summary>The matching public key, which peers use to verify.</summary>
    public Ed25519PublicKey PublicKey { get; }

    /// <summary>Recreates a key from its 32-byte RFC 8032 seed (stored key, test vector).</summary>
    /// <exception cref="ArgumentException"><paramref name="seed"/> is not 32 bytes.</exception>
    public static Ed25519PrivateKey FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedLength)
        {
            throw new ArgumentException($"An Ed25519 seed is {SeedLength} bytes, got {seed.Length}.", nameof(seed));
        }

        return new Ed25519PrivateKey(seed);
    }

    /// <summary>A fresh key from 32 bytes of <paramref name="random"/>, so the simulator can make reproducible identities.</summary>
    public static Ed25519PrivateKey Generate(IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Span<byte> seed = stackalloc byte[SeedLength];
        try
        {
            random.Fill(seed);
            return new Ed25519PrivateKey(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Writes the seed (for storage) into a caller's buffer, which the caller must wipe.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not 32 bytes.</exception>
    public void WriteSeedTo(Span<byte> destination)
    {
        if (destination.Length != SeedLength)
        {
            throw new ArgumentException($"The destination must be {SeedLength} bytes.", nameof(destination));
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        _secretKey.AsSpan(0, SeedLength).CopyTo(destination);
    }

    /// <summary>Signs <paramref name="message"/>; the result is the 64-byte R || S.</summary>
    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        var signature = new byte[Ed25519PublicKey.SignatureLength];
        Sign(message, signature);
        return signature;
    }

    /// <summary>Signs into a caller's 64-byte buffer, for hot paths that avoid allocation.</summary>
    /// <exception cref="ArgumentException"><paramref name="signature"/> is not 64 bytes.</exception>
    public void Sign(ReadOnlySpan<byte> message, Span<byte> signature)
    {
        if (signature.Length != Ed25519PublicKey.SignatureLength)
        {
            throw new ArgumentException($"The signature buffer must be {Ed25519PublicKey.SignatureLength} bytes.", nameof(signature));
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        byte empty = 0;
        int rc;
        fixed (byte* sig = signature)
        fixed (byte* m = message)
        fixed (byte* sk = _secretKey)
        {
            var messagePointer = message.IsEmpty ? &empty : m;
            rc = Libsodium.crypto_sign_detached(sig, null, messagePointer, (ulong)message.Length, sk);
        }

        if (rc != 0)
        {
            throw new InvalidOperationException("crypto_sign_detached failed: libsodium is broken.");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => "<redacted>";

    /// <summary>Wipes the secret key; later use throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_secretKey);
        _disposed = true;
        GC.SuppressFinalize(this);
    }
}
