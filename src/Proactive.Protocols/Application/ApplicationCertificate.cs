// References: toolkit (seed 001) section 5.1, "Certificate based" and Figure 3 (a Certificate Authority
// common to the application's clients issues Client_i a one-time certificate
// Cert_CA(Client_PubKey, name, i, server_id, ...); the client proves it owns the key when it registers);
// RFC 8032 (Ed25519); STYLE.md rule 7 (one canonical encoding, version first, bounded, nothing after).
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Envelopes;

namespace Proactive.Protocols.Application;

/// <summary>
/// A one-time certificate an application's Certificate Authority issues to instance i of a distributed
/// application (toolkit 5.1, option 2): it binds the instance's Ed25519 key to the application's name,
/// the instance, the server it registers at, a validity window and a serial, for one network. The
/// network registers a certificate once (its serial), only under the CA key the application was created
/// with, only within its validity, and only from the holder of its key (the registration request is
/// signed with it).
/// </summary>
/// <remarks>
/// <para>Not X.509: a compact canonical encoding the ledger checks byte for byte. Version 1:</para>
/// <list type="bullet">
/// <item>u8 version (1), 16-byte network id, string name (u32 length, 1 to 128 UTF-8 bytes);</item>
/// <item>u16 instance, u16 server id (instance i runs at server i: the two are equal in a certificate
/// this network registers, kept apart as in the toolkit's Cert_CA);</item>
/// <item>32-byte subject key (the instance's Ed25519 public key);</item>
/// <item>u64 not before, u64 not after (Unix milliseconds, inclusive);</item>
/// <item>16-byte serial (unique per CA: the one-time part);</item>
/// <item>32-byte issuer key (the CA's Ed25519 public key);</item>
/// <item>64-byte Ed25519 signature by the issuer over <c>"proactive-app-certificate-v1" || everything
/// above</c>. Nothing after it.</item>
/// </list>
/// <para>The label keeps a certificate signature from ever being read as another statement, and the
/// network id keeps a certificate for one network from registering in another.</para>
/// </remarks>
public sealed class ApplicationCertificate
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Serial length.</summary>
    public const int SerialLength = 16;

    /// <summary>The longest encoding: every fixed field, a 128-byte name and the signature.</summary>
    public const int MaxEncodedLength = 1 + NetworkId.Length + CanonicalWriter.LengthPrefixSize + ApplicationRecord.MaxNameLength + 2 + 2
        + Ed25519PublicKey.Length + 8 + 8 + SerialLength + Ed25519PublicKey.Length + Ed25519PublicKey.SignatureLength;

    private static readonly byte[] Label = "proactive-app-certificate-v1"u8.ToArray();

    private readonly byte[] _network;
    private readonly byte[] _subject;
    private readonly byte[] _serial;
    private readonly byte[] _issuer;
    private readonly byte[] _signature;

    private ApplicationCertificate(
        ReadOnlySpan<byte> network, string name, int instance, int serverId, ReadOnlySpan<byte> subject, ulong notBefore, ulong notAfter, ReadOnlySpan<byte> serial,
        ReadOnlySpan<byte> issuer, ReadOnlySpan<byte> signature)
    {
        _network = network.ToArray();
        Name = name;
        Instance = instance;
        ServerId = serverId;
        _subject = subject.ToArray();
        NotBefore = notBefore;
        NotAfter = notAfter;
        _serial = serial.ToArray();
        _issuer = issuer.ToArray();
        _signature = signature.ToArray();
    }

    /// <summary>The network the certificate registers in.</summary>
    public NetworkId Network => NetworkId.FromBytes(_network);

    /// <summary>The application's name (the same at every instance: what makes them one application).</summary>
    public string Name { get; }

    /// <summary>The instance, i.</summary>
    public int Instance { get; }

    /// <summary>The server it registers at.</summary>
    public int ServerId { get; }

    /// <summary>The instance's Ed25519 public key: the one the registration registers and is signed with.</summary>
    public ReadOnlySpan<byte> SubjectKey => _subject;

    /// <summary>Unix milliseconds before which the certificate does not register.</summary>
    public ulong NotBefore { get; }

    /// <summary>Unix milliseconds after which the certificate does not register.</summary>
    public ulong NotAfter { get; }

    /// <summary>The CA's serial (a certificate registers once).</summary>
    public ReadOnlySpan<byte> Serial => _serial;

    /// <summary>The CA's Ed25519 public key.</summary>
    public ReadOnlySpan<byte> IssuerKey => _issuer;

    /// <summary>The CA's signature.</summary>
    public ReadOnlySpan<byte> Signature => _signature;

    /// <summary>
    /// Issues a certificate: what a CA does for each instance, before it registers. The subject key is
    /// the instance's (the instance keeps its private half); <paramref name="authority"/> is the CA's key.
    /// </summary>
    /// <exception cref="ArgumentException">A field out of range (name length, instance or server id outside 1..65535, a window that ends before it starts, a serial of another length, a subject that is not an Ed25519 key).</exception>
    public static ApplicationCertificate Issue(
        Ed25519PrivateKey authority, NetworkId network, string name, int instance, int serverId, ReadOnlySpan<byte> subjectKey, ulong notBefore, ulong notAfter,
        ReadOnlySpan<byte> serial)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(name) > ApplicationRecord.MaxNameLength)
        {
            throw new ArgumentException($"A name is 1 to {ApplicationRecord.MaxNameLength} UTF-8 bytes.", nameof(name));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(instance, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(instance, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(serverId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(serverId, ushort.MaxValue);
        if (notAfter < notBefore)
        {
            throw new ArgumentException("The validity window ends before it starts.", nameof(notAfter));
        }

        if (serial.Length != SerialLength)
        {
            throw new ArgumentException($"A serial is {SerialLength} bytes.", nameof(serial));
        }

        if (!Ed25519PublicKey.TryDecode(subjectKey, out _))
        {
            throw new ArgumentException("The subject key is not an Ed25519 public key.", nameof(subjectKey));
        }

        Span<byte> networkBytes = stackalloc byte[NetworkId.Length];
        network.WriteTo(networkBytes);
        var unsigned = new ApplicationCertificate(networkBytes, name, instance, serverId, subjectKey, notBefore, notAfter, serial, authority.PublicKey.Bytes, new byte[Ed25519PublicKey.SignatureLength]);
        var signature = authority.Sign(unsigned.SignedBytes());
        return new ApplicationCertificate(networkBytes, name, instance, serverId, subjectKey, notBefore, notAfter, serial, authority.PublicKey.Bytes, signature);
    }

    /// <summary>Whether the issuer's signature verifies (and the keys are Ed25519 keys). Says nothing of whether the issuer is the application's CA.</summary>
    public bool VerifySignature() =>
        Ed25519PublicKey.TryDecode(_issuer, out var issuer) && Ed25519PublicKey.TryDecode(_subject, out _) && issuer.Verify(SignedBytes(), _signature);

    /// <summary>Whether <paramref name="unixMilliseconds"/> lies within the validity window (inclusive).</summary>
    public bool IsValidAt(ulong unixMilliseconds) => unixMilliseconds >= NotBefore && unixMilliseconds <= NotAfter;

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode()
    {
        var output = new ArrayBufferWriter<byte>(MaxEncodedLength);
        var writer = new CanonicalWriter(output);
        WriteUnsigned(ref writer);
        writer.WriteFixedBytes(_signature);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes one certificate (nothing after it); false for anything that is not exactly one. The signature is not checked here.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out ApplicationCertificate? certificate)
    {
        certificate = null;
        var reader = new CanonicalReader(encoded);
        if (!reader.TryReadU8(out var version, "version") || version != FormatVersion
            || !reader.TryReadFixedBytes(NetworkId.Length, out var network, "network")
            || !reader.TryReadString(ApplicationRecord.MaxNameLength, out var name, "name") || name.Length == 0
            || !reader.TryReadU16(out var instance, "instance") || instance == 0
            || !reader.TryReadU16(out var serverId, "server") || serverId == 0
            || !reader.TryReadFixedBytes(Ed25519PublicKey.Length, out var subject, "subject")
            || !reader.TryReadU64(out var notBefore, "notBefore")
            || !reader.TryReadU64(out var notAfter, "notAfter") || notAfter < notBefore
            || !reader.TryReadFixedBytes(SerialLength, out var serial, "serial")
            || !reader.TryReadFixedBytes(Ed25519PublicKey.Length, out var issuer, "issuer")
            || !reader.TryReadFixedBytes(Ed25519PublicKey.SignatureLength, out var signature, "signature")
            || !reader.TryReadEnd())
        {
            return false;
        }

        certificate = new ApplicationCertificate(network, name, instance, serverId, subject, notBefore, notAfter, serial, issuer, signature);
        return true;
    }

    /// <summary>What the issuer signs: the label, then every field but the signature.</summary>
    private byte[] SignedBytes()
    {
        var output = new ArrayBufferWriter<byte>(MaxEncodedLength + Label.Length);
        output.Write(Label);
        var writer = new CanonicalWriter(output);
        WriteUnsigned(ref writer);
        return output.WrittenSpan.ToArray();
    }

    private void WriteUnsigned(ref CanonicalWriter writer)
    {
        writer.WriteU8(FormatVersion);
        writer.WriteFixedBytes(_network);
        writer.WriteString(Name, ApplicationRecord.MaxNameLength);
        writer.WriteU16((ushort)Instance);
        writer.WriteU16((ushort)ServerId);
        writer.WriteFixedBytes(_subject);
        writer.WriteU64(NotBefore);
        writer.WriteU64(NotAfter);
        writer.WriteFixedBytes(_serial);
        writer.WriteFixedBytes(_issuer);
    }
}
