// References: RFC 9591 Appendix A (signature encoding SerializeElement(R) || SerializeScalar(z)),
// section 5.2 (signature shares), RFC 8032 section 5.1.6 (the same 64 bytes for Ed25519).
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
/// <remarks>Wire form: version (1) || suite id (1) || SerializeScalar(identifier) || SerializeScalar(z_i).</remarks>
public sealed class SignatureShare
{
    /// <summary>Version byte of the wire form.</summary>
    public const byte Version = 1;

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

    public static int EncodedLength(Ciphersuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return 2 + (2 * suite.Group.ScalarLength);
    }

    public byte[] Encode()
    {
        var ns = Suite.Group.ScalarLength;
        var bytes = new byte[EncodedLength(Suite)];
        bytes[0] = Version;
        bytes[1] = (byte)Suite.Id;
        Identifier.Encode(bytes.AsSpan(2, ns));
        Suite.Group.EncodeScalar(Share, bytes.AsSpan(2 + ns));
        return bytes;
    }

    /// <summary>False, never an exception, for a wrong length, version or suite, a zero or non-canonical identifier, or z_i &gt;= q.</summary>
    public static bool TryDecode(Ciphersuite suite, ReadOnlySpan<byte> encoding, out SignatureShare? share)
    {
        ArgumentNullException.ThrowIfNull(suite);
        share = null;
        var ns = suite.Group.ScalarLength;
        if (encoding.Length != EncodedLength(suite) || encoding[0] != Version || encoding[1] != (byte)suite.Id)
        {
            return false;
        }

        if (!Identifier.TryDecode(suite, encoding.Slice(2, ns), out var identifier) || !suite.Group.TryDecodeScalar(encoding[(2 + ns)..], out var z))
        {
            return false;
        }

        share = new SignatureShare(suite, identifier, z);
        return true;
    }

    public override string ToString() => $"SignatureShare({Identifier})";
}
