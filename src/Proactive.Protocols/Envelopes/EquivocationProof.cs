// References: docs/BRIEF.md section 3 ("Equivocation (two different signed messages for the same
// slot) is proof of misbehaviour: it is broadcast, the sender is excluded, and an alert raised");
// AlertType.Equivocation.

using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Envelopes;

/// <summary>
/// Transferable evidence that a server signed two different payloads for one slot: any third party
/// with the period's public keys can check it, without trusting whoever reports it.
/// </summary>
/// <remarks>
/// <para><b>The slot</b> is (suite, network, period, protocol, sequence, attempt, round, type,
/// sender), whatever the recipient: otherwise a sender could tell server 1 one thing and server 2
/// another by addressing each copy, and no receiver could object. So the envelope layer's rule for
/// protocols is: a sender puts at most one non-confidential payload in a slot; per-recipient content
/// goes in confidential messages or in distinct message types.</para>
/// <para><b>Only non-confidential envelopes</b> make a proof. HPKE encryption is randomized, so an
/// honest sender that re-seals the same confidential message (after a crash, on a retry) signs a new
/// ciphertext, and two different ciphertexts prove nothing. Non-confidential envelopes are
/// deterministic (canonical encoding, deterministic Ed25519), so re-sending the same message gives
/// the same bytes. Protocols that need accountability for private content bind it in a broadcast
/// (for example a hash of each encrypted sub-share in the dealer's signed broadcast).</para>
/// <para><b>Encoding</b>: format version u8 (<see cref="FormatVersion"/>), suite u8 (GroupId), then
/// the two signed envelopes, each u32-length-prefixed (at most <see cref="Envelope.MaxEncodedLength"/>),
/// in ascending byte order so that a pair has one encoding. Decoding checks structure and the slot
/// rules; <see cref="Verify"/> checks the signatures. A proof of two maximal envelopes is about 8 MiB,
/// more than one envelope's payload: the node sends large proofs through its own evidence channel
/// or only their reference, not inside a single envelope.</para>
/// </remarks>
public sealed class EquivocationProof
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 0x01;

    /// <summary>Longest valid encoding.</summary>
    public const int MaxEncodedLength = CanonicalWriter.HeaderSize + (2 * (CanonicalWriter.LengthPrefixSize + Envelope.MaxEncodedLength));

    private readonly byte[] _first;
    private readonly byte[] _second;

    private EquivocationProof(Envelope firstEnvelope, byte[] first, byte[] second)
    {
        _first = first;
        _second = second;
        Header = firstEnvelope.Header;
    }

    /// <summary>The first envelope's header: its sender is the culprit, its fields name the slot.</summary>
    public EnvelopeHeader Header { get; }

    /// <summary>The server that equivocated.</summary>
    public int Culprit => Header.Sender;

    /// <summary>The instance the two messages belong to.</summary>
    public InstanceId Instance => Header.Instance;

    /// <summary>The period (of the instance and of the key that signed).</summary>
    public ulong Period => Header.Period;

    /// <summary>The signed envelope that sorts first.</summary>
    public ReadOnlyMemory<byte> First => _first;

    /// <summary>The signed envelope that sorts second.</summary>
    public ReadOnlyMemory<byte> Second => _second;

    /// <summary>
    /// Builds a proof from two signed envelopes (typically <see cref="InboundMessage.Signed"/> of
    /// two received messages). False, without throwing, unless both decode under
    /// <paramref name="suite"/>, are non-confidential, share the slot, carry different payloads, and
    /// both verify under the sender's key in <paramref name="directory"/>.
    /// </summary>
    public static bool TryCreate(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, PrimeOrderGroup suite, PeriodKeyDirectory directory, [NotNullWhen(true)] out EquivocationProof? proof)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(directory);
        proof = null;
        var order = a.SequenceCompareTo(b);
        if (order == 0)
        {
            return false;
        }

        var (first, second) = order < 0 ? (a.ToArray(), b.ToArray()) : (b.ToArray(), a.ToArray());
        if (!TryBuild(first, second, suite, out var candidate, out _) || !candidate.Verify(directory))
        {
            return false;
        }

        proof = candidate;
        return true;
    }

    /// <summary>
    /// True when both signatures verify under the culprit's key for the period in
    /// <paramref name="directory"/>. The slot rules were checked when the proof was built or decoded.
    /// </summary>
    public bool Verify(PeriodKeyDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return directory.TryGet(Header.Sender, Header.Period, out var keys)
            && Envelope.VerifySignature(_first, keys.Signing)
            && Envelope.VerifySignature(_second, keys.Signing);
    }

    /// <summary>The alert a server raises with this proof as its evidence.</summary>
    public Alert ToAlert() => new(
        AlertType.Equivocation,
        Culprit,
        Period,
        Instance,
        $"server {Culprit} signed two different payloads for attempt {Header.Attempt}, round {Header.Round}, type {Header.Type} of {Instance}",
        Encode());

    /// <summary>The canonical encoding (the evidence of an <see cref="Alert"/>).</summary>
    public byte[] Encode()
    {
        var bytes = new byte[CanonicalWriter.HeaderSize + (2 * CanonicalWriter.LengthPrefixSize) + _first.Length + _second.Length];
        var writer = new CanonicalWriter(bytes);
        writer.WriteHeader(FormatVersion, Header.Suite);
        writer.WriteBytes(_first, Envelope.MaxEncodedLength);
        writer.WriteBytes(_second, Envelope.MaxEncodedLength);
        return bytes;
    }

    /// <summary>
    /// Decodes untrusted bytes and checks the slot rules (not the signatures: call <see cref="Verify"/>).
    /// Never throws on bad data.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup? expectedSuite, [NotNullWhen(true)] out EquivocationProof? proof, out CodecFailure failure)
    {
        proof = null;
        if (encoding.Length > MaxEncodedLength)
        {
            failure = new CodecFailure(CodecError.TooLong, 0, null);
            return false;
        }

        var reader = new CanonicalReader(encoding);
        if (!reader.TryReadHeader(FormatVersion, expectedSuite, out var suite))
        {
            failure = reader.Failure;
            return false;
        }

        var firstOffset = reader.Offset;
        if (!reader.TryReadBytes(Envelope.MaxEncodedLength, out var first, "first"))
        {
            failure = reader.Failure;
            return false;
        }

        var secondOffset = reader.Offset;
        if (!reader.TryReadBytes(Envelope.MaxEncodedLength, out var second, "second") || !reader.TryReadEnd())
        {
            failure = reader.Failure;
            return false;
        }

        if (first.SequenceCompareTo(second) >= 0)
        {
            failure = new CodecFailure(CodecError.NonCanonical, secondOffset, "second");
            return false;
        }

        if (!TryBuild(first.ToArray(), second.ToArray(), suite, out proof, out var reason))
        {
            failure = reason with { Offset = reason.Field == "second" ? secondOffset : firstOffset };
            return false;
        }

        failure = default;
        return true;
    }

    /// <summary>Structure and slot rules over two envelopes already in ascending order.</summary>
    private static bool TryBuild(byte[] first, byte[] second, PrimeOrderGroup suite, [NotNullWhen(true)] out EquivocationProof? proof, out CodecFailure failure)
    {
        proof = null;
        if (!Envelope.TryDecode(first, suite, out var a, out _))
        {
            failure = new CodecFailure(CodecError.InvalidValue, 0, "first");
            return false;
        }

        if (!Envelope.TryDecode(second, suite, out var b, out _))
        {
            failure = new CodecFailure(CodecError.InvalidValue, 0, "second");
            return false;
        }

        var x = a.Header;
        var y = b.Header;
        var sameSlot = x.Suite == y.Suite && x.Network == y.Network && x.Instance == y.Instance
            && x.Attempt == y.Attempt && x.Round == y.Round && x.Type == y.Type && x.Sender == y.Sender;
        if (!sameSlot || x.Confidential || y.Confidential || a.Payload.Span.SequenceEqual(b.Payload.Span))
        {
            failure = new CodecFailure(CodecError.InvalidValue, 0, "second");
            return false;
        }

        proof = new EquivocationProof(a, first, second);
        failure = default;
        return true;
    }
}
