// References: seed 002 section 2 "Share Update" (dealings, Feldman VSS, i-correct / i-wrong);
// Herzberg, Jarecki, Krawczyk, Yung, "Proactive Secret Sharing", CRYPTO 1995, section 3 (complaints,
// accusations answered in the clear); docs/BRIEF.md section 3 "Refresh at scale"; docs/PROTOCOLS.md "Refresh".
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Refresh;

/// <summary>Round and type bytes of refresh messages (on the wire: never renumber).</summary>
public static class RefreshWire
{
    /// <summary>Round 1: the dealing (confidential sub-shares and the public dealing commitments).</summary>
    public const byte DealingRound = 1;

    /// <summary>Round 2: complaints against dealers.</summary>
    public const byte ComplaintRound = 2;

    /// <summary>Round 3: dealers answer Invalid complaints by revealing the accused sub-share vector (Missing ones: a confidential re-send in round 1).</summary>
    public const byte RevealRound = 3;

    /// <summary>
    /// Confidential, dealer to one server: delta_ik(j) for every secret k (<see cref="SubShareVectorCodec"/>).
    /// Also the dealer's answer to a Missing complaint or a dealing request: the same committed message again.
    /// </summary>
    public const byte SubSharesType = 1;

    /// <summary>Broadcast by each dealer: <see cref="RefreshDealingCommitments"/>.</summary>
    public const byte DealingCommitmentsType = 2;

    /// <summary>Broadcast by the complainer: its signed <see cref="RefreshComplaint"/> (the complainer must be the sender).</summary>
    public const byte ComplaintType = 3;

    /// <summary>Broadcast by an accused dealer, for an Invalid complaint only: <see cref="RefreshReveal"/>.</summary>
    public const byte RevealType = 4;

    /// <summary>Round 4, catch-up: a server that lacks a decided dealing asks for it (docs/PROTOCOLS.md "Catching up").</summary>
    public const byte CatchUpRound = 4;

    /// <summary>Broadcast by a lagging server: <see cref="RefreshDealingRequest"/> (answered even after the refresh finished).</summary>
    public const byte DealingRequestType = 5;

    /// <summary>To the requester: <see cref="RefreshRelayedCommitments"/>, a decided dealer's broadcast as the relaying server holds it.</summary>
    public const byte RelayedCommitmentsType = 6;

    /// <summary>
    /// Round 2, broadcast by every server other than the complainer the first time it learns of a
    /// validly signed Invalid complaint (directly or by echo): the complainer's <see cref="RefreshComplaint"/>,
    /// byte for byte. Everyone, the accused dealer included, treats it exactly as the direct complaint,
    /// so a complainer cannot show its complaint to some servers only (docs/PROTOCOLS.md "Refresh").
    /// </summary>
    public const byte ComplaintEchoType = 7;
}

/// <summary>
/// A lagging server asks for dealer <c>d</c>'s decided dealing: every server that holds d's dealing
/// commitments relays them (they are bound by the decided hash, so any relay will do) and d itself
/// re-sends, confidentially, the exact sub-share message it committed to for the requester.
/// Format, version 1: u8 version, u8 suite, u16 dealer.
/// </summary>
public static class RefreshDealingRequest
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Encodes a request for <paramref name="dealer"/>'s dealing.</summary>
    public static byte[] Encode(PrimeOrderGroup group, int dealer)
    {
        var bytes = new byte[CanonicalWriter.HeaderSize + 2];
        var writer = new CanonicalWriter(bytes);
        writer.WriteHeader(FormatVersion, group);
        writer.WriteU16((ushort)dealer);
        return bytes;
    }

    /// <summary>Decodes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup group, out int dealer)
    {
        dealer = 0;
        var reader = new CanonicalReader(encoding);
        if (reader.TryReadHeader(FormatVersion, group, out _) && reader.TryReadU16(out var d, "dealer") && reader.TryReadEnd())
        {
            dealer = d;
            return true;
        }

        return false;
    }
}

/// <summary>
/// A relayed copy of dealer <c>d</c>'s dealing commitments broadcast. Trusted only through the decided
/// hash: the receiver adopts it iff its <see cref="RefreshTranscript.DealingHash"/> equals the hash in
/// the decided qualified set.
/// Format, version 1: u8 version, u8 suite, u16 dealer, bytes (u32 length) commitments message.
/// </summary>
public static class RefreshRelayedCommitments
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Longest commitments message accepted (16 MiB: far above any cluster's).</summary>
    public const int MaxCommitmentsLength = 1 << 24;

    /// <summary>Encodes the relay of <paramref name="dealer"/>'s commitments message.</summary>
    public static byte[] Encode(PrimeOrderGroup group, int dealer, ReadOnlySpan<byte> commitmentsMessage)
    {
        var bytes = new byte[CanonicalWriter.HeaderSize + 2 + CanonicalWriter.LengthPrefixSize + commitmentsMessage.Length];
        var writer = new CanonicalWriter(bytes);
        writer.WriteHeader(FormatVersion, group);
        writer.WriteU16((ushort)dealer);
        writer.WriteBytes(commitmentsMessage, MaxCommitmentsLength);
        return bytes;
    }

    /// <summary>Decodes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup group, out int dealer, out byte[] commitmentsMessage)
    {
        dealer = 0;
        commitmentsMessage = [];
        var reader = new CanonicalReader(encoding);
        if (reader.TryReadHeader(FormatVersion, group, out _)
            && reader.TryReadU16(out var d, "dealer")
            && reader.TryReadBytes(MaxCommitmentsLength, out var message, "commitments")
            && reader.TryReadEnd())
        {
            dealer = d;
            commitmentsMessage = message.ToArray();
            return true;
        }

        return false;
    }
}

/// <summary>
/// The payload of a confidential sub-share message: the recipient j and the m values a dealer's
/// polynomials take at j (refresh: delta_ik(j); recovery: g_hk(j)).
/// Format, version 1: u8 version, u8 suite, u16 recipient, u32 m, m x scalar.
/// The encoding holds secrets: callers wipe the buffers they own.
/// </summary>
public static class SubShareVectorCodec
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Encodes a sub-share vector for <paramref name="recipient"/>.</summary>
    public static byte[] Encode(PrimeOrderGroup group, int recipient, ReadOnlySpan<Scalar> values)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentOutOfRangeException.ThrowIfLessThan(recipient, 1);
        var bytes = new byte[CanonicalWriter.HeaderSize + 2 + CanonicalWriter.CountPrefixSize + (values.Length * group.ScalarLength)];
        var writer = new CanonicalWriter(bytes);
        writer.WriteHeader(FormatVersion, group);
        writer.WriteU16((ushort)recipient);
        writer.WriteCount(values.Length, ShareVector.MaxSecrets);
        foreach (var v in values)
        {
            writer.WriteScalar(group, v);
        }

        return bytes;
    }

    /// <summary>
    /// Decodes into pinned memory the caller owns and wipes (<see cref="Wipe"/>). Never throws on bad data.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup group, out int recipient, [NotNullWhen(true)] out Scalar[]? values)
    {
        recipient = 0;
        values = null;
        var reader = new CanonicalReader(encoding);
        if (!reader.TryReadHeader(FormatVersion, group, out _)
            || !reader.TryReadU16(out var to, "recipient")
            || !reader.TryReadCount(ShareVector.MaxSecrets, group.ScalarLength, out var count, "count"))
        {
            return false;
        }

        var result = GC.AllocateArray<Scalar>(count, pinned: true);
        for (var k = 0; k < count; k++)
        {
            if (!reader.TryReadScalar(group, out result[k], "subShare"))
            {
                Wipe(result);
                return false;
            }
        }

        if (!reader.TryReadEnd())
        {
            Wipe(result);
            return false;
        }

        recipient = to;
        values = result;
        return true;
    }

    /// <summary>Zeroes secret scalars.</summary>
    public static void Wipe(Scalar[]? values)
    {
        if (values is not null)
        {
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(values.AsSpan()));
        }
    }
}

/// <summary>
/// What a refresh dealer broadcasts: Feldman commitments to its signing-key dealings, a hash of each
/// confidential sub-share message it sent (binding it to every sub-share before the challenge exists),
/// and the Feldman commitment to the combined data-key polynomial sum_k rho^k delta_k, where rho is
/// derived from everything before it (<see cref="RefreshTranscript.Challenge"/>).
/// </summary>
/// <remarks>
/// Format, version 1: u8 version, u8 suite, u32 a, a x FeldmanCommitment body, u32 n, n x 32-byte
/// SHA-256 of the sub-share message to server 1..n, bool hasCombined, [FeldmanCommitment body].
/// The challenge hashes the bytes before hasCombined (<see cref="BindingLength"/>).
/// </remarks>
public sealed class RefreshDealingCommitments
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    private RefreshDealingCommitments(
        PrimeOrderGroup group, FeldmanCommitment[] signing, byte[][] hashes, FeldmanCommitment? combined, int bindingLength)
    {
        Group = group;
        SigningKeyCommitments = signing;
        RecipientHashes = hashes;
        CombinedCommitment = combined;
        BindingLength = bindingLength;
    }

    /// <summary>The group.</summary>
    public PrimeOrderGroup Group { get; }

    /// <summary>One commitment per signing key (each must have C_0 the identity).</summary>
    public IReadOnlyList<FeldmanCommitment> SigningKeyCommitments { get; }

    /// <summary>SHA-256 (<see cref="RefreshTranscript.SubSharesHash"/>) of the sub-share message to server j, at j-1.</summary>
    public IReadOnlyList<byte[]> RecipientHashes { get; }

    /// <summary>The commitment to sum_k rho^k delta_k over the data keys; null when there are none.</summary>
    public FeldmanCommitment? CombinedCommitment { get; }

    /// <summary>Bytes of the encoding that bind the dealer before the challenge: all but the combined commitment.</summary>
    public int BindingLength { get; }

    /// <summary>Encodes; <paramref name="combined"/> null when there are no data keys.</summary>
    public static byte[] Encode(PrimeOrderGroup group, IReadOnlyList<FeldmanCommitment> signing, IReadOnlyList<byte[]> hashes, FeldmanCommitment? combined)
    {
        var binding = EncodeBinding(group, signing, hashes);
        var output = new ArrayBufferWriter<byte>();
        output.Write(binding);
        var writer = new CanonicalWriter(output);
        writer.WriteBool(combined is not null);
        combined?.WriteBodyTo(ref writer);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>The binding prefix alone (what the dealer hashes into its own challenge).</summary>
    public static byte[] EncodeBinding(PrimeOrderGroup group, IReadOnlyList<FeldmanCommitment> signing, IReadOnlyList<byte[]> hashes)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteHeader(FormatVersion, group);
        writer.WriteCount(signing.Count, RefreshPublicState.MaxSigningKeys);
        foreach (var c in signing)
        {
            c.WriteBodyTo(ref writer);
        }

        writer.WriteCount(hashes.Count, Cluster.ClusterParameters.MaxServers);
        foreach (var h in hashes)
        {
            writer.WriteFixedBytes(h);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes; structural rules (counts, degrees, constant terms) are the machine's to judge. Never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup group, [NotNullWhen(true)] out RefreshDealingCommitments? value)
    {
        value = null;
        var reader = new CanonicalReader(encoding);
        if (!reader.TryReadHeader(FormatVersion, group, out _)
            || !reader.TryReadCount(RefreshPublicState.MaxSigningKeys, 1, out var a, "signingKeyCount"))
        {
            return false;
        }

        var signing = new FeldmanCommitment[a];
        for (var k = 0; k < a; k++)
        {
            if (!FeldmanCommitment.TryReadBody(ref reader, group, out var c))
            {
                return false;
            }

            signing[k] = c;
        }

        if (!reader.TryReadCount(Cluster.ClusterParameters.MaxServers, RefreshTranscript.HashLength, out var n, "recipientHashes"))
        {
            return false;
        }

        var hashes = new byte[n][];
        for (var j = 0; j < n; j++)
        {
            if (!reader.TryReadFixedBytes(RefreshTranscript.HashLength, out var h, "recipientHash"))
            {
                return false;
            }

            hashes[j] = h.ToArray();
        }

        var bindingLength = reader.Offset;
        if (!reader.TryReadBool(out var hasCombined, "hasCombined"))
        {
            return false;
        }

        FeldmanCommitment? combined = null;
        if (hasCombined && !FeldmanCommitment.TryReadBody(ref reader, group, out combined))
        {
            return false;
        }

        if (!reader.TryReadEnd())
        {
            return false;
        }

        value = new RefreshDealingCommitments(group, signing, hashes, combined, bindingLength);
        return true;
    }
}

/// <summary>Why a server complains about a dealer; the values are on the wire and never change.</summary>
public enum RefreshComplaintReason : byte
{
    /// <summary>
    /// The dealer's sub-share message did not arrive by the dealing deadline. A timing event, not
    /// evidence: the dealer re-sends the committed message CONFIDENTIALLY to the complainer, never in
    /// the clear (a public reveal would hand the adversary delta_i(j) of an honest dealer, and with j's
    /// share of the period before, j's new share).
    /// </summary>
    Missing = 1,

    /// <summary>
    /// A sub-share message authenticated as the dealer's fails the hash, Feldman or combined check: the
    /// dealer is faulty, so HJKY95's public reveal exposes nothing the adversary does not already know.
    /// </summary>
    Invalid = 2,
}

/// <summary>
/// A complaint against a dealer, with its reason (<see cref="RefreshComplaintReason"/>), signed by the
/// complainer's period Ed25519 key so that it is transferable: an Invalid complaint is echoed by every
/// server that learns it (<see cref="RefreshWire.ComplaintEchoType"/>), and a relay must not be able
/// to forge one. A forged Invalid complaint "from" an honest server j would make an honest dealer
/// publish j's sub-shares, which with j's share of the period before (which a mobile adversary may
/// have read) give j's new share.
/// </summary>
/// <remarks>
/// Format, version 3: u8 version, u8 suite, u16 complainer, u16 dealer, u8 reason (1 Missing,
/// 2 Invalid), 64-byte Ed25519 signature over <see cref="SigningBytes"/>. Versions 1 (no reason) and
/// 2 (unsigned) are refused; so are any other reason byte and server id 0.
/// The signature covers the label <see cref="SignatureLabel"/>, the suite, the refresh instance
/// (protocol, period, sequence) and the embedder's instance context (which names the network), so a
/// complaint cannot be replayed into another instance, period or network, nor have its reason changed.
/// </remarks>
public sealed class RefreshComplaint
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 3;

    /// <summary>Labels the signed bytes, so a complaint signature is never taken for any other signed structure.</summary>
    public const string SignatureLabel = "proactive-refresh-complaint-v1";

    /// <summary>Length of every encoding.</summary>
    public const int EncodedLength = CanonicalWriter.HeaderSize + 2 + 2 + 1 + Ed25519PublicKey.SignatureLength;

    /// <summary>Longest instance context a signature binds (the agreement's limit).</summary>
    public const int MaxInstanceContextLength = Agreement.AgreementDomain.MaxInstanceContextLength;

    private static readonly byte[] Label = System.Text.Encoding.ASCII.GetBytes(SignatureLabel);

    private readonly byte[] _signature;

    private RefreshComplaint(PrimeOrderGroup group, int complainer, int dealer, RefreshComplaintReason reason, byte[] signature)
    {
        Group = group;
        Complainer = complainer;
        Dealer = dealer;
        Reason = reason;
        _signature = signature;
    }

    /// <summary>The group of the refresh (its suite byte is signed).</summary>
    public PrimeOrderGroup Group { get; }

    /// <summary>The server that complains and signed.</summary>
    public int Complainer { get; }

    /// <summary>The accused dealer.</summary>
    public int Dealer { get; }

    /// <summary>Why.</summary>
    public RefreshComplaintReason Reason { get; }

    /// <summary>The complainer's Ed25519 signature over <see cref="SigningBytes"/>.</summary>
    public ReadOnlySpan<byte> Signature => _signature;

    /// <summary>Signs a complaint of <paramref name="complainer"/> (whose period key is <paramref name="key"/>) against <paramref name="dealer"/>.</summary>
    public static RefreshComplaint Sign(
        PrimeOrderGroup group, Ed25519PrivateKey key, InstanceId instance, ReadOnlySpan<byte> instanceContext,
        int complainer, int dealer, RefreshComplaintReason reason)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(key);
        CheckServer(complainer, nameof(complainer));
        CheckServer(dealer, nameof(dealer));
        if (!Enum.IsDefined(reason))
        {
            throw new ArgumentOutOfRangeException(nameof(reason), $"Complaint reason {(byte)reason} is not defined.");
        }

        if (instanceContext.Length > MaxInstanceContextLength)
        {
            throw new ArgumentException($"The instance context is at most {MaxInstanceContextLength} bytes.", nameof(instanceContext));
        }

        var signature = key.Sign(SigningBytes(group.Id, instance, instanceContext, complainer, dealer, reason));
        return new RefreshComplaint(group, complainer, dealer, reason, signature);
    }

    /// <summary>
    /// What the signature covers: the ASCII label, u8 suite, u8 protocol, u64 period, u64 sequence,
    /// u32 length and the instance context, u16 complainer, u16 dealer, u8 reason (big-endian).
    /// </summary>
    public static byte[] SigningBytes(GroupId suite, InstanceId instance, ReadOnlySpan<byte> instanceContext, int complainer, int dealer, RefreshComplaintReason reason)
    {
        var bytes = new byte[Label.Length + 1 + 1 + 8 + 8 + CanonicalWriter.LengthPrefixSize + instanceContext.Length + 2 + 2 + 1];
        Label.CopyTo(bytes, 0);
        var writer = new CanonicalWriter(bytes.AsSpan(Label.Length));
        writer.WriteU8((byte)suite);
        writer.WriteU8((byte)instance.Protocol);
        writer.WriteU64(instance.Period);
        writer.WriteU64(instance.Sequence);
        writer.WriteBytes(instanceContext, MaxInstanceContextLength);
        writer.WriteU16((ushort)complainer);
        writer.WriteU16((ushort)dealer);
        writer.WriteU8((byte)reason);
        return bytes;
    }

    /// <summary>The one canonical encoding.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        var writer = new CanonicalWriter(bytes);
        writer.WriteHeader(FormatVersion, Group);
        writer.WriteU16((ushort)Complainer);
        writer.WriteU16((ushort)Dealer);
        writer.WriteU8((byte)Reason);
        writer.WriteFixedBytes(_signature);
        return bytes;
    }

    /// <summary>Decodes (structure only: call <see cref="Verify"/> for the signature); never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup group, [NotNullWhen(true)] out RefreshComplaint? complaint)
    {
        complaint = null;
        var reader = new CanonicalReader(encoding);
        if (reader.TryReadHeader(FormatVersion, group, out _)
            && reader.TryReadU16(out var complainer, "complainer")
            && reader.TryReadU16(out var dealer, "dealer")
            && reader.TryReadU8(out var reason, "reason")
            && reader.TryReadFixedBytes(Ed25519PublicKey.SignatureLength, out var signature, "signature")
            && reader.TryReadEnd()
            && complainer is >= 1 and <= Cluster.ClusterParameters.MaxServers
            && dealer is >= 1 and <= Cluster.ClusterParameters.MaxServers
            && Enum.IsDefined((RefreshComplaintReason)reason))
        {
            complaint = new RefreshComplaint(group, complainer, dealer, (RefreshComplaintReason)reason, signature.ToArray());
            return true;
        }

        return false;
    }

    /// <summary>True when <paramref name="complainerKey"/> signed this complaint for this instance and context. Never throws on bad data.</summary>
    public bool Verify(Ed25519PublicKey complainerKey, InstanceId instance, ReadOnlySpan<byte> instanceContext)
    {
        ArgumentNullException.ThrowIfNull(complainerKey);
        return instanceContext.Length <= MaxInstanceContextLength
            && complainerKey.Verify(SigningBytes(Group.Id, instance, instanceContext, Complainer, Dealer, Reason), _signature);
    }

    private static void CheckServer(int server, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(server, 1, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(server, Cluster.ClusterParameters.MaxServers, name);
    }
}

/// <summary>
/// A dealer's answer to an <see cref="RefreshComplaintReason.Invalid"/> complaint: the exact sub-share
/// message it sent the complainer, now in the clear, so everyone can check it against the hash in the
/// dealer's commitments and against the commitments themselves (HJKY95: accusations are resolved
/// publicly). Never the answer to a Missing complaint (that one is a confidential re-send).
/// Format, version 1: u8 version, u8 suite, u16 complainer, bytes (u32 length) sub-share message.
/// </summary>
public static class RefreshReveal
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Encodes the reveal of the message sent to <paramref name="complainer"/>.</summary>
    public static byte[] Encode(PrimeOrderGroup group, int complainer, ReadOnlySpan<byte> subShareMessage)
    {
        var bytes = new byte[CanonicalWriter.HeaderSize + 2 + CanonicalWriter.LengthPrefixSize + subShareMessage.Length];
        var writer = new CanonicalWriter(bytes);
        writer.WriteHeader(FormatVersion, group);
        writer.WriteU16((ushort)complainer);
        writer.WriteBytes(subShareMessage, MaxMessageLength(group));
        return bytes;
    }

    /// <summary>Decodes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup group, out int complainer, out byte[] subShareMessage)
    {
        complainer = 0;
        subShareMessage = [];
        var reader = new CanonicalReader(encoding);
        if (reader.TryReadHeader(FormatVersion, group, out _)
            && reader.TryReadU16(out var c, "complainer")
            && reader.TryReadBytes(MaxMessageLength(group), out var message, "subShares")
            && reader.TryReadEnd())
        {
            complainer = c;
            subShareMessage = message.ToArray();
            return true;
        }

        return false;
    }

    private static int MaxMessageLength(PrimeOrderGroup group) =>
        CanonicalWriter.HeaderSize + 2 + CanonicalWriter.CountPrefixSize + (ShareVector.MaxSecrets * group.ScalarLength);
}

/// <summary>
/// The value agreement decides: the qualified dealers, each with the hash of the dealing commitments
/// it broadcast (so that every honest server adds the same dealings even if a dealer equivocated).
/// Format, version 1: u8 version, u8 suite, u32 count, count x (u16 dealer, 32-byte hash), dealers ascending.
/// </summary>
public static class QualifiedSetCodec
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Encodes (dealer, transcript hash) pairs; sorts by dealer.</summary>
    public static byte[] Encode(PrimeOrderGroup group, IEnumerable<KeyValuePair<int, byte[]>> dealers)
    {
        var sorted = dealers.OrderBy(d => d.Key).ToArray();
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteHeader(FormatVersion, group);
        writer.WriteCount(sorted.Length, Cluster.ClusterParameters.MaxServers);
        foreach (var (dealer, hash) in sorted)
        {
            writer.WriteU16((ushort)dealer);
            writer.WriteFixedBytes(hash);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes; rejects unsorted or repeated dealers and ids outside 1..<paramref name="serverCount"/>. Never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup group, int serverCount, [NotNullWhen(true)] out SortedDictionary<int, byte[]>? dealers)
    {
        dealers = null;
        var reader = new CanonicalReader(encoding);
        if (!reader.TryReadHeader(FormatVersion, group, out _)
            || !reader.TryReadCount(Cluster.ClusterParameters.MaxServers, 2 + RefreshTranscript.HashLength, out var count, "count"))
        {
            return false;
        }

        var result = new SortedDictionary<int, byte[]>();
        var previous = 0;
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryReadU16(out var dealer, "dealer")
                || dealer <= previous || dealer > serverCount
                || !reader.TryReadFixedBytes(RefreshTranscript.HashLength, out var hash, "hash"))
            {
                return false;
            }

            result[dealer] = hash.ToArray();
            previous = dealer;
        }

        if (!reader.TryReadEnd())
        {
            return false;
        }

        dealers = result;
        return true;
    }
}

/// <summary>The hashes that tie a refresh together: sub-share bindings, transcripts, the challenge rho.</summary>
public static class RefreshTranscript
{
    /// <summary>SHA-256 output length.</summary>
    public const int HashLength = 32;

    private static readonly byte[] SubSharesDomain = "proactive/refresh/sub-shares/v1"u8.ToArray();
    private static readonly byte[] TranscriptDomain = "proactive/refresh/dealing/v1"u8.ToArray();
    private static readonly byte[] ChallengeDomain = "proactive/refresh/challenge/v1"u8.ToArray();

    /// <summary>SHA-256(domain || instance || dealer || message): binds a dealer to one sub-share message.</summary>
    public static byte[] SubSharesHash(InstanceId instance, int dealer, ReadOnlySpan<byte> subShareMessage) =>
        Hash(HashAlgorithmName.SHA256, SubSharesDomain, instance, dealer, subShareMessage);

    /// <summary>SHA-256 of a dealer's whole commitments message: what the qualified set names.</summary>
    public static byte[] DealingHash(InstanceId instance, int dealer, ReadOnlySpan<byte> commitmentsMessage) =>
        Hash(HashAlgorithmName.SHA256, TranscriptDomain, instance, dealer, commitmentsMessage);

    /// <summary>
    /// rho = SHA-512(domain || instance || dealer || binding bytes) reduced mod q: a random-oracle
    /// challenge fixed only once the dealer is bound (by the hashes in the binding bytes) to every
    /// sub-share it sent. A zero result (probability 1/q) is replaced by one.
    /// </summary>
    public static Scalar Challenge(PrimeOrderGroup group, InstanceId instance, int dealer, ReadOnlySpan<byte> bindingBytes) =>
        ChallengeWithDomain(group, ChallengeDomain, instance, dealer, bindingBytes);

    internal static Scalar ChallengeWithDomain(PrimeOrderGroup group, ReadOnlySpan<byte> domain, InstanceId instance, int dealer, ReadOnlySpan<byte> bindingBytes)
    {
        var digest = Hash(HashAlgorithmName.SHA512, domain, instance, dealer, bindingBytes);
        var rho = group.ReduceWide(digest.AsSpan(0, Math.Min(digest.Length, group.WideScalarLength)));
        return rho.IsZero ? group.One : rho;
    }

    internal static byte[] Hash(HashAlgorithmName algorithm, ReadOnlySpan<byte> domain, InstanceId instance, int dealer, ReadOnlySpan<byte> message)
    {
        using var hash = IncrementalHash.CreateHash(algorithm);
        hash.AppendData(domain);
        Span<byte> header = stackalloc byte[19];
        header[0] = (byte)instance.Protocol;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(header[1..], instance.Period);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(header[9..], instance.Sequence);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(header[17..], (ushort)dealer);
        hash.AppendData(header);
        hash.AppendData(message);
        return hash.GetHashAndReset();
    }
}
