// References: RFC 9180 section 6.1 (single-shot APIs; the RFC leaves the wire format to applications).

using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Proactive.Crypto.Hpke;

/// <summary>
/// A single-shot HPKE message: the encapsulated key and the ciphertext, with one canonical encoding.
/// </summary>
/// <remarks>
/// Wire form (all integers big-endian), 43 bytes of overhead:
/// <code>
/// version (1) = 0x01 || kem_id (2) || kdf_id (2) || aead_id (2) || enc (32) || ct_len (4) || ct (ct_len)
/// </code>
/// The suite travels with the message so that a recipient can tell "sealed for another suite" from
/// "forged", and the explicit length makes truncation and trailing bytes decode failures rather than
/// silent changes to the ciphertext. <c>ct_len</c> is at least the 16-byte tag and at most
/// <see cref="MaxCiphertextLength"/>, which bounds what a peer can make us allocate.
/// </remarks>
public sealed class HpkeSealedMessage
{
    /// <summary>The only wire version; anything else is rejected.</summary>
    public const byte Version = 0x01;

    /// <summary>Bytes before the ciphertext: version, suite ids, enc, ct_len.</summary>
    public const int HeaderLength = 1 + 6 + HpkeSuite.EncapsulatedKeyLength + 4;

    /// <summary>Upper bound on ct_len: single-shot messages carry shares and keys, never bulk data.</summary>
    public const int MaxCiphertextLength = 1 << 20;

    private readonly byte[] _enc;
    private readonly byte[] _ciphertext;

    internal HpkeSealedMessage(HpkeSuite suite, byte[] encapsulatedKey, byte[] ciphertext)
    {
        Suite = suite;
        _enc = encapsulatedKey;
        _ciphertext = ciphertext;
    }

    /// <summary>The suite the sender used.</summary>
    public HpkeSuite Suite { get; }

    /// <summary>enc, the sender's ephemeral public key (32 bytes).</summary>
    public ReadOnlyMemory<byte> EncapsulatedKey => _enc;

    /// <summary>The AEAD ciphertext including its 16-byte tag.</summary>
    public ReadOnlyMemory<byte> Ciphertext => _ciphertext;

    /// <summary>Length of <see cref="Encode()"/>'s output.</summary>
    public int EncodedLength => HeaderLength + _ciphertext.Length;

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode()
    {
        var output = new byte[EncodedLength];
        Encode(output);
        return output;
    }

    /// <summary>The canonical encoding into a caller's buffer of exactly <see cref="EncodedLength"/> bytes.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length.</exception>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length != EncodedLength)
        {
            throw new ArgumentException($"The destination must be {EncodedLength} bytes.", nameof(destination));
        }

        destination[0] = Version;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)Suite.KemId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], (ushort)Suite.KdfId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[5..], (ushort)Suite.AeadId);
        _enc.CopyTo(destination[7..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(7 + HpkeSuite.EncapsulatedKeyLength)..], (uint)_ciphertext.Length);
        _ciphertext.CopyTo(destination[HeaderLength..]);
    }

    /// <summary>
    /// Decodes untrusted bytes; false for an unknown version or suite, a truncated header or body,
    /// a ciphertext shorter than the tag or over the bound, and trailing bytes. Structure only: the
    /// enc point and the tag are checked when the message is opened.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out HpkeSealedMessage? message)
    {
        message = null;
        if (encoding.Length < HeaderLength || encoding[0] != Version)
        {
            return false;
        }

        var kem = BinaryPrimitives.ReadUInt16BigEndian(encoding[1..]);
        var kdf = BinaryPrimitives.ReadUInt16BigEndian(encoding[3..]);
        var aead = BinaryPrimitives.ReadUInt16BigEndian(encoding[5..]);
        if (!HpkeSuite.TryGet(kem, kdf, aead, out var suite))
        {
            return false;
        }

        var ctLength = BinaryPrimitives.ReadUInt32BigEndian(encoding[(7 + HpkeSuite.EncapsulatedKeyLength)..]);
        if (ctLength < HpkeSuite.TagLength || ctLength > MaxCiphertextLength)
        {
            return false;
        }

        // Exact length: rejects truncation and trailing bytes alike.
        if ((ulong)encoding.Length != (ulong)HeaderLength + ctLength)
        {
            return false;
        }

        var enc = encoding.Slice(7, HpkeSuite.EncapsulatedKeyLength).ToArray();
        var ct = encoding[HeaderLength..].ToArray();
        message = new HpkeSealedMessage(suite, enc, ct);
        return true;
    }
}
