// References: RFC 9591 Appendix A (signature encoding SerializeElement(R) || SerializeScalar(z)),
// section 5.2 (signature shares), RFC 8032 section 5.1.6 (the same 64 bytes for Ed25519).
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Frost;

/// <summary>
/// A FROST (Schnorr) signature (R, z). Its encoding is the RFC 9591 one, with no header, so that Ed25519-suite
/// signatures are byte-for-byte RFC 8032 signatures that any Ed25519 verifier accepts.
/// </summary>
public sealed class Signature
{
    private readonly byte[] _rEncoding;

    /// <summary>Builds a signature from its parts; R must not be the identity (it has no encoding).</summary>
    public Signature(Ciphersuite suite, Element r, Scalar z)
    {
        ArgumentNullException.ThrowIfNull(suite);
        Suite = suite;
        R = r;
        Z = z;
        _rEncoding = suite.Group.EncodeElement(r);
    }

    private Signature(Ciphersuite suite, Element r, Scalar z, byte[] rEncoding)
    {
        Suite = suite;
        R = r;
        Z = z;
        _rEncoding = rEncoding;
    }

    public Ciphersuite Suite { get; }

    /// <summary>The group commitment R.</summary>
    public Element R { get; }

    /// <summary>The response z = sum of the signature shares.</summary>
    public Scalar Z { get; }

    internal ReadOnlySpan<byte> REncoding => _rEncoding;

    /// <summary>Ne + Ns bytes: 64 for Ed25519 and ristretto255, 65 for P-256.</summary>
    public static int EncodedLength(Ciphersuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return suite.Group.ElementLength + suite.Group.ScalarLength;
    }

    /// <summary>SerializeElement(R) || SerializeScalar(z).</summary>
    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength(Suite)];
        _rEncoding.CopyTo(bytes, 0);
        Suite.Group.EncodeScalar(Z, bytes.AsSpan(_rEncoding.Length));
        return bytes;
    }

    /// <summary>
    /// Decodes SerializeElement(R) || SerializeScalar(z). False, never an exception, for a wrong length, an R that
    /// is not a canonical prime-order element or is the identity (small-order points included), or z &gt;= q.
    /// </summary>
    public static bool TryDecode(Ciphersuite suite, ReadOnlySpan<byte> encoding, out Signature? signature)
    {
        ArgumentNullException.ThrowIfNull(suite);
        signature = null;
        var group = suite.Group;
        if (encoding.Length != EncodedLength(suite))
        {
            return false;
        }

        var rBytes = encoding[..group.ElementLength];
        if (!group.TryDecodeElement(rBytes, out var r) || !group.TryDecodeScalar(encoding[group.ElementLength..], out var z))
        {
            return false;
        }

        signature = new Signature(suite, r, z, rBytes.ToArray());
        return true;
    }

    public override string ToString() => $"Signature({Suite.Name}, {Convert.ToHexStringLower(Encode())})";
}

/// <summary>
/// One signer's round-two message z_i (ZF frost <c>SignatureShare</c>). Public: it reveals nothing once the
/// nonces behind it are gone.
/// </summary>
/// <remarks>
/// <para>Wire format, version 1, in the codec's layout (<see cref="CanonicalWriter"/>), fixed length per suite.
/// Unlike <see cref="Signature"/>, a share is a message between our own nodes, so it carries the header:</para>
/// <code>
/// u8      version = 1
/// u8      suite (GroupId of the ciphersuite's group)
/// scalar  identifier   (SerializeScalar, nonzero)
/// scalar  z_i          (SerializeScalar)
/// </code>
/// </remarks>
public sealed class SignatureShare : ICanonicalEncodable, ICanonicalDecodable<SignatureShare>
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 1;

    public SignatureShare(Ciphersuite suite, Identifier identifier, Scalar share)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (identifier.Group != suite.Group)
        {
            throw new ArgumentException("The identifier belongs to another suite.", nameof(identifier));
        }

        Suite = suite;
        Identifier = identifier;
        Share = share;
    }

    public Ciphersuite Suite { get; }

    public Identifier Identifier { get; }

    /// <summary>z_i.</summary>
    public Scalar Share { get; }

    /// <inheritdoc />
    int ICanonicalEncodable.EncodedLength => EncodedLength(Suite);

    /// <summary>Bytes of the wire form for a suite.</summary>
    public static int EncodedLength(Ciphersuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return CanonicalWriter.HeaderSize + (2 * suite.Group.ScalarLength);
    }

    /// <summary>The canonical encoding (header included).</summary>
    public byte[] Encode() => CanonicalEncoding.Encode(this);

    /// <inheritdoc />
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteHeader(FormatVersion, Suite.Group);
        writer.WriteScalar(Suite.Group, Identifier.Value);
        writer.WriteScalar(Suite.Group, Share);
    }

    /// <summary>False, never an exception, for a wrong length, version or suite, a zero or non-canonical identifier, or z_i &gt;= q.</summary>
    public static bool TryDecode(Ciphersuite suite, ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out SignatureShare? share) =>
        TryDecode(suite, encoding, out share, out _);

    /// <summary>As the other overload, but the failure says what went wrong, at which offset and in which field.</summary>
    public static bool TryDecode(Ciphersuite suite, ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out SignatureShare? share, out CodecFailure failure)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return CanonicalEncoding.TryDecode<SignatureShare>(encoding, suite.Group, out share, out failure);
    }

    /// <inheritdoc />
    public static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out SignatureShare value)
    {
        value = null;
        if (!reader.TryReadHeader(FormatVersion, expectedSuite, out var group))
        {
            return false;
        }

        if (!Ciphersuite.TryFromGroupId(group.Id, out var suite))
        {
            return reader.Fail(CodecError.UnknownSuite, reader.Offset - 1, "suite");
        }

        if (!FrostWire.TryReadIdentifier(ref reader, suite, out var identifier) || !reader.TryReadScalar(group, out var z, "share"))
        {
            return false;
        }

        value = new SignatureShare(suite, identifier, z);
        return true;
    }

    public override string ToString() => $"SignatureShare({Identifier})";
}
