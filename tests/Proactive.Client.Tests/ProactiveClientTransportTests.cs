using System.Net;
using System.Text;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Services;

namespace Proactive.Client.Tests;

/// <summary>How the client maps what HTTP gives it (problems, odd answers, retries, failures) and signs requests: against a scripted handler.</summary>
public sealed class ProactiveClientTransportTests : IDisposable
{
    private const string Network = "00112233445566778899aabbccddeeff";
    private static readonly Uri Server = new("http://server.test:7101/");

    private readonly ApplicationCredentials _credentials = ApplicationCredentials.Create(new byte[16], 0, "transport");

    public void Dispose() => _credentials.Dispose();

    private static string ClusterJson(string networkKey) =>
        $$"""{"network":"{{Network}}","suite":"ed25519","serverCount":1,"threshold":0,"faults":0,"periodSeconds":60,"period":5,"networkKey":"{{networkKey}}","servers":[{"id":1,"api":"http://server.test:7101/"}],"futureMember":true}""";

    private static string SomeKey => Convert.ToHexStringLower(Proactive.Crypto.Groups.PrimeOrderGroup.Ed25519.EncodeElement(Proactive.Crypto.Groups.PrimeOrderGroup.Ed25519.Generator));

    [Fact]
    public async Task A_problem_answer_becomes_an_api_exception_with_its_code()
    {
        using var client = Client(_ => Respond(HttpStatusCode.Unauthorized, """{"type":"urn:proactive:problem:stale-request","title":"Stale request","status":401,"detail":"check the clock","instance":"/v1/cluster","code":"stale-request"}""", "application/problem+json"));

        var error = await Assert.ThrowsAsync<ProactiveApiException>(() => client.GetClusterAsync());

        Assert.Equal("stale-request", error.Code);
        Assert.Equal(401, error.Status);
        Assert.Equal("Stale request", error.Title);
        Assert.Equal("check the clock", error.Detail);
        Assert.Equal(Server, error.Server);
    }

    [Fact]
    public async Task An_error_without_a_problem_document_is_an_unexpected_response()
    {
        using var client = Client(_ => Respond(HttpStatusCode.BadGateway, "<html>proxy</html>", "text/html"));

        var error = await Assert.ThrowsAsync<ProactiveApiException>(() => client.GetClusterAsync());

        Assert.Equal("unexpected-response", error.Code);
        Assert.Equal(502, error.Status);
    }

    [Fact]
    public async Task A_success_body_that_is_not_the_documented_json_is_a_verification_failure()
    {
        using var client = Client(_ => Respond(HttpStatusCode.OK, """{"network":1}""", "application/json"));

        await Assert.ThrowsAsync<ProactiveVerificationException>(() => client.GetClusterAsync());
    }

    [Fact]
    public async Task A_transport_failure_is_unavailable()
    {
        using var client = Client(_ => throw new HttpRequestException("Connection refused"));

        var error = await Assert.ThrowsAsync<ProactiveUnavailableException>(() => client.GetClusterAsync());

        Assert.Contains("Connection refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_503_is_retried_after_its_retry_after_up_to_the_limit()
    {
        var calls = 0;
        HttpResponseMessage Busy()
        {
            var response = Respond(HttpStatusCode.ServiceUnavailable, """{"code":"busy","title":"Busy","status":503,"detail":"later"}""", "application/problem+json");
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(1));
            return response;
        }

        using var patient = Client(_ => ++calls == 1 ? Busy() : Respond(HttpStatusCode.OK, ClusterJson(SomeKey), "application/json"), maxRetries: 1);
        Assert.Equal(1, (await patient.GetClusterAsync()).ServerCount);
        Assert.Equal(2, calls);

        using var impatient = Client(_ => Busy(), maxRetries: 0);
        var error = await Assert.ThrowsAsync<ProactiveApiException>(() => impatient.GetClusterAsync());
        Assert.Equal("busy", error.Code);
    }

    [Fact]
    public async Task Requests_are_signed_per_the_scheme_with_a_fresh_nonce_each()
    {
        var signed = new List<HttpRequestMessage>();
        using var client = Client(request =>
        {
            if (request.RequestUri!.AbsolutePath == "/v1/cluster")
            {
                Assert.False(request.Headers.Contains(ApplicationRequestSigning.SignatureHeader)); // public route: unsigned
                return Respond(HttpStatusCode.OK, ClusterJson(SomeKey), "application/json");
            }

            signed.Add(request);
            return Respond(HttpStatusCode.ServiceUnavailable, """{"code":"not-operational","title":"Not operational","status":503}""", "application/problem+json");
        }, maxRetries: 1);

        var vector = await client.GetTimeAsync();

        Assert.Equal(0, vector.VerifiedCount);
        Assert.Contains("not-operational", vector.Servers.Single().Error, StringComparison.Ordinal);
        Assert.Equal(2, signed.Count);
        var nonces = signed.Select(r => r.Headers.GetValues(ApplicationRequestSigning.NonceHeader).Single()).ToList();
        Assert.NotEqual(nonces[0], nonces[1]);
        foreach (var request in signed)
        {
            string Header(string name) => request.Headers.GetValues(name).Single();
            Assert.Equal(_credentials.Handle, Header(ApplicationRequestSigning.HandleHeader));
            var bytes = ApplicationRequestSigning.SigningBytes(Network, _credentials.Handle, "GET", "/v1/time", Header(ApplicationRequestSigning.TimestampHeader), Header(ApplicationRequestSigning.NonceHeader), []);
            Assert.True(_credentials.PublicKey.Verify(bytes, Convert.FromBase64String(Header(ApplicationRequestSigning.SignatureHeader))));
        }
    }

    [Fact]
    public async Task A_time_answer_that_does_not_verify_is_reported_not_trusted()
    {
        using var client = Client(request => request.RequestUri!.AbsolutePath switch
        {
            "/v1/cluster" => Respond(HttpStatusCode.OK, ClusterJson(SomeKey), "application/json"),
            "/v1/time" => Respond(HttpStatusCode.OK, $$"""{"server":1,"period":5,"time":"2026-11-21T10:00:00+00:00","unixMilliseconds":1795255200000,"nonce":"{{request.Headers.GetValues(ApplicationRequestSigning.NonceHeader).Single()}}","publicKey":"00","signature":"00"}""", "application/json"),
            _ => Respond(HttpStatusCode.OK, """{"period":5,"certificate":"AAAA","publicState":null}""", "application/json"),
        });

        var time = (await client.GetTimeAsync()).Servers.Single();

        Assert.False(time.Verified);
        Assert.Contains("certificate", time.Error, StringComparison.Ordinal);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero), time.Time);
    }

    [Fact]
    public async Task Options_that_cannot_work_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new ProactiveClient(new ProactiveClientOptions()));
        Assert.Throws<ArgumentException>(() => new ProactiveClient(new ProactiveClientOptions { Server = new Uri("ftp://x/") }));
        Assert.Throws<ArgumentException>(() => new ProactiveClient(new ProactiveClientOptions { Server = Server, NetworkKey = "ABCD" }));
        using var client = new ProactiveClient(Server);
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetRandomAsync(new byte[ApplicationRandomness.MaxInputLength + 1]));
    }

    private ProactiveClient Client(Func<HttpRequestMessage, HttpResponseMessage> answer, int maxRetries = 0) =>
        new(new ProactiveClientOptions
        {
            Server = Server,
            Credentials = _credentials,
            HttpClient = new HttpClient(new ScriptedHandler(answer)),
            MaxRetries = maxRetries,
            MaxRetryDelay = TimeSpan.Zero,
        });

    private static HttpResponseMessage Respond(HttpStatusCode status, string body, string mediaType) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) };

    /// <summary>Answers each request with what the test scripts (a unit test of the SDK's own HTTP handling).</summary>
    private sealed class ScriptedHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer(request));
    }
}
