using Proactive.Node.Tests;
using Proactive.Protocols.Application;

namespace Proactive.Client.Tests;

/// <summary>The CA key file (owner-only, strict, never printing the key) and the certificates it issues.</summary>
public sealed class CertificateAuthorityTests : IDisposable
{
    private const string Network = "00112233445566778899aabbccddeeff";

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_saved_ca_loads_back_owner_only_and_issues_certificates_for_an_instance_key()
    {
        using var authority = CertificateAuthority.Create();
        var path = _temp.Combine(".proactive", "ca.json");
        authority.Save(path);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Throws<IOException>(() => authority.Save(path));
        using var loaded = CertificateAuthority.Load(path);
        Assert.Equal(authority.PublicKey, loaded.PublicKey);
        Assert.DoesNotContain("privateKey", loaded.ToString(), StringComparison.Ordinal);

        using var instance = ApplicationCredentials.CreateInstance("vault", 3);
        Assert.Equal(ApplicationState.DistributedId("vault"), instance.ApplicationId.ToArray());
        var now = DateTimeOffset.UtcNow;
        var certificate = loaded.Issue(Network, "vault", 3, instance.PublicKey, now, now.AddHours(1));
        Assert.Equal(("vault", 3, 3, Network), (certificate.Name, certificate.Instance, certificate.ServerId, certificate.Network.ToString()));
        Assert.Equal(instance.PublicKey.Bytes.ToArray(), certificate.SubjectKey.ToArray());
        Assert.Equal(authority.PublicKey.Bytes.ToArray(), certificate.IssuerKey.ToArray());
        Assert.True(certificate.VerifySignature());

        // Serials are random: two certificates for the same instance are two certificates.
        Assert.NotEqual(certificate.Serial.ToArray(), loaded.Issue(Network, "vault", 3, instance.PublicKey, now, now.AddHours(1)).Serial.ToArray());
        Assert.Throws<ArgumentException>(() => loaded.Issue("not hex", "vault", 3, instance.PublicKey, now, now.AddHours(1)));
        Assert.Throws<ArgumentException>(() => loaded.Issue(Network, "vault", 3, instance.PublicKey, now, now.AddHours(-1)));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("not json")]
    [InlineData("""{"format":"proactive-ca-v1","publicKey":"00","privateKey":"00"}""")]
    [InlineData("""{"format":"proactive-credentials-v1","publicKey":"00","privateKey":"0000000000000000000000000000000000000000000000000000000000000000"}""")]
    [InlineData("""{"format":"proactive-ca-v1","publicKey":"00","privateKey":"0000000000000000000000000000000000000000000000000000000000000000"}""")]
    [InlineData("""{"format":"proactive-ca-v1","publicKey":"00","privateKey":"0000000000000000000000000000000000000000000000000000000000000000","x":1}""")]
    public void A_file_that_is_not_a_ca_key_is_refused_with_a_message(string content)
    {
        var path = _temp.Combine("ca.json");
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var error = Assert.Throws<CertificateAuthorityException>(() => CertificateAuthority.Load(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_ca_file_others_may_read_is_refused()
    {
        using var authority = CertificateAuthority.Create();
        var path = _temp.Combine("ca.json");
        authority.Save(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var error = Assert.Throws<CertificateAuthorityException>(() => CertificateAuthority.Load(path));

        Assert.Contains("chmod 600", error.Message, StringComparison.Ordinal);
    }
}
