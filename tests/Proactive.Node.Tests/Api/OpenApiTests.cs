using System.Net;
using System.Text.Json;
using Proactive.Node.Api;
using Proactive.Node.Hosting;
using Proactive.Node.Tests.Support;

namespace Proactive.Node.Tests.Api;

/// <summary>GET /openapi.json: a JSON OpenAPI 3.1 document listing every route with its methods and problems.</summary>
public sealed class OpenApiTests : IAsyncLifetime, IDisposable
{
    private readonly HttpClient _client = new();
    private ServiceServers _servers = null!;
    private JsonDocument _document = null!;

    public async Task InitializeAsync()
    {
        _servers = await ServiceServers.StartAsync();
        using var response = await _client.GetAsync(new Uri(_servers.BaseAddress(1), "/openapi.json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        _document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync() => await _servers.DisposeAsync();

    public void Dispose()
    {
        _document.Dispose();
        _client.Dispose();
    }

    private IReadOnlyList<ApiRoute> Routes => _servers.Apis[1].Routes;

    [Fact]
    public void It_is_an_openapi_3_1_document()
    {
        var root = _document.RootElement;
        Assert.Equal("3.1.0", root.GetProperty("openapi").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("info").GetProperty("title").GetString()));
        Assert.Contains("proactive-request-v1", root.GetProperty("info").GetProperty("description").GetString(), StringComparison.Ordinal);
        var problem = root.GetProperty("components").GetProperty("schemas").GetProperty("ApiProblem").GetProperty("properties");
        Assert.Equal(["type", "title", "status", "detail", "instance", "code"], problem.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Every_route_is_listed_with_its_method_operation_and_success_body()
    {
        var paths = _document.RootElement.GetProperty("paths");
        Assert.Equal(Routes.Select(r => r.Path).Distinct().Order(StringComparer.Ordinal), paths.EnumerateObject().Select(p => p.Name));
        foreach (var route in Routes)
        {
            var operation = paths.GetProperty(route.Path).GetProperty(route.Method.ToLowerInvariant());
            Assert.Equal(route.OperationId, operation.GetProperty("operationId").GetString());
            Assert.False(string.IsNullOrEmpty(operation.GetProperty("summary").GetString()));
            var content = operation.GetProperty("responses").GetProperty("200").GetProperty("content");
            if (route.ResponseMediaType is { } mediaType)
            {
                // Not JSON (the Prometheus text of /metrics): described as a string of that media type.
                Assert.Equal("string", content.GetProperty(mediaType).GetProperty("schema").GetProperty("type").GetString());
                continue;
            }

            Assert.StartsWith("#/components/schemas/", content.GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(Routes.Count, Routes.Select(r => r.OperationId).Distinct().Count());
        foreach (var expected in new[] { ("/v1/status", "get"), ("/v1/alerts", "get"), ("/v1/health", "get"), ("/openapi.json", "get"), ("/v1/cluster", "get"), ("/v1/time", "get"), ("/v1/random", "post"), ("/v1/period-certificate", "get") })
        {
            Assert.True(paths.GetProperty(expected.Item1).TryGetProperty(expected.Item2, out _), $"{expected.Item2} {expected.Item1} is missing");
        }
    }

    [Fact]
    public void Every_problem_a_route_can_answer_is_listed_under_its_status_with_its_code()
    {
        foreach (var route in Routes)
        {
            var responses = _document.RootElement.GetProperty("paths").GetProperty(route.Path).GetProperty(route.Method.ToLowerInvariant()).GetProperty("responses");
            foreach (var problem in route.AllProblems())
            {
                var response = responses.GetProperty(problem.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Assert.Contains(problem.Code, response.GetProperty("x-proactive-problem-codes").EnumerateArray().Select(c => c.GetString()));
                Assert.Equal("#/components/schemas/ApiProblem", response.GetProperty("content").GetProperty("application/problem+json").GetProperty("schema").GetProperty("$ref").GetString());
            }
        }

        var random = _document.RootElement.GetProperty("paths").GetProperty("/v1/random").GetProperty("post");
        var codes = random.GetProperty("responses").EnumerateObject()
            .SelectMany(r => r.Value.TryGetProperty("x-proactive-problem-codes", out var c) ? c.EnumerateArray().Select(x => x.GetString()) : [])
            .ToHashSet();
        Assert.Superset(new HashSet<string?> { "malformed-json", "invalid-request", "unauthenticated", "unknown-handle", "bad-signature", "stale-request", "replayed-request", "payload-too-large", "unsupported-media-type", "busy", "not-operational", "internal-error" }, codes);
        Assert.True(random.GetProperty("responses").GetProperty("503").GetProperty("headers").TryGetProperty("Retry-After", out _));
    }

    [Fact]
    public void Authenticated_routes_name_the_four_headers_and_body_routes_their_request_and_limit()
    {
        var paths = _document.RootElement.GetProperty("paths");
        var time = paths.GetProperty("/v1/time").GetProperty("get");
        Assert.Equal("application", time.GetProperty("x-proactive-access").GetString());
        Assert.Equal(
            ["#/components/parameters/Proactive-Handle", "#/components/parameters/Proactive-Timestamp", "#/components/parameters/Proactive-Nonce", "#/components/parameters/Proactive-Signature"],
            time.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("$ref").GetString()));
        Assert.Equal("public", paths.GetProperty("/v1/cluster").GetProperty("get").GetProperty("x-proactive-access").GetString());

        var random = paths.GetProperty("/v1/random").GetProperty("post");
        Assert.Equal(NodeApi.RandomMaxBodyBytes, random.GetProperty("x-proactive-max-body-bytes").GetInt64());
        Assert.Equal("#/components/schemas/RandomRequest", random.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        var request = _document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("RandomRequest");
        Assert.Equal(["input"], request.GetProperty("required").EnumerateArray().Select(r => r.GetString()));

        var alerts = paths.GetProperty("/v1/alerts").GetProperty("get");
        Assert.Equal(["after", "limit", "type", "period"], alerts.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task A_known_path_with_another_method_is_405_listing_the_allowed_ones()
    {
        using var response = await _client.PutAsync(new Uri(_servers.BaseAddress(1), "/v1/random"), null);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("POST", Assert.Single(response.Content.Headers.Allow));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("method-not-allowed", json.RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task With_the_node_gateway_the_registration_and_storage_routes_are_documented_and_reachable()
    {
        using var temp = new TempDirectory();
        using var log = AlertLog.Open(temp.Combine("alerts.db"));

        // The node itself is the gateway and the directory; not running, it answers nothing but what the routes check first.
        await using var node = new NodeHost(new NodeHostOptions(temp.Provision(1), _servers.Network.Config));
        await using var api = new NodeApi(new IPEndPoint(IPAddress.Loopback, 0), () => throw new InvalidOperationException(), log, gateway: node, directory: node);
        await api.StartAsync();

        using var document = JsonDocument.Parse(await _client.GetStringAsync(new Uri(api.BaseAddress, "/openapi.json")));
        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.GetProperty("/v1/apps").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/v1/dealing-key").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/v1/data/{id}").TryGetProperty("put", out var put));
        Assert.Contains("write-once", put.GetProperty("responses").GetProperty("409").GetProperty("x-proactive-problem-codes").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("id", put.GetProperty("parameters")[0].GetProperty("name").GetString());

        // The guard lets their bodies through to them (no 413 body-not-accepted), and a wrong method is a 405.
        using var post = await _client.PostAsync(new Uri(api.BaseAddress, "/v1/data"), new StringContent("{}"));
        Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
        using var delete = await _client.DeleteAsync(new Uri(api.BaseAddress, "/v1/data/abc"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, delete.StatusCode);
        Assert.Equal(["PUT", "GET"], delete.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("/v1/data/{id}", "/v1/data/abc", true)]
    [InlineData("/v1/data/{id}", "/v1/data/", false)]
    [InlineData("/v1/data/{id}", "/v1/data/abc/def", false)]
    [InlineData("/v1/keys/{*rest}", "/v1/keys/a/b", true)]
    [InlineData("/v1/time", "/v1/time/", true)]
    [InlineData("/v1/time", "/V1/TIME", true)]
    [InlineData("/v1/time", "/v1/timex", false)]
    public void Route_patterns_match_paths_for_the_405_answer(string pattern, string path, bool matches)
    {
        Assert.Equal(matches, NodeApi.PathMatches(pattern, path));
    }
}
