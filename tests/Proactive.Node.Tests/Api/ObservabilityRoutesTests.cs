using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Proactive.Node.Api;
using Proactive.Node.Observability;
using Proactive.Node.Storage;
using Proactive.Node.Tests.Observability;

namespace Proactive.Node.Tests.Api;

/// <summary><c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c> on a real loopback socket: formats, statuses, the route table, the request metrics.</summary>
public sealed class ObservabilityRoutesTests : IAsyncLifetime, IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _temp = new();
    private readonly HttpClient _client = new();
    private AlertLog _log = null!;
    private NodeApi _api = null!;
    private NodeState _state = NodeState.Operational;

    public async Task InitializeAsync()
    {
        _log = AlertLog.Open(_temp.Combine("alerts.db"));
        _api = new NodeApi(new IPEndPoint(IPAddress.Loopback, 0), Status, _log);
        await _api.StartAsync();
        _client.BaseAddress = _api.BaseAddress;
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    public void Dispose()
    {
        _client.Dispose();
        _log.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task Metrics_are_prometheus_text_0_0_4_that_parses_and_is_never_cached()
    {
        using var response = await _client.GetAsync(new Uri(NodeApi.MetricsPath, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var scrape = PrometheusTextParser.Parse(text);
        Assert.Equal(4, scrape.Value("proactive_period"));
        Assert.Equal(1, scrape.Value("proactive_node_state", "state=operational"));
        Assert.Equal(1, scrape.Value("proactive_node_info", "server=1"));
    }

    [Fact]
    public async Task Requests_are_counted_by_route_template_and_status_never_by_raw_path()
    {
        await _client.GetAsync(new Uri("/v1/status", UriKind.Relative));
        await _client.GetAsync(new Uri("/v1/status", UriKind.Relative));
        await _client.GetAsync(new Uri("/v1/alerts?limit=0", UriKind.Relative));
        await _client.GetAsync(new Uri("/no/such/path/secret-looking-0123456789abcdef", UriKind.Relative));
        using var patch = new HttpRequestMessage(HttpMethod.Patch, new Uri("/v1/status", UriKind.Relative));
        await _client.SendAsync(patch);
        using var brew = new HttpRequestMessage(new HttpMethod("BREW"), new Uri("/coffee", UriKind.Relative));
        await _client.SendAsync(brew);

        var text = await _client.GetStringAsync(new Uri(NodeApi.MetricsPath, UriKind.Relative));
        var scrape = PrometheusTextParser.Parse(text);

        Assert.Equal(2, scrape.Value("proactive_api_requests_total", "method=GET", "route=/v1/status", "status=200"));
        Assert.Equal(1, scrape.Value("proactive_api_requests_total", "method=GET", "route=/v1/alerts", "status=400"));
        Assert.Equal(1, scrape.Value("proactive_api_requests_total", "method=GET", "route=unmatched", "status=404"));
        Assert.Equal(1, scrape.Value("proactive_api_requests_total", "method=PATCH", "route=unmatched", "status=405"));
        Assert.Equal(1, scrape.Value("proactive_api_requests_total", "method=other", "route=unmatched", "status=404"));
        Assert.DoesNotContain("secret-looking", text, StringComparison.Ordinal);
        Assert.DoesNotContain("/coffee", text, StringComparison.Ordinal);
        Assert.DoesNotContain("BREW", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(NodeState.Operational, HttpStatusCode.OK, "ready")]
    [InlineData(NodeState.Initializing, HttpStatusCode.ServiceUnavailable, "initializing")]
    [InlineData(NodeState.Recovering, HttpStatusCode.ServiceUnavailable, "recovering")]
    [InlineData(NodeState.Stopping, HttpStatusCode.ServiceUnavailable, "stopping")]
    public async Task Readiness_follows_the_state_and_liveness_stays_up(NodeState state, HttpStatusCode expected, string reason)
    {
        _state = state;

        var (readyCode, ready) = await GetJsonAsync(NodeApi.ReadinessPath);
        var (liveCode, live) = await GetJsonAsync(NodeApi.LivenessPath);

        Assert.Equal(expected, readyCode);
        Assert.Equal(["ready", "reason", "detail", "state"], ready.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(expected == HttpStatusCode.OK, ready.RootElement.GetProperty("ready").GetBoolean());
        Assert.Equal(reason, ready.RootElement.GetProperty("reason").GetString());
        Assert.Equal(state.ToString().ToLowerInvariant(), ready.RootElement.GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.OK, liveCode);
        Assert.Equal(["alive", "reason", "detail", "loopHeartbeatAgeMs"], live.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.True(live.RootElement.GetProperty("alive").GetBoolean());
    }

    [Fact]
    public async Task A_stalled_loop_fails_both_probes_with_its_reason()
    {
        var vitals = new NodeVitals(NodeState.Operational, NodeProbes.LoopStallThreshold * 2, false, false, false, true);
        using var observability = new NodeObservability(new NodeMetrics(() => new NodeReading(1, "1", "operational", 4, T0)), () => vitals);
        await using var api = new NodeApi(new IPEndPoint(IPAddress.Loopback, 0), Status, _log) { Observability = observability };
        await api.StartAsync();
        using var client = new HttpClient { BaseAddress = api.BaseAddress };

        using var live = await client.GetAsync(new Uri(NodeApi.LivenessPath, UriKind.Relative));
        using var ready = await client.GetAsync(new Uri(NodeApi.ReadinessPath, UriKind.Relative));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("loop-stalled", JsonDocument.Parse(await live.Content.ReadAsStringAsync()).RootElement.GetProperty("reason").GetString());
        Assert.Equal("loop-stalled", JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("reason").GetString());
        Assert.Equal(MediaTypeHeaderValue.Parse("application/json"), live.Content.Headers.ContentType);

        // The given observability is the node's: its requests are counted there, and the API does not dispose it.
        await api.DisposeAsync();
        var scrape = PrometheusTextParser.Parse(observability.Metrics.Exporter.Collect());
        Assert.Equal(1, scrape.Value("proactive_api_requests_total", "route=/healthz", "status=503"));
    }

    [Fact]
    public async Task The_routes_are_public_in_the_route_table_and_the_openapi_document()
    {
        var (code, document) = await GetJsonAsync(NodeApi.OpenApiPath);

        Assert.Equal(HttpStatusCode.OK, code);
        var paths = document.RootElement.GetProperty("paths");
        var metrics = paths.GetProperty("/metrics").GetProperty("get");
        Assert.Equal("public", metrics.GetProperty("x-proactive-access").GetString());
        Assert.Equal("string", metrics.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty(PrometheusText.ContentType).GetProperty("schema").GetProperty("type").GetString());
        foreach (var path in new[] { "/healthz", "/readyz" })
        {
            var responses = paths.GetProperty(path).GetProperty("get").GetProperty("responses");
            Assert.True(responses.TryGetProperty("200", out _), path);
            Assert.True(responses.TryGetProperty("503", out _), path);
        }

        Assert.Contains(_api.Routes, r => r.Path == NodeApi.MetricsPath && r.Access == RouteAccess.Public && r.MaxBodyBytes is null);
    }

    [Fact]
    public async Task A_body_on_a_probe_is_refused_like_on_every_get()
    {
        using var content = new StringContent("{}");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(NodeApi.MetricsPath, UriKind.Relative)) { Content = content };
        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private NodeStatus Status()
    {
        var (writeProtected, description) = NodeStatus.DescribeRom(RomProtection.Writable);
        return new NodeStatus(1, _state, 4, T0, T0.AddMinutes(10), 250, "ab01", null, [new PeerStatus(2, true, T0)], 0, writeProtected, description, T0, "1.0.0");
    }

    private async Task<(HttpStatusCode Code, JsonDocument Json)> GetJsonAsync(string path)
    {
        using var response = await _client.GetAsync(new Uri(path, UriKind.Relative));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()));
    }
}
