// References: toolkit paper (seed 001) Table 2 ("Read V_start from ROM and check validity of the
// signature [S_cert(M), M]: (i) extract M_i from M and check it with V_start, (ii) if valid, obtain
// V_cert from M_i and validate S_cert(M)") and Table 3 (the joint signature on M); patent (seed 000)
// figure 4; RFC 9591 (FROST signature encoding).
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Signing;

namespace Proactive.Protocols.Bootstrap;

/// <summary>
/// [S_cert(M), M]: the invariant information with the network's threshold signature on it. Every
/// operational server keeps a copy and pushes it at each period start; a server that lost its data
/// adopts the first copy that <see cref="VerifyFor"/> accepts with the V_start of its own ROM.
/// </summary>
/// <remarks>
/// <para>The signature is on <c>"proactive-invariant-v1" || M</c> (the label keeps it apart from the
/// other statements S_cert signs: period roots, KeyTables, application messages).</para>
/// <para>Encoding: version u8 (<see cref="FormatVersion"/>), suite u8, M (u32 length, at most
/// <see cref="MaxInformationLength"/>), signature (RFC 9591, fixed length for the suite).</para>
/// </remarks>
public sealed class InvariantCertificate
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 0x01;

    /// <summary>Upper bound of an encoded M (constants plus n statements).</summary>
    public const int MaxInformationLength = InvariantInformation.MaxConstantsLength + 1024 + (InvariantInformation.MaxServers * 66);

    private static readonly byte[] SigningLabel = "proactive-invariant-v1"u8.ToArray();

    private readonly byte[] _encodedInformation;

    /// <summary>Pairs M with a signature (unchecked: see <see cref="Verify"/>).</summary>
    public InvariantCertificate(InvariantInformation information, Signature signature)
    {
        ArgumentNullException.ThrowIfNull(information);
        ArgumentNullException.ThrowIfNull(signature);
        if (signature.Suite.Id != information.Suite.Id)
        {
            throw new ArgumentException("The signature must be in the suite of the network key.", nameof(signature));
        }

        Information = information;
        _encodedInformation = information.Encode();
        Signature = signature;
    }

    /// <summary>M.</summary>
    public InvariantInformation Information { get; }

    /// <summary>S_cert(M).</summary>
    public Signature Signature { get; }

    /// <summary>What the network threshold-signs for <paramref name="information"/>.</summary>
    public static byte[] SigningMessage(InvariantInformation information)
    {
        ArgumentNullException.ThrowIfNull(information);
        var encoded = information.Encode();
        var message = new byte[SigningLabel.Length + encoded.Length];
        SigningLabel.CopyTo(message, 0);
        encoded.CopyTo(message.AsSpan(SigningLabel.Length));
        return message;
    }

    /// <summary>S_cert(M) verifies under the V_cert that M itself names.</summary>
    public bool Verify() => Information.NetworkKey.Verify(SigningMessage(Information), Signature);

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

        certificate = new InvariantCertificate(information, signature);
        failure = default;
        return true;
    }

    /// <summary>Decodes untrusted bytes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, Ciphersuite? expectedSuite, [NotNullWhen(true)] out InvariantCertificate? certificate) =>
        TryDecode(encoding, expectedSuite, out certificate, out _);
}
