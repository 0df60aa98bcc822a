using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Node.Tests.Support;
using Proactive.Protocols.Application;

namespace Proactive.Node.Tests.Api;

/// <summary>
/// Registration by certificate through the API of a real two-server network in this process: each instance
/// registers at the server its certificate names, and every certificate the network must not take gets its
/// problem (presented at another server, another CA, expired, not valid yet, for another instance, forged,
/// used twice, garbled, a password for it), leaving the application's instances as they were; the registered
/// instances then run a quorum operation like any distributed application's.
/// </summary>
[Collection(LedgerClusterCollection.Name)]
public sealed class CertificateRegistrationRoutesTests(LedgerClusterFixture fixture) : IDisposable
{
    private readonly Ed25519PrivateKey _authority = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
    private readonly Ed25519PrivateKey _otherAuthority = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
    private readonly Ed25519PrivateKey _first = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
    private readonly Ed25519PrivateKey _second = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
    private readonly string _name = "certified-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    public void Dispose()
    {
        _authority.Dispose();
        _otherAuthority.Dispose();
        _first.Dispose();
        _second.Dispose();
    }

    [Fact]
    public async Task Instances_register_with_their_certificates_and_every_certificate_the_network_must_not_take_is_refused()
    {
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var second = Certificate(2, _second);
        using (var registered = await fixture.ExpectAsync(HttpStatusCode.Created, Registration(2, _second, second), server: 2))
        {
            Assert.Equal("distributed", registered.RootElement.GetProperty("kind").GetString());
            Assert.EndsWith("_2", registered.RootElement.GetProperty("handle").GetString(), StringComparison.Ordinal);
        }

        var refusals = new (string Case, int Server, HttpRequestMessage Request, int Status, string Code)[]
        {
            ("the same certificate again", 2, Registration(2, _second, second), 409, "certificate-used"),
            ("presented at another server than it names", 2, Registration(1, _first, Certificate(1, _first)), 403, "certificate-mismatch"),
            ("another CA's certificate", 1, Registration(1, _first, Certificate(1, _first, authority: _otherAuthority)), 403, "wrong-certificate-authority"),
            ("an expired certificate", 1, Registration(1, _first, Certificate(1, _first, notBefore: now - 7_200_000, notAfter: now - 3_600_000)), 403, "certificate-expired"),
            ("a certificate not valid yet", 1, Registration(1, _first, Certificate(1, _first, notBefore: now + 3_600_000, notAfter: now + 7_200_000)), 403, "certificate-not-yet-valid"),
            ("a certificate for another instance at this server", 1, Registration(1, _first, Certificate(2, _first, serverId: 1)), 403, "certificate-mismatch"),
            ("a forged certificate", 1, Registration(1, _first, Forged(Certificate(1, _first))), 403, "bad-certificate"),
            ("a certificate that does not decode", 1, Registration(1, _first, [1, 2, 3]), 400, "invalid-request"),
            ("a password for an application registered by certificate", 1, fixture.Signed(HttpMethod.Post, "/v1/apps",
                $$"""{"publicKey":"{{Hex(_first.PublicKey.Bytes)}}","name":"{{_name}}","instance":1,"password":"{{new string('c', 64)}}"}""", _first, "new"), 409, "wrong-registration-kind"),
        };

        foreach (var (name, server, request, status, code) in refusals)
        {
            var (got, body) = await fixture.SendAsync(server, request);
            using (body)
            {
                Assert.True((int)got == status && body.RootElement.GetProperty("code").GetString() == code, $"{name}: expected {status} {code}, got {(int)got} {body.RootElement}");
                Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("detail").GetString()));
            }
        }

        // Nothing refused registered anything: instance 1 is still free, and registers at its own server.
        var handle2 = Handles.Format(ApplicationState.DistributedId(_name), 2);
        using (var self = await fixture.ExpectAsync(HttpStatusCode.OK, fixture.Signed(HttpMethod.Get, "/v1/apps/self", null, _second, handle2), server: 2))
        {
            Assert.Equal([2], self.RootElement.GetProperty("instances").EnumerateArray().Select(i => i.GetInt32()));
        }

        using (await fixture.ExpectAsync(HttpStatusCode.Created, Registration(1, _first, Certificate(1, _first)), server: 1))
        {
        }

        // A quorum operation (n = 2: both instances) as for a password-registered application.
        var handle1 = Handles.Format(ApplicationState.DistributedId(_name), 1);
        const string Store = """{"id":"shared","type":"public-read-write","value":"AQ=="}""";
        using (var pending = await fixture.ExpectAsync(HttpStatusCode.Accepted, fixture.Signed(HttpMethod.Post, "/v1/data", Store, _first, handle1), server: 1))
        {
            Assert.Equal(1, pending.RootElement.GetProperty("approvals").GetInt32());
        }

        using (await fixture.ExpectAsync(HttpStatusCode.Created, fixture.Signed(HttpMethod.Post, "/v1/data", Store, _second, handle2), server: 2))
        {
        }

        using var app = await fixture.ExpectAsync(HttpStatusCode.OK, fixture.Signed(HttpMethod.Get, "/v1/apps/self", null, _first, handle1), server: 1);
        Assert.Equal(2, app.RootElement.GetProperty("quorum").GetInt32());
        Assert.Equal(1UL, app.RootElement.GetProperty("quota").GetProperty("usedEntries").GetUInt64());
    }

    private byte[] Certificate(int instance, Ed25519PrivateKey key, Ed25519PrivateKey? authority = null, int? serverId = null, ulong? notBefore = null, ulong? notAfter = null)
    {
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var serial = RandomNumberGenerator.GetBytes(ApplicationCertificate.SerialLength);
        return ApplicationCertificate.Issue(authority ?? _authority, fixture.Cluster.Config.NetworkId, _name, instance, serverId ?? instance, key.PublicKey.Bytes,
            notBefore ?? now - 60_000, notAfter ?? now + 3_600_000, serial).Encode();
    }

    private HttpRequestMessage Registration(int instance, Ed25519PrivateKey key, byte[] certificate) =>
        fixture.Signed(HttpMethod.Post, "/v1/apps", $$"""{"publicKey":"{{Hex(key.PublicKey.Bytes)}}","name":"{{_name}}","instance":{{instance}},"certificate":"{{Hex(certificate)}}"}""", key, "new");

    private static byte[] Forged(byte[] certificate)
    {
        var forged = certificate.ToArray();
        forged[^10] ^= 0x01;
        return forged;
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
