// References: toolkit paper (seed 001) Table 1 steps 4-5 (S_cert(KeyTable) and its verification);
// RFC 9591 (FROST signatures, Appendix A encoding); docs/BRIEF.md section 3 "Refresh for period p".
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Frost;

namespace Proactive.Protocols.KeyTable;

/// <summary>
/// S_cert(KeyTable): a decided KeyTable with the network's threshold (FROST) signature on it. Whoever
/// holds V_cert (the group public key) can check the period's keys without trusting the server that
/// handed them over, e.g. a server restoring its state or a client pinning TLS certificates.
/// </summary>
/// <remarks>
/// <para>The signature is on <see cref="SigningMessage"/> = <c>"proactive-keytable-v1" || table</c>:
/// S_cert signs other things too (M, period roots), and the label keeps a table signature from being
/// read as any of them.</para>
/// <para>Encoding: version u8 (<see cref="FormatVersion"/>), suite u8 (<see cref="Crypto.Groups.GroupId"/> of
/// the FROST ciphersuite), table (u32 length, at most <see cref="KeyTableDocument.MaxEncodedLength"/>),
/// signature (RFC 9591 SerializeElement(R) || SerializeScalar(z), fixed length for the suite).</para>
/// </remarks>
public sealed class KeyTableCertificate
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 0x01;

    private static readonly byte[] SigningLabel = "proactive-keytable-v1"u8.ToArray();

    private readonly byte[] _table;

    /// <summary>Pairs a table with its signature (unchecked: see <see cref="Verify"/>).</summary>
    public KeyTableCertificate(byte[] encodedTable, Signature signature)
    {
        ArgumentNullException.ThrowIfNull(encodedTable);
        ArgumentNullException.ThrowIfNull(signature);
        if (encodedTable.Length > KeyTableDocument.MaxEncodedLength)
        {
            throw new ArgumentException("The table is longer than any KeyTable.", nameof(encodedTable));
        }

        _table = (byte[])encodedTable.Clone();
        Signature = signature;
    }

    /// <summary>The encoded KeyTable (<see cref="KeyTableDocument.Encode"/>).</summary>
    public ReadOnlySpan<byte> EncodedTable => _table;

    /// <summary>S_cert's signature on <see cref="SigningMessage"/> of the table.</summary>
    public Signature Signature { get; }

    /// <summary>The FROST ciphersuite of the signature.</summary>
    public Ciphersuite Suite => Signature.Suite;

    /// <summary>What the network must threshold-sign for <paramref name="encodedTable"/>.</summary>
    public static byte[] SigningMessage(ReadOnlySpan<byte> encodedTable)
    {
        var message = new byte[SigningLabel.Length + encodedTable.Length];
        SigningLabel.CopyTo(message, 0);
        encodedTable.CopyTo(message.AsSpan(SigningLabel.Length));
        return message;
    }

    /// <summary>
    /// True iff the signature verifies under <paramref name="groupPublicKey"/> (V_cert) and the table
    /// decodes as a KeyTable. Never throws for bad data.
    /// </summary>
    public bool Verify(GroupPublicKey groupPublicKey)
    {
        ArgumentNullException.ThrowIfNull(groupPublicKey);
        return groupPublicKey.Suite == Suite &&
            KeyTableDocument.TryDecode(_table, int.MaxValue, out _) &&
            groupPublicKey.Verify(SigningMessage(_table), Signature);
    }

    /// <summary>The table, decoded (structure only; trust it after <see cref="Verify"/>).</summary>
    public bool TryGetTable([NotNullWhen(true)] out KeyTableDocument? table) =>
        KeyTableDocument.TryDecode(_table, int.MaxValue, out table);

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(buffer);
        writer.WriteHeader(FormatVersion, Suite.Id);
        writer.WriteBytes(_table, KeyTableDocument.MaxEncodedLength);
        writer.WriteFixedBytes(Signature.Encode());
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Decodes untrusted bytes: version, a known suite (and <paramref name="expectedSuite"/> when given),
    /// a bounded table, a canonical signature, nothing after it. Never throws; does not verify.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, Ciphersuite? expectedSuite, [NotNullWhen(true)] out KeyTableCertificate? certificate, out CodecFailure failure)
    {
        certificate = null;
        var reader = new CanonicalReader(encoding);
        if (!reader.TryReadHeader(FormatVersion, expectedSuite?.Group, out var group) ||
            !reader.TryReadBytes(KeyTableDocument.MaxEncodedLength, out var table, "table"))
        {
            failure = reader.Failure;
            return false;
        }

        var suite = Ciphersuite.FromGroupId(group.Id);
        var signatureOffset = reader.Offset;
        if (!reader.TryReadFixedBytes(Signature.EncodedLength(suite), out var signatureBytes, "signature"))
        {
            failure = reader.Failure;
            return false;
        }

        if (!Signature.TryDecode(suite, signatureBytes, out var signature))
        {
            reader.Fail(CodecError.InvalidElement, signatureOffset, "signature");
            failure = reader.Failure;
            return false;
        }

        if (!reader.TryReadEnd())
        {
            failure = reader.Failure;
            return false;
        }

        certificate = new KeyTableCertificate(table.ToArray(), signature!);
        failure = default;
        return true;
    }

    /// <summary>Decodes untrusted bytes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, Ciphersuite? expectedSuite, [NotNullWhen(true)] out KeyTableCertificate? certificate) =>
        TryDecode(encoding, expectedSuite, out certificate, out _);
}
