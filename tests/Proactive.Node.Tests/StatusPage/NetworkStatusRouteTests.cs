using System.Net;
using System.Text.Json;
using Proactive.Node.Api;
using Proactive.Node.StatusPage;
using Proactive.Node.Storage;
using Proactive.Node.Tests.Api;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Tests.StatusPage;

/// <summary>
/// <c>GET /v1/network/status</c> on a real loopback API whose peers are a real API and misbehaving
/// sockets: every peer is listed, with its state or the reason it has none, and nothing a peer does
/// turns the answer into an error or keeps it waiting past the peer timeout.
/// </summary>
public sealed class NetworkStatusRouteTests : IAsyncLifetime, IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    // A short peer timeout (a silent peer costs this much per view); a generous client timeout, so a
    // view that waited for the silent peer would fail the test instead of passing slowly.
    private static readonly NetworkStatusOptions Fast = new() { PeerTimeout = TimeSpan.FromMilliseconds(500), CacheFor = TimeSpan.Zero };

    private readonly TempDirectory _temp = new();
    private readonly HttpClient _client = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly List<IAsyncDisposable> _peers = [];
    private readonly List<AlertLog> _logs = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var peer in _peers)
        {
            await peer.DisposeAsync();
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        foreach (var log in _logs)
        {
            log.Dispose();
        }

        _temp.Dispose();
    }

    [Fact]
    public async Task Every_peer_is_listed_with_its_state_or_why_it_has_none()
    {
        var good = await RealPeerAsync(2, NodeState.Recovering);
        var malformed = Peer(FakePeer.Answering("{\"serverId\": \"two\""));
        var wrongShape = Peer(FakePeer.Answering("[1, 2, 3]"));
        var otherServer = Peer(FakePeer.Answering(StatusJson(9)));
        var failing = Peer(FakePeer.Answering("{}", status: 500));
        var huge = Peer(FakePeer.AnsweringChunked(Fast.MaxStatusBytes + 1));
        var silent = Peer(FakePeer.Silent());
        var api = await ApiAsync(Fast, (2, good), (3, FakePeer.ClosedApi()), (4, malformed.Api), (5, wrongShape.Api), (6, otherServer.Api), (7, failing.Api), (8, huge.Api), (9, silent.Api), (10, null));

        var (code, view) = await GetViewAsync(api);

        Assert.Equal(HttpStatusCode.OK, code);
        var servers = view.GetProperty("servers").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetInt32());
        Assert.Equal(Enumerable.Range(1, 10), servers.Keys);
        Assert.Equal(1, view.GetProperty("self").GetInt32());
        Expect(servers[1], "operational", "self");
        Expect(servers[2], "recovering", "answered");
        Expect(servers[3], "down", "refused", "connection refused");
        Expect(servers[4], "unreachable", "malformed", "not a status");
        Expect(servers[5], "unreachable", "malformed", "not a status");
        Expect(servers[6], "unreachable", "malformed", "server 9's, not server 6's");
        Expect(servers[7], "unreachable", "failed", "HTTP 500");
        Expect(servers[8], "unreachable", "failed", "more than");
        Expect(servers[9], "unreachable", "timeout", "no answer within 0.5 s");
        Expect(servers[10], "unreachable", "failed", "no API port");
        Assert.Equal(2, servers[2].GetProperty("status").GetProperty("serverId").GetInt32());
        Assert.True(servers[2].GetProperty("answeredInMs").GetDouble() >= 0);
        Assert.Equal(JsonValueKind.Null, servers[1].GetProperty("answeredInMs").ValueKind);
        Assert.True(silent.Requests >= 1);
    }

    [Fact]
    public async Task The_body_has_exactly_the_documented_fields()
    {
        var api = await ApiAsync(Fast, (2, FakePeer.ClosedApi()));

        var (_, view) = await GetViewAsync(api);

        Assert.Equal(["generatedAt", "self", "network", "servers"], view.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["id", "api", "state", "reachability", "problem", "answeredInMs", "status", "alerts", "alertsProblem"], view.GetProperty("servers")[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(2, view.GetProperty("network").GetProperty("serverCount").GetInt32());
        Assert.Equal(JsonValueKind.Null, view.GetProperty("servers")[1].GetProperty("status").ValueKind);
    }

    [Fact]
    public async Task Alerts_come_from_every_server_with_hex_evidence_shortened_and_the_asked_server_as_reporter()
    {
        var evidence = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        var peer = await RealPeerAsync(2, NodeState.Operational, AlertLogTests.Sample(AlertType.CorruptedShares, culprit: 3, period: 7, detail: "lost its shares", evidence: evidence));
        var api = await ApiAsync(Fast, (2, peer));
        OwnLog.Record(AlertLogTests.Sample(AlertType.Unresponsive, culprit: 2, period: 6, detail: "late", evidence: [0xab, 0xcd]), 1, T0);

        var (_, view) = await GetViewAsync(api);

        var servers = view.GetProperty("servers");
        var own = Assert.Single(servers[0].GetProperty("alerts").EnumerateArray());
        Assert.Equal("Unresponsive", own.GetProperty("type").GetString());
        Assert.Equal("abcd", own.GetProperty("evidence").GetString());
        Assert.Equal(2, own.GetProperty("evidenceLength").GetInt32());
        var theirs = Assert.Single(servers[1].GetProperty("alerts").EnumerateArray());
        Assert.Equal(
            ["id", "detectedAt", "lastDetectedAt", "reporter", "type", "culprit", "period", "instance", "detail", "count", "evidence", "evidenceLength"],
            theirs.EnumerateObject().Select(p => p.Name));
        Assert.Equal(2, theirs.GetProperty("reporter").GetInt32());
        Assert.Equal("CorruptedShares", theirs.GetProperty("type").GetString());
        Assert.Equal(3, theirs.GetProperty("culprit").GetInt32());
        Assert.Equal(7UL, theirs.GetProperty("period").GetUInt64());
        Assert.Equal(Convert.ToHexStringLower(evidence.AsSpan(0, Fast.MaxEvidenceBytes)), theirs.GetProperty("evidence").GetString());
        Assert.Equal(5000, theirs.GetProperty("evidenceLength").GetInt32());
        Assert.Equal(JsonValueKind.Null, servers[1].GetProperty("alertsProblem").ValueKind);
    }

    [Fact]
    public async Task A_peer_whose_alerts_are_malformed_keeps_its_status_and_says_why_its_alerts_are_missing()
    {
        // Both routes answer the same status body: a status, but not a page of alerts.
        var peer = Peer(FakePeer.Answering(StatusJson(2)));
        var api = await ApiAsync(Fast, (2, peer.Api));

        var (_, view) = await GetViewAsync(api);

        var server = view.GetProperty("servers")[1];
        Expect(server, "operational", "answered");
        Assert.Empty(server.GetProperty("alerts").EnumerateArray());
        Assert.Contains("not a page of alerts", server.GetProperty("alertsProblem").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Views_asked_for_at_once_or_within_the_cache_window_cost_each_peer_one_status_and_one_alerts_request()
    {
        var peer = Peer(FakePeer.Answering(StatusJson(2)));
        var api = await ApiAsync(Fast with { CacheFor = TimeSpan.FromMinutes(5) }, (2, peer.Api));

        var views = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => GetViewAsync(api)));
        var again = await GetViewAsync(api);

        Assert.All(views, v => Assert.Equal(HttpStatusCode.OK, v.Code));
        Assert.Equal(2, peer.Requests);
        Assert.Equal(views[0].View.GetProperty("generatedAt").GetString(), again.View.GetProperty("generatedAt").GetString());
    }

    [Fact]
    public async Task Without_application_services_the_view_is_of_this_server_alone()
    {
        var log = NewLog();
        await using var api = new NodeApi(new IPEndPoint(IPAddress.Loopback, 0), () => Status(1, NodeState.Initializing), log) { NetworkStatusOptions = Fast };
        await api.StartAsync();

        var (code, view) = await GetViewAsync(api);

        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal(JsonValueKind.Null, view.GetProperty("network").ValueKind);
        var only = Assert.Single(view.GetProperty("servers").EnumerateArray());
        Expect(only, "initializing", "self");
    }

    [Fact]
    public async Task The_route_is_public_takes_no_body_and_is_in_the_openapi_document()
    {
        var api = await ApiAsync(Fast);

        using var post = await _client.PostAsync(new Uri(api.BaseAddress, NodeApi.NetworkStatusPath), new StringContent("{}"));
        var document = await _client.GetStringAsync(new Uri(api.BaseAddress, NodeApi.OpenApiPath));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, post.StatusCode); // a GET route refuses a body first
        using var json = JsonDocument.Parse(document);
        Assert.Equal("getNetworkStatus", json.RootElement.GetProperty("paths").GetProperty(NodeApi.NetworkStatusPath).GetProperty("get").GetProperty("operationId").GetString());
    }

    private AlertLog OwnLog => _logs[0];

    private static void Expect(JsonElement server, string state, string reachability, string? problem = null)
    {
        var id = server.GetProperty("id").GetInt32();
        Assert.True(state == server.GetProperty("state").GetString(), $"server {id}: {server}");
        Assert.Equal(reachability, server.GetProperty("reachability").GetString());
        if (problem is null)
        {
            Assert.Equal(JsonValueKind.Null, server.GetProperty("problem").ValueKind);
        }
        else
        {
            Assert.Contains(problem, server.GetProperty("problem").GetString(), StringComparison.Ordinal);
            Assert.Equal(JsonValueKind.Null, server.GetProperty("status").ValueKind);
        }
    }

    private async Task<(HttpStatusCode Code, JsonElement View)> GetViewAsync(NodeApi api)
    {
        using var response = await _client.GetAsync(new Uri(api.BaseAddress, NodeApi.NetworkStatusPath));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        return (response.StatusCode, json.RootElement.Clone());
    }

    private FakePeer Peer(FakePeer peer)
    {
        _peers.Add(peer);
        return peer;
    }

    private AlertLog NewLog()
    {
        var log = AlertLog.Open(_temp.Combine($"alerts-{_logs.Count}.db"));
        _logs.Add(log);
        return log;
    }

    /// <summary>The API under test: server 1, its own log first, the peers as its cluster lists them.</summary>
    private async Task<NodeApi> ApiAsync(NetworkStatusOptions options, params (int Id, string? Api)[] peers)
    {
        var log = _logs.Count == 0 ? NewLog() : _logs[0];
        var services = new ClusterOnlyServices(peers);
        var api = new NodeApi(new IPEndPoint(IPAddress.Loopback, 0), () => Status(1, NodeState.Operational), log, services: services) { NetworkStatusOptions = options };
        _peers.Add(api);
        await api.StartAsync();
        services.Self = api.BaseAddress.ToString();
        return api;
    }

    /// <summary>A real API of server <paramref name="id"/> with its own alert log holding <paramref name="alerts"/>.</summary>
    private async Task<string> RealPeerAsync(int id, NodeState state, params Alert[] alerts)
    {
        if (_logs.Count == 0)
        {
            NewLog(); // the API under test's, first
        }

        var log = NewLog();
        foreach (var alert in alerts)
        {
            log.Record(alert, id, T0);
        }

        var api = new NodeApi(new IPEndPoint(IPAddress.Loopback, 0), () => Status(id, state), log);
        _peers.Add(api);
        await api.StartAsync();
        return api.BaseAddress.ToString();
    }

    private static NodeStatus Status(int id, NodeState state)
    {
        var (writeProtected, description) = NodeStatus.DescribeRom(RomProtection.FileModeOnly);
        return new NodeStatus(id, state, 4, T0, T0.AddMinutes(1), 12.5, "ab01", NodeStatus.Fingerprint([1]), [new PeerStatus(id == 1 ? 2 : 1, true, T0)], 0, writeProtected, description, T0, "1.0.0.0");
    }

    private static string StatusJson(int id) => JsonSerializer.Serialize(Status(id, NodeState.Operational), NodeApiJsonContext.Default.NodeStatus);
}
