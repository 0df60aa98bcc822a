// References: docs/BRIEF.md section 3 ("Refresh for period p": a new TLS certificate every period,
// its fingerprint in K_i) and section 4 ("Peer transport": certificates per server per period, pinned
// by fingerprint through the KeyTable); KeyTableEntry.FingerprintLength (SHA-256 of the DER certificate).
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Proactive.Node.Transport;

/// <summary>
/// The self-signed TLS certificate a server presents to its peers in one period, with its private key.
/// Peers trust it because its <see cref="Fingerprint"/> is pinned (from C, then from the decided KeyTable),
/// never because of a CA; dates, issuer and chain are ignored by both sides.
/// </summary>
/// <remarks>
/// <para>The key is ECDSA P-256 held in memory by OpenSSL; it never enters an OS certificate store.
/// The node persists it with <see cref="TryExportPrivateKey"/> (PKCS#8) in private data and restores it
/// with <see cref="Import"/>; <see cref="Dispose"/> frees the key, and the node erases the stored copy
/// when the period's keys are erased.</para>
/// <para>The subject is <c>CN=proactive-server-{id}, OU=period-{p}</c>: the common name is how a
/// certificate claims a server id (the pin for that id must match), the unit is for people reading it.</para>
/// <para>Security: the private key is secret; <see cref="ToString"/> prints only the id, period and fingerprint.</para>
/// </remarks>
public sealed class PeerCertificate : IDisposable
{
    /// <summary>Length of <see cref="Fingerprint"/>: SHA-256, as the KeyTable entry carries it.</summary>
    public const int FingerprintLength = 32;

    private const string CommonNamePrefix = "proactive-server-";

    private readonly byte[] _fingerprint;
    private readonly X509Certificate2 _certificate;
    private readonly ECDsa _key;
    private bool _disposed;

    private PeerCertificate(int serverId, ulong period, X509Certificate2 certificate, ECDsa key)
    {
        ServerId = serverId;
        Period = period;
        _certificate = certificate;
        _key = key;
        _fingerprint = ComputeFingerprint(certificate);
    }

    /// <summary>The server this certificate names.</summary>
    public int ServerId { get; }

    /// <summary>The period it is served in.</summary>
    public ulong Period { get; }

    /// <summary>SHA-256 of the DER certificate: what K_i carries and what peers pin.</summary>
    public ReadOnlySpan<byte> Fingerprint => _fingerprint;

    /// <summary>The certificate with its private key, for TLS.</summary>
    /// <exception cref="ObjectDisposedException">The certificate was disposed.</exception>
    internal X509Certificate2 Certificate
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _certificate;
        }
    }

    /// <summary>Makes a fresh key pair and a self-signed certificate for server <paramref name="serverId"/> in <paramref name="period"/>.</summary>
    /// <param name="serverId">The server, 1..255.</param>
    /// <param name="period">The period the certificate is for.</param>
    /// <param name="now">The current time; the validity dates are informative only (peers pin, they do not check dates).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="serverId"/> is outside 1..255.</exception>
    public static PeerCertificate Create(int serverId, ulong period, DateTimeOffset now)
    {
        ThrowIfBadServerId(serverId);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        try
        {
            var request = new CertificateRequest(SubjectFor(serverId, period), key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                [Oid.FromOidValue("1.3.6.1.5.5.7.3.1", OidGroup.EnhancedKeyUsage), Oid.FromOidValue("1.3.6.1.5.5.7.3.2", OidGroup.EnhancedKeyUsage)],
                false));

            // A random serial, so two certificates of the same server and period never share a fingerprint.
            var serial = new byte[16];
            RandomNumberGenerator.Fill(serial);
            serial[0] &= 0x7f;
            using var signed = request.Create(request.SubjectName, X509SignatureGenerator.CreateForECDsa(key), now.AddDays(-1), now.AddYears(10), serial);
            var withKey = signed.CopyWithPrivateKey(key);
            return new PeerCertificate(serverId, period, withKey, key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Restores a certificate the node stored: the DER certificate and the PKCS#8 private key written by
    /// <see cref="TryExportPrivateKey"/>. The caller wipes its copy of the key bytes.
    /// </summary>
    /// <returns>False when the bytes do not parse, the key does not match the certificate, or the subject
    /// does not name a server; stored data can be corrupt, so this does not throw for it.</returns>
    public static bool TryImport(ReadOnlySpan<byte> certificateDer, ReadOnlySpan<byte> privateKeyPkcs8, ulong period, [NotNullWhen(true)] out PeerCertificate? certificate)
    {
        certificate = null;
        X509Certificate2? publicOnly = null;
        var key = ECDsa.Create();
        try
        {
            publicOnly = X509CertificateLoader.LoadCertificate(certificateDer);
            key.ImportPkcs8PrivateKey(privateKeyPkcs8, out var read);
            if (read != privateKeyPkcs8.Length || !TryReadServerId(publicOnly, out var serverId))
            {
                key.Dispose();
                return false;
            }

            var withKey = publicOnly.CopyWithPrivateKey(key);
            certificate = new PeerCertificate(serverId, period, withKey, key);
            return true;
        }
        catch (CryptographicException)
        {
            key.Dispose();
            return false;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // CopyWithPrivateKey: the key does not belong to the certificate (or it already has one).
            key.Dispose();
            return false;
        }
        finally
        {
            publicOnly?.Dispose();
        }
    }

    /// <summary>Restores a stored certificate; see <see cref="TryImport"/>.</summary>
    /// <exception cref="ArgumentException">The bytes are not a certificate and its matching key.</exception>
    public static PeerCertificate Import(ReadOnlySpan<byte> certificateDer, ReadOnlySpan<byte> privateKeyPkcs8, ulong period) =>
        TryImport(certificateDer, privateKeyPkcs8, period, out var certificate)
            ? certificate
            : throw new ArgumentException("Not a peer certificate with its matching PKCS#8 private key.");

    /// <summary>The DER certificate (public; stored beside the key, shown on the status page).</summary>
    public byte[] ExportCertificate() => Certificate.RawDataMemory.ToArray();

    /// <summary>
    /// Writes the private key as PKCS#8 into <paramref name="destination"/> (owned and wiped by the caller).
    /// About 140 bytes; <see cref="PrivateKeyBufferLength"/> is always enough.
    /// </summary>
    /// <remarks>Security: the output is the period's TLS private key; store it only in private data.</remarks>
    public bool TryExportPrivateKey(Span<byte> destination, out int bytesWritten)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _key.TryExportPkcs8PrivateKey(destination, out bytesWritten);
    }

    /// <summary>A buffer this long always holds the PKCS#8 private key.</summary>
    public const int PrivateKeyBufferLength = 256;

    /// <summary>SHA-256 of a certificate's DER bytes.</summary>
    public static byte[] ComputeFingerprint(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.GetCertHash(HashAlgorithmName.SHA256);
    }

    /// <summary>
    /// The server id a certificate claims in its common name (<c>proactive-server-{id}</c>, id 1..255,
    /// canonical decimal). The claim means nothing until the fingerprint is found pinned for that id.
    /// </summary>
    public static bool TryReadServerId(X509Certificate certificate, out int serverId)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        serverId = 0;
        string? commonName = null;
        var subject = certificate is X509Certificate2 v2 ? v2.SubjectName : new X500DistinguishedName(certificate.Subject);
        foreach (var rdn in subject.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.HasMultipleElements || rdn.GetSingleElementType().Value != "2.5.4.3")
            {
                continue;
            }

            if (commonName is not null)
            {
                return false;
            }

            commonName = rdn.GetSingleElementValue();
        }

        if (commonName is null || !commonName.StartsWith(CommonNamePrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var digits = commonName.AsSpan(CommonNamePrefix.Length);
        if (digits.Length is 0 or > 3 || (digits.Length > 1 && digits[0] == '0') ||
            !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id is < 1 or > 255)
        {
            return false;
        }

        serverId = id;
        return true;
    }

    /// <summary>Frees the private key (OpenSSL clears it) and the certificate.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _certificate.Dispose();
        _key.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"server {ServerId} period {Period} tls:{Convert.ToHexStringLower(_fingerprint)}";

    private static X500DistinguishedName SubjectFor(int serverId, ulong period)
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(string.Create(CultureInfo.InvariantCulture, $"{CommonNamePrefix}{serverId}"));
        builder.AddOrganizationalUnitName(string.Create(CultureInfo.InvariantCulture, $"period-{period}"));
        return builder.Build();
    }

    private static void ThrowIfBadServerId(int serverId)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(serverId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(serverId, 255);
    }
}
