using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Proactive.Crypto.Signing;
using Proactive.Node.Tests.Support;
using Proactive.Protocols.Application;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Services;
using Xunit.Abstractions;

namespace Proactive.Node.Tests.Api;

/// <summary>
/// Drives every route of the route table (as the OpenAPI document lists it) with random bodies, headers,
/// methods and paths, seeded so a failure repeats: every answer must be a 2xx JSON body or a 4xx/503
/// problem+json with a <c>code</c>, never a 500; afterwards the servers still serve a valid request and
/// the agreed application state is exactly what it was (nothing refused was applied).
/// </summary>
[Collection(LedgerClusterCollection.Name)]
public sealed class LedgerRoutesFuzzTests(LedgerClusterFixture fixture, ITestOutputHelper output)
{
    private const int Seed = 20261121;
    private const int Requests = 3000;

    // Kestrel itself refuses a request line over 2 KiB (an empty 414, before the API sees it; docs/API.md).
    private const int MaxTarget = 1900;

    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
    private static readonly string[] KnownIds = ["pub", "rw", "sec", "dr", "k", "nothing", "self"];
    private static readonly string[] MemberNames = ["id", "type", "value", "version", "until", "dealing", "publicKey", "name", "uniqueId", "password", "instance", "maxEntries", "maxBytes", "message", "period", "share", "input", "certificate", "to", "payload", "x"];
    private static readonly string[] MediaTypes = ["application/json", "application/json; charset=utf-8", "text/plain", "application/json; charset=latin1", "application/x-www-form-urlencoded"];

    private sealed record Route(string Method, string Path, string Access, long? MaxBody);

    [Fact]
    public async Task Random_requests_to_every_route_get_problems_never_a_500_and_change_nothing()
    {
        var routes = await RoutesAsync();
        Assert.Contains(routes, r => r.Path == "/v1/data/{id}/share");
        var before = await fixture.DigestAsync();
        var random = new Random(Seed);
        var statuses = new SortedDictionary<int, int>();
        var codes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        output.WriteLine($"seed {Seed}, {Requests} requests over {routes.Count} routes");
        for (var i = 0; i < Requests; i++)
        {
            var route = routes[random.Next(routes.Count)];
            using var request = Build(random, route);
            var target = request.RequestUri!.OriginalString;
            var description = $"#{i} {request.Method} {target[..Math.Min(120, target.Length)]}";
            var server = 1 + random.Next(fixture.Cluster.Config.Parameters.ServerCount);
            request.RequestUri = new Uri(fixture.Cluster.Api(server), target);
            using var response = await fixture.Http.SendAsync(request);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var text = await response.Content.ReadAsStringAsync();
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            Assert.True(status != 500, $"{description}: 500 {text}");
            if (status is >= 200 and < 300 && route.Path == Proactive.Node.Api.NodeApi.MetricsPath)
            {
                Assert.Equal(Proactive.Node.Observability.PrometheusText.ContentType, response.Content.Headers.ContentType?.ToString());
                Proactive.Node.Tests.Observability.PrometheusTextParser.Parse(text);
                continue;
            }

            if (status is >= 200 and < 300)
            {
                Assert.True(mediaType == "application/json", $"{description}: {status} with '{mediaType}'");
                using var json = JsonDocument.Parse(text);
                Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
                continue;
            }

            Assert.True(status is (>= 400 and < 500) or 503, $"{description}: status {status} {text}");
            Assert.True(mediaType == "application/problem+json", $"{description}: {status} with '{mediaType}': {text}");
            using var problem = JsonDocument.Parse(text);
            Assert.True(problem.RootElement.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String && code.GetString()!.Length > 0, $"{description}: {text}");
            Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
            var key = $"{status} {code.GetString()}";
            codes[key] = codes.GetValueOrDefault(key) + 1;
        }

        output.WriteLine(string.Join(", ", statuses.Select(s => $"{s.Key}: {s.Value}")));
        output.WriteLine(string.Join(", ", codes.Select(s => $"{s.Key}: {s.Value}")));
        Assert.Equal(before, await fixture.DigestAsync());

        // The servers still serve, and a valid operation still changes the state.
        using var self = await fixture.ExpectAsync(HttpStatusCode.OK, fixture.Signed(HttpMethod.Get, "/v1/apps/self"), server: 2);
        using var stored = await fixture.ExpectAsync(HttpStatusCode.Created, fixture.Signed(HttpMethod.Post, "/v1/data", """{"id":"after-fuzz","type":"public-write-once","value":"AA=="}"""));
        Assert.NotEqual(before, await fixture.DigestAsync());
    }

    private async Task<List<Route>> RoutesAsync()
    {
        using var document = JsonDocument.Parse(await fixture.Http.GetStringAsync(new Uri(fixture.Cluster.Api(1), "/openapi.json")));
        var routes = new List<Route>();
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var access = operation.Value.GetProperty("x-proactive-access").GetString()!;
                long? maxBody = operation.Value.TryGetProperty("x-proactive-max-body-bytes", out var max) ? max.GetInt64() : null;
                routes.Add(new Route(operation.Name.ToUpperInvariant(), path.Name, access, maxBody));
            }
        }

        return routes;
    }

    private HttpRequestMessage Build(Random random, Route route)
    {
        var method = random.Next(8) == 0 ? Methods[random.Next(Methods.Length)] : route.Method;
        var path = Target(random, route);
        while (path.Length > MaxTarget)
        {
            path = Target(random, route);
        }

        var body = Body(random, route);
        var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            if (random.Next(6) != 0)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", MediaTypes[random.Next(MediaTypes.Length)]);
            }
        }

        AddHeaders(random, request, method, path, body ?? []);
        return request;
    }

    /// <summary>A path of the route with random parameters, sometimes mangled, sometimes with a query.</summary>
    private static string Target(Random random, Route route)
    {
        var path = FillPath(random, route.Path);
        if (random.Next(10) == 0)
        {
            path = random.Next(3) switch
            {
                0 => path + "/" + Segment(random),
                1 => "/v1/" + Segment(random),
                _ => path.ToUpperInvariant(),
            };
        }

        if (random.Next(5) == 0)
        {
            path += "?" + Segment(random) + "=" + Segment(random) + (random.Next(2) == 0 ? "&to=" + RandomHex(random, 32) : string.Empty);
        }

        return path;
    }

    /// <summary>
    /// Authentication headers of every kind but one: a valid signature by a registered instance on an
    /// operation the ledger would apply (that would change the state on purpose). Reads may be validly
    /// signed: they change nothing agreed.
    /// </summary>
    private void AddHeaders(Random random, HttpRequestMessage request, string method, string path, byte[] body)
    {
        var network = fixture.Cluster.Config.NetworkId;
        var now = DateTimeOffset.UtcNow;
        Dictionary<string, string> headers;
        switch (random.Next(7))
        {
            case 0:
                return;
            case 1:
                headers = new Dictionary<string, string>
                {
                    [ApplicationRequestSigning.HandleHeader] = Printable(random, 70),
                    [ApplicationRequestSigning.TimestampHeader] = Printable(random, 20),
                    [ApplicationRequestSigning.NonceHeader] = Printable(random, 40),
                    [ApplicationRequestSigning.SignatureHeader] = Printable(random, 90),
                };
                break;
            case 2:
                // Well-formed, the registered handle, a signature of nothing.
                headers = SignedRequests.Headers(network, fixture.Handle, fixture.Key, method, path, body, now);
                headers[ApplicationRequestSigning.SignatureHeader] = Convert.ToBase64String(RandomBytes(random, 64));
                break;
            case 3:
                headers = SignedRequests.Headers(network, LedgerClusterFixture.UnknownHandle(), fixture.Stranger, method, path, body, now);
                break;
            case 4:
                headers = SignedRequests.Headers(network, random.Next(2) == 0 ? "new" : fixture.Handle, fixture.Stranger, method, path, body, now);
                break;
            case 5:
                // Valid but stale: refused before anything else looks at it.
                headers = SignedRequests.Headers(network, fixture.Handle, fixture.Key, method, path, body, now.AddSeconds(random.Next(2) == 0 ? -600 : 600));
                break;
            default:
                headers = SignedRequests.Headers(network, fixture.Handle, IsRead(method, path) ? fixture.Key : fixture.Stranger, method, path, body, now);
                if (random.Next(4) == 0)
                {
                    request.Headers.TryAddWithoutValidation(ApplicationRequestSigning.NonceHeader, SignedRequests.NewNonce());
                }

                break;
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
    }

    /// <summary>Requests that change nothing agreed even when validly signed: the reads, and dealt shares (not agreed state). The ledger's operations are all POST or PUT elsewhere.</summary>
    private static bool IsRead(string method, string path) =>
        method == "GET" || (method == "PUT" && path.StartsWith("/v1/dealings/", StringComparison.OrdinalIgnoreCase) && !path.Contains("/.", StringComparison.Ordinal));

    private static string FillPath(Random random, string pattern) =>
        string.Join('/', pattern.Split('/').Select(segment => segment.StartsWith('{') ? Segment(random) : segment));

    private static string Segment(Random random) => random.Next(6) switch
    {
        0 => KnownIds[random.Next(KnownIds.Length)],
        1 => RandomHex(random, random.Next(0, 40)),
        // Any byte but NUL: Kestrel itself refuses a target with an encoded NUL (an empty 400, before the API sees it; docs/API.md).
        2 => Uri.EscapeDataString(Encoding.Latin1.GetString([.. RandomBytes(random, random.Next(1, 30)).Select(b => b == 0 ? (byte)1 : b)])),
        3 => new string('a', random.Next(100, 1500)),
        4 => Uri.EscapeDataString(Printable(random, 40)),
        _ => "x" + random.Next(1000).ToString(CultureInfo.InvariantCulture),
    };

    private static byte[]? Body(Random random, Route route) => (route.MaxBody is null && random.Next(4) != 0 ? 0 : random.Next(10)) switch
    {
        0 => null,
        1 => [],
        2 => RandomBytes(random, random.Next(1, 2000)),
        3 => Encoding.UTF8.GetBytes(RandomJson(random, 0)),
        4 => Encoding.UTF8.GetBytes("{" + string.Join(',', MemberNames.OrderBy(_ => random.Next()).Take(random.Next(1, 6)).Select(m => $"\"{m}\":{RandomJson(random, 2)}")) + "}"),
        5 => Encoding.UTF8.GetBytes(new string('[', random.Next(10, 80)) + new string(']', random.Next(0, 80))),
        6 => Encoding.UTF8.GetBytes($$"""{"id":"{{Segment(random)}}","type":"public-write-once","value":"{{Convert.ToBase64String(RandomBytes(random, 20))}}"}"""),
        7 when route.MaxBody is { } max && max <= 64 * 1024 => Encoding.UTF8.GetBytes("{\"share\":\"" + new string('A', (int)max) + "\"}"),
        8 => CertificateRegistration(random),
        _ => Encoding.UTF8.GetBytes($$"""{"period":{{random.Next(-5, 5)}},"share":"{{Convert.ToBase64String(RandomBytes(random, random.Next(0, 120)))}}","message":"{{Printable(random, 10)}}","version":{{random.Next()}}}"""),
    };

    /// <summary>
    /// A registration by certificate with a certificate that decodes (random CA, key, instance, server, window,
    /// sometimes a byte changed): the API's check of the server it names and the ledger's checks get real input.
    /// The key it registers is a random one, never the stranger's whose signature the headers may carry, so no
    /// such request is ever authentic.
    /// </summary>
    private static byte[] CertificateRegistration(Random random)
    {
        using var authority = Ed25519PrivateKey.FromSeed(RandomBytes(random, Ed25519PrivateKey.SeedLength));
        using var instanceKey = Ed25519PrivateKey.FromSeed(RandomBytes(random, Ed25519PrivateKey.SeedLength));
        var instance = random.Next(1, 4);
        var notBefore = (ulong)DateTimeOffset.UtcNow.AddMinutes(random.Next(-120, 60)).ToUnixTimeMilliseconds();
        var network = random.Next(4) == 0 ? NetworkId.FromBytes(RandomBytes(random, NetworkId.Length)) : NetworkId.FromBytes(new byte[NetworkId.Length]);
        var certificate = ApplicationCertificate.Issue(authority, network, "fuzzed", instance, random.Next(1, 4), instanceKey.PublicKey.Bytes, notBefore, notBefore + (ulong)random.Next(1, 7_200_000),
            RandomBytes(random, ApplicationCertificate.SerialLength)).Encode();
        if (random.Next(3) == 0)
        {
            certificate[random.Next(certificate.Length)] ^= (byte)(1 << random.Next(8));
        }

        return Encoding.UTF8.GetBytes($$"""{"publicKey":"{{Convert.ToHexStringLower(instanceKey.PublicKey.Bytes)}}","name":"fuzzed","instance":{{instance}},"certificate":"{{Convert.ToHexStringLower(certificate)}}"}""");
    }

    private static string RandomJson(Random random, int depth) => (depth > 3 ? random.Next(4) : random.Next(7)) switch
    {
        0 => random.Next(2) == 0 ? "true" : "null",
        1 => (random.NextDouble() * 1e20 * (random.Next(2) == 0 ? -1 : 1)).ToString("R", CultureInfo.InvariantCulture),
        2 => JsonSerializer.Serialize(Printable(random, 30)),
        3 => random.Next().ToString(CultureInfo.InvariantCulture),
        4 => "[" + string.Join(',', Enumerable.Range(0, random.Next(0, 4)).Select(_ => RandomJson(random, depth + 1))) + "]",
        _ => "{" + string.Join(',', Enumerable.Range(0, random.Next(0, 4)).Select(_ => $"\"{MemberNames[random.Next(MemberNames.Length)]}\":{RandomJson(random, depth + 1)}")) + "}",
    };

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string RandomHex(Random random, int bytes) => Convert.ToHexStringLower(RandomBytes(random, bytes));

    private static string Printable(Random random, int maxLength) =>
        new([.. Enumerable.Range(0, random.Next(1, maxLength)).Select(_ => (char)random.Next(0x21, 0x7F))]);
}
