// References: RFC 9180 section 6.1 (single-shot APIs; the RFC leaves the wire format to applications),
// section 7 (the kem_id, kdf_id and aead_id registries).

using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;

namespace Proactive.Crypto.Hpke;

/// <summary>
/// A single-shot HPKE message: the encapsulated key and the ciphertext, with one canonical encoding.
/// </summary>
/// <remarks>
/// <para>Wire format, version 1, written and read with <see cref="CanonicalWriter"/> and
/// <see cref="CanonicalReader"/> (all integers big-endian), 43 bytes of overhead:</para>
/// <code>
/// u8     version = 1
/// u16    kem_id
/// u16    kdf_id
/// u16    aead_id
/// fixed  enc       (32 bytes)
/// bytes  ct        (u32 length, 16..MaxCiphertextLength)
/// </code>
/// <para>The header choice: the codec's header is a version byte and a one-byte <c>GroupId</c>, but
/// an HPKE message lives in no prime-order group; its suite is the RFC 9180 identifier triple. So
/// the version byte comes first as everywhere, and the triple takes the place of the suite byte,
/// rather than a made-up group id that a reader could not check. The suite travels with the message
/// so that a recipient can tell "sealed for another suite" from "forged", and the explicit length
/// makes truncation and trailing bytes decode failures rather than silent changes to the ciphertext.
/// <see cref="MaxCiphertextLength"/> bounds what a peer can make us allocate.</para>
/// </remarks>
public sealed class HpkeSealedMessage : ICanonicalEncodable
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 0x01;

    /// <summary>Bytes before the ciphertext: version, suite ids, enc, ct_len.</summary>
    public const int HeaderLength = 1 + 6 + HpkeSuite.EncapsulatedKeyLength + CanonicalWriter.LengthPrefixSize;

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
    public byte[] Encode() => CanonicalEncoding.Encode(this);

    /// <summary>The canonical encoding into a caller's buffer of exactly <see cref="EncodedLength"/> bytes.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length.</exception>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length != EncodedLength)
        {
            throw new ArgumentException($"The destination must be {EncodedLength} bytes.", nameof(destination));
        }

        var writer = new CanonicalWriter(destination);
        WriteTo(ref writer);
    }

    /// <inheritdoc />
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteU8(FormatVersion);
        writer.WriteU16((ushort)Suite.KemId);
        writer.WriteU16((ushort)Suite.KdfId);
        writer.WriteU16((ushort)Suite.AeadId);
        writer.WriteFixedBytes(_enc);
        writer.WriteBytes(_ciphertext, MaxCiphertextLength);
    }

    /// <summary>
    /// Decodes untrusted bytes; false for an unknown version or suite, a truncated header or body,
    /// a ciphertext shorter than the tag or over the bound, and trailing bytes. Structure only: the
    /// enc point and the tag are checked when the message is opened.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out HpkeSealedMessage? message) =>
        TryDecode(encoding, out message, out _);

    /// <summary>As the other overload, but the failure says what went wrong, at which offset and in which field.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out HpkeSealedMessage? message, out CodecFailure failure)
        => CanonicalEncoding.TryDecodeWith(encoding, TryRead, out message, out failure);

    /// <summary>
    /// Reads one message and leaves the reader after it, so a message can sit inside a larger
    /// structure; the caller checks the end. On failure the reader holds the reason.
    /// </summary>
    public static bool TryRead(ref CanonicalReader reader, [NotNullWhen(true)] out HpkeSealedMessage? message)
    {
        message = null;
        var start = reader.Offset;
        if (!reader.TryReadU8(out var version, "version"))
        {
            return false;
        }

        if (version != FormatVersion)
        {
            return reader.Fail(CodecError.WrongVersion, start, "version");
        }

        var suiteOffset = reader.Offset;
        if (!reader.TryReadU16(out var kem, "kem_id") || !reader.TryReadU16(out var kdf, "kdf_id") || !reader.TryReadU16(out var aead, "aead_id"))
        {
            return false;
        }

        if (!HpkeSuite.TryGet(kem, kdf, aead, out var suite))
        {
            return reader.Fail(CodecError.UnknownSuite, suiteOffset, "suite");
        }

        if (!reader.TryReadFixedBytes(HpkeSuite.EncapsulatedKeyLength, out var enc, "enc"))
        {
            return false;
        }

        var ctOffset = reader.Offset;
        if (!reader.TryReadBytes(MaxCiphertextLength, out var ct, "ciphertext"))
        {
            return false;
        }

        if (ct.Length < HpkeSuite.TagLength)
        {
            return reader.Fail(CodecError.InvalidValue, ctOffset, "ciphertext");
        }

        message = new HpkeSealedMessage(suite, enc.ToArray(), ct.ToArray());
        return true;
    }
}
