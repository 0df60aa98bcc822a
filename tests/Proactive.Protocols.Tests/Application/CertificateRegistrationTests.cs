using System.Globalization;
using System.Text;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Application;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Services;
using Proactive.Protocols.Tests.Controller;

namespace Proactive.Protocols.Tests.Application;

/// <summary>
/// Registration of a distributed application's instances by one-time certificates (toolkit 5.1 option 2):
/// the certificate's bytes, what the application state accepts and refuses (another CA, expired, not yet
/// valid, another server, instance, network or key, a forged signature, a second use), quorum operations
/// afterwards, the uses kept across a reload and a state transfer, and the same through the ledger of a
/// five-server network.
/// </summary>
public sealed class CertificateRegistrationTests : IDisposable
{
    private const ulong PeriodStart = 1_790_000_000_000;
    private const ulong PeriodLength = 60_000;
    private const ulong SignedAt = PeriodStart + 1_000;
    private const int ServerCount = 5;

    // Pinned bytes: a change here is a format change and needs a new FormatVersion. Version 01, network
    // 00..0f, name "vault" (u32 length 5), instance 2, server 2, subject key, not before, not after, serial
    // 01..10, issuer key, Ed25519 signature (deterministic, RFC 8032).
    private const string CertificateSnapshot =
        "01" + "000102030405060708090a0b0c0d0e0f" + "00000005" + "7661756c74" + "0002" + "0002"
        + "0b513ad9b4924015ca0902ed079044d3ac5dbec2306f06948c10da8eb6e39f2d"
        + "000001a0c4506c00" + "000001a0c4875a80"
        + "0102030405060708090a0b0c0d0e0f10"
        + "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
        + "1e423fb88e9725ca11c3a1d2effb1ce1cff3586bc10349e4aced6e0a0415341c3ff8f77e8714591b82ffebc906b73b96fe6e6f912787641859908d74c2f33704";

    private static readonly NetworkId Network = NetworkId.FromBytes(Enumerable.Range(0, NetworkId.Length).Select(i => (byte)i).ToArray());
    private static readonly LedgerContext Context = new(Network.ToString(), ServerCount, 3, PeriodStart, PeriodLength);

    private readonly Ed25519PrivateKey _authority = Key(1);
    private readonly Ed25519PrivateKey _otherAuthority = Key(2);
    private readonly Dictionary<int, Ed25519PrivateKey> _instances = Enumerable.Range(1, ServerCount).ToDictionary(i => i, i => Key(10 + i));
    private readonly DeterministicRandomSource _random = new(5);
    private readonly ApplicationState _state = new();

    public void Dispose()
    {
        _authority.Dispose();
        _otherAuthority.Dispose();
        foreach (var key in _instances.Values)
        {
            key.Dispose();
        }
    }

    [Fact]
    public void A_certificate_has_one_pinned_encoding_and_decodes_to_what_was_issued()
    {
        var certificate = ApplicationCertificate.Issue(_authority, Network, "vault", 2, 2, _instances[2].PublicKey.Bytes, PeriodStart, PeriodStart + 3_600_000,
            Enumerable.Range(1, ApplicationCertificate.SerialLength).Select(i => (byte)i).ToArray());
        var encoded = certificate.Encode();

        Assert.Equal(CertificateSnapshot, Convert.ToHexStringLower(encoded));
        Assert.True(ApplicationCertificate.TryDecode(encoded, out var decoded));
        Assert.Equal(encoded, decoded.Encode());
        Assert.Equal(("vault", 2, 2, PeriodStart, PeriodStart + 3_600_000), (decoded.Name, decoded.Instance, decoded.ServerId, decoded.NotBefore, decoded.NotAfter));
        Assert.Equal(_authority.PublicKey.Bytes.ToArray(), decoded.IssuerKey.ToArray());
        Assert.True(decoded.VerifySignature());
        Assert.False(ApplicationCertificate.TryDecode([.. encoded, 0], out _));
        Assert.False(ApplicationCertificate.TryDecode(encoded.AsSpan(0, encoded.Length - 1), out _));

        // Any changed byte of the signed part breaks the signature (or the decoding).
        for (var i = 0; i < encoded.Length; i++)
        {
            var changed = encoded.ToArray();
            changed[i] ^= 0x01;
            Assert.False(ApplicationCertificate.TryDecode(changed, out var mutated) && mutated.VerifySignature(), $"byte {i} changed and it still verifies");
        }
    }

    [Fact]
    public void Issue_refuses_what_no_certificate_may_say()
    {
        var key = _instances[1].PublicKey.Bytes.ToArray();
        var serial = new byte[ApplicationCertificate.SerialLength];
        Assert.Throws<ArgumentException>(() => ApplicationCertificate.Issue(_authority, Network, string.Empty, 1, 1, key, 0, 1, serial));
        Assert.Throws<ArgumentOutOfRangeException>(() => ApplicationCertificate.Issue(_authority, Network, "a", 0, 1, key, 0, 1, serial));
        Assert.Throws<ArgumentException>(() => ApplicationCertificate.Issue(_authority, Network, "a", 1, 1, key, 2, 1, serial));
        Assert.Throws<ArgumentException>(() => ApplicationCertificate.Issue(_authority, Network, "a", 1, 1, key, 0, 1, new byte[3]));
        Assert.Throws<ArgumentException>(() => ApplicationCertificate.Issue(_authority, Network, "a", 1, 1, new byte[31], 0, 1, serial));
    }

    [Fact]
    public void Instances_register_with_their_certificates_and_the_first_registration_fixes_the_authority()
    {
        for (var instance = 1; instance <= 3; instance++)
        {
            var result = Apply(Registration(instance, Certificate(instance)));
            Assert.True(result.Status == 201, result.Detail);
        }

        var app = _state.Application(Convert.ToHexStringLower(ApplicationState.DistributedId("vault")))!;
        Assert.Equal(ApplicationKind.DistributedCertificate, app.Kind);
        Assert.Equal(_authority.PublicKey.Bytes.ToArray(), app.CertificateAuthority);
        Assert.Null(app.PasswordCheck);
        Assert.Equal(new[] { 1, 2, 3 }, app.Instances.Keys);
        Assert.Equal(_instances[2].PublicKey.Bytes.ToArray(), app.Instances[2]);
        Assert.Equal(3, app.Quorum(ServerCount));
        Assert.NotNull(_state.KeyOf(app.HandleOf(3)));
    }

    public static TheoryData<string> Refusals => new(RefusalCases.Keys);

    private static readonly Dictionary<string, (int Status, string Code, Func<CertificateRegistrationTests, SignedRequest> Build)> RefusalCases = new()
    {
        ["a second use of a certificate"] = (409, "certificate-used", t => t.Registration(1, t.Certificate(1))),
        ["another CA's certificate"] = (403, "wrong-certificate-authority", t => t.Registration(4, t.Certificate(4, authority: t._otherAuthority))),
        ["an expired certificate"] = (403, "certificate-expired", t => t.Registration(4, t.Certificate(4, notBefore: PeriodStart - 7_200_000, notAfter: SignedAt - 1))),
        ["a certificate not valid yet"] = (403, "certificate-not-yet-valid", t => t.Registration(4, t.Certificate(4, notBefore: SignedAt + 1))),
        ["a certificate for another server"] = (403, "certificate-mismatch", t => t.Registration(4, t.Certificate(4, serverId: 5))),
        ["a certificate for another instance"] = (403, "certificate-mismatch", t => t.Registration(5, t.Certificate(4), key: t._instances[4])),
        ["a certificate for another network"] = (403, "certificate-mismatch", t => t.Registration(4, t.Certificate(4, network: NetworkId.FromBytes(new byte[NetworkId.Length])))),
        ["a certificate for another application"] = (403, "certificate-mismatch", t => t.Registration(4, t.Certificate(4, name: "other"))),
        ["a certificate of another key"] = (403, "certificate-mismatch", t => t.Registration(4, t.Certificate(5))),
        ["a forged signature"] = (403, "bad-certificate", t => t.Registration(4, Forge(t.Certificate(4)))),
        ["a certificate that does not decode"] = (400, "invalid-request", t => t.Registration(4, [1, 2, 3])),
        ["an instance already registered, with a new certificate"] = (409, "already-registered", t => t.Registration(1, t.Certificate(1, serial: 99))),
        ["a certificate and a password"] = (400, "invalid-request", t => t.Request(t._instances[4], SignedRequest.NewHandle, "/v1/apps",
            $"{{\"publicKey\":\"{Hex(t._instances[4].PublicKey.Bytes)}\",\"name\":\"vault\",\"instance\":4,\"password\":\"{new string('a', 64)}\",\"certificate\":\"{Hex(t.Certificate(4).Encode())}\"}}")),
        ["a certificate without its instance"] = (400, "invalid-request", t => t.Request(t._instances[4], SignedRequest.NewHandle, "/v1/apps",
            $"{{\"publicKey\":\"{Hex(t._instances[4].PublicKey.Bytes)}\",\"name\":\"vault\",\"certificate\":\"{Hex(t.Certificate(4).Encode())}\"}}")),
        ["a password for an application registered by certificate"] = (409, "wrong-registration-kind", t => t.Request(t._instances[4], SignedRequest.NewHandle, "/v1/apps",
            $"{{\"publicKey\":\"{Hex(t._instances[4].PublicKey.Bytes)}\",\"name\":\"vault\",\"instance\":4,\"password\":\"{new string('a', 64)}\"}}")),
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void A_registration_the_certificate_does_not_allow_is_refused_and_changes_no_registration(string name)
    {
        foreach (var instance in new[] { 1, 2 })
        {
            Assert.Equal(201, Apply(Registration(instance, Certificate(instance))).Status);
        }

        var appHex = Convert.ToHexStringLower(ApplicationState.DistributedId("vault"));
        var before = _state.Application(appHex)!.Encode();
        var (status, code, build) = RefusalCases[name];

        var result = Apply(build(this));

        Assert.True((result.Status, result.Problem) == (status, code), $"{name}: {result.Status} {result.Problem} {result.Detail}");
        Assert.False(string.IsNullOrEmpty(result.Detail));
        Assert.Equal(before, _state.Application(appHex)!.Encode());
        Assert.Equal(2, _state.Records().Count(r => r.Key.StartsWith(ApplicationKeys.CertificatePrefix, StringComparison.Ordinal)));
    }

    [Fact]
    public void A_certificate_for_an_application_registered_by_password_is_refused()
    {
        Assert.Equal(201, Apply(Request(_instances[1], SignedRequest.NewHandle, "/v1/apps",
            $"{{\"publicKey\":\"{Hex(_instances[1].PublicKey.Bytes)}\",\"name\":\"vault\",\"instance\":1,\"password\":\"{new string('b', 64)}\"}}")).Status);

        var result = Apply(Registration(2, Certificate(2)));

        Assert.Equal((409, "wrong-registration-kind"), (result.Status, result.Problem));
    }

    [Fact]
    public void Quorum_operations_of_a_certificate_registered_application_apply_once_a_majority_asked()
    {
        for (var instance = 1; instance <= ServerCount; instance++)
        {
            Assert.Equal(201, Apply(Registration(instance, Certificate(instance))).Status);
        }

        var app = ApplicationState.DistributedId("vault");
        const string Store = "{\"id\":\"shared\",\"type\":\"public-read-write\",\"value\":\"AQ==\"}";
        Assert.Equal(202, Apply(Request(_instances[1], Handles.Format(app, 1), "/v1/data", Store)).Status);
        Assert.Equal(202, Apply(Request(_instances[4], Handles.Format(app, 4), "/v1/data", Store)).Status);
        Assert.Null(_state.Data(Convert.ToHexStringLower(app), "shared"));

        // Signed by instance 5's key under instance 2's handle: not authentic, never applied by an honest server.
        Assert.False(_state.CheckAuthentic(Request(_instances[5], Handles.Format(app, 2), "/v1/data", Store), Network.ToString()));

        var stored = Apply(Request(_instances[2], Handles.Format(app, 2), "/v1/data", Store));
        Assert.True(stored.Status == 201, stored.Detail);
        Assert.Equal(1UL, _state.Data(Convert.ToHexStringLower(app), "shared")!.Version);
    }

    [Fact]
    public void The_uses_of_certificates_are_in_the_digest_and_survive_a_reload_and_a_state_transfer()
    {
        var before = _state.Digest();
        Assert.Equal(201, Apply(Registration(1, Certificate(1))).Status);
        Assert.NotEqual(before, _state.Digest());
        var serial = Convert.ToHexStringLower(SerialOf(1));
        var appHex = Convert.ToHexStringLower(ApplicationState.DistributedId("vault"));
        Assert.Equal(1, _state.CertificateUse(appHex, serial));

        var reloaded = new ApplicationState();
        foreach (var (key, value) in _state.Records())
        {
            Assert.True(reloaded.TryLoad(key, value), key);
        }

        Assert.Equal(_state.Digest(), reloaded.Digest());
        Assert.Equal(1, reloaded.CertificateUse(appHex, serial));
        var again = reloaded.Apply(Registration(1, Certificate(1)), Context, []);
        Assert.Equal((409, "certificate-used"), (again.Status, again.Problem));

        var ledger = new ApplicationLedger();
        ledger.Replace(_state.Records(), 3, 1, []);
        Assert.Equal(_state.Digest(), ledger.State.Digest());
        Assert.Equal(ApplicationKind.DistributedCertificate, ledger.State.Application(appHex)!.Kind);
    }

    [Fact]
    public void Through_the_ledger_every_server_registers_the_instances_and_refuses_a_second_use_alike()
    {
        var parameters = ClusterParameters.Create(ServerCount, 2, 1);
        using var net = new ControllerTestNetwork(parameters, seed: 36);
        const ulong Milliseconds = 60_000;
        foreach (var controller in net.Controllers.Values)
        {
            controller.PeriodSchedule = p => (p * Milliseconds, Milliseconds);
        }

        net.RunNetworkKeyDkg();
        net.BeginPeriod(1, []);
        Assert.True(net.RunUntil(() => net.Controllers.Values.All(c => c.CommittedPeriod == 1), TimeSpan.FromSeconds(30)), "period 1 did not commit everywhere");
        var network = net.Controllers[1].LedgerContextOf(1)!.NetworkHex;
        var networkId = NetworkId.FromBytes(Convert.FromHexString(network));
        const ulong Timestamp = Milliseconds + 1_000;
        SignedRequest Sign(Ed25519PrivateKey key, string handle, string path, string body) => Request(key, handle, path, body, network, Timestamp);
        SignedRequest Register(int instance) => Sign(_instances[instance], SignedRequest.NewHandle, "/v1/apps",
            $"{{\"publicKey\":\"{Hex(_instances[instance].PublicKey.Bytes)}\",\"name\":\"ledger\",\"instance\":{instance},\"certificate\":\"{Hex(Certificate(instance, name: "ledger", network: networkId, notBefore: 0, notAfter: 10 * Milliseconds).Encode())}\"}}");

        // Each instance registers at its own server.
        var registrations = Enumerable.Range(1, 3).Select(i => (Server: i, Request: Register(i))).ToList();
        foreach (var (server, request) in registrations)
        {
            SubmitOutcome outcome = default;
            net.Run(server, c => net.Controllers[server].SubmitRequest(c, request, out outcome));
            Assert.Equal(SubmitOutcome.Accepted, outcome);
        }

        Assert.True(net.RunUntil(() => registrations.All(r => net.Controllers.Values.All(c => c.Ledger.State.WasApplied(r.Request.Id))), TimeSpan.FromSeconds(20)), "the registrations were not applied everywhere");
        var appHex = Convert.ToHexStringLower(ApplicationState.DistributedId("ledger"));
        Assert.All(net.Controllers.Values, c => Assert.Equal(new[] { 1, 2, 3 }, c.Ledger.State.Application(appHex)!.Instances.Keys));

        // The same certificate again, in a new request: applied as a refusal, the same at every server.
        var second = Register(1);
        net.Run(4, c => net.Controllers[4].SubmitRequest(c, second, out _));
        Assert.True(net.RunUntil(() => net.Controllers.Values.All(c => c.Ledger.State.WasApplied(second.Id)), TimeSpan.FromSeconds(20)));
        Assert.Contains(net.EventsOf<LedgerRequestApplied>(4), e => e.RequestId.SequenceEqual(second.Id) && e.Result.Problem == "certificate-used");

        // A quorum operation (3 of 5) with the registered instances.
        var app = ApplicationState.DistributedId("ledger");
        foreach (var instance in new[] { 1, 2, 3 })
        {
            var store = Sign(_instances[instance], Handles.Format(app, instance), "/v1/data", "{\"id\":\"q\",\"type\":\"public-read-write\",\"value\":\"AQ==\"}");
            net.Run(instance, c => net.Controllers[instance].SubmitRequest(c, store, out _));
            Assert.True(net.RunUntil(() => net.Controllers.Values.All(c => c.Ledger.State.WasApplied(store.Id)), TimeSpan.FromSeconds(20)));
        }

        Assert.All(net.Controllers.Values, c => Assert.Equal(1UL, c.Ledger.State.Data(appHex, "q")!.Version));
        Assert.Single(net.Controllers.Values.Select(c => Convert.ToHexStringLower(c.Ledger.State.Digest())).Distinct());
    }

    private ApplyResult Apply(SignedRequest request)
    {
        // What an honest server checks before it votes for a batch: the request is signed by the key it registers (or its handle names).
        Assert.True(_state.CheckAuthentic(request, Network.ToString()), "the test built a request that is not authentic");
        return _state.Apply(request, Context, []);
    }

    private ApplicationCertificate Certificate(
        int instance, Ed25519PrivateKey? authority = null, int? serverId = null, string name = "vault", NetworkId? network = null, ulong notBefore = PeriodStart - 60_000,
        ulong notAfter = PeriodStart + 3_600_000, int? serial = null) =>
        ApplicationCertificate.Issue(authority ?? _authority, network ?? Network, name, instance, serverId ?? instance, _instances[instance].PublicKey.Bytes, notBefore, notAfter, SerialOf(serial ?? instance));

    private SignedRequest Registration(int instance, ApplicationCertificate certificate, Ed25519PrivateKey? key = null) => Registration(instance, certificate.Encode(), key);

    private SignedRequest Registration(int instance, byte[] certificate, Ed25519PrivateKey? key = null)
    {
        key ??= _instances[instance];
        return Request(key, SignedRequest.NewHandle, "/v1/apps",
            $"{{\"publicKey\":\"{Hex(key.PublicKey.Bytes)}\",\"name\":\"vault\",\"instance\":{instance},\"certificate\":\"{Hex(certificate)}\"}}");
    }

    private SignedRequest Request(Ed25519PrivateKey key, string handle, string path, string body, string? network = null, ulong timestamp = SignedAt)
    {
        var nonce = new byte[SignedRequest.NonceLength];
        _random.Fill(nonce);
        var bytes = Encoding.UTF8.GetBytes(body);
        var signed = ApplicationRequestSigning.SigningBytes(network ?? Network.ToString(), handle, "POST", path, timestamp.ToString(CultureInfo.InvariantCulture), Convert.ToHexStringLower(nonce), bytes);
        return new SignedRequest(handle, "POST", path, timestamp, nonce, bytes, key.Sign(signed));
    }

    private static byte[] SerialOf(int number)
    {
        var serial = new byte[ApplicationCertificate.SerialLength];
        serial[^1] = (byte)number;
        return serial;
    }

    private static byte[] Forge(ApplicationCertificate certificate)
    {
        var bytes = certificate.Encode();
        bytes[^1] ^= 0x80;
        return bytes;
    }

    private static Ed25519PrivateKey Key(int seed) => Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)seed, Ed25519PrivateKey.SeedLength).ToArray());

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
