using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Proactive.Crypto.Dprf;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Node.Api;
using Proactive.Node.Hosting;
using Proactive.Node.Tests.Support;
using Proactive.Protocols.Controller;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Refresh;
using Proactive.Protocols.Services;

namespace Proactive.Node.Tests.Api;

/// <summary>
/// The application service routes on real loopback sockets, served by controllers restored from a dealt,
/// certified period (n = 4, t = 1): bodies as docs/API.md says, answers that verify under the network key.
/// </summary>
public sealed class ApplicationServicesApiTests : IAsyncLifetime, IDisposable
{
    private readonly HttpClient _client = new();
    private ServiceServers _servers = null!;
    private ApplicationInstance _instance = null!;
    private Ed25519PrivateKey _key = null!;

    public async Task InitializeAsync()
    {
        _servers = await ServiceServers.StartAsync();
        (_instance, _key) = _servers.Directory.Register("api tests");
    }

    public async Task DisposeAsync()
    {
        _key.Dispose();
        await _servers.DisposeAsync();
    }

    public void Dispose() => _client.Dispose();

    private DealtNetwork Network => _servers.Network;

    [Fact]
    public async Task The_cluster_is_described_without_authentication()
    {
        var (status, json) = await SendAsync(1, new HttpRequestMessage(HttpMethod.Get, "/v1/cluster"));

        Assert.Equal(HttpStatusCode.OK, status);
        var root = json.RootElement;
        Assert.Equal(["network", "suite", "serverCount", "threshold", "faults", "periodSeconds", "period", "networkKey", "servers"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Network.Network.ToString(), root.GetProperty("network").GetString());
        Assert.Equal("ed25519", root.GetProperty("suite").GetString());
        Assert.Equal(4, root.GetProperty("serverCount").GetInt32());
        Assert.Equal(1, root.GetProperty("threshold").GetInt32());
        Assert.Equal(3600, root.GetProperty("periodSeconds").GetInt64());
        Assert.Equal(Network.Period, root.GetProperty("period").GetUInt64());
        Assert.Equal(Network.NetworkKeyHex, root.GetProperty("networkKey").GetString());
        var servers = root.GetProperty("servers").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3, 4], servers.Select(s => s.GetProperty("id").GetInt32()));
        Assert.Equal(_servers.BaseAddress(3).ToString(), servers[2].GetProperty("api").GetString());
    }

    [Fact]
    public async Task The_time_is_signed_with_the_period_key_the_certificate_lists_and_bound_to_the_nonce()
    {
        var nonce = SignedRequests.NewNonce();
        var (status, json) = await SendAsync(2, Signed(HttpMethod.Get, "/v1/time", nonce: nonce));

        Assert.Equal(HttpStatusCode.OK, status);
        var root = json.RootElement;
        Assert.Equal(["server", "period", "time", "unixMilliseconds", "nonce", "publicKey", "signature"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(2, root.GetProperty("server").GetInt32());
        Assert.Equal(Network.Period, root.GetProperty("period").GetUInt64());
        Assert.Equal(nonce, root.GetProperty("nonce").GetString());
        var unix = root.GetProperty("unixMilliseconds").GetInt64();
        var time = root.GetProperty("time").GetDateTimeOffset();
        Assert.Equal(unix, time.ToUnixTimeMilliseconds());
        Assert.Equal(TimeSpan.Zero, time.Offset);
        Assert.EndsWith("+00:00", root.GetProperty("time").GetString(), StringComparison.Ordinal);

        // Verify as a client would: the key is server 2's entry in the certified KeyTable of the period.
        Assert.True(Network.Certificate.Verify(Network.NetworkKey));
        Assert.True(Network.Certificate.TryGetTable(out var table));
        Assert.True(table.TryGet(2, out var entry));
        Assert.Equal(Convert.ToHexStringLower(entry.Entry.Keys.Signing.Bytes), root.GetProperty("publicKey").GetString());
        var statement = SignedTime.Statement(Network.Network, 2, Network.Period, unix, Convert.FromHexString(nonce));
        Assert.True(entry.Entry.Keys.Signing.Verify(statement, Convert.FromHexString(root.GetProperty("signature").GetString()!)));
    }

    [Fact]
    public async Task Time_needs_authentication()
    {
        var (status, json) = await SendAsync(1, new HttpRequestMessage(HttpMethod.Get, "/v1/time"));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("unauthenticated", json.RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Partials_of_t_plus_one_servers_verify_and_combine_to_the_dprf_of_the_application_and_input()
    {
        var input = "6c6f7474657279"; // "lottery"
        var answers = new List<JsonDocument>();
        foreach (var server in new[] { 3, 1 })
        {
            var (status, json) = await SendAsync(server, Signed(HttpMethod.Post, "/v1/random", $$"""{"input":"{{input}}"}"""));
            Assert.Equal(HttpStatusCode.OK, status);
            answers.Add(json);
        }

        var root = answers[0].RootElement;
        Assert.Equal(["server", "period", "input", "message", "partial"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["server", "value", "proof", "encoding"], root.GetProperty("partial").EnumerateObject().Select(p => p.Name));
        var message = ApplicationRandomness.Message(_instance.ApplicationId, Convert.FromHexString(input));
        Assert.Equal(Convert.ToHexStringLower(message), root.GetProperty("message").GetString());
        Assert.Equal(input, root.GetProperty("input").GetString());
        Assert.Equal(Network.Period, root.GetProperty("period").GetUInt64());

        var prf = ApplicationRandomness.Prf(Network.Config.Suite.Group);
        var publicShares = DprfPublicShares.FromFeldmanCommitments(Network.PublicState.SigningKeyCommitments[ServerController.DprfKeyIndex]);
        var partials = answers.Select(a =>
        {
            Assert.True(DprfPartialEvaluation.TryDecode(prf.Group, Convert.FromHexString(a.RootElement.GetProperty("partial").GetProperty("encoding").GetString()!), out var partial));
            Assert.Equal(a.RootElement.GetProperty("server").GetInt32(), partial.ServerIndex);
            Assert.Equal(a.RootElement.GetProperty("partial").GetProperty("value").GetString(), Convert.ToHexStringLower(prf.Group.EncodeElement(partial.Value)));
            Assert.Equal(a.RootElement.GetProperty("partial").GetProperty("proof").GetString(), Convert.ToHexStringLower(partial.Proof.Encode()));
            return partial;
        }).ToList();
        var combined = prf.Combine(publicShares, message, partials);
        Assert.True(combined.Succeeded);
        Assert.True(prf.VerifyOutput(publicShares, message, combined.Output!));
        Assert.Equal(Network.DirectEvaluation(prf, message), combined.Output!.Combined);
    }

    [Theory]
    [InlineData("""{"input":"0"}""", "invalid-request", "'input' must be lowercase hex")]
    [InlineData("""{"input":"ABCD"}""", "invalid-request", "'input' must be lowercase hex")]
    [InlineData("""{"input":"zz"}""", "invalid-request", "'input' must be lowercase hex")]
    [InlineData("""{"input":"00","seed":1}""", "invalid-request", "Unknown member 'seed'")]
    [InlineData("""{"input":7}""", "invalid-request", "'input' must be a string")]
    [InlineData("""{}""", "invalid-request", "Missing member 'input'")]
    [InlineData("""{"input":""", "malformed-json", "not valid JSON")]
    [InlineData("", "malformed-json", "empty")]
    public async Task A_bad_random_request_is_a_400_naming_what_is_wrong(string body, string code, string detail)
    {
        var (status, json) = await SendAsync(1, Signed(HttpMethod.Post, "/v1/random", body));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(code, json.RootElement.GetProperty("code").GetString());
        Assert.Contains(detail, json.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_input_longer_than_1024_bytes_is_refused_and_one_of_1024_is_served()
    {
        var (status, json) = await SendAsync(1, Signed(HttpMethod.Post, "/v1/random", $$"""{"input":"{{new string('a', 2050)}}"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid-request", json.RootElement.GetProperty("code").GetString());

        var (longest, _) = await SendAsync(1, Signed(HttpMethod.Post, "/v1/random", $$"""{"input":"{{new string('a', 2048)}}"}"""));
        Assert.Equal(HttpStatusCode.OK, longest);
    }

    [Fact]
    public async Task A_body_over_the_route_limit_is_413_payload_too_large_announced_or_chunked()
    {
        var big = $$"""{"input":"{{new string('a', (int)NodeApi.RandomMaxBodyBytes)}}"}""";
        var (status, json) = await SendAsync(1, Signed(HttpMethod.Post, "/v1/random", big));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("payload-too-large", json.RootElement.GetProperty("code").GetString());

        // Without a Content-Length the server counts as it reads.
        using var chunked = Signed(HttpMethod.Post, "/v1/random", big);
        chunked.Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        chunked.Headers.TransferEncodingChunked = true;
        var (chunkedStatus, chunkedJson) = await SendAsync(1, chunked);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunkedStatus);
        Assert.Equal("payload-too-large", chunkedJson.RootElement.GetProperty("code").GetString());

        // The server keeps serving.
        var (after, _) = await SendAsync(1, Signed(HttpMethod.Post, "/v1/random", """{"input":""}"""));
        Assert.Equal(HttpStatusCode.OK, after);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_415_and_a_body_on_a_get_route_is_413()
    {
        using var text = Signed(HttpMethod.Post, "/v1/random", """{"input":"00"}""");
        text.Content!.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        var (status, json) = await SendAsync(1, text);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Equal("unsupported-media-type", json.RootElement.GetProperty("code").GetString());

        using var withBody = new HttpRequestMessage(HttpMethod.Get, "/v1/cluster") { Content = new StringContent("{}") };
        var (getStatus, getJson) = await SendAsync(1, withBody);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, getStatus);
        Assert.Equal("body-not-accepted", getJson.RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task The_period_certificate_and_its_public_state_verify_under_the_network_key()
    {
        var (status, json) = await SendAsync(4, new HttpRequestMessage(HttpMethod.Get, "/v1/period-certificate"));

        Assert.Equal(HttpStatusCode.OK, status);
        var root = json.RootElement;
        Assert.Equal(["period", "certificate", "publicState"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Network.Period, root.GetProperty("period").GetUInt64());
        Assert.True(PeriodCertificate.TryDecode(Convert.FromBase64String(root.GetProperty("certificate").GetString()!), Network.Config.Suite, out var certificate));
        Assert.True(certificate.Verify(Network.NetworkKey));
        var state = Convert.FromBase64String(root.GetProperty("publicState").GetString()!);
        Assert.Equal(certificate.PublicStateHash.ToArray(), SHA256.HashData(state));
        Assert.True(RefreshPublicState.TryDecode(state, Network.Config.Suite.Group, out _));

        var (same, _) = await SendAsync(4, new HttpRequestMessage(HttpMethod.Get, $"/v1/period-certificate?period={Network.Period}"));
        Assert.Equal(HttpStatusCode.OK, same);
    }

    [Theory]
    [InlineData("?period=2", HttpStatusCode.NotFound, "no-certificate")]
    [InlineData("?period=-1", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("?perod=3", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("?period=3&period=3", HttpStatusCode.BadRequest, "invalid-query")]
    public async Task A_certificate_query_it_cannot_answer_is_a_problem(string query, HttpStatusCode expected, string code)
    {
        var (status, json) = await SendAsync(1, new HttpRequestMessage(HttpMethod.Get, "/v1/period-certificate" + query));

        Assert.Equal(expected, status);
        Assert.Equal(code, json.RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_server_that_is_not_operational_answers_503_with_retry_after()
    {
        _servers.Down.Add(2);

        using var response = await _client.SendAsync(Absolute(2, Signed(HttpMethod.Post, "/v1/random", """{"input":"00"}""")));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter?.Delta);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("not-operational", json.RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_server_whose_loop_is_full_answers_503_busy()
    {
        using var temp = new TempDirectory();
        using var log = AlertLog.Open(temp.Combine("alerts.db"));
        var services = new ControllerApplicationServices(
            Network.Config, 1, new FullLoop(), () => null, () => NodeSnapshot.Starting(1, DateTimeOffset.UtcNow), SystemRandomSource.Instance, TimeProvider.System);
        await using var api = new NodeApi(new IPEndPoint(IPAddress.Loopback, 0), () => throw new InvalidOperationException(), log, directory: _servers.Directory, services: services);
        await api.StartAsync();

        using var response = await _client.GetAsync(new Uri(api.BaseAddress, "/v1/period-certificate"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("busy", json.RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_server_whose_period_key_no_certificate_lists_does_not_sign_time()
    {
        using var controller = Network.Restore(1);
        using (var unlisted = Proactive.Protocols.Envelopes.PeriodKeys.Generate(1, Network.Period, SystemRandomSource.Instance))
        {
            controller.InstallPeriodKeys(unlisted, []);
        }

        var services = new ControllerApplicationServices(
            Network.Config, 1, new InlineLoop(), () => controller, () => NodeSnapshot.Starting(1, DateTimeOffset.UtcNow), SystemRandomSource.Instance, TimeProvider.System);
        var answer = await services.SignTimeAsync(new byte[16], CancellationToken.None);

        Assert.Null(answer.Body);
        Assert.Equal("not-operational", answer.Error!.Kind.Code);
    }

    private HttpRequestMessage Signed(HttpMethod method, string pathAndQuery, string? json = null, string? nonce = null) =>
        SignedRequests.Create(Network.Network, _instance, _key, method, pathAndQuery, json, nonce: nonce);

    private HttpRequestMessage Absolute(int server, HttpRequestMessage request)
    {
        request.RequestUri = new Uri(_servers.BaseAddress(server), request.RequestUri!);
        return request;
    }

    private async Task<(HttpStatusCode Status, JsonDocument Json)> SendAsync(int server, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await _client.SendAsync(Absolute(server, request));
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()));
        }
    }

    /// <summary>A loop with too much waiting work: every call is refused the way <c>NodeHost.OnLoopAsync</c> refuses it.</summary>
    private sealed class FullLoop : INodeLoop
    {
        public Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken) =>
            throw new NodeBusyException("More than 4096 API calls are waiting for the server's loop; try again shortly.");
    }
}
