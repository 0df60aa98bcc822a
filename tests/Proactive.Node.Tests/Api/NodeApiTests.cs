using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Proactive.Node.Api;
using Proactive.Node.Storage;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Tests.Api;

/// <summary>The application API on a real loopback socket, with a real alert log: the bodies are exactly what docs/API.md says.</summary>
public sealed class NodeApiTests : IAsyncLifetime, IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _temp = new();
    private readonly HttpClient _client = new();
    private AlertLog _log = null!;
    private NodeApi _api = null!;
    private NodeStatus _status = SampleStatus(NodeState.Operational);

    public async Task InitializeAsync()
    {
        _log = AlertLog.Open(_temp.Combine("alerts.db"));
        _api = new NodeApi(new IPEndPoint(IPAddress.Loopback, 0), () => _status, _log);
        await _api.StartAsync();
        _client.BaseAddress = _api.BaseAddress;
    }

    // xunit calls DisposeAsync, then Dispose: the API stops before the log it serves is closed.
    public async Task DisposeAsync() => await _api.DisposeAsync();

    public void Dispose()
    {
        _client.Dispose();
        _log.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task Status_has_exactly_the_documented_fields_in_camel_case()
    {
        _log.Record(AlertLogTests.Sample(), 1, T0);

        var (code, type, json) = await GetAsync("/v1/status");

        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal("application/json", type);
        var root = json.RootElement;
        Assert.Equal(
            ["serverId", "state", "period", "periodStartedAt", "nextRefreshAt", "lastRefreshDurationMs", "networkKey", "keyTableFingerprint", "peers", "alertCount", "romWriteProtected", "romProtection", "startedAt", "version", "peersReachable", "refused", "sharesPeriod", "sharesRefreshedAt", "refreshes", "keyTables", "applications"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, root.GetProperty("serverId").GetInt32());
        Assert.Equal("operational", root.GetProperty("state").GetString());
        Assert.Equal(4UL, root.GetProperty("period").GetUInt64());
        Assert.Equal(T0, root.GetProperty("periodStartedAt").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("lastRefreshDurationMs").ValueKind);
        Assert.Equal(1, root.GetProperty("alertCount").GetInt64()); // from the log, not from the status function
        Assert.Equal(1, root.GetProperty("peersReachable").GetInt32());
        var peer = root.GetProperty("peers")[0];
        Assert.Equal(["id", "reachable", "lastContactAt"], peer.EnumerateObject().Select(p => p.Name));
        Assert.Equal(NodeStatus.Fingerprint([1, 2, 3]), root.GetProperty("keyTableFingerprint").GetString());
        Assert.Equal(64, root.GetProperty("keyTableFingerprint").GetString()!.Length);
        Assert.False(root.GetProperty("romWriteProtected").GetBoolean());
        Assert.StartsWith("writable", root.GetProperty("romProtection").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(NodeState.Operational, HttpStatusCode.OK, true, "operational")]
    [InlineData(NodeState.Initializing, HttpStatusCode.ServiceUnavailable, false, "initializing")]
    [InlineData(NodeState.Recovering, HttpStatusCode.ServiceUnavailable, false, "recovering")]
    [InlineData(NodeState.Stopping, HttpStatusCode.ServiceUnavailable, false, "stopping")]
    public async Task Health_is_200_only_when_operational(NodeState state, HttpStatusCode expected, bool ok, string name)
    {
        _status = SampleStatus(state);

        var (code, _, json) = await GetAsync("/v1/health");

        Assert.Equal(expected, code);
        Assert.Equal(["ok", "state"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(ok, json.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal(name, json.RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Alerts_are_listed_with_filters_count_and_next()
    {
        var first = _log.Record(AlertLogTests.Sample(AlertType.Replay, period: 1, detail: "a"), 1, T0);
        var second = _log.Record(AlertLogTests.Sample(AlertType.InvalidShare, period: 2, detail: "b"), 1, T0);
        var third = _log.Record(AlertLogTests.Sample(AlertType.Replay, period: 2, detail: "c"), 1, T0);

        var (code, _, all) = await GetAsync("/v1/alerts");
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal(["alerts", "count", "next"], all.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal([first, second, third], Ids(all));
        Assert.Equal(3, all.RootElement.GetProperty("count").GetInt64());
        Assert.Equal(third, all.RootElement.GetProperty("next").GetInt64());
        Assert.Equal(
            ["id", "detectedAt", "lastDetectedAt", "reporter", "type", "culprit", "period", "instance", "detail", "evidence", "evidenceLength", "evidenceTruncated", "count"],
            all.RootElement.GetProperty("alerts")[0].EnumerateObject().Select(p => p.Name));

        var (_, _, replays) = await GetAsync("/v1/alerts?type=replay&after=" + first);
        Assert.Equal([third], Ids(replays));
        Assert.Equal(2, replays.RootElement.GetProperty("count").GetInt64());

        var (_, _, period2) = await GetAsync("/v1/alerts?period=2&limit=1");
        Assert.Equal([third], Ids(period2));

        var (_, _, empty) = await GetAsync("/v1/alerts?after=" + third);
        Assert.Empty(Ids(empty));
        Assert.Equal(third, empty.RootElement.GetProperty("next").GetInt64());
    }

    [Theory]
    [InlineData("after=-1", "'after'")]
    [InlineData("after=x", "'after'")]
    [InlineData("limit=0", "'limit'")]
    [InlineData("limit=1001", "'limit'")]
    [InlineData("limit=", "'limit'")]
    [InlineData("type=Sabotage", "'type'")]
    [InlineData("type=9", "'type'")]
    [InlineData("period=-2", "'period'")]
    [InlineData("peroid=2", "'peroid'")]
    [InlineData("limit=5&limit=6", "'limit'")]
    public async Task A_bad_query_is_a_400_problem(string query, string named)
    {
        var (code, type, json) = await GetAsync("/v1/alerts?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.Equal("application/problem+json", type);
        AssertProblem(json, "urn:proactive:problem:invalid-query", 400);
        Assert.Contains(named, json.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_route_is_a_404_problem_and_a_wrong_method_a_405_problem()
    {
        var (code, type, json) = await GetAsync("/v2/status");
        Assert.Equal(HttpStatusCode.NotFound, code);
        Assert.Equal("application/problem+json", type);
        AssertProblem(json, "urn:proactive:problem:not-found", 404);
        Assert.Equal("/v2/status", json.RootElement.GetProperty("instance").GetString());

        using var response = await _client.DeleteAsync(new Uri("/v1/status", UriKind.Relative));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("GET", response.Content.Headers.Allow.Single());
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        AssertProblem(problem, "urn:proactive:problem:method-not-allowed", 405);
    }

    [Fact]
    public async Task A_request_with_a_body_is_a_413_problem()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/status", UriKind.Relative)) { Content = new StringContent("{}") };
        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        AssertProblem(json, "urn:proactive:problem:body-not-accepted", 413);
    }

    [Fact]
    public async Task A_status_function_that_throws_is_a_500_problem_that_reveals_nothing()
    {
        _status = null!; // the status function then throws a NullReferenceException (with the log's count)

        var (code, type, json) = await GetAsync("/v1/status");

        Assert.Equal(HttpStatusCode.InternalServerError, code);
        Assert.Equal("application/problem+json", type);
        AssertProblem(json, "urn:proactive:problem:internal-error", 500);
        Assert.DoesNotContain("Null", json.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_bound_port_is_exposed_and_a_taken_port_fails_to_start()
    {
        Assert.NotEqual(0, _api.BoundEndpoint.Port);
        Assert.Equal(IPAddress.Loopback, _api.BoundEndpoint.Address);
        await using var second = new NodeApi(_api.BoundEndpoint, () => _status, _log);
        await Assert.ThrowsAnyAsync<IOException>(() => second.StartAsync());
        Assert.Throws<InvalidOperationException>(() => second.BoundEndpoint);
    }

    private static NodeStatus SampleStatus(NodeState state)
    {
        var (writeProtected, description) = NodeStatus.DescribeRom(RomProtection.Writable);
        return new NodeStatus(
            ServerId: 1,
            State: state,
            Period: 4,
            PeriodStartedAt: T0,
            NextRefreshAt: T0.AddMinutes(10),
            LastRefreshDurationMs: null,
            NetworkKey: "ab01",
            KeyTableFingerprint: NodeStatus.Fingerprint([1, 2, 3]),
            Peers: [new PeerStatus(2, true, T0), new PeerStatus(3, false, null)],
            AlertCount: 0,
            RomWriteProtected: writeProtected,
            RomProtection: description,
            StartedAt: T0,
            Version: NodeAssembly.Version);
    }

    private static void AssertProblem(JsonDocument json, string type, int status)
    {
        var root = json.RootElement;
        Assert.Equal(["type", "title", "status", "detail", "instance", "code"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(type, root.GetProperty("type").GetString());
        Assert.Equal(type["urn:proactive:problem:".Length..], root.GetProperty("code").GetString());
        Assert.Equal(status, root.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("title").GetString()));
    }

    private static long[] Ids(JsonDocument json) =>
        json.RootElement.GetProperty("alerts").EnumerateArray().Select(a => a.GetProperty("id").GetInt64()).ToArray();

    private async Task<(HttpStatusCode Code, string? MediaType, JsonDocument Json)> GetAsync(string pathAndQuery)
    {
        using var response = await _client.GetAsync(new Uri(pathAndQuery, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.Content.Headers.ContentType?.ToString(), JsonDocument.Parse(text));
    }
}
