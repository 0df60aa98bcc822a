using System.Net;
using System.Text;
using System.Text.Json;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Application;
using Proactive.Protocols.Services;

namespace Proactive.Client.Tests;

/// <summary>
/// The SDK's application calls against scripted servers (n = 4, f = 1): how they sign, resend and fail
/// over, and that they take nothing on one server's word (f+1 agreeing answers, signatures verified).
/// </summary>
public sealed class ApplicationTransportTests : IDisposable
{
    private const string Network = "00112233445566778899aabbccddeeff";
    private static readonly Uri Server = new("http://server1.test/");

    private readonly ApplicationCredentials _credentials = ApplicationCredentials.Create(new byte[16], 0, "transport");
    private readonly List<HttpClient> _clients = [];

    public void Dispose()
    {
        _credentials.Dispose();
        _clients.ForEach(c => c.Dispose());
    }

    private static string ClusterJson =>
        $$"""{"network":"{{Network}}","suite":"ed25519","serverCount":4,"threshold":1,"faults":1,"periodSeconds":60,"period":5,"networkKey":"{{Convert.ToHexStringLower(Proactive.Crypto.Groups.PrimeOrderGroup.Ed25519.EncodeElement(Proactive.Crypto.Groups.PrimeOrderGroup.Ed25519.Generator))}}","servers":[{"id":1,"api":"http://server1.test/"},{"id":2,"api":"http://server2.test/"},{"id":3,"api":"http://server3.test/"},{"id":4,"api":"http://server4.test/"}]}""";

    [Fact]
    public async Task Registration_sends_only_the_new_public_key_signed_with_it_as_new()
    {
        HttpRequestMessage? sent = null;
        string? body = null;
        using var client = Client(request =>
        {
            if (request.RequestUri!.AbsolutePath == "/v1/apps")
            {
                sent = request;
                body = request.Content!.ReadAsStringAsync().Result;
                var handle = Handles.Format(ApplicationState.CentralizedId("vault", "u-1"), 0);
                return Json(HttpStatusCode.Created, $$"""{"handle":"{{handle}}","applicationId":"{{handle[4..36]}}","name":"vault","instance":0,"kind":"centralized","quota":{"maxEntries":10,"maxBytes":4096},"registeredPeriod":5}""");
            }

            return null;
        }, anonymous: true);

        using var credentials = await client.RegisterAsync("vault", "u-1", new RequestedQuota(MaxEntries: 10, MaxBytes: 4096));

        Assert.Equal(Handles.Format(ApplicationState.CentralizedId("vault", "u-1"), 0), credentials.Handle);
        using var json = JsonDocument.Parse(body!);
        Assert.Equal(["publicKey", "name", "uniqueId", "maxEntries", "maxBytes"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Convert.ToHexStringLower(credentials.PublicKey.Bytes), json.RootElement.GetProperty("publicKey").GetString());
        string Header(string name) => sent!.Headers.GetValues(name).Single();
        Assert.Equal("new", Header(ApplicationRequestSigning.HandleHeader));
        var signed = ApplicationRequestSigning.SigningBytes(Network, "new", "POST", "/v1/apps", Header(ApplicationRequestSigning.TimestampHeader), Header(ApplicationRequestSigning.NonceHeader), Encoding.UTF8.GetBytes(body!));
        Assert.True(credentials.PublicKey.Verify(signed, Convert.FromBase64String(Header(ApplicationRequestSigning.SignatureHeader))));
    }

    [Fact]
    public async Task A_registration_answered_with_another_handle_is_not_trusted()
    {
        using var client = Client(request => request.RequestUri!.AbsolutePath == "/v1/apps"
            ? Json(HttpStatusCode.Created, $$"""{"handle":"app_{{new string('1', 32)}}_0","applicationId":"{{new string('1', 32)}}","name":"vault","instance":0,"kind":"centralized","quota":{"maxEntries":1,"maxBytes":1},"registeredPeriod":5}""")
            : null, anonymous: true);

        await Assert.ThrowsAsync<ProactiveVerificationException>(() => client.RegisterAsync("vault", "u-1"));
    }

    [Fact]
    public async Task An_instance_registers_at_its_server_with_a_pbkdf2_verifier_never_the_password()
    {
        Uri? at = null;
        string? body = null;
        using var client = Client(request =>
        {
            if (request.RequestUri!.AbsolutePath == "/v1/apps")
            {
                at = request.RequestUri;
                body = request.Content!.ReadAsStringAsync().Result;
                var handle = Handles.Format(ApplicationState.DistributedId("vault"), 3);
                return Json(HttpStatusCode.Created, $$"""{"handle":"{{handle}}","applicationId":"{{handle[4..36]}}","name":"vault","instance":3,"kind":"distributed","quota":{"maxEntries":1,"maxBytes":1},"registeredPeriod":5}""");
            }

            return null;
        }, anonymous: true);

        using var credentials = await client.RegisterInstanceAsync("vault", "correct horse", 3);

        Assert.Equal("server3.test", at!.Host);
        Assert.Equal(3, credentials.Instance);
        Assert.DoesNotContain("correct horse", body, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(body!);
        // PBKDF2-HMAC-SHA256("correct horse", "proactive/app-password/v1/vault", 600000, 32), computed with Python's hashlib.
        Assert.Equal("07ab44ce9288e412e0f0b20be00dfb670162574776a71e98a29bb973c8f34895", json.RootElement.GetProperty("password").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("instance").GetInt32());
        Assert.False(json.RootElement.TryGetProperty("uniqueId", out _));
    }

    [Fact]
    public async Task A_ledger_operation_is_resent_byte_for_byte_after_a_503_and_a_late_replay_is_explained()
    {
        var attempts = new List<(string Nonce, string Signature)>();
        using var client = Client(request =>
        {
            if (request.RequestUri!.AbsolutePath != "/v1/data")
            {
                return null;
            }

            attempts.Add((request.Headers.GetValues(ApplicationRequestSigning.NonceHeader).Single(), request.Headers.GetValues(ApplicationRequestSigning.SignatureHeader).Single()));
            return attempts.Count == 1
                ? Problem(HttpStatusCode.ServiceUnavailable, "not-agreed-yet")
                : Problem(HttpStatusCode.Conflict, "replayed-request");
        }, maxRetries: 1);

        var error = await Assert.ThrowsAsync<ProactiveApiException>(() => client.StoreAsync("pub", "hi"u8.ToArray(), DataType.PublicWriteOnce));

        Assert.Equal(2, attempts.Count);
        Assert.Equal(attempts[0], attempts[1]);
        Assert.Equal("replayed-request", error.Code);
        Assert.Contains("applied this request after its first attempt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ledger_operation_goes_to_the_next_server_with_the_same_signature_when_one_cannot_take_it()
    {
        var seen = new List<(string Host, string Signature)>();
        using var client = Client(request =>
        {
            if (request.RequestUri!.AbsolutePath != "/v1/data")
            {
                return null;
            }

            seen.Add((request.RequestUri.Host, request.Headers.GetValues(ApplicationRequestSigning.SignatureHeader).Single()));
            return request.RequestUri.Host == "server1.test"
                ? throw new HttpRequestException("Connection refused")
                : Json(HttpStatusCode.Created, """{"id":"pub","type":"public-write-once","version":1,"storedPeriod":5,"until":null}""");
        });

        var result = await client.StoreAsync("pub", "hi"u8.ToArray(), DataType.PublicWriteOnce);

        Assert.Equal(("pub", 1UL), (result.Entry!.Id, result.Entry.Version));
        Assert.Equal(["server1.test", "server2.test"], seen.Select(s => s.Host));
        Assert.Equal(seen[0].Signature, seen[1].Signature);
    }

    [Fact]
    public async Task A_ledger_operation_is_copied_to_the_next_proposer_the_last_answer_named_and_the_chosen_servers_answer_counts()
    {
        var seen = new List<(string Host, string Signature, string Body)>();
        using var client = Client(request =>
        {
            if (request.RequestUri!.AbsolutePath != "/v1/data")
            {
                return null;
            }

            var body = request.Content!.ReadAsStringAsync().Result;
            lock (seen)
            {
                seen.Add((request.RequestUri.Host, request.Headers.GetValues(ApplicationRequestSigning.SignatureHeader).Single(), body));
            }

            var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString();
            var answer = Json(HttpStatusCode.Created, $$"""{"id":"{{id}}","type":"public-write-once","version":{{(request.RequestUri.Host == "server1.test" ? 1 : 7)}},"storedPeriod":5,"until":null}""");
            answer.Headers.Add(ApplicationLedger.NextProposerHeader, "3");
            return answer;
        });

        await client.StoreAsync("first", "hi"u8.ToArray(), DataType.PublicWriteOnce);
        var second = await client.StoreAsync("second", "hi"u8.ToArray(), DataType.PublicWriteOnce);

        // The first answer named server 3: the second request went to the chosen server 1 and, the very same
        // signed request, to server 3; server 1's answer is the one returned.
        Assert.Equal(1UL, second.Entry!.Version);
        var copies = seen.Where(s => s.Body.Contains("second", StringComparison.Ordinal)).ToList();
        Assert.Equal(["server1.test", "server3.test"], copies.Select(c => c.Host).Order());
        Assert.Single(copies.Select(c => c.Signature).Distinct());
        Assert.Single(seen, s => s.Body.Contains("first", StringComparison.Ordinal));
    }

    [Fact]
    public async Task When_the_copy_was_applied_before_the_chosen_server_had_the_request_the_copys_answer_is_taken()
    {
        var first = true;
        using var client = Client(request =>
        {
            if (request.RequestUri!.AbsolutePath != "/v1/data")
            {
                return null;
            }

            HttpResponseMessage answer;
            if (first)
            {
                first = false;
                answer = Json(HttpStatusCode.Created, """{"id":"a","type":"public-write-once","version":1,"storedPeriod":5,"until":null}""");
            }
            else
            {
                answer = request.RequestUri.Host == "server1.test"
                    ? Problem(HttpStatusCode.Conflict, "replayed-request")
                    : Json(HttpStatusCode.Created, """{"id":"b","type":"public-write-once","version":1,"storedPeriod":6,"until":null}""");
            }

            answer.Headers.Add(ApplicationLedger.NextProposerHeader, "2");
            return answer;
        });

        await client.StoreAsync("a", "x"u8.ToArray(), DataType.PublicWriteOnce);
        var b = await client.StoreAsync("b", "y"u8.ToArray(), DataType.PublicWriteOnce);

        Assert.Equal(("b", 6UL), (b.Entry!.Id, b.Entry.StoredPeriod));
    }

    [Fact]
    public async Task A_public_value_is_the_one_f_plus_1_servers_agree_on()
    {
        string Entry(string value) => $$"""{"id":"pub","type":"public-write-once","version":1,"storedPeriod":5,"until":null,"value":"{{value}}"}""";
        var asked = new List<string>();
        var askedForShares = new List<string>();
        using var client = Client(request =>
        {
            if (!request.RequestUri!.AbsolutePath.StartsWith("/v1/data/", StringComparison.Ordinal))
            {
                return null;
            }

            if (request.RequestUri.AbsolutePath.EndsWith("/share", StringComparison.Ordinal))
            {
                // Retrieve asks t+1 servers for shares first; a public entry has none.
                askedForShares.Add(request.RequestUri.Host);
                return Problem(HttpStatusCode.Conflict, "not-secret");
            }

            asked.Add(request.RequestUri.Host);
            return Json(HttpStatusCode.OK, Entry(request.RequestUri.Host == "server1.test" ? "bGll" : "dHJ1dGg="));
        });

        var retrieved = await client.RetrieveAsync("pub");

        Assert.Equal("truth", Encoding.UTF8.GetString(retrieved.Value));
        Assert.Equal([2, 3], retrieved.Servers);
        Assert.Contains(1, retrieved.Failures.Keys);
        Assert.Equal(3, asked.Count);
        Assert.Equal(2, askedForShares.Count); // t + 1, once
    }

    [Fact]
    public async Task The_same_refusal_from_f_plus_1_servers_is_the_answer()
    {
        using var client = Client(request => request.RequestUri!.AbsolutePath.StartsWith("/v1/data/", StringComparison.Ordinal) ? Problem(HttpStatusCode.NotFound, "unknown-data") : null);

        var error = await Assert.ThrowsAsync<ProactiveApiException>(() => client.RetrieveAsync("nothing"));

        Assert.Equal("unknown-data", error.Code);
    }

    [Fact]
    public async Task A_signature_is_returned_only_when_it_verifies_under_the_keys_public_key()
    {
        using var key = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
        using var other = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
        var message = "launch"u8.ToArray();
        var signer = key;
        using var client = Client(request => request.RequestUri!.AbsolutePath switch
        {
            "/v1/keys/k" => Json(HttpStatusCode.OK, $$"""{"id":"k","ordinal":0,"suite":"ed25519","status":"ready","publicKey":"{{Convert.ToHexStringLower(key.PublicKey.Bytes)}}"}"""),
            "/v1/keys/k/sign" => Json(HttpStatusCode.OK, $$"""{"publicKey":"{{Convert.ToHexStringLower(key.PublicKey.Bytes)}}","message":"{{Convert.ToHexStringLower(message)}}","signature":"{{Convert.ToHexStringLower(signer.Sign(message))}}","suite":"ed25519","signers":[1,2]}"""),
            _ => null,
        });

        var signature = await client.SignAsync("k", message);
        Assert.True(key.PublicKey.Verify(message, signature.Signature));
        Assert.Equal([1, 2], signature.Signers);
        using (var json = JsonDocument.Parse(signature.ToJson()))
        {
            Assert.Equal(Convert.ToHexStringLower(key.PublicKey.Bytes), json.RootElement.GetProperty("publicKey").GetString());
            Assert.Equal(Convert.ToHexStringLower(message), json.RootElement.GetProperty("message").GetString());
            Assert.Equal(Convert.ToHexStringLower(signature.Signature), json.RootElement.GetProperty("signature").GetString());
        }

        signer = other;
        await Assert.ThrowsAsync<ProactiveVerificationException>(() => client.SignAsync("k", message));
    }

    [Fact]
    public async Task A_key_agreed_but_still_generating_is_waited_for()
    {
        var described = 0;
        using var client = Client(request => request.RequestUri!.AbsolutePath switch
        {
            "/v1/keys" => Problem(HttpStatusCode.ServiceUnavailable, "not-generated-yet"),
            "/v1/keys/k" => Json(HttpStatusCode.OK, Interlocked.Increment(ref described) <= 2
                ? """{"id":"k","ordinal":0,"suite":"ed25519","status":"generating","publicKey":null}"""
                : $$"""{"id":"k","ordinal":0,"suite":"ed25519","status":"ready","publicKey":"{{new string('a', 64)}}"}"""),
            _ => null,
        }, maxRetries: 3);

        var key = await client.GenerateKeyAsync("k");

        Assert.Equal(("ready", new string('a', 64)), (key.Status, key.PublicKey));
    }

    [Fact]
    public async Task Ids_values_and_messages_out_of_range_are_refused_before_anything_is_sent()
    {
        using var client = Client(_ => throw new InvalidOperationException("nothing may be sent"));

        await Assert.ThrowsAsync<ArgumentException>(() => client.StoreAsync("a b", "x"u8.ToArray()));
        await Assert.ThrowsAsync<ArgumentException>(() => client.StoreAsync(new string('a', 129), "x"u8.ToArray()));
        await Assert.ThrowsAsync<ArgumentException>(() => client.StoreAsync("big", new byte[DataRecord.MaxValueLength]));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SignAsync("k", new byte[KeyRecord.MaxMessageLength + 1]));
        using var anonymous = Client(_ => throw new InvalidOperationException("nothing may be sent"), anonymous: true);
        await Assert.ThrowsAsync<InvalidOperationException>(() => anonymous.RetrieveAsync("x"));
    }

    [Fact]
    public void Signatures_are_checked_offline_for_ed25519_and_never_throw_on_garbage()
    {
        using var key = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
        var message = "m"u8.ToArray();
        var signature = key.Sign(message);

        Assert.True(ProactiveClient.VerifySignature("ed25519", key.PublicKey.Bytes, message, signature));
        signature[0] ^= 1;
        Assert.False(ProactiveClient.VerifySignature("ed25519", key.PublicKey.Bytes, message, signature));
        Assert.False(ProactiveClient.VerifySignature("ed25519", new byte[3], message, signature));
        Assert.False(ProactiveClient.VerifySignature("p256", key.PublicKey.Bytes, message, signature));
        Assert.False(ProactiveClient.VerifySignature("nonsense", key.PublicKey.Bytes, message, signature));
    }

    [Fact]
    public async Task A_cluster_description_without_a_network_key_is_not_kept()
    {
        var asked = 0;
        var http = new HttpClient(new ScriptedHandler(_ => Json(HttpStatusCode.OK, ++asked == 1 ? ClusterJson.Replace("\"networkKey\":\"", "\"networkKey\":null,\"x\":\"", StringComparison.Ordinal) : ClusterJson)));
        _clients.Add(http);
        using var client = new ProactiveClient(new ProactiveClientOptions { Server = Server, HttpClient = http });

        // A wiped server, recovering, knows no key yet; once it does, the client uses it.
        Assert.Null((await client.GetClusterAsync()).NetworkKey);
        Assert.NotNull((await client.GetClusterAsync()).NetworkKey);
        Assert.NotNull((await client.GetClusterAsync()).NetworkKey);
        Assert.Equal(2, asked);
    }

    /// <summary>A client of the scripted servers: the cluster is answered here; the script answers the rest (null: 404).</summary>
    private ProactiveClient Client(Func<HttpRequestMessage, HttpResponseMessage?> answer, int maxRetries = 0, bool anonymous = false)
    {
        var http = new HttpClient(new ScriptedHandler(request => request.RequestUri!.AbsolutePath == "/v1/cluster"
            ? Json(HttpStatusCode.OK, ClusterJson)
            : answer(request) ?? Problem(HttpStatusCode.NotFound, "not-found")));
        _clients.Add(http);
        return new ProactiveClient(new ProactiveClientOptions
        {
            Server = Server,
            Credentials = anonymous ? null : _credentials,
            HttpClient = http,
            MaxRetries = maxRetries,
            MaxRetryDelay = TimeSpan.Zero,
        });
    }

    private static HttpResponseMessage Json(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    private static HttpResponseMessage Problem(HttpStatusCode status, string code) =>
        new(status) { Content = new StringContent($$"""{"type":"urn:proactive:problem:{{code}}","title":"{{code}}","status":{{(int)status}},"detail":"scripted","code":"{{code}}"}""", Encoding.UTF8, "application/problem+json") };

    /// <summary>Answers each request with what the test scripts (a unit test of the SDK's own HTTP handling).</summary>
    private sealed class ScriptedHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer(request));
    }
}
