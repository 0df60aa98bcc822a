// References: toolkit paper (seed 001) Table 2 ("Read V_start from ROM and check validity of the
// signature [S_cert(M), M]: (i) extract M_i from M and check it with V_start, (ii) if valid, obtain
// V_cert from M_i and validate S_cert(M)") and Table 3 (the joint signature on M); patent (seed 000)
// figure 4; RFC 9591 (FROST signature encoding).
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Signing;
using Proactive.Protocols.KeyTable;

namespace Proactive.Protocols.Bootstrap;

/// <summary>
/// [S_cert(M), M]: the invariant information with the network's threshold signature on it. Every
/// operational server keeps a copy and pushes it at each period start; a server that lost its data
/// adopts the first copy that <see cref="VerifyFor"/> accepts with the V_start of its own ROM.
/// </summary>
/// <remarks>
/// <para>S_cert(M) is the network's first period root (<see cref="PeriodCertificate.SigningMessage(ulong, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>
/// for period 0) with M in the place of the KeyTable and the hash of the initial public state (the
/// network key's and the DPRF key's commitments): one FROST signing at initialization, by the same
/// machinery as every later period certificate, certifies both. No later root has period 0, and the
/// root's label keeps it apart from anything else S_cert signs.</para>
/// <para>Encoding: version u8 (<see cref="FormatVersion"/>), suite u8, M (u32 length, at most
/// <see cref="MaxInformationLength"/>), the initial public-state hash (32 bytes), signature (RFC 9591,
/// fixed length for the suite).</para>
/// </remarks>
public sealed class InvariantCertificate
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 0x01;

    /// <summary>Upper bound of an encoded M (constants plus n statements).</summary>
    public const int MaxInformationLength = InvariantInformation.MaxConstantsLength + 1024 + (InvariantInformation.MaxServers * 66);

    private readonly byte[] _encodedInformation;
    private readonly byte[] _initialStateHash;

    /// <summary>Pairs M and the initial public-state hash with a signature (unchecked: see <see cref="Verify"/>).</summary>
    /// <exception cref="ArgumentException">The hash is not 32 bytes, or the signature is of another suite.</exception>
    public InvariantCertificate(InvariantInformation information, ReadOnlySpan<byte> initialStateHash, Signature signature)
    {
        ArgumentNullException.ThrowIfNull(information);
        ArgumentNullException.ThrowIfNull(signature);
        if (initialStateHash.Length != PeriodCertificate.PublicStateHashLength)
        {
            throw new ArgumentException("The initial public-state hash is SHA-256 (32 bytes).", nameof(initialStateHash));
        }

        if (signature.Suite.Id != information.Suite.Id)
        {
            throw new ArgumentException("The signature must be in the suite of the network key.", nameof(signature));
        }

        Information = information;
        _encodedInformation = information.Encode();
        _initialStateHash = initialStateHash.ToArray();
        Signature = signature;
    }

    /// <summary>SHA-256 of the public state the initialization committed (<see cref="PeriodCertificate.HashPublicState"/>).</summary>
    public ReadOnlySpan<byte> InitialStateHash => _initialStateHash;

    /// <summary>M.</summary>
    public InvariantInformation Information { get; }

    /// <summary>S_cert(M).</summary>
    public Signature Signature { get; }

    /// <summary>What the network threshold-signs for <paramref name="information"/>: the period-0 root over M and the initial state hash.</summary>
    public static byte[] SigningMessage(InvariantInformation information, ReadOnlySpan<byte> initialStateHash)
    {
        ArgumentNullException.ThrowIfNull(information);
        return PeriodCertificate.SigningMessage(0, information.Encode(), initialStateHash);
    }

    /// <summary>S_cert(M) verifies under the V_cert that M itself names.</summary>
    public bool Verify() => Information.NetworkKey.Verify(PeriodCertificate.SigningMessage(0, _encodedInformation, _initialStateHash), Signature);

    /// <summary>
    /// Table 2 at server <paramref name="self"/>: its own M_i verifies with <paramref name="ownStartKey"/>
    /// (from its ROM), and only then, S_cert(M) with the V_cert in M. Without step (i) anyone could make
    /// an M of their own network, with their own V_cert, and sign it.
    /// </summary>
    public bool VerifyFor(int self, Ed25519PublicKey ownStartKey)
    {
        ArgumentNullException.ThrowIfNull(ownStartKey);
        return Information.VerifyStatement(self, ownStartKey) && Verify();
    }

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(buffer);
        writer.WriteHeader(FormatVersion, Information.Suite.Id);
        writer.WriteBytes(_encodedInformation, MaxInformationLength);
        writer.WriteFixedBytes(_initialStateHash);
        writer.WriteFixedBytes(Signature.Encode());
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes untrusted bytes (M's suite must be the header's); never throws; verifies nothing.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, Ciphersuite? expectedSuite, [NotNullWhen(true)] out InvariantCertificate? certificate, out CodecFailure failure)
    {
        certificate = null;
        var reader = new CanonicalReader(encoding);
        if (!reader.TryReadHeader(FormatVersion, expectedSuite?.Group, out var group))
        {
            failure = reader.Failure;
            return false;
        }

        var suite = Ciphersuite.FromGroupId(group.Id);
        var informationOffset = reader.Offset;
        if (!reader.TryReadBytes(MaxInformationLength, out var informationBytes, "information"))
        {
            failure = reader.Failure;
            return false;
        }

        if (!InvariantInformation.TryDecode(informationBytes, suite, out var information, out var inner))
        {
            reader.Fail(inner.Error, informationOffset + 4 + inner.Offset, inner.Field ?? "information");
            failure = reader.Failure;
            return false;
        }

        if (!reader.TryReadFixedBytes(PeriodCertificate.PublicStateHashLength, out var stateHash, "initial state hash"))
        {
            failure = reader.Failure;
            return false;
        }

        var signatureOffset = reader.Offset;
        if (!reader.TryReadFixedBytes(Signature.EncodedLength(suite), out var signatureBytes, "signature"))
        {
            failure = reader.Failure;
            return false;
        }

        if (!Signature.TryDecode(suite, signatureBytes, out var signature) || signature is null)
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

        certificate = new InvariantCertificate(information, stateHash, signature);
        failure = default;
        return true;
    }

    /// <summary>Decodes untrusted bytes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, Ciphersuite? expectedSuite, [NotNullWhen(true)] out InvariantCertificate? certificate) =>
        TryDecode(encoding, expectedSuite, out certificate, out _);
}
