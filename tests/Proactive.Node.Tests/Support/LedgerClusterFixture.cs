using System.Net;
using System.Text;
using System.Text.Json;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Application;
using Proactive.Protocols.Services;

namespace Proactive.Node.Tests.Support;

/// <summary>The shared in-process network of the ledger route tests (one for the collection: it takes seconds to start).</summary>
[CollectionDefinition(Name)]
public sealed class LedgerClusterCollection : ICollectionFixture<LedgerClusterFixture>
{
    public const string Name = "ledger cluster";
}

/// <summary>
/// A two-server in-process network (<see cref="InProcessCluster"/>) with one centralized application
/// registered through the API and, stored through the ledger: a public write-once entry <c>pub</c>, a
/// public read/write entry <c>rw</c>, a secret-single entry <c>sec</c> and a distributed-reader secret
/// <c>dr</c> (both dealt by the test as a client does), and a generated key <c>k</c>.
/// </summary>
public sealed class LedgerClusterFixture : IAsyncLifetime
{
    private readonly Ed25519PrivateKey _key = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
    private readonly Ed25519PrivateKey _stranger = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
    private InProcessCluster? _cluster;

    internal InProcessCluster Cluster => _cluster ?? throw new InvalidOperationException("not started");

    internal HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>The registered application's key.</summary>
    internal Ed25519PrivateKey Key => _key;

    /// <summary>A key nobody registered.</summary>
    internal Ed25519PrivateKey Stranger => _stranger;

    internal string Handle { get; private set; } = string.Empty;

    internal string ApplicationIdHex { get; private set; } = string.Empty;

    /// <summary>The registration exactly as sent (headers and body), to replay.</summary>
    internal (Dictionary<string, string> Headers, string Body) Registration { get; private set; }

    /// <summary>The store of <c>pub</c> exactly as sent, to replay.</summary>
    internal (Dictionary<string, string> Headers, string Body) PublicStore { get; private set; }

    public async Task InitializeAsync()
    {
        // Half-second protocol windows: initialization in a few seconds even while other tests load the machine.
        _cluster = await InProcessCluster.StartAsync(windowsOf: TimeSpan.FromSeconds(20));
        var publicKey = Convert.ToHexStringLower(_key.PublicKey.Bytes);
        var registration = $$"""{"publicKey":"{{publicKey}}","name":"routes","uniqueId":"fixture","maxEntries":50}""";
        Registration = (SignedRequests.Headers(Cluster.Config.NetworkId, SignedRequest.NewHandle, _key, "POST", "/v1/apps", Encoding.UTF8.GetBytes(registration), DateTimeOffset.UtcNow), registration);
        var (status, body) = await SendAsync(1, Raw(HttpMethod.Post, "/v1/apps", Registration.Headers, registration));
        Assert.True(status == HttpStatusCode.Created, body.RootElement.ToString());
        Handle = body.RootElement.GetProperty("handle").GetString()!;
        ApplicationIdHex = body.RootElement.GetProperty("applicationId").GetString()!;

        var store = """{"id":"pub","type":"public-write-once","value":"aGVsbG8="}""";
        PublicStore = (SignedRequests.Headers(Cluster.Config.NetworkId, Handle, _key, "POST", "/v1/data", Encoding.UTF8.GetBytes(store), DateTimeOffset.UtcNow), store);
        await ExpectAsync(HttpStatusCode.Created, Raw(HttpMethod.Post, "/v1/data", PublicStore.Headers, store));
        await ExpectAsync(HttpStatusCode.Created, Signed(HttpMethod.Post, "/v1/data", """{"id":"rw","type":"public-read-write","value":"AQ=="}"""));
        await StoreSecretAsync("sec", "secret-single", Encoding.UTF8.GetBytes("the launch codes"));
        await StoreSecretAsync("dr", "secret-distributed-reader", Encoding.UTF8.GetBytes("for a quorum"));
        await ExpectAsync(HttpStatusCode.Created, Signed(HttpMethod.Post, "/v1/keys", """{"id":"k"}"""));
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        Http.Dispose();
        _key.Dispose();
        _stranger.Dispose();
    }

    /// <summary>A request signed by the application (or by <paramref name="key"/> as <paramref name="handle"/>).</summary>
    internal HttpRequestMessage Signed(HttpMethod method, string pathAndQuery, string? json = null, Ed25519PrivateKey? key = null, string? handle = null, DateTimeOffset? now = null, string? nonce = null) =>
        SignedRequests.Create(Cluster.Config.NetworkId, handle ?? Handle, key ?? _key, method, pathAndQuery, json, now, nonce);

    /// <summary>A request with exactly these headers and body.</summary>
    internal static HttpRequestMessage Raw(HttpMethod method, string pathAndQuery, IReadOnlyDictionary<string, string> headers, string? json, string mediaType = "application/json")
    {
        var request = new HttpRequestMessage(method, new Uri(pathAndQuery, UriKind.Relative));
        if (json is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
            request.Content.Headers.TryAddWithoutValidation("Content-Type", mediaType);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    /// <summary>Sends to server <paramref name="server"/>; the answer's status and JSON body (a problem's too).</summary>
    internal async Task<(HttpStatusCode Status, JsonDocument Body)> SendAsync(int server, HttpRequestMessage request)
    {
        using (request)
        {
            request.RequestUri = new Uri(Cluster.Api(server), request.RequestUri!.OriginalString);
            using var response = await Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            Assert.True(mediaType is "application/json" or "application/problem+json", $"{(int)response.StatusCode} with '{mediaType}': {text}");
            return (response.StatusCode, JsonDocument.Parse(text));
        }
    }

    /// <summary>Sends and checks the status, returning the body.</summary>
    internal async Task<JsonDocument> ExpectAsync(HttpStatusCode status, HttpRequestMessage request, int server = 1)
    {
        var (got, body) = await SendAsync(server, request);
        Assert.True(got == status, $"expected {(int)status}, got {(int)got}: {body.RootElement}");
        return body;
    }

    /// <summary>The agreed application state's digest, once every server holds the same (a server applies a decided batch a moment after another).</summary>
    internal async Task<string> DigestAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var digests = new List<string>();
            foreach (var node in Cluster.Nodes.Values)
            {
                digests.Add(Convert.ToHexStringLower(await node.ApplicationStateDigestAsync()));
            }

            if (digests.Distinct().Count() == 1 || DateTime.UtcNow > deadline)
            {
                Assert.Single(digests.Distinct());
                return digests[0];
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Deals a data key to both servers (sealed to their dealing keys), then stores the ciphertext, as a client does.</summary>
    internal async Task StoreSecretAsync(string id, string type, byte[] value)
    {
        var group = PrimeOrderGroup.Ed25519;
        var parameters = Cluster.Config.Parameters;
        var dealing = new byte[DataRecord.DealingLength];
        SystemRandomSource.Instance.Fill(dealing);
        var (dataKey, shares) = DataKeySharing.Deal(group, parameters.ServerCount, parameters.Threshold, SystemRandomSource.Instance);
        foreach (var server in parameters.Servers)
        {
            using var keyAnswer = await ExpectAsync(HttpStatusCode.OK, new HttpRequestMessage(HttpMethod.Get, new Uri(Proactive.Node.Api.NodeApi.DealingKeyPath, UriKind.Relative)), server);
            var period = keyAnswer.RootElement.GetProperty("period").GetUInt64();
            var recipient = HpkePublicKey.Decode(Convert.FromHexString(keyAnswer.RootElement.GetProperty("publicKey").GetString()!));
            var encoded = new byte[group.ScalarLength];
            group.EncodeScalar(shares[server - 1], encoded);
            var sealedShare = HpkeBaseMode.Seal(HpkeSuite.X25519Sha256ChaCha20Poly1305, recipient, DataKeySharing.DealtShareInfo(Cluster.Config.NetworkId.ToString(), Handle, dealing), [], encoded, SystemRandomSource.Instance);
            using var kept = await ExpectAsync(HttpStatusCode.Created, Signed(HttpMethod.Put, $"/v1/dealings/{Convert.ToHexStringLower(dealing)}", $$"""{"period":{{period}},"share":"{{Convert.ToBase64String(sealedShare.Encode())}}"}"""), server);
        }

        var ciphertext = DataKeySharing.Encrypt(group, dataKey, ApplicationIdHex, id, dealing, value, SystemRandomSource.Instance);
        using var stored = await ExpectAsync(HttpStatusCode.Created, Signed(HttpMethod.Post, "/v1/data", $$"""{"id":"{{id}}","type":"{{type}}","value":"{{Convert.ToBase64String(ciphertext)}}","dealing":"{{Convert.ToHexStringLower(dealing)}}"}"""));
    }

    /// <summary>A handle no registration made (a random application id).</summary>
    internal static string UnknownHandle()
    {
        var id = new byte[ApplicationRandomness.ApplicationIdLength];
        SystemRandomSource.Instance.Fill(id);
        return $"app_{Convert.ToHexStringLower(id)}_0";
    }
}
