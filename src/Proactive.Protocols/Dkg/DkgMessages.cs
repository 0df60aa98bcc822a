// References: Komlo and Goldberg, FROST (SAC 2020), Figure 1 "KeyGen" (round 1: commitments and
// proof broadcast, round 2: shares sent privately); Gennaro, Jarecki, Krawczyk, Rabin, "Secure
// Distributed Key Generation for Discrete-Log Based Cryptosystems" (J. Cryptology 2007), Fig. 2
// steps 1(b)-1(c) and 2 (complaints, the accused dealer's public answer, disqualification);
// docs/BRIEF.md section 3 "DKG"; STYLE.md rule 7 (wire formats).
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Dkg;

/// <summary>The DKG's message types (the envelope's Type byte); the values are on the wire and never change.</summary>
public enum DkgMessageType : byte
{
    /// <summary>Round 1, broadcast: the dealer's Feldman commitment and proof of knowledge.</summary>
    Dealing = 1,

    /// <summary>Round 1, confidential to one server: its share f_i(j).</summary>
    Share = 2,

    /// <summary>Round 2, broadcast: "dealer i's share to me is missing" or "... is invalid" (<see cref="DkgComplaintReason"/>).</summary>
    Complaint = 3,

    /// <summary>Round 2, broadcast: the accused dealer's answer to an <see cref="DkgComplaintReason.Invalid"/> complaint, the complainer's share in the clear.</summary>
    Reveal = 4,

    /// <summary>
    /// Round 2, confidential to one server: the accused dealer's answer to a
    /// <see cref="DkgComplaintReason.Missing"/> complaint, the very same <see cref="DkgShare"/> payload
    /// as in round 1 (byte-identical, so a copy of the original is a duplicate, not equivocation).
    /// </summary>
    Resend = 5,

    /// <summary>
    /// Round 2, broadcast by every server other than the complainer the first time it learns of a
    /// validly signed Invalid <see cref="DkgComplaint"/> (directly or by echo): the complaint, byte for
    /// byte. Everyone, the accused included, treats it as the direct complaint, so a complainer cannot
    /// show its complaint to some servers only (docs/PROTOCOLS.md "Distributed key generation").
    /// </summary>
    ComplaintEcho = 6,
}

/// <summary>Why a server complains about a dealer; the values are on the wire and never change.</summary>
public enum DkgComplaintReason : byte
{
    /// <summary>
    /// No share from the dealer by the deadline. A timing event, not evidence: the dealer re-sends the
    /// share confidentially, never in the clear.
    /// </summary>
    Missing = 1,

    /// <summary>
    /// A share authenticated as the dealer's fails the Feldman check: the dealer is faulty, so GJKR's
    /// public reveal exposes nothing the adversary does not already know.
    /// </summary>
    Invalid = 2,
}

/// <summary>The envelope's Round byte for each message type.</summary>
public static class DkgRounds
{
    /// <summary>Dealings and shares.</summary>
    public const byte Dealing = 1;

    /// <summary>Complaints and reveals.</summary>
    public const byte Complaints = 2;

    /// <summary>The round a message type belongs to.</summary>
    public static byte Of(DkgMessageType type) => type is DkgMessageType.Dealing or DkgMessageType.Share ? Dealing : Complaints;
}

/// <summary>
/// Round 1 broadcast of dealer i: C_i0..C_it and sigma_i = (R_i, mu_i).
/// </summary>
/// <remarks>
/// <code>
/// u8   version = 1
/// u8   suite (GroupId)
/// u16  dealer
/// FeldmanCommitment body (bool constantTermIsZero, u32 count, count x element)
/// element R, scalar mu
/// </code>
/// The commitment's degree and its nonzero constant term are protocol rules, checked by the
/// machine (an InvalidCommitment, not a decoding failure), so that the culprit is named precisely.
/// </remarks>
public sealed record DkgDealing(int Dealer, FeldmanCommitment Commitment, DkgProofOfKnowledge Proof)
{
    public const byte FormatVersion = 1;

    public byte[] Encode()
    {
        var group = Commitment.Group;
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(buffer);
        writer.WriteHeader(FormatVersion, group);
        writer.WriteU16(checked((ushort)Dealer));
        Commitment.WriteBodyTo(ref writer);
        writer.WriteElement(group, Proof.Commitment);
        writer.WriteScalar(group, Proof.Response);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes untrusted bytes in <paramref name="group"/>; never throws for bad data.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup group, [NotNullWhen(true)] out DkgDealing? dealing, out CodecFailure failure)
    {
        dealing = null;
        var reader = new CanonicalReader(encoding);
        if (reader.TryReadHeader(FormatVersion, group, out _)
            && reader.TryReadU16(out var dealer, "dealer")
            && FeldmanCommitment.TryReadBody(ref reader, group, out var commitment)
            && reader.TryReadElement(group, out var r, field: "R")
            && reader.TryReadScalar(group, out var mu, "mu")
            && reader.TryReadEnd())
        {
            dealing = new DkgDealing(dealer, commitment, new DkgProofOfKnowledge(group, r, mu));
            failure = default;
            return true;
        }

        failure = reader.Failure;
        return false;
    }
}

/// <summary>
/// Round 1, confidential: dealer i's share f_i(j) for server j. SECURITY: the encoding holds a
/// secret; it travels only encrypted to j (the envelope's HPKE) and is never logged.
/// </summary>
/// <remarks><code>u8 version = 1 | u8 suite | u16 dealer | u16 recipient | scalar share</code></remarks>
public sealed record DkgShare(PrimeOrderGroup Group, int Dealer, int Recipient, Scalar Value)
{
    public const byte FormatVersion = 1;

    public byte[] Encode() => EncodeDealerRecipientScalar(FormatVersion, Group, Dealer, Recipient, Value);

    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup group, [NotNullWhen(true)] out DkgShare? share, out CodecFailure failure)
    {
        share = null;
        if (!TryDecodeDealerRecipientScalar(encoding, FormatVersion, group, out var dealer, out var recipient, out var value, out failure))
        {
            return false;
        }

        share = new DkgShare(group, dealer, recipient, value);
        return true;
    }

    public override string ToString() => $"DkgShare({Dealer} -> {Recipient}, <redacted>)";

    internal static byte[] EncodeDealerRecipientScalar(byte version, PrimeOrderGroup group, int dealer, int recipient, Scalar value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(buffer);
        writer.WriteHeader(version, group);
        writer.WriteU16(checked((ushort)dealer));
        writer.WriteU16(checked((ushort)recipient));
        writer.WriteScalar(group, value);
        return buffer.WrittenSpan.ToArray();
    }

    internal static bool TryDecodeDealerRecipientScalar(
        ReadOnlySpan<byte> encoding, byte version, PrimeOrderGroup group, out int dealer, out int recipient, out Scalar value, out CodecFailure failure)
    {
        var reader = new CanonicalReader(encoding);
        dealer = 0;
        recipient = 0;
        value = default;
        if (reader.TryReadHeader(version, group, out _)
            && reader.TryReadU16(out var d, "dealer")
            && reader.TryReadU16(out var r, "recipient")
            && reader.TryReadScalar(group, out value, "share")
            && reader.TryReadEnd())
        {
            dealer = d;
            recipient = r;
            failure = default;
            return true;
        }

        failure = reader.Failure;
        return false;
    }
}

/// <summary>
/// Round 2 broadcast: server <see cref="Complainer"/> says its share from <see cref="Accused"/>
/// is missing or does not match the accused's commitment (GJKR Fig. 2 step 1(c), with the reason
/// added so that a missing share is answered confidentially, see <see cref="DkgComplaintReason"/>),
/// signed with the complainer's period Ed25519 key so that others can echo it
/// (<see cref="DkgMessageType.ComplaintEcho"/>) and nobody can forge one: a forged Invalid complaint
/// "from" an honest server would make an honest dealer publish that server's share.
/// </summary>
/// <remarks>
/// <code>u8 version = 3 | u8 suite | u16 complainer | u16 accused | u8 reason (1 Missing, 2 Invalid) | 64-byte signature</code>
/// The signature covers <see cref="SigningBytes"/>: the label <see cref="SignatureLabel"/>, the suite,
/// the instance and the network context, complainer, accused and reason. Versions 1 (no reason) and
/// 2 (unsigned) are refused; any other reason byte is <see cref="CodecError.InvalidValue"/>.
/// </remarks>
public sealed class DkgComplaint
{
    public const byte FormatVersion = 3;

    /// <summary>Labels the signed bytes, so a complaint signature is never taken for any other signed structure.</summary>
    public const string SignatureLabel = "proactive-dkg-complaint-v1";

    /// <summary>Longest network context a signature binds.</summary>
    public const int MaxContextLength = 1024;

    private static readonly byte[] Label = System.Text.Encoding.ASCII.GetBytes(SignatureLabel);

    private readonly byte[] _signature;

    private DkgComplaint(PrimeOrderGroup group, int complainer, int accused, DkgComplaintReason reason, byte[] signature)
    {
        Group = group;
        Complainer = complainer;
        Accused = accused;
        Reason = reason;
        _signature = signature;
    }

    public PrimeOrderGroup Group { get; }

    public int Complainer { get; }

    public int Accused { get; }

    public DkgComplaintReason Reason { get; }

    /// <summary>The complainer's Ed25519 signature over <see cref="SigningBytes"/>.</summary>
    public ReadOnlySpan<byte> Signature => _signature;

    /// <summary>Signs the complaint of <paramref name="complainer"/> (whose period key is <paramref name="key"/>) against <paramref name="accused"/>.</summary>
    public static DkgComplaint Sign(
        PrimeOrderGroup group, Ed25519PrivateKey key, InstanceId instance, ReadOnlySpan<byte> networkContext,
        int complainer, int accused, DkgComplaintReason reason)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(complainer, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(complainer, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(accused, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(accused, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(networkContext.Length, MaxContextLength, nameof(networkContext));
        if (!Enum.IsDefined(reason))
        {
            throw new ArgumentOutOfRangeException(nameof(reason), $"Complaint reason {(byte)reason} is not defined.");
        }

        return new DkgComplaint(group, complainer, accused, reason, key.Sign(SigningBytes(group.Id, instance, networkContext, complainer, accused, reason)));
    }

    /// <summary>
    /// What the signature covers: the ASCII label, u8 suite, u8 protocol, u64 period, u64 sequence,
    /// u32 length and the network context, u16 complainer, u16 accused, u8 reason (big-endian).
    /// </summary>
    public static byte[] SigningBytes(GroupId suite, InstanceId instance, ReadOnlySpan<byte> networkContext, int complainer, int accused, DkgComplaintReason reason)
    {
        var bytes = new byte[Label.Length + 1 + 1 + 8 + 8 + CanonicalWriter.LengthPrefixSize + networkContext.Length + 2 + 2 + 1];
        Label.CopyTo(bytes, 0);
        var writer = new CanonicalWriter(bytes.AsSpan(Label.Length));
        writer.WriteU8((byte)suite);
        writer.WriteU8((byte)instance.Protocol);
        writer.WriteU64(instance.Period);
        writer.WriteU64(instance.Sequence);
        writer.WriteBytes(networkContext, MaxContextLength);
        writer.WriteU16((ushort)complainer);
        writer.WriteU16((ushort)accused);
        writer.WriteU8((byte)reason);
        return bytes;
    }

    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(buffer);
        writer.WriteHeader(FormatVersion, Group);
        writer.WriteU16((ushort)Complainer);
        writer.WriteU16((ushort)Accused);
        writer.WriteU8((byte)Reason);
        writer.WriteFixedBytes(_signature);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes (structure only: call <see cref="Verify"/> for the signature); never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup group, [NotNullWhen(true)] out DkgComplaint? complaint, out CodecFailure failure)
    {
        complaint = null;
        var reader = new CanonicalReader(encoding);
        if (reader.TryReadHeader(FormatVersion, group, out _)
            && reader.TryReadU16(out var complainer, "complainer")
            && reader.TryReadU16(out var accused, "accused")
            && TryReadReason(ref reader, out var reason)
            && reader.TryReadFixedBytes(Ed25519PublicKey.SignatureLength, out var signature, "signature")
            && reader.TryReadEnd())
        {
            complaint = new DkgComplaint(group, complainer, accused, reason, signature.ToArray());
            failure = default;
            return true;
        }

        failure = reader.Failure;
        return false;
    }

    /// <summary>True when <paramref name="complainerKey"/> signed this complaint for this instance and network. Never throws on bad data.</summary>
    public bool Verify(Ed25519PublicKey complainerKey, InstanceId instance, ReadOnlySpan<byte> networkContext)
    {
        ArgumentNullException.ThrowIfNull(complainerKey);
        return networkContext.Length <= MaxContextLength
            && complainerKey.Verify(SigningBytes(Group.Id, instance, networkContext, Complainer, Accused, Reason), _signature);
    }

    private static bool TryReadReason(ref CanonicalReader reader, out DkgComplaintReason reason)
    {
        var offset = reader.Offset;
        reason = default;
        if (!reader.TryReadU8(out var value, "reason"))
        {
            return false;
        }

        reason = (DkgComplaintReason)value;
        return Enum.IsDefined(reason) || reader.Fail(CodecError.InvalidValue, offset, "reason");
    }
}

/// <summary>
/// Round 2 broadcast: the accused dealer's answer to a complaint, the complainer's share f_i(j)
/// in the clear (GJKR Fig. 2 step 1(c)), which everyone checks against the dealer's commitment.
/// </summary>
/// <remarks><code>u8 version = 1 | u8 suite | u16 dealer | u16 complainer | scalar share</code></remarks>
public sealed record DkgReveal(PrimeOrderGroup Group, int Dealer, int Complainer, Scalar Value)
{
    public const byte FormatVersion = 1;

    public byte[] Encode() => DkgShare.EncodeDealerRecipientScalar(FormatVersion, Group, Dealer, Complainer, Value);

    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup group, [NotNullWhen(true)] out DkgReveal? reveal, out CodecFailure failure)
    {
        reveal = null;
        if (!DkgShare.TryDecodeDealerRecipientScalar(encoding, FormatVersion, group, out var dealer, out var complainer, out var value, out failure))
        {
            return false;
        }

        reveal = new DkgReveal(group, dealer, complainer, value);
        return true;
    }
}
