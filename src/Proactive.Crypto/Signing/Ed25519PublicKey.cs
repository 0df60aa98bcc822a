// References: RFC 8032 section 5.1 (Ed25519); libsodium 1.0.18 crypto_sign_verify_detached.

using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Proactive.Crypto.Interop;

namespace Proactive.Crypto.Signing;

/// <summary>
/// An Ed25519 public key (a server's identity), 32 bytes as in RFC 8032.
/// </summary>
/// <remarks>
/// Decoding only checks the length; the strict checks live in verification, where libsodium 1.0.18
/// rejects non-canonical and small-order keys and R values and a non-canonical S (s &gt;= L). That
/// makes signatures non-malleable, which matters when a signature identifies a message.
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

    /// <summary>Decodes received bytes; false for a wrong length, so untrusted input never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out Ed25519PublicKey? key)
    {
        if (encoding.Length != Length)
        {
            key = null;
            return false;
        }

        key = new Ed25519PublicKey(encoding);
        return true;
    }

    /// <summary>Decodes a key the caller vouches for (configuration, its own storage).</summary>
    /// <exception cref="ArgumentException">The encoding is not 32 bytes.</exception>
    public static Ed25519PublicKey Decode(ReadOnlySpan<byte> encoding) =>
        TryDecode(encoding, out var key)
            ? key
            : throw new ArgumentException($"An Ed25519 public key is {Length} bytes, got {encoding.Length}.", nameof(encoding));

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
