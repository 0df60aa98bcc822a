using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Proactive.Node.Transport;

namespace Proactive.Node.Tests.Transport;

public sealed class PeerCertificateTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static byte[] ExportKey(PeerCertificate certificate)
    {
        var buffer = new byte[PeerCertificate.PrivateKeyBufferLength];
        Assert.True(certificate.TryExportPrivateKey(buffer, out var written));
        return buffer[..written];
    }

    [Fact]
    public void The_fingerprint_is_the_sha256_of_the_der_certificate()
    {
        using var certificate = PeerCertificate.Create(3, 17, Now);

        Assert.Equal(PeerCertificate.FingerprintLength, certificate.Fingerprint.Length);
        Assert.Equal(SHA256.HashData(certificate.ExportCertificate()), certificate.Fingerprint.ToArray());
        Assert.Equal(3, certificate.ServerId);
        Assert.Equal(17UL, certificate.Period);
    }

    [Fact]
    public void The_certificate_is_self_signed_p256_and_names_its_server_and_period()
    {
        using var certificate = PeerCertificate.Create(12, 5, Now);
        using var parsed = X509CertificateLoader.LoadCertificate(certificate.ExportCertificate());

        Assert.Equal("CN=proactive-server-12, OU=period-5", parsed.Subject);
        Assert.Equal(parsed.Subject, parsed.Issuer);
        using var key = parsed.GetECDsaPublicKey();
        Assert.NotNull(key);
        Assert.Equal(256, key.KeySize);
        Assert.True(PeerCertificate.TryReadServerId(parsed, out var id));
        Assert.Equal(12, id);
        Assert.True(certificate.Certificate.HasPrivateKey);
    }

    [Fact]
    public void Two_certificates_for_the_same_server_and_period_differ()
    {
        using var first = PeerCertificate.Create(1, 0, Now);
        using var second = PeerCertificate.Create(1, 0, Now);

        Assert.False(first.Fingerprint.SequenceEqual(second.Fingerprint));
    }

    [Fact]
    public void Export_and_import_give_back_the_same_certificate_and_key()
    {
        using var original = PeerCertificate.Create(4, 9, Now);
        var key = ExportKey(original);

        using var restored = PeerCertificate.Import(original.ExportCertificate(), key, 9);

        Assert.Equal(original.Fingerprint.ToArray(), restored.Fingerprint.ToArray());
        Assert.Equal(4, restored.ServerId);
        Assert.Equal(9UL, restored.Period);
        Assert.True(restored.Certificate.HasPrivateKey);
        Assert.Equal(key, ExportKey(restored));
        CryptographicOperations.ZeroMemory(key);
    }

    [Fact]
    public void Import_refuses_garbage_a_foreign_key_and_trailing_bytes()
    {
        using var certificate = PeerCertificate.Create(4, 9, Now);
        using var other = PeerCertificate.Create(4, 9, Now);
        var der = certificate.ExportCertificate();
        var key = ExportKey(certificate);

        Assert.False(PeerCertificate.TryImport([1, 2, 3], key, 9, out _));
        Assert.False(PeerCertificate.TryImport(der, [1, 2, 3], 9, out _));
        Assert.False(PeerCertificate.TryImport(der, ExportKey(other), 9, out _));
        Assert.False(PeerCertificate.TryImport(der, [.. key, 0], 9, out _));
        Assert.Throws<ArgumentException>(() => PeerCertificate.Import(der, ExportKey(other), 9));
    }

    [Fact]
    public void A_disposed_certificate_no_longer_gives_out_its_key()
    {
        var certificate = PeerCertificate.Create(2, 1, Now);
        certificate.Dispose();
        certificate.Dispose();

        Assert.Throws<ObjectDisposedException>(() => certificate.TryExportPrivateKey(new byte[PeerCertificate.PrivateKeyBufferLength], out _));
        Assert.Throws<ObjectDisposedException>(() => certificate.Certificate);
    }

    [Fact]
    public void ToString_shows_the_fingerprint_and_not_the_key()
    {
        using var certificate = PeerCertificate.Create(2, 1, Now);
        var text = certificate.ToString();

        Assert.Contains(Convert.ToHexStringLower(certificate.Fingerprint), text, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexStringLower(ExportKey(certificate)[^32..]), text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    [InlineData(-1)]
    public void Create_refuses_a_server_id_outside_1_to_255(int id) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerCertificate.Create(id, 0, Now));

    [Theory]
    [InlineData("CN=proactive-server-1", true, 1)]
    [InlineData("CN=proactive-server-255, OU=period-3", true, 255)]
    [InlineData("CN=proactive-server-0", false, 0)]
    [InlineData("CN=proactive-server-256", false, 0)]
    [InlineData("CN=proactive-server-007", false, 0)]
    [InlineData("CN=proactive-server-+7", false, 0)]
    [InlineData("CN=proactive-server-", false, 0)]
    [InlineData("CN=proactive-server-1, CN=proactive-server-2", false, 0)]
    [InlineData("CN=example.com", false, 0)]
    [InlineData("OU=proactive-server-1", false, 0)]
    public void The_claimed_server_id_is_read_from_exactly_one_canonical_common_name(string subject, bool valid, int expected)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(Now, Now.AddDays(1));

        Assert.Equal(valid, PeerCertificate.TryReadServerId(certificate, out var id));
        Assert.Equal(expected, id);
    }
}
