using System.Net;
using System.Text;
using System.Text.Json;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Node.Api;
using Proactive.Node.Tests.Support;
using Proactive.Protocols.Application;

namespace Proactive.Node.Tests.Api;

/// <summary>
/// The ledger's routes on a real two-server network in this process (the node's own gateway and ledger):
/// every route refuses what it must with its problem code (unknown handle, bad signature, stale, replayed,
/// malformed JSON, unknown member, oversized body, unknown id, ...), and the answers it gives are those
/// docs/API.md and the OpenAPI document describe.
/// </summary>
[Collection(LedgerClusterCollection.Name)]
public sealed class LedgerRoutesTests(LedgerClusterFixture fixture)
{
    private static readonly string Oversized = $$"""{"id":"big","type":"public-write-once","value":"{{new string('A', (int)NodeApi.LedgerMaxBodyBytes)}}"}""";

    /// <summary>A request as it goes on the wire: sent once, or twice to test a replay.</summary>
    private sealed record Wire(HttpMethod Method, string Path, IReadOnlyDictionary<string, string> Headers, string? Body, string MediaType = "application/json")
    {
        public HttpRequestMessage Message() => LedgerClusterFixture.Raw(Method, Path, Headers, Body, MediaType);
    }

    /// <summary>A bad request and the refusal it must get; <paramref name="Replay"/>: the second of two identical sends is judged.</summary>
    private sealed record Refusal(int Status, string Code, Func<LedgerClusterFixture, Wire> Build, bool Replay = false);

    private static Wire Signed(LedgerClusterFixture f, HttpMethod method, string path, string? json, Ed25519PrivateKey? key = null, string? handle = null, DateTimeOffset? now = null, string mediaType = "application/json") =>
        new(method, path, SignedRequests.Headers(f.Cluster.Config.NetworkId, handle ?? f.Handle, key ?? f.Key, method.Method, path, json is null ? [] : Encoding.UTF8.GetBytes(json), now ?? DateTimeOffset.UtcNow), json, mediaType);

    private static Wire Registration(LedgerClusterFixture f, string json, Ed25519PrivateKey? key = null, DateTimeOffset? now = null) =>
        Signed(f, HttpMethod.Post, "/v1/apps", json, key ?? f.Stranger, "new", now);

    private static string NewApp(Ed25519PrivateKey key, string unique) =>
        $$"""{"publicKey":"{{Convert.ToHexStringLower(key.PublicKey.Bytes)}}","name":"other","uniqueId":"{{unique}}"}""";

    private static readonly DateTimeOffset LongAgo = DateTimeOffset.UtcNow.AddMinutes(-10);

    private static readonly Dictionary<string, Refusal> Refusals = new()
    {
        ["register: malformed JSON"] = new(400, "malformed-json", f => Registration(f, "{\"publicKey\":")),
        ["register: empty body"] = new(400, "malformed-json", f => Registration(f, string.Empty)),
        ["register: unknown member"] = new(400, "invalid-request", f => Registration(f, NewApp(f.Stranger, "x")[..^1] + ",\"colour\":\"red\"}")),
        ["register: both unique id and password"] = new(400, "invalid-request", f => Registration(f, NewApp(f.Stranger, "x")[..^1] + $",\"password\":\"{new string('a', 64)}\",\"instance\":1}}")),
        ["register: signed by another key than it registers"] = new(401, "bad-signature", f => Registration(f, NewApp(f.Stranger, "y"), key: f.Key)),
        ["register: stale timestamp"] = new(401, "stale-request", f => Registration(f, NewApp(f.Stranger, "z"), now: LongAgo)),
        ["register: no signature header"] = new(401, "unauthenticated", f => Registration(f, NewApp(f.Stranger, "w")) with { Headers = Registration(f, NewApp(f.Stranger, "w")).Headers.Where(h => h.Key != "Proactive-Signature").ToDictionary() }),
        ["register: oversized body"] = new(413, "payload-too-large", f => Registration(f, Oversized)),
        ["register: not JSON"] = new(415, "unsupported-media-type", f => Registration(f, NewApp(f.Stranger, "v")) with { MediaType = "text/plain" }),
        ["register: the same application again"] = new(409, "already-registered", f => Registration(f, NewApp(f.Key, "fixture")[..^1].Replace("\"other\"", "\"routes\"", StringComparison.Ordinal) + "}", key: f.Key)),
        ["register: the fixture's registration replayed"] = new(409, "replayed-request", f => new(HttpMethod.Post, "/v1/apps", f.Registration.Headers, f.Registration.Body)),

        ["self: unknown handle"] = new(401, "unknown-handle", f => Signed(f, HttpMethod.Get, "/v1/apps/self", null, f.Stranger, LedgerClusterFixture.UnknownHandle())),
        ["self: signed by another key"] = new(401, "bad-signature", f => Signed(f, HttpMethod.Get, "/v1/apps/self", null, f.Stranger)),
        ["self: stale timestamp"] = new(401, "stale-request", f => Signed(f, HttpMethod.Get, "/v1/apps/self", null, now: LongAgo)),
        ["self: replayed nonce"] = new(409, "replayed-request", f => Signed(f, HttpMethod.Get, "/v1/apps/self", null), Replay: true),
        ["self: a body"] = new(413, "body-not-accepted", f => Signed(f, HttpMethod.Get, "/v1/apps/self", "{}")),

        ["store: unknown handle"] = new(401, "unknown-handle", f => Signed(f, HttpMethod.Post, "/v1/data", """{"id":"a","type":"public-write-once","value":"AA=="}""", f.Stranger, LedgerClusterFixture.UnknownHandle())),
        ["store: signed by another key"] = new(401, "bad-signature", f => Signed(f, HttpMethod.Post, "/v1/data", """{"id":"a","type":"public-write-once","value":"AA=="}""", f.Stranger)),
        ["store: stale timestamp"] = new(401, "stale-request", f => Signed(f, HttpMethod.Post, "/v1/data", """{"id":"a","type":"public-write-once","value":"AA=="}""", now: LongAgo)),
        ["store: malformed JSON"] = new(400, "malformed-json", f => Signed(f, HttpMethod.Post, "/v1/data", "{\"id\":\"a\",")),
        ["store: nested too deep"] = new(400, "malformed-json", f => Signed(f, HttpMethod.Post, "/v1/data", new string('[', 40) + new string(']', 40))),
        ["store: unknown member"] = new(400, "invalid-request", f => Signed(f, HttpMethod.Post, "/v1/data", """{"id":"a","type":"public-write-once","value":"AA==","colour":"red"}""")),
        ["store: wrong type of member"] = new(400, "invalid-request", f => Signed(f, HttpMethod.Post, "/v1/data", """{"id":"a","type":"public-write-once","value":7}""")),
        ["store: unknown data type"] = new(400, "invalid-request", f => Signed(f, HttpMethod.Post, "/v1/data", """{"id":"a","type":"secret-forever","value":"AA=="}""")),
        ["store: a secret without its dealing"] = new(400, "invalid-request", f => Signed(f, HttpMethod.Post, "/v1/data", """{"id":"a","type":"secret-single","value":"AA=="}""")),
        ["store: an id taken"] = new(409, "already-exists", f => Signed(f, HttpMethod.Post, "/v1/data", """{"id":"pub","type":"public-write-once","value":"AA=="}""")),
        ["store: oversized body"] = new(413, "payload-too-large", f => Signed(f, HttpMethod.Post, "/v1/data", Oversized)),
        ["store: the fixture's store replayed"] = new(409, "replayed-request", f => new(HttpMethod.Post, "/v1/data", f.PublicStore.Headers, f.PublicStore.Body)),
        ["store: a query string"] = new(400, "invalid-request", f => Signed(f, HttpMethod.Post, "/v1/data?x=1", """{"id":"q","type":"public-write-once","value":"AA=="}""")),
        ["store: a target longer than a ledger request carries"] = new(414, "uri-too-long", f => Signed(f, HttpMethod.Post, "/v1/data?" + new string('x', 1100), """{"id":"q","type":"public-write-once","value":"AA=="}""")),

        ["write: unknown id"] = new(404, "unknown-data", f => Signed(f, HttpMethod.Put, "/v1/data/nothing", """{"value":"AA==","version":1}""")),
        ["write: a write-once entry"] = new(409, "write-once", f => Signed(f, HttpMethod.Put, "/v1/data/pub", """{"value":"AA==","version":1}""")),
        ["write: another version"] = new(409, "version-mismatch", f => Signed(f, HttpMethod.Put, "/v1/data/rw", """{"value":"AA==","version":7}""")),
        ["write: no version"] = new(400, "invalid-request", f => Signed(f, HttpMethod.Put, "/v1/data/rw", """{"value":"AA=="}""")),
        ["write: signed by another key"] = new(401, "bad-signature", f => Signed(f, HttpMethod.Put, "/v1/data/rw", """{"value":"AA==","version":1}""", f.Stranger)),

        ["read: unknown id"] = new(404, "unknown-data", f => Signed(f, HttpMethod.Get, "/v1/data/nothing", null)),
        ["read: unknown handle"] = new(401, "unknown-handle", f => Signed(f, HttpMethod.Get, "/v1/data/pub", null, f.Stranger, LedgerClusterFixture.UnknownHandle())),
        ["read: signed by another key"] = new(401, "bad-signature", f => Signed(f, HttpMethod.Get, "/v1/data/pub", null, f.Stranger)),
        ["read: stale timestamp"] = new(401, "stale-request", f => Signed(f, HttpMethod.Get, "/v1/data/pub", null, now: LongAgo)),
        ["read: replayed nonce"] = new(409, "replayed-request", f => Signed(f, HttpMethod.Get, "/v1/data/pub", null), Replay: true),
        ["read: garbled nonce"] = new(401, "unauthenticated", f => Signed(f, HttpMethod.Get, "/v1/data/pub", null) is var w ? w with { Headers = new Dictionary<string, string>(w.Headers) { ["Proactive-Nonce"] = "XYZ" } } : w),

        ["share: no recipient key"] = new(400, "invalid-request", f => Signed(f, HttpMethod.Get, "/v1/data/sec/share", null)),
        ["share: a recipient key in capitals"] = new(400, "invalid-request", f => Signed(f, HttpMethod.Get, "/v1/data/sec/share?to=" + new string('A', 64), null)),
        ["share: unknown id"] = new(404, "unknown-data", f => Signed(f, HttpMethod.Get, "/v1/data/nothing/share?to=" + RecipientHex(), null)),
        ["share: a public entry"] = new(409, "not-secret", f => Signed(f, HttpMethod.Get, "/v1/data/pub/share?to=" + RecipientHex(), null)),
        ["share: a distributed-reader secret not released"] = new(403, "quorum-required", f => Signed(f, HttpMethod.Get, "/v1/data/dr/share?to=" + RecipientHex(), null)),
        ["share: replayed nonce"] = new(409, "replayed-request", f => Signed(f, HttpMethod.Get, "/v1/data/sec/share?to=" + RecipientHex(), null), Replay: true),

        ["release: unknown id"] = new(404, "unknown-data", f => Signed(f, HttpMethod.Post, "/v1/data/nothing/release", """{"version":1}""")),
        ["release: a single-reader secret"] = new(409, "not-distributed-reader", f => Signed(f, HttpMethod.Post, "/v1/data/sec/release", """{"version":1}""")),
        ["release: another version"] = new(409, "version-mismatch", f => Signed(f, HttpMethod.Post, "/v1/data/dr/release", """{"version":9}""")),
        ["release: malformed JSON"] = new(400, "malformed-json", f => Signed(f, HttpMethod.Post, "/v1/data/dr/release", "{")),

        ["dealing key: a body"] = new(413, "body-not-accepted", f => new(HttpMethod.Get, "/v1/dealing-key", new Dictionary<string, string>(), "{}")),

        ["dealing: a dealing id that is not 32 hex digits"] = new(400, "invalid-request", f => Signed(f, HttpMethod.Put, "/v1/dealings/xyz", """{"period":0,"share":"AA=="}""")),
        ["dealing: malformed JSON"] = new(400, "malformed-json", f => Signed(f, HttpMethod.Put, "/v1/dealings/" + new string('0', 32), "{\"period\":")),
        ["dealing: unknown member"] = new(400, "invalid-request", f => Signed(f, HttpMethod.Put, "/v1/dealings/" + new string('0', 32), """{"period":0,"share":"AA==","x":1}""")),
        ["dealing: a share that is not base64"] = new(400, "invalid-request", f => Signed(f, HttpMethod.Put, "/v1/dealings/" + new string('0', 32), """{"period":0,"share":"***"}""")),
        ["dealing: a share that does not open"] = new(400, "bad-share", f => Signed(f, HttpMethod.Put, "/v1/dealings/" + new string('0', 32), $$"""{"period":0,"share":"{{Convert.ToBase64String(new byte[80])}}"}""")),
        ["dealing: a period whose key the server does not hold"] = new(409, "stale-period", f => Signed(f, HttpMethod.Put, "/v1/dealings/" + new string('0', 32), """{"period":999,"share":"AA=="}""")),
        ["dealing: unknown handle"] = new(401, "unknown-handle", f => Signed(f, HttpMethod.Put, "/v1/dealings/" + new string('0', 32), """{"period":0,"share":"AA=="}""", f.Stranger, LedgerClusterFixture.UnknownHandle())),
        ["dealing: replayed nonce"] = new(409, "replayed-request", f => Signed(f, HttpMethod.Put, "/v1/dealings/" + new string('1', 32), """{"period":999,"share":"AA=="}"""), Replay: true),
        ["dealing: oversized body"] = new(413, "payload-too-large", f => Signed(f, HttpMethod.Put, "/v1/dealings/" + new string('0', 32), $$"""{"period":0,"share":"{{new string('A', 20_000)}}"}""")),

        ["key: malformed JSON"] = new(400, "malformed-json", f => Signed(f, HttpMethod.Post, "/v1/keys", "{\"id\"")),
        ["key: unknown member"] = new(400, "invalid-request", f => Signed(f, HttpMethod.Post, "/v1/keys", """{"id":"k2","suite":"ed448"}""")),
        ["key: an id taken"] = new(409, "already-exists", f => Signed(f, HttpMethod.Post, "/v1/keys", """{"id":"k"}""")),
        ["key: unknown id"] = new(404, "unknown-key", f => Signed(f, HttpMethod.Get, "/v1/keys/nothing", null)),
        ["key: replayed nonce"] = new(409, "replayed-request", f => Signed(f, HttpMethod.Get, "/v1/keys/k", null), Replay: true),
        ["sign: unknown key"] = new(404, "unknown-key", f => Signed(f, HttpMethod.Post, "/v1/keys/nothing/sign", """{"message":"aGk="}""")),
        ["sign: malformed JSON"] = new(400, "malformed-json", f => Signed(f, HttpMethod.Post, "/v1/keys/k/sign", "{\"message\"")),
        ["sign: not the body it takes"] = new(400, "invalid-request", f => Signed(f, HttpMethod.Post, "/v1/keys/k/sign", """{"text":"hi"}""")),
        ["sign: signed by another key"] = new(401, "bad-signature", f => Signed(f, HttpMethod.Post, "/v1/keys/k/sign", """{"message":"aGk="}""", f.Stranger)),
        ["sign: unknown handle"] = new(401, "unknown-handle", f => Signed(f, HttpMethod.Post, "/v1/keys/k/sign", """{"message":"aGk="}""", f.Stranger, LedgerClusterFixture.UnknownHandle())),
        ["approve: unknown key"] = new(404, "unknown-key", f => Signed(f, HttpMethod.Post, "/v1/keys/nothing/approve", """{"message":"aGk="}""")),
    };

    public static TheoryData<string> Cases => new(Refusals.Keys);

    private static string RecipientHex()
    {
        using var key = Proactive.Crypto.Hpke.HpkeBaseMode.GenerateKeyPair(SystemRandomSource.Instance);
        return Convert.ToHexStringLower(key.PublicKey.ToArray());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_route_refuses_a_bad_request_with_its_problem(string name)
    {
        var refusal = Refusals[name];
        var wire = refusal.Build(fixture);
        if (refusal.Replay)
        {
            var (first, _) = await fixture.SendAsync(2, wire.Message());
            Assert.True((int)first < 500, $"{name}: the first send got {(int)first}");
        }

        var (status, body) = await fixture.SendAsync(2, wire.Message());
        var root = body.RootElement;
        Assert.True((int)status == refusal.Status && root.TryGetProperty("code", out var code) && code.GetString() == refusal.Code, $"{name}: expected {refusal.Status} {refusal.Code}, got {(int)status} {root}");
        Assert.Equal("urn:proactive:problem:" + refusal.Code, root.GetProperty("type").GetString());
        Assert.Equal(refusal.Status, root.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task The_application_its_entries_and_its_key_are_read_back_as_documented()
    {
        using var self = await fixture.ExpectAsync(HttpStatusCode.OK, fixture.Signed(HttpMethod.Get, "/v1/apps/self"));
        var app = JsonSerializer.Deserialize(self.RootElement, LedgerApiJsonContext.Default.ApplicationBody)!;
        Assert.Equal(fixture.ApplicationIdHex, app.ApplicationId);
        Assert.Equal(("routes", "centralized", 0, 1, "unique-id"), (app.Name, app.Kind, app.Instance, app.Quorum, app.RegisteredBy));
        Assert.Equal(50UL, app.Quota.MaxEntries);
        Assert.True(app.Quota.UsedEntries >= 5);

        using var pub = await fixture.ExpectAsync(HttpStatusCode.OK, fixture.Signed(HttpMethod.Get, "/v1/data/pub"), server: 2);
        var entry = JsonSerializer.Deserialize(pub.RootElement, LedgerApiJsonContext.Default.DataBody)!;
        Assert.Equal(("pub", "public-write-once", 1UL, "aGVsbG8="), (entry.Id, entry.Type, entry.Version, entry.Value));

        using var key = await fixture.ExpectAsync(HttpStatusCode.OK, fixture.Signed(HttpMethod.Get, "/v1/keys/k"));
        var described = JsonSerializer.Deserialize(key.RootElement, LedgerApiJsonContext.Default.KeyBody)!;
        Assert.Equal(("k", "ready", "ed25519"), (described.Id, described.Status, described.Suite));
        Assert.Equal(64, described.PublicKey!.Length);

        // A signature from the API is a standard Ed25519 signature under the key's public key.
        var message = "sign me"u8.ToArray();
        using var signed = await fixture.ExpectAsync(HttpStatusCode.OK, fixture.Signed(HttpMethod.Post, "/v1/keys/k/sign", $$"""{"message":"{{Convert.ToBase64String(message)}}"}"""), server: 2);
        var signature = JsonSerializer.Deserialize(signed.RootElement, LedgerApiJsonContext.Default.SignatureBody)!;
        Assert.Equal(described.PublicKey, signature.PublicKey);
        Assert.True(Ed25519PublicKey.Decode(Convert.FromHexString(signature.PublicKey)).Verify(message, Convert.FromHexString(signature.Signature)));
    }

    [Fact]
    public async Task A_ledger_answer_names_the_server_that_proposes_the_next_instance()
    {
        using var request = fixture.Signed(HttpMethod.Post, "/v1/data", $$"""{"id":"hint-{{Guid.NewGuid():N}}","type":"public-write-once","value":"AQ=="}""");
        request.RequestUri = new Uri(fixture.Cluster.Api(1), request.RequestUri!.OriginalString);
        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var hint = int.Parse(Assert.Single(response.Headers.GetValues(ApplicationLedger.NextProposerHeader)), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(hint, 1, fixture.Cluster.Nodes.Count);
    }

    [Fact]
    public async Task A_minority_of_a_distributed_applications_instances_gets_pending_and_nothing_is_stored_or_generated()
    {
        using var instance = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
        var password = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var registration = $$"""{"publicKey":"{{Convert.ToHexStringLower(instance.PublicKey.Bytes)}}","name":"distributed {{password[..8]}}","password":"{{password}}","instance":1}""";
        using var registered = await fixture.ExpectAsync(HttpStatusCode.Created, fixture.Signed(HttpMethod.Post, "/v1/apps", registration, instance, "new"));
        var handle = registered.RootElement.GetProperty("handle").GetString()!;
        Assert.EndsWith("_1", handle, StringComparison.Ordinal);

        var store = """{"id":"shared","type":"public-read-write","value":"AQ=="}""";
        using var pending = await fixture.ExpectAsync(HttpStatusCode.Accepted, fixture.Signed(HttpMethod.Post, "/v1/data", store, instance, handle));
        var body = JsonSerializer.Deserialize(pending.RootElement, LedgerApiJsonContext.Default.PendingBody)!;
        Assert.Equal(("shared", "pending", 1, 2), (body.Id, body.Status, body.Approvals, body.Needed));
        using var missing = await fixture.ExpectAsync(HttpStatusCode.NotFound, fixture.Signed(HttpMethod.Get, "/v1/data/shared", null, instance, handle));
        Assert.Equal("unknown-data", missing.RootElement.GetProperty("code").GetString());

        // A key a minority asks for: pending too (it was a 500, the gateway expecting a key being generated).
        using var key = await fixture.ExpectAsync(HttpStatusCode.Accepted, fixture.Signed(HttpMethod.Post, "/v1/keys", """{"id":"joint"}""", instance, handle));
        Assert.Equal(("joint", "pending", 1, 2), (key.RootElement.GetProperty("id").GetString(), key.RootElement.GetProperty("status").GetString(), key.RootElement.GetProperty("approvals").GetInt32(), key.RootElement.GetProperty("needed").GetInt32()));
    }

    [Fact]
    public async Task The_document_lists_every_ledger_route_with_its_bodies_and_codes()
    {
        using var document = JsonDocument.Parse(await fixture.Http.GetStringAsync(new Uri(fixture.Cluster.Api(1), "/openapi.json")));
        var paths = document.RootElement.GetProperty("paths");
        var expected = new[]
        {
            ("/v1/apps", "post", "201"), ("/v1/apps/self", "get", "200"), ("/v1/data", "post", "201"), ("/v1/data/{id}", "put", "200"),
            ("/v1/data/{id}", "get", "200"), ("/v1/data/{id}/share", "get", "200"), ("/v1/data/{id}/release", "post", "200"),
            ("/v1/dealing-key", "get", "200"), ("/v1/dealings/{dealing}", "put", "201"), ("/v1/keys", "post", "201"),
            ("/v1/keys/{id}", "get", "200"), ("/v1/keys/{id}/sign", "post", "200"), ("/v1/keys/{id}/approve", "post", "200"),
        };
        foreach (var (path, method, success) in expected)
        {
            var operation = paths.GetProperty(path).GetProperty(method);
            Assert.StartsWith("#/components/schemas/", operation.GetProperty("responses").GetProperty(success).GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString(), StringComparison.Ordinal);
        }

        var store = paths.GetProperty("/v1/data").GetProperty("post");
        Assert.Equal("#/components/schemas/StoreRequest", store.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.Equal(NodeApi.LedgerMaxBodyBytes, store.GetProperty("x-proactive-max-body-bytes").GetInt64());
        Assert.Contains("quota-exceeded", store.GetProperty("responses").GetProperty("403").GetProperty("x-proactive-problem-codes").EnumerateArray().Select(c => c.GetString()));
        Assert.Contains("replayed-request", store.GetProperty("responses").GetProperty("409").GetProperty("x-proactive-problem-codes").EnumerateArray().Select(c => c.GetString()));
        Assert.True(store.GetProperty("responses").TryGetProperty("202", out _));
        var share = paths.GetProperty("/v1/data/{id}/share").GetProperty("get");
        Assert.Contains("not-yet", share.GetProperty("responses").GetProperty("403").GetProperty("x-proactive-problem-codes").EnumerateArray().Select(c => c.GetString()));
    }
}
