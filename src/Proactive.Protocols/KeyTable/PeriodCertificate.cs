// References: toolkit paper (seed 001) Table 1 steps 4-5 (S_cert(KeyTable) and its verification) and
// section 4.1 (the period root); RFC 9591 (FROST signatures, Appendix A encoding, Appendix B check);
// docs/BRIEF.md section 3 "Refresh for period p"; docs/PROTOCOLS.md "KeyTable" ("Certificate").
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.KeyTable;

/// <summary>
/// The period root of period p threshold-signed with the network key (S_cert): the decided KeyTable of
/// p and the SHA-256 of the public state the refresh of p committed. Whoever holds the network public key
/// checks, without trusting the server that handed them over, the period's keys (a client pinning TLS
/// certificates) and the public state (a server restoring its state from a peer, issue 4).
/// </summary>
/// <remarks>
/// <para>The signed message is <see cref="SigningMessage(ulong, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> =
/// <c>"proactive-period-root-v1" || u64 period (big-endian) || table || SHA-256(public state)</c>. The label
/// keeps a period root from being read as anything else the network key signs; the table is the only
/// variable-length part and sits between fixed-length fields, so the message parses one way only.</para>
/// <para>Encoding, version 1: version u8 (<see cref="FormatVersion"/>), suite u8 (<see cref="GroupId"/> of
/// the FROST ciphersuite), period u64, table (u32 length, at most <see cref="KeyTableDocument.MaxEncodedLength"/>),
/// public-state hash (32 bytes), signature (RFC 9591 SerializeElement(R) || SerializeScalar(z), fixed
/// length for the suite). Nothing after it.</para>
/// </remarks>
public sealed class PeriodCertificate : ICanonicalEncodable, ICanonicalDecodable<PeriodCertificate>
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 0x01;

    /// <summary>SHA-256 of the public state's encoding.</summary>
    public const int PublicStateHashLength = 32;

    private static readonly byte[] SigningLabel = "proactive-period-root-v1"u8.ToArray();

    private readonly byte[] _table;
    private readonly byte[] _publicStateHash;

    /// <summary>Pairs a period root with its signature (unchecked: see <see cref="Verify"/>).</summary>
    /// <exception cref="ArgumentException">A table longer than any KeyTable or a hash that is not 32 bytes.</exception>
    public PeriodCertificate(ulong period, ReadOnlySpan<byte> encodedTable, ReadOnlySpan<byte> publicStateHash, Signature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (encodedTable.Length > KeyTableDocument.MaxEncodedLength)
        {
            throw new ArgumentException("The table is longer than any KeyTable.", nameof(encodedTable));
        }

        if (publicStateHash.Length != PublicStateHashLength)
        {
            throw new ArgumentException($"The public-state hash is {PublicStateHashLength} bytes (SHA-256).", nameof(publicStateHash));
        }

        Period = period;
        _table = encodedTable.ToArray();
        _publicStateHash = publicStateHash.ToArray();
        Signature = signature;
    }

    /// <summary>The period p the root is of.</summary>
    public ulong Period { get; }

    /// <summary>The decided KeyTable of p (<see cref="KeyTableDocument.Encode"/>).</summary>
    public ReadOnlySpan<byte> EncodedTable => _table;

    /// <summary>SHA-256 of the committed <see cref="RefreshPublicState"/> encoding of p (<see cref="HashPublicState"/>).</summary>
    public ReadOnlySpan<byte> PublicStateHash => _publicStateHash;

    /// <summary>S_cert's signature on <see cref="SigningMessage()"/>.</summary>
    public Signature Signature { get; }

    /// <summary>The FROST ciphersuite of the signature.</summary>
    public Ciphersuite Suite => Signature.Suite;

    /// <inheritdoc />
    public int EncodedLength =>
        CanonicalWriter.HeaderSize + 8 + CanonicalWriter.LengthPrefixSize + _table.Length + PublicStateHashLength + Signature.EncodedLength(Suite);

    /// <summary>What a certificate of <paramref name="state"/> commits to: SHA-256 of its canonical encoding.</summary>
    public static byte[] HashPublicState(RefreshPublicState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return SHA256.HashData(state.Encode());
    }

    /// <summary>What the network threshold-signs for the period root (see the remarks for the layout).</summary>
    /// <exception cref="ArgumentException">A hash that is not 32 bytes.</exception>
    public static byte[] SigningMessage(ulong period, ReadOnlySpan<byte> encodedTable, ReadOnlySpan<byte> publicStateHash)
    {
        if (publicStateHash.Length != PublicStateHashLength)
        {
            throw new ArgumentException($"The public-state hash is {PublicStateHashLength} bytes (SHA-256).", nameof(publicStateHash));
        }

        var message = new byte[SigningLabel.Length + 8 + encodedTable.Length + PublicStateHashLength];
        SigningLabel.CopyTo(message, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(message.AsSpan(SigningLabel.Length), period);
        encodedTable.CopyTo(message.AsSpan(SigningLabel.Length + 8));
        publicStateHash.CopyTo(message.AsSpan(SigningLabel.Length + 8 + encodedTable.Length));
        return message;
    }

    /// <summary>The message this certificate's signature must be on, recomputed from its fields.</summary>
    public byte[] SigningMessage() => SigningMessage(Period, _table, _publicStateHash);

    /// <summary>
    /// True iff the signature verifies under <paramref name="networkKey"/> (V_cert) on the message
    /// recomputed from the fields, and the table decodes as a KeyTable of <see cref="Period"/>. Never
    /// throws for bad data. It does not say that this server decided that table or committed that
    /// state: compare with <see cref="Certifies"/>.
    /// </summary>
    public bool Verify(GroupPublicKey networkKey)
    {
        ArgumentNullException.ThrowIfNull(networkKey);
        return networkKey.Suite == Suite
            && KeyTableDocument.TryDecode(_table, int.MaxValue, out var table) && table.Period == Period
            && networkKey.Verify(SigningMessage(), Signature);
    }

    /// <summary>
    /// True iff this certificate is about period <paramref name="period"/>, the table
    /// <paramref name="encodedTable"/> (byte for byte; null when the caller has no decided table to
    /// compare, e.g. it caught up on the period) and the public state whose hash is
    /// <paramref name="publicStateHash"/>. Says nothing about the signature: see <see cref="Verify"/>.
    /// </summary>
    public bool Certifies(ulong period, byte[]? encodedTable, ReadOnlySpan<byte> publicStateHash) =>
        Period == period
        && (encodedTable is null || encodedTable.AsSpan().SequenceEqual(_table))
        && CryptographicOperations.FixedTimeEquals(publicStateHash, _publicStateHash);

    /// <summary>The table, decoded (structure only; trust it after <see cref="Verify"/>).</summary>
    public bool TryGetTable([NotNullWhen(true)] out KeyTableDocument? table) =>
        KeyTableDocument.TryDecode(_table, int.MaxValue, out table);

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode() => CanonicalEncoding.Encode(this);

    /// <inheritdoc />
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteHeader(FormatVersion, Suite.Id);
        writer.WriteU64(Period);
        writer.WriteBytes(_table, KeyTableDocument.MaxEncodedLength);
        writer.WriteFixedBytes(_publicStateHash);
        writer.WriteFixedBytes(Signature.Encode());
    }

    /// <summary>
    /// Decodes untrusted bytes: version, a known suite (and <paramref name="expectedSuite"/> when given),
    /// the period, a bounded table, the hash, a canonical signature, nothing after it. Never throws; does
    /// not verify.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, Ciphersuite? expectedSuite, [NotNullWhen(true)] out PeriodCertificate? certificate, out CodecFailure failure) =>
        CanonicalEncoding.TryDecode<PeriodCertificate>(encoding, expectedSuite?.Group, out certificate, out failure);

    /// <summary>Decodes untrusted bytes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, Ciphersuite? expectedSuite, [NotNullWhen(true)] out PeriodCertificate? certificate) =>
        TryDecode(encoding, expectedSuite, out certificate, out _);

    /// <inheritdoc />
    public static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out PeriodCertificate value)
    {
        value = null;
        if (!reader.TryReadHeader(FormatVersion, expectedSuite, out var group)
            || !reader.TryReadU64(out var period, "period")
            || !reader.TryReadBytes(KeyTableDocument.MaxEncodedLength, out var table, "table")
            || !reader.TryReadFixedBytes(PublicStateHashLength, out var hash, "public state hash"))
        {
            return false;
        }

        var suite = Ciphersuite.FromGroupId(group.Id);
        var signatureOffset = reader.Offset;
        if (!reader.TryReadFixedBytes(Signature.EncodedLength(suite), out var signatureBytes, "signature"))
        {
            return false;
        }

        if (!Signature.TryDecode(suite, signatureBytes, out var signature) || signature is null)
        {
            return reader.Fail(CodecError.InvalidElement, signatureOffset, "signature");
        }

        value = new PeriodCertificate(period, table, hash, signature);
        return true;
    }

    public override string ToString() => $"PeriodCertificate(p{Period}, {Suite.Name}, table {_table.Length} bytes)";
}
