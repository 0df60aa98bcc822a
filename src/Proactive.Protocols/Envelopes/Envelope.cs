// References: docs/BRIEF.md section 3 ("Messages are signed by the sender's current period key;
// private payloads are HPKE-encrypted to the recipient's current period key; each message names
// network, period, protocol instance, round, sender"); toolkit paper (seed 001) section 6.2 (one
// canonical encoding for everything signed); RFC 8032 (Ed25519); RFC 9180 sections 5.1 and 6.1
// (HPKE base mode, single-shot).

using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Signing;

namespace Proactive.Protocols.Envelopes;

/// <summary>
/// The signed wrapper around every protocol message between servers, and the one place that says
/// what the wire guarantees.
/// </summary>
/// <remarks>
/// <para><b>Wire format</b> (version <see cref="FormatVersion"/>, all integers big-endian):</para>
/// <code>
/// offset  size  field
///      0     1  format version (0x01)
///      1     1  suite: GroupId of the network's group
///      2    16  network id
///     18     8  period (of the instance and of the keys that sign and encrypt)
///     26     1  protocol (ProtocolKind)
///     27     8  instance sequence
///     35     4  attempt
///     39     1  round
///     40     1  message type
///     41     2  sender (1..65535)
///     43     2  recipient (0 = every server)
///     45     1  confidential (0 or 1)
///     46     4  payload length L (at most MaxPayloadLength)
///     50     L  payload: the plaintext, or for a confidential message enc (32) || AEAD ciphertext
///   50+L    64  Ed25519 signature by the sender's period key over
///               "proactive-envelope-v1" || bytes [0, 50+L)
/// </code>
/// <para>The first 46 bytes are the <see cref="EnvelopeHeader"/>. Nothing follows the signature.</para>
/// <para><b>Payload limit.</b> <see cref="MaxPayloadLength"/> is 4 MiB: a refresh dealing carries
/// one commitment or sub-share per stored secret (32 to 33 bytes each), so 4 MiB holds about 120 000
/// secrets per message. Protocols that need more split their payload over several message types or
/// rounds. The bound is checked from the length prefix before anything is allocated, and the opener
/// refuses any input longer than <see cref="MaxEncodedLength"/> before parsing.</para>
/// <para><b>Signature.</b> The domain prefix "proactive-envelope-v1" is signed but not sent, so an
/// envelope signature can never be taken for a signature on another structure that the same period
/// key signs (a KeyTable entry, a vote), which use other prefixes. Ed25519 is deterministic and
/// libsodium refuses malleated signatures (S &lt; L), so one message has exactly one signed encoding.</para>
/// <para><b>Confidential payloads: encrypt, then sign.</b> The payload is HPKE base mode, suite
/// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305 (fixed by the format version), one
/// context and one Seal (RFC 9180 section 6.1), to the recipient's HPKE key of the envelope's period,
/// with info = "proactive-envelope-v1" and aad = the 46 header bytes. The sender then signs the header
/// and the ciphertext. Hence anyone can check who sent an envelope without being able to decrypt it
/// (the transport, a third party judging evidence), and the aad stops a ciphertext being moved under
/// another header (another instance, round, period or recipient) even by its own sender's key thief.
/// HPKE base mode does not authenticate the sender; the signature does.</para>
/// <para><b>What the envelope guarantees</b> once <see cref="EnvelopeOpener"/> accepts it:</para>
/// <list type="bullet">
/// <item><b>Authenticity</b>: the sender named in the header signed exactly these bytes with its key
/// for the named period, as listed in the <see cref="PeriodKeyDirectory"/>.</item>
/// <item><b>Binding</b>: the message belongs to this suite, this network, this period, this protocol
/// instance, attempt, round and type, and (when not a broadcast) to this recipient; a signed message
/// cannot be replayed into another network, period or instance.</item>
/// <item><b>Confidentiality</b> of private payloads: only the holder of the recipient's HPKE key for
/// that period can read them; erasing period keys makes old ciphertexts unreadable.</item>
/// <item><b>Replay protection</b>: the same signed bytes are accepted at most once per opener
/// (<see cref="ReplayGuard"/>), and envelopes of periods outside the accepted window are refused,
/// so forgetting old periods never re-opens a replay.</item>
/// </list>
/// <para><b>What it does not guarantee</b>: delivery (messages may be lost, delayed or dropped by a
/// faulty network; protocols retry with timers and attempts), ordering (envelopes may arrive in any
/// order; machines buffer or tolerate early messages), agreement (a sender may send different
/// broadcasts to different servers: that is equivocation, detected by comparing signed envelopes,
/// see <see cref="EquivocationProof"/>), and anything about the payload's content, which the
/// protocol validates itself. A re-sealed confidential message (fresh HPKE randomness) has new bytes
/// and passes the replay guard again; machines must treat a second message for the same slot as a
/// duplicate or as misbehaviour. Timeliness is only coarse: the period window, not a clock.</para>
/// </remarks>
public sealed class Envelope : ICanonicalEncodable, ICanonicalDecodable<Envelope>
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 0x01;

    /// <summary>Largest payload (plaintext, or enc || ciphertext): 4 MiB; see the remarks.</summary>
    public const int MaxPayloadLength = 4 * 1024 * 1024;

    /// <summary>Length of the Ed25519 signature that ends every envelope.</summary>
    public const int SignatureLength = Ed25519PublicKey.SignatureLength;

    /// <summary>Length of an envelope with an empty payload.</summary>
    public const int MinEncodedLength = EnvelopeHeader.EncodedLength + CanonicalWriter.LengthPrefixSize + SignatureLength;

    /// <summary>Longest valid envelope; longer input is refused before it is parsed.</summary>
    public const int MaxEncodedLength = MinEncodedLength + MaxPayloadLength;

    private readonly byte[] _payload;
    private readonly byte[] _signature;

    private Envelope(EnvelopeHeader header, byte[] payload, byte[] signature)
    {
        Header = header;
        _payload = payload;
        _signature = signature;
    }

    /// <summary>
    /// "proactive-envelope-v1": the signature's domain prefix and the HPKE info string. Signed and
    /// bound, never sent.
    /// </summary>
    public static ReadOnlySpan<byte> Domain => "proactive-envelope-v1"u8;

    /// <summary>The header (claims that are authenticated only once the signature is checked).</summary>
    public EnvelopeHeader Header { get; }

    /// <summary>The payload as sent: plaintext, or enc || ciphertext when confidential.</summary>
    public ReadOnlyMemory<byte> Payload => _payload;

    /// <summary>The 64-byte Ed25519 signature.</summary>
    public ReadOnlyMemory<byte> Signature => _signature;

    /// <inheritdoc/>
    public int EncodedLength => MinEncodedLength + _payload.Length;

    /// <summary>The canonical encoding (the signed bytes that travel).</summary>
    public byte[] Encode() => CanonicalEncoding.Encode(this);

    /// <inheritdoc/>
    public void WriteTo(ref CanonicalWriter writer)
    {
        Header.WriteTo(ref writer);
        writer.WriteBytes(_payload, MaxPayloadLength);
        writer.WriteFixedBytes(_signature);
    }

    /// <summary>
    /// Signs <paramref name="header"/> and <paramref name="payload"/> (already encrypted when the
    /// header says confidential) and returns the encoded envelope.
    /// </summary>
    /// <exception cref="ArgumentException">The payload exceeds <see cref="MaxPayloadLength"/>, or the sender is 0.</exception>
    public static byte[] Sign(EnvelopeHeader header, ReadOnlySpan<byte> payload, Ed25519PrivateKey signingKey)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        if (payload.Length > MaxPayloadLength)
        {
            throw new ArgumentException($"The payload has {payload.Length} bytes; an envelope holds at most {MaxPayloadLength}.", nameof(payload));
        }

        if (header.Sender == 0)
        {
            throw new ArgumentException("Server ids start at 1.", nameof(header));
        }

        var domainLength = Domain.Length;
        var bodyLength = EnvelopeHeader.EncodedLength + CanonicalWriter.LengthPrefixSize + payload.Length;
        var buffer = new byte[domainLength + bodyLength + SignatureLength];
        Domain.CopyTo(buffer);
        var writer = new CanonicalWriter(buffer.AsSpan(domainLength, bodyLength));
        header.WriteTo(ref writer);
        writer.WriteBytes(payload, MaxPayloadLength);
        signingKey.Sign(buffer.AsSpan(0, domainLength + bodyLength), buffer.AsSpan(domainLength + bodyLength));
        return buffer[domainLength..];
    }

    /// <summary>True when the signature on this envelope verifies under <paramref name="key"/>.</summary>
    public bool VerifySignature(Ed25519PublicKey key) => VerifySignature(Encode(), key);

    /// <summary>
    /// True when <paramref name="encoded"/> (a whole envelope, already decoded once so its layout is
    /// known to be valid) carries a valid signature by <paramref name="key"/>.
    /// </summary>
    internal static bool VerifySignature(ReadOnlySpan<byte> encoded, Ed25519PublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (encoded.Length < MinEncodedLength)
        {
            return false;
        }

        var body = encoded[..^SignatureLength];
        var signedLength = Domain.Length + body.Length;
        // Ed25519 needs the signed message contiguous: prefix || body. The bytes are public (plaintext
        // of a broadcast or a ciphertext), so the pooled buffer needs no wiping.
        var buffer = ArrayPool<byte>.Shared.Rent(signedLength);
        try
        {
            Domain.CopyTo(buffer);
            body.CopyTo(buffer.AsSpan(Domain.Length));
            return key.Verify(buffer.AsSpan(0, signedLength), encoded[^SignatureLength..]);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Decodes a whole buffer; never throws on bad data. Structure only: the signature is not checked.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup? expectedSuite, [NotNullWhen(true)] out Envelope? envelope, out CodecFailure failure)
    {
        if (encoding.Length > MaxEncodedLength)
        {
            envelope = null;
            failure = new CodecFailure(CodecError.TooLong, 0, null);
            return false;
        }

        if (CanonicalEncoding.TryDecode<Envelope>(encoding, expectedSuite, out var decoded, out failure))
        {
            envelope = decoded;
            return true;
        }

        envelope = null;
        return false;
    }

    /// <inheritdoc/>
    public static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out Envelope value)
    {
        value = null;
        if (!EnvelopeHeader.TryRead(ref reader, expectedSuite, out var header)
            || !reader.TryReadBytes(MaxPayloadLength, out var payload, "payload")
            || !reader.TryReadFixedBytes(SignatureLength, out var signature, "signature"))
        {
            return false;
        }

        value = new Envelope(header, payload.ToArray(), signature.ToArray());
        return true;
    }
}
