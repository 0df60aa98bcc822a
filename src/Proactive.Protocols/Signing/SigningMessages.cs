// References: RFC 9591 (FROST) section 5.1 (commitments), section 5.2 (the signing package: message and
// sorted commitment list), section 5.4 (identifiable abort), section 7.3 (nonce reuse); Komlo and Goldberg,
// FROST (SAC 2020) section 5.2 "Preprocess" (published batches of nonce commitments, each used once);
// docs/BRIEF.md section 3 "Threshold signing"; docs/PROTOCOLS.md "Threshold signing".
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Frost;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Signing;

/// <summary>Round and type bytes of threshold-signing messages (on the wire: never renumber).</summary>
public static class SigningWire
{
    /// <summary>Nonce channel (sequence 0): batches of published nonce commitments.</summary>
    public const byte NonceRound = 1;

    /// <summary>Session round 1: the coordinator sends each chosen signer the signing package.</summary>
    public const byte PackageRound = 1;

    /// <summary>Session round 2: a signer answers with its signature share or a refusal.</summary>
    public const byte ShareRound = 2;

    /// <summary>On the nonce channel: <see cref="NonceCommitmentBatch"/>.</summary>
    public const byte NonceBatchType = 1;

    /// <summary>Coordinator to signer: <see cref="SigningRequest"/>.</summary>
    public const byte SigningRequestType = 1;

    /// <summary>Signer to coordinator: <see cref="SigningResponse"/>.</summary>
    public const byte SignatureShareType = 1;

    /// <summary>Signer to coordinator: <see cref="SigningRefusal"/>.</summary>
    public const byte RefusalType = 2;

    /// <summary>Longest message a session signs (1 MiB): the package carries it in full.</summary>
    public const int MaxMessageLength = 1 << 20;

    /// <summary>Most nonce entries in one batch or response (bounds what a peer can make us hold).</summary>
    public const int MaxNonceEntries = 4096;

    /// <summary>Length of the package digest a share or refusal names.</summary>
    public const int PackageDigestLength = 32;

    private static readonly byte[] PackageDigestDomain = "proactive/signing/package/v1"u8.ToArray();

    /// <summary>
    /// SHA-256 over a domain label, the session id and the package bytes: what a signer's answer names,
    /// so a signed share is bound to the exact package it answers (and is checkable evidence with it).
    /// </summary>
    public static byte[] PackageDigest(InstanceId session, uint attempt, ReadOnlySpan<byte> encodedRequest)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(PackageDigestDomain);
        Span<byte> header = stackalloc byte[1 + 8 + 8 + 4];
        header[0] = (byte)session.Protocol;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(header[1..], session.Period);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(header[9..], session.Sequence);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header[17..], attempt);
        hash.AppendData(header);
        hash.AppendData(encodedRequest);
        return hash.GetHashAndReset();
    }
}

/// <summary>
/// One published nonce commitment: the signer's (D, E) for nonce <see cref="Index"/>, reserved for
/// <see cref="Coordinator"/> (only that server's sessions may use it, so two coordinators never pick the
/// same nonce). The index's high 32 bits are the signer's pool generation (see <see cref="NoncePool"/>).
/// Entry layout: u16 coordinator, u64 index, SigningCommitments (its own version and suite header).
/// </summary>
public sealed record PublishedNonce(int Coordinator, ulong Index, SigningCommitments Commitments)
{
    /// <summary>The pool generation the index belongs to.</summary>
    public uint Generation => (uint)(Index >> 32);

    internal static int MinEncodedLength(Ciphersuite suite) => 2 + 8 + SigningCommitments.EncodedLength(suite);

    internal void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteU16((ushort)Coordinator);
        writer.WriteU64(Index);
        Commitments.WriteTo(ref writer);
    }

    internal static bool TryRead(ref CanonicalReader reader, Ciphersuite suite, [NotNullWhen(true)] out PublishedNonce? entry)
    {
        entry = null;
        var start = reader.Offset;
        if (!reader.TryReadU16(out var coordinator, "coordinator") || !reader.TryReadU64(out var index, "index")
            || !SigningCommitments.TryRead(ref reader, suite.Group, out var commitments))
        {
            return false;
        }

        if (coordinator < 1 || coordinator > ClusterParameters.MaxServers)
        {
            return reader.Fail(CodecError.InvalidValue, start, "coordinator");
        }

        entry = new PublishedNonce(coordinator, index, commitments);
        return true;
    }

    internal static void WriteList(ref CanonicalWriter writer, IReadOnlyList<PublishedNonce> entries)
    {
        writer.WriteCount(entries.Count, SigningWire.MaxNonceEntries);
        foreach (var e in entries)
        {
            e.WriteTo(ref writer);
        }
    }

    internal static bool TryReadList(ref CanonicalReader reader, Ciphersuite suite, [NotNullWhen(true)] out PublishedNonce[]? entries)
    {
        entries = null;
        if (!reader.TryReadCount(SigningWire.MaxNonceEntries, MinEncodedLength(suite), out var count, "nonces"))
        {
            return false;
        }

        var result = new PublishedNonce[count];
        for (var i = 0; i < count; i++)
        {
            if (!TryRead(ref reader, suite, out var entry))
            {
                return false;
            }

            result[i] = entry;
        }

        entries = result;
        return true;
    }
}

/// <summary>
/// A signer's batch of published nonce commitments (Komlo-Goldberg "Preprocess"), on the nonce channel.
/// <see cref="Restarted"/> says the signer was rebuilt from its disk: it discarded every unused nonce, so
/// receivers drop its older commitments and, having lost nothing themselves, publish fresh ones reserved
/// for it (it lost the commitments it held as a coordinator too).
/// Format, version 1: u8 version, u8 suite, u32 generation, bool restarted, list of <see cref="PublishedNonce"/>.
/// </summary>
public sealed record NonceCommitmentBatch(uint Generation, bool Restarted, IReadOnlyList<PublishedNonce> Entries)
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode(Ciphersuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteHeader(FormatVersion, suite.Group);
        writer.WriteU32(Generation);
        writer.WriteBool(Restarted);
        PublishedNonce.WriteList(ref writer, Entries);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes untrusted bytes; never throws. Every entry's index must be of the batch's generation.</summary>
    public static bool TryDecode(Ciphersuite suite, ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out NonceCommitmentBatch? batch, out CodecFailure failure)
    {
        ArgumentNullException.ThrowIfNull(suite);
        batch = null;
        var reader = new CanonicalReader(encoding);
        if (reader.TryReadHeader(FormatVersion, suite.Group, out _)
            && reader.TryReadU32(out var generation, "generation")
            && reader.TryReadBool(out var restarted, "restarted")
            && PublishedNonce.TryReadList(ref reader, suite, out var entries)
            && reader.TryReadEnd())
        {
            if (entries.Any(e => e.Generation != generation))
            {
                failure = new CodecFailure(CodecError.InvalidValue, 0, "index");
                return false;
            }

            batch = new NonceCommitmentBatch(generation, restarted, entries);
            failure = default;
            return true;
        }

        failure = reader.FailureOrInvalidValue;
        return false;
    }
}

/// <summary>One signer in a signing package: its server id, the nonce index and the published commitments.</summary>
public sealed record PackageEntry(int Server, ulong Index, SigningCommitments Commitments);

/// <summary>
/// The coordinator's signing package for one attempt (RFC 9591 section 5.2 plus the nonce indices):
/// the message and one published commitment per chosen signer, in ascending server order (the order
/// RFC 9591 requires; any other order is refused, so the encoding is canonical).
/// Format, version 1: u8 version, u8 suite, bytes message (u32 length, at most 1 MiB),
/// list of (u16 server, u64 index, SigningCommitments).
/// </summary>
public sealed class SigningRequest
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    private readonly byte[] _message;

    /// <summary>Builds a package; entries are sorted by server here.</summary>
    public SigningRequest(Ciphersuite suite, ReadOnlySpan<byte> message, IEnumerable<PackageEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(entries);
        if (message.Length > SigningWire.MaxMessageLength)
        {
            throw new ArgumentException($"Messages are at most {SigningWire.MaxMessageLength} bytes.", nameof(message));
        }

        Suite = suite;
        _message = message.ToArray();
        Entries = [.. entries.OrderBy(e => e.Server)];
    }

    private SigningRequest(Ciphersuite suite, byte[] message, PackageEntry[] entries)
    {
        Suite = suite;
        _message = message;
        Entries = entries;
    }

    /// <summary>The FROST suite of the key.</summary>
    public Ciphersuite Suite { get; }

    /// <summary>The message to sign.</summary>
    public ReadOnlyMemory<byte> Message => _message;

    /// <summary>The chosen signers' commitments, ascending by server.</summary>
    public IReadOnlyList<PackageEntry> Entries { get; }

    /// <summary>The RFC 9591 signing package these entries make.</summary>
    public SigningPackage ToSigningPackage() =>
        new(Suite, Entries.Select(e => e.Commitments), _message);

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode()
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteHeader(FormatVersion, Suite.Group);
        writer.WriteBytes(_message, SigningWire.MaxMessageLength);
        writer.WriteCount(Entries.Count, ClusterParameters.MaxServers);
        foreach (var e in Entries)
        {
            writer.WriteU16((ushort)e.Server);
            writer.WriteU64(e.Index);
            e.Commitments.WriteTo(ref writer);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Decodes untrusted bytes; never throws. Refuses servers outside 1..n, servers not strictly
    /// ascending, and a commitment whose identifier is not its server's.
    /// </summary>
    public static bool TryDecode(Ciphersuite suite, int serverCount, ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out SigningRequest? request, out CodecFailure failure)
    {
        ArgumentNullException.ThrowIfNull(suite);
        request = null;
        var reader = new CanonicalReader(encoding);
        if (!reader.TryReadHeader(FormatVersion, suite.Group, out _)
            || !reader.TryReadBytes(SigningWire.MaxMessageLength, out var message, "message")
            || !reader.TryReadCount(serverCount, 2 + 8 + SigningCommitments.EncodedLength(suite), out var count, "signers"))
        {
            failure = reader.Failure;
            return false;
        }

        var entries = new PackageEntry[count];
        var previous = 0;
        for (var i = 0; i < count; i++)
        {
            var start = reader.Offset;
            if (!reader.TryReadU16(out var server, "server") || !reader.TryReadU64(out var index, "index")
                || !SigningCommitments.TryRead(ref reader, suite.Group, out var commitments))
            {
                failure = reader.Failure;
                return false;
            }

            if (server <= previous || server > serverCount || commitments.Identifier != Identifier.FromInt(suite, server))
            {
                reader.Fail(CodecError.InvalidValue, start, "server");
                failure = reader.Failure;
                return false;
            }

            previous = server;
            entries[i] = new PackageEntry(server, index, commitments);
        }

        if (!reader.TryReadEnd())
        {
            failure = reader.Failure;
            return false;
        }

        request = new SigningRequest(suite, message.ToArray(), entries);
        failure = default;
        return true;
    }
}

/// <summary>
/// A signer's answer: the digest of the package it signed (<see cref="SigningWire.PackageDigest"/>), its
/// signature share, and fresh nonce commitments reserved for the same coordinator that replace the one
/// it just used (so the coordinator's queue never runs dry and replenishing costs no extra message).
/// Format, version 1: u8 version, u8 suite, 32-byte package digest, SignatureShare (own header),
/// list of <see cref="PublishedNonce"/>.
/// </summary>
public sealed record SigningResponse(byte[] PackageDigest, SignatureShare Share, IReadOnlyList<PublishedNonce> Replacements)
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode()
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteHeader(FormatVersion, Share.Suite.Group);
        writer.WriteFixedBytes(PackageDigest);
        Share.WriteTo(ref writer);
        PublishedNonce.WriteList(ref writer, Replacements);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes untrusted bytes; never throws.</summary>
    public static bool TryDecode(Ciphersuite suite, ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out SigningResponse? response, out CodecFailure failure)
    {
        ArgumentNullException.ThrowIfNull(suite);
        response = null;
        var reader = new CanonicalReader(encoding);
        if (reader.TryReadHeader(FormatVersion, suite.Group, out _)
            && reader.TryReadFixedBytes(SigningWire.PackageDigestLength, out var digest, "digest")
            && SignatureShare.TryRead(ref reader, suite.Group, out var share)
            && PublishedNonce.TryReadList(ref reader, suite, out var replacements)
            && reader.TryReadEnd())
        {
            response = new SigningResponse(digest.ToArray(), share, replacements);
            failure = default;
            return true;
        }

        failure = reader.FailureOrInvalidValue;
        return false;
    }
}

/// <summary>Why a signer did not sign a package (on the wire: never renumber).</summary>
public enum SigningRefusalReason : byte
{
    /// <summary>The embedder's policy does not accept the message.</summary>
    MessageNotAcceptable = 1,

    /// <summary>The package names a nonce index this signer does not hold (discarded at a restart, or never published).</summary>
    UnknownNonce = 2,

    /// <summary>The package names a nonce this signer already used: it never signs with it again.</summary>
    NonceAlreadyUsed = 3,

    /// <summary>The package is not one an honest coordinator makes (wrong commitment, wrong reservation, bad structure).</summary>
    InvalidPackage = 4,
}

/// <summary>
/// A signer's explicit "no" (so the coordinator retries at once instead of waiting for its timeout).
/// Format, version 1: u8 version, u8 suite, 32-byte package digest, u8 reason.
/// </summary>
public sealed record SigningRefusal(byte[] PackageDigest, SigningRefusalReason Reason)
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode(Ciphersuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteHeader(FormatVersion, suite.Group);
        writer.WriteFixedBytes(PackageDigest);
        writer.WriteU8((byte)Reason);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes untrusted bytes; never throws.</summary>
    public static bool TryDecode(Ciphersuite suite, ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out SigningRefusal? refusal)
    {
        ArgumentNullException.ThrowIfNull(suite);
        refusal = null;
        var reader = new CanonicalReader(encoding);
        if (!reader.TryReadHeader(FormatVersion, suite.Group, out _)
            || !reader.TryReadFixedBytes(SigningWire.PackageDigestLength, out var digest, "digest")
            || !reader.TryReadU8(out var reason, "reason")
            || !reader.TryReadEnd()
            || !Enum.IsDefined((SigningRefusalReason)reason))
        {
            return false;
        }

        refusal = new SigningRefusal(digest.ToArray(), (SigningRefusalReason)reason);
        return true;
    }
}

/// <summary>
/// Transferable evidence of an invalid signature share: the signer's signed envelope (which names the
/// package digest) and the coordinator's package bytes with the attempt, so a third party recomputes
/// the digest and runs RFC 9591 section 5.4 verify_signature_share against the public key package.
/// Format, version 1: u8 version, u32 attempt, bytes package (u32 length), bytes signed share envelope (u32 length).
/// </summary>
public static class InvalidSignatureShareEvidence
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    private const int MaxEnvelopeLength = SigningWire.MaxMessageLength + (1 << 16);

    /// <summary>The canonical encoding.</summary>
    public static byte[] Encode(uint attempt, ReadOnlySpan<byte> encodedRequest, ReadOnlySpan<byte> signedShareMessage)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteU8(FormatVersion);
        writer.WriteU32(attempt);
        writer.WriteBytes(encodedRequest, MaxEnvelopeLength);
        writer.WriteBytes(signedShareMessage, MaxEnvelopeLength);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, out uint attempt, [NotNullWhen(true)] out byte[]? encodedRequest, [NotNullWhen(true)] out byte[]? signedShareMessage)
    {
        attempt = 0;
        encodedRequest = null;
        signedShareMessage = null;
        var reader = new CanonicalReader(encoding);
        if (!reader.TryReadU8(out var version, "version") || version != FormatVersion
            || !reader.TryReadU32(out attempt, "attempt")
            || !reader.TryReadBytes(MaxEnvelopeLength, out var request, "package")
            || !reader.TryReadBytes(MaxEnvelopeLength, out var share, "share")
            || !reader.TryReadEnd())
        {
            return false;
        }

        encodedRequest = request.ToArray();
        signedShareMessage = share.ToArray();
        return true;
    }
}
