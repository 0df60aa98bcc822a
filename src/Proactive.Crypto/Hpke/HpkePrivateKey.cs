// References: RFC 9180 section 7.1.2 (SerializePrivateKey for X25519), section 7.1.3 (DeriveKeyPair).

using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Proactive.Crypto.Random;

namespace Proactive.Crypto.Hpke;

/// <summary>
/// An X25519 private key for DHKEM(X25519, HKDF-SHA256), with its public key. The 32 secret bytes
/// live in pinned memory this object owns, so the GC never copies them, and are wiped on
/// <see cref="Dispose"/> (or by the finalizer if a caller forgets).
/// </summary>
/// <remarks>
/// Security: never log or serialize by accident; <see cref="ToString"/> prints <c>&lt;redacted&gt;</c>.
/// The bytes are the raw HKDF output of DeriveKeyPair (unclamped); X25519 clamps them when used.
/// </remarks>
public sealed class HpkePrivateKey : IDisposable
{
    private readonly byte[] _secret;
    private bool _disposed;

    private HpkePrivateKey(byte[] pinnedSecret, HpkePublicKey publicKey)
    {
        _secret = pinnedSecret;
        PublicKey = publicKey;
    }

    ~HpkePrivateKey() => CryptographicOperations.ZeroMemory(_secret);

    /// <summary>The matching public key, which is what a sender needs.</summary>
    public HpkePublicKey PublicKey { get; }

    /// <summary>The secret, for the KEM only; callers must not keep the span beyond one operation.</summary>
    internal ReadOnlySpan<byte> Secret
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _secret;
        }
    }

    /// <summary>
    /// RFC 9180 section 7.1.3 DeriveKeyPair: the same <paramref name="ikm"/> always gives the same key,
    /// which is what lets published vectors and key backups reproduce a key.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="ikm"/> is shorter than Nsk (32) bytes, the minimum the RFC requires.</exception>
    public static HpkePrivateKey Derive(ReadOnlySpan<byte> ikm)
    {
        if (ikm.Length < HpkeSuite.PrivateKeyLength)
        {
            throw new ArgumentException($"DeriveKeyPair needs at least {HpkeSuite.PrivateKeyLength} bytes of input keying material.", nameof(ikm));
        }

        var secret = GC.AllocateArray<byte>(HpkeSuite.PrivateKeyLength, pinned: true);
        Span<byte> pk = stackalloc byte[HpkeSuite.PublicKeyLength];
        DhkemX25519.DeriveKeyPair(ikm, secret, pk);
        return new HpkePrivateKey(secret, HpkePublicKey.Decode(pk));
    }

    /// <summary>A fresh key from 32 bytes of <paramref name="random"/> run through DeriveKeyPair.</summary>
    public static HpkePrivateKey Generate(IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Span<byte> ikm = stackalloc byte[HpkeSuite.PrivateKeyLength];
        try
        {
            random.Fill(ikm);
            return Derive(ikm);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ikm);
        }
    }

    /// <summary>
    /// Imports a serialized private key (RFC 9180 section 7.1.2); false for a wrong length, so a
    /// corrupted key file is reported rather than thrown.
    /// </summary>
    public static bool TryImport(ReadOnlySpan<byte> secret, [NotNullWhen(true)] out HpkePrivateKey? key)
    {
        key = null;
        if (secret.Length != HpkeSuite.PrivateKeyLength)
        {
            return false;
        }

        var pinned = GC.AllocateArray<byte>(HpkeSuite.PrivateKeyLength, pinned: true);
        secret.CopyTo(pinned);
        Span<byte> pk = stackalloc byte[HpkeSuite.PublicKeyLength];
        DhkemX25519.ComputePublicKey(pinned, pk);
        key = new HpkePrivateKey(pinned, HpkePublicKey.Decode(pk));
        return true;
    }

    /// <summary>Writes the serialized key (for storage) into a caller's buffer, which the caller must wipe.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not 32 bytes.</exception>
    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length != HpkeSuite.PrivateKeyLength)
        {
            throw new ArgumentException($"The destination must be {HpkeSuite.PrivateKeyLength} bytes.", nameof(destination));
        }

        Secret.CopyTo(destination);
    }

    /// <inheritdoc/>
    public override string ToString() => "<redacted>";

    /// <summary>Wipes the secret; later use throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_secret);
        _disposed = true;
        GC.SuppressFinalize(this);
    }
}
