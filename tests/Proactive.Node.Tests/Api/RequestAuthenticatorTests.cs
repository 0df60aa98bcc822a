using Microsoft.AspNetCore.Http;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Node.Api;
using Proactive.Node.Tests.Support;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Services;

namespace Proactive.Node.Tests.Api;

/// <summary>Every refusal of the request signature scheme, each with its code, and the acceptance.</summary>
public sealed class RequestAuthenticatorTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
    private static readonly NetworkId Network = NetworkId.FromBytes(Convert.FromHexString("0f0e0d0c0b0a09080706050403020100"));
    private static readonly byte[] Body = """{"input":"00"}"""u8.ToArray();

    private readonly InMemoryApplicationDirectory _directory = new();
    private readonly ManualClock _clock = new(Now);
    private readonly ApplicationInstance _instance;
    private readonly Ed25519PrivateKey _key;
    private readonly RequestAuthenticator _authenticator;

    public RequestAuthenticatorTests()
    {
        (_instance, _key) = _directory.Register("tests");
        _authenticator = new RequestAuthenticator(Network, _directory, _clock);
    }

    public void Dispose() => _key.Dispose();

    [Fact]
    public void A_correctly_signed_request_resolves_to_its_instance()
    {
        var headers = Sign();

        Assert.True(Authenticate(headers, out var application, out _));
        Assert.Same(_instance, application!.Instance);
        Assert.Equal(headers[ApplicationRequestSigning.NonceHeader].ToString(), application.Headers.Nonce);
    }

    [Theory]
    [InlineData(ApplicationRequestSigning.HandleHeader)]
    [InlineData(ApplicationRequestSigning.TimestampHeader)]
    [InlineData(ApplicationRequestSigning.NonceHeader)]
    [InlineData(ApplicationRequestSigning.SignatureHeader)]
    public void A_missing_or_repeated_header_is_unauthenticated(string header)
    {
        var missing = Sign();
        missing.Remove(header);
        AssertRefused(missing, "unauthenticated", header);

        var repeated = Sign();
        repeated[header] = new Microsoft.Extensions.Primitives.StringValues([repeated[header].ToString(), repeated[header].ToString()]);
        AssertRefused(repeated, "unauthenticated", "2 times");
    }

    [Theory]
    [InlineData(ApplicationRequestSigning.HandleHeader, "app_0123")]
    [InlineData(ApplicationRequestSigning.HandleHeader, "app_0123456789ABCDEF0123456789abcdef_0")]
    [InlineData(ApplicationRequestSigning.HandleHeader, "app_0123456789abcdef0123456789abcdef_01")]
    [InlineData(ApplicationRequestSigning.HandleHeader, "app_0123456789abcdef0123456789abcdef_65536")]
    [InlineData(ApplicationRequestSigning.HandleHeader, "app_0123456789abcdef0123456789abcdef_")]
    [InlineData(ApplicationRequestSigning.TimestampHeader, "-1")]
    [InlineData(ApplicationRequestSigning.TimestampHeader, "1.5e12")]
    [InlineData(ApplicationRequestSigning.TimestampHeader, "9999999999999999")]
    [InlineData(ApplicationRequestSigning.TimestampHeader, "01700000000000")]
    [InlineData(ApplicationRequestSigning.NonceHeader, "00")]
    [InlineData(ApplicationRequestSigning.NonceHeader, "000102030405060708090A0B0C0D0E0F")]
    [InlineData(ApplicationRequestSigning.SignatureHeader, "AAAA")]
    [InlineData(ApplicationRequestSigning.SignatureHeader, "not base64 at all!")]
    public void A_garbled_header_is_unauthenticated(string header, string value)
    {
        var headers = Sign();
        headers[header] = value;

        AssertRefused(headers, "unauthenticated", header);
    }

    [Fact]
    public void A_signature_in_non_canonical_base64_is_unauthenticated()
    {
        var headers = Sign();
        var canonical = headers[ApplicationRequestSigning.SignatureHeader].ToString();

        // 64 bytes end in one byte encoded as two digits and "==": the second digit's low 4 bits are
        // padding. Setting one gives another spelling of the same bytes, which a lenient decoder accepts.
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        var digit = alphabet.IndexOf(canonical[^3], StringComparison.Ordinal);
        var other = canonical[..^3] + alphabet[digit | 1] + "==";
        Assert.Equal(Convert.FromBase64String(canonical), Convert.FromBase64String(other));
        headers[ApplicationRequestSigning.SignatureHeader] = other;

        AssertRefused(headers, "unauthenticated", ApplicationRequestSigning.SignatureHeader);
    }

    [Fact]
    public void An_unregistered_handle_is_unknown_and_so_is_every_handle_without_a_directory()
    {
        var stranger = $"app_{new string('a', 32)}_0";
        AssertRefused(Sign(handle: stranger), "unknown-handle", stranger);

        var blind = new RequestAuthenticator(Network, null, _clock);
        Assert.False(blind.TryAuthenticate("POST", "/v1/random", Sign(), Body, out _, out var error));
        Assert.Equal("unknown-handle", error!.Kind.Code);
    }

    [Fact]
    public void The_registration_handle_is_not_a_handle_for_other_requests()
    {
        AssertRefused(Sign(handle: ApplicationRequestSigning.RegistrationHandle), "unknown-handle", "POST /v1/apps");
    }

    [Theory]
    [InlineData(-121)]
    [InlineData(121)]
    public void A_timestamp_more_than_two_minutes_off_is_stale(int seconds)
    {
        AssertRefused(Sign(at: Now.AddSeconds(seconds)), "stale-request", seconds > 0 ? "ahead of" : "behind");
    }

    [Theory]
    [InlineData(-120)]
    [InlineData(120)]
    public void A_timestamp_at_the_edge_of_the_window_is_accepted(int seconds)
    {
        Assert.True(Authenticate(Sign(at: Now.AddSeconds(seconds)), out _, out _));
    }

    [Fact]
    public void A_signature_over_anything_else_is_a_bad_signature()
    {
        using var other = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
        AssertRefused(Sign(key: other), "bad-signature", "does not verify");
        AssertRefused(Sign(), "bad-signature", "does not verify", method: "PUT");
        AssertRefused(Sign(), "bad-signature", "does not verify", path: "/v1/random?x=1");
        AssertRefused(Sign(), "bad-signature", "does not verify", body: """{"input":"01"}"""u8.ToArray());

        var otherNetwork = new RequestAuthenticator(NetworkId.FromBytes(new byte[16]), _directory, _clock);
        Assert.False(otherNetwork.TryAuthenticate("POST", "/v1/random", Sign(), Body, out _, out var error));
        Assert.Equal("bad-signature", error!.Kind.Code);

        var tampered = Sign();
        tampered[ApplicationRequestSigning.TimestampHeader] = ApplicationRequestSigning.FormatTimestamp(Now.AddSeconds(1));
        AssertRefused(tampered, "bad-signature", "does not verify");
    }

    [Fact]
    public void A_nonce_used_twice_by_the_same_instance_is_a_replay_but_not_across_instances()
    {
        var nonce = SignedRequests.NewNonce();
        Assert.True(Authenticate(Sign(nonce: nonce), out _, out _));
        AssertRefused(Sign(nonce: nonce, at: Now.AddSeconds(1)), "replayed-request", "already used");

        var (other, otherKey) = _directory.Register("other");
        using (otherKey)
        {
            Assert.True(Authenticate(Sign(nonce: nonce, handle: other.Handle, key: otherKey), out var application, out _));
            Assert.Same(other, application!.Instance);
        }

        // Once its timestamp has left the window, the nonce is forgotten (a replay would be stale anyway).
        _clock.Now = Now.AddSeconds(121);
        AssertRefused(Sign(nonce: nonce, at: Now), "stale-request", "behind");
        Assert.True(Authenticate(Sign(nonce: nonce, at: _clock.Now), out _, out _));
    }

    [Fact]
    public void A_forged_request_does_not_use_up_its_nonce()
    {
        using var other = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
        var nonce = SignedRequests.NewNonce();
        AssertRefused(Sign(key: other, nonce: nonce), "bad-signature", "does not verify");

        Assert.True(Authenticate(Sign(nonce: nonce), out _, out _));
    }

    [Fact]
    public void A_full_replay_cache_refuses_with_503_busy_rather_than_forget()
    {
        var authenticator = new RequestAuthenticator(Network, _directory, _clock, new NonceReplayCache(maxEntries: 2, maxEntriesPerHandle: 2));
        Assert.True(authenticator.TryAuthenticate("POST", "/v1/random", Sign(), Body, out _, out _));
        Assert.True(authenticator.TryAuthenticate("POST", "/v1/random", Sign(), Body, out _, out _));

        Assert.False(authenticator.TryAuthenticate("POST", "/v1/random", Sign(), Body, out _, out var error));
        Assert.Equal("busy", error!.Kind.Code);
        Assert.Equal(503, error.Kind.Status);
        Assert.True(error.RetryAfter > TimeSpan.Zero);
    }

    [Fact]
    public void A_registration_is_checked_under_the_key_it_registers()
    {
        using var newKey = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
        var headers = Sign(handle: ApplicationRequestSigning.RegistrationHandle, key: newKey, path: "/v1/apps");

        Assert.True(_authenticator.TryAuthenticateRegistration("POST", "/v1/apps", headers, Body, newKey.PublicKey, out _));
        Assert.False(_authenticator.TryAuthenticateRegistration("POST", "/v1/apps", headers, Body, newKey.PublicKey, out var replayed));
        Assert.Equal("replayed-request", replayed!.Kind.Code);
        Assert.False(_authenticator.TryAuthenticateRegistration("POST", "/v1/apps", Sign(handle: ApplicationRequestSigning.RegistrationHandle, key: newKey, path: "/v1/apps"), Body, _key.PublicKey, out var forged));
        Assert.Equal("bad-signature", forged!.Kind.Code);
        Assert.False(_authenticator.TryAuthenticateRegistration("POST", "/v1/apps", Sign(), Body, newKey.PublicKey, out var notNew));
        Assert.Equal("unauthenticated", notNew!.Kind.Code);
    }

    private HeaderDictionary Sign(string? handle = null, Ed25519PrivateKey? key = null, DateTimeOffset? at = null, string? nonce = null, string path = "/v1/random")
    {
        var headers = new HeaderDictionary();
        foreach (var (name, value) in SignedRequests.Headers(Network, handle ?? _instance.Handle, key ?? _key, "POST", path, Body, at ?? Now, nonce))
        {
            headers[name] = value;
        }

        return headers;
    }

    private bool Authenticate(IHeaderDictionary headers, out AuthenticatedApplication? application, out ApiError? error) =>
        _authenticator.TryAuthenticate("POST", "/v1/random", headers, Body, out application, out error);

    private void AssertRefused(IHeaderDictionary headers, string code, string detailPart, string method = "POST", string path = "/v1/random", byte[]? body = null)
    {
        Assert.False(_authenticator.TryAuthenticate(method, path, headers, body ?? Body, out var application, out var error));
        Assert.Null(application);
        Assert.Equal(code, error!.Kind.Code);
        Assert.Contains(detailPart, error.Detail, StringComparison.Ordinal);
    }
}
