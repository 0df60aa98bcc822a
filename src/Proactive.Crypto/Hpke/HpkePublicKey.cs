// References: RFC 9180 section 7.1.1 (SerializePublicKey / DeserializePublicKey for X25519).

using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Proactive.Crypto.Hpke;

/// <summary>
/// An X25519 public key for DHKEM(X25519, HKDF-SHA256): the 32-byte RFC 7748 encoding.
/// </summary>
/// <remarks>
/// Every 32-byte string decodes, as RFC 9180 section 7.1.1 specifies for X25519; a small-order key
/// is caught where it matters, when the Diffie-Hellman output is all zeros (section 7.1.4).
/// </remarks>
public sealed class HpkePublicKey : IEquatable<HpkePublicKey>
{
    private readonly byte[] _bytes;

    private HpkePublicKey(ReadOnlySpan<byte> bytes) => _bytes = bytes.ToArray();

    /// <summary>The serialized key (Npk = 32 bytes).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Decodes a received key; false for a wrong length, so untrusted bytes never throw.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out HpkePublicKey? key)
    {
        if (encoding.Length != HpkeSuite.PublicKeyLength)
        {
            key = null;
            return false;
        }

        key = new HpkePublicKey(encoding);
        return true;
    }

    /// <summary>Decodes a key the caller vouches for (configuration, its own storage).</summary>
    /// <exception cref="ArgumentException">The encoding is not 32 bytes.</exception>
    public static HpkePublicKey Decode(ReadOnlySpan<byte> encoding)
    {
        if (!TryDecode(encoding, out var key))
        {
            throw new ArgumentException($"An X25519 public key is {HpkeSuite.PublicKeyLength} bytes, got {encoding.Length}.", nameof(encoding));
        }

        return key;
    }

    /// <summary>A copy of the encoding, for callers that need an array.</summary>
    public byte[] ToArray() => (byte[])_bytes.Clone();

    /// <inheritdoc/>
    public bool Equals(HpkePublicKey? other) =>
        other is not null && CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as HpkePublicKey);

    /// <inheritdoc/>
    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);

    /// <summary>Public keys are not secret; the hex helps when comparing logs across nodes.</summary>
    public override string ToString() => $"X25519:{Convert.ToHexStringLower(_bytes)}";
}
