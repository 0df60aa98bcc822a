// References: RFC 8032 section 5.1 (Ed25519); libsodium 1.0.18 crypto_sign_verify_detached.

using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Proactive.Crypto.Interop;

namespace Proactive.Crypto.Signing;

/// <summary>
/// An Ed25519 public key (a server's identity), 32 bytes as in RFC 8032.
/// </summary>
/// <remarks>
/// Decoding rejects anything but a canonical encoding of a point in the prime-order subgroup
/// (so never the identity or another small-order point): a server's key is made by
/// <see cref="Ed25519PrivateKey"/> and is always such a point, and a key that is not must never be
/// stored or forwarded. Verification adds libsodium 1.0.18's checks on R and S (S &lt; L), which make
/// signatures non-malleable, which matters when a signature identifies a message.
/// </remarks>
public sealed unsafe class Ed25519PublicKey : IEquatable<Ed25519PublicKey>
{
    /// <summary>Length of an encoded public key.</summary>
    public const int Length = Libsodium.crypto_sign_PUBLICKEYBYTES;

    /// <summary>Length of a signature (R || S).</summary>
    public const int SignatureLength = Libsodium.crypto_sign_BYTES;

    private readonly byte[] _bytes;

    internal Ed25519PublicKey(ReadOnlySpan<byte> bytes) => _bytes = bytes.ToArray();

    /// <summary>The 32-byte encoding.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Decodes received bytes; false for a wrong length, a non-canonical encoding, a point off
    /// the curve or outside the prime-order subgroup (small order included), so untrusted input never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out Ed25519PublicKey? key)
    {
        key = null;
        if (encoding.Length != Length)
        {
            return false;
        }

        Libsodium.EnsureInitialized();
        fixed (byte* p = encoding)
        {
            if (Libsodium.crypto_core_ed25519_is_valid_point(p) != 1)
            {
                return false;
            }
        }

        key = new Ed25519PublicKey(encoding);
        return true;
    }

    /// <summary>Decodes a key the caller vouches for (configuration, its own storage).</summary>
    /// <exception cref="ArgumentException">The encoding is not a valid public key.</exception>
    public static Ed25519PublicKey Decode(ReadOnlySpan<byte> encoding) =>
        TryDecode(encoding, out var key)
            ? key
            : throw new ArgumentException($"Not a valid Ed25519 public key ({encoding.Length} bytes; a key is {Length} bytes encoding a prime-order point).", nameof(encoding));

    /// <summary>
    /// True only for a valid signature by this key on <paramref name="message"/>. Signatures come
    /// from peers, so every failure, including a wrong length, is false rather than an exception.
    /// </summary>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != SignatureLength)
        {
            return false;
        }

        Libsodium.EnsureInitialized();
        // An empty span pins to null; hand libsodium a valid address regardless of length.
        byte empty = 0;
        fixed (byte* sig = signature)
        fixed (byte* m = message)
        fixed (byte* pk = _bytes)
        {
            var messagePointer = message.IsEmpty ? &empty : m;
            return Libsodium.crypto_sign_verify_detached(sig, messagePointer, (ulong)message.Length, pk) == 0;
        }
    }

    /// <summary>A copy of the encoding.</summary>
    public byte[] ToArray() => (byte[])_bytes.Clone();

    /// <inheritdoc/>
    public bool Equals(Ed25519PublicKey? other) =>
        other is not null && CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Ed25519PublicKey);

    /// <inheritdoc/>
    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);

    /// <summary>Public keys are not secret; the hex helps when comparing logs across nodes.</summary>
    public override string ToString() => $"Ed25519:{Convert.ToHexStringLower(_bytes)}";
}
