using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Proactive.Crypto.Signing;
using Proactive.Node.Configuration;
using Proactive.Node.Storage;

namespace Proactive.Node.Tests.Configuration;

/// <summary>The constants C: building, the file round trip, the network id, and every validation rule by name.</summary>
public sealed class ClusterConfigTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    internal static Ed25519PublicKey StartKey(int seed)
    {
        using var key = Ed25519PrivateKey.Generate(new SeededRandom((ulong)seed));
        return key.PublicKey;
    }

    internal static List<ClusterServer> Servers(int n, int? apiBase = null) =>
        [.. Enumerable.Range(1, n).Select(i => new ClusterServer(i, "127.0.0.1", 7000 + i, apiBase + i, StartKey(i)))];

    private static ClusterConfig Create(int n = 5, int? t = null, int? f = null, string period = "1h", string suite = "ed25519", DateTimeOffset? genesis = null)
    {
        Assert.True(PeriodLength.TryParse(period, out var length, out _));
        Assert.True(ClusterConfig.TryCreate(Servers(n, apiBase: 8000), t, f, length, suite, genesis, out var config, out var errors), string.Join("; ", errors));
        return config;
    }

    private static IReadOnlyList<string> CreateErrors(IReadOnlyList<ClusterServer> servers, int? t = null, int? f = null, TimeSpan? period = null, string suite = "ed25519", DateTimeOffset? genesis = null)
    {
        Assert.False(ClusterConfig.TryCreate(servers, t, f, period ?? TimeSpan.FromHours(1), suite, genesis, out var config, out var errors));
        Assert.Null(config);
        Assert.NotEmpty(errors);
        return errors;
    }

    [Fact]
    public void Thresholds_default_to_the_briefs_rule()
    {
        var config = Create(n: 5);
        Assert.Equal((5, 2, 1), (config.Parameters.ServerCount, config.Parameters.Threshold, config.Parameters.Faults));
        var seven = Create(n: 7);
        Assert.Equal((3, 2), (seven.Parameters.Threshold, seven.Parameters.Faults));
    }

    [Fact]
    public void The_file_round_trips_and_loads()
    {
        var config = Create(n: 4, t: 1, f: 1, period: "30s", suite: "p256", genesis: new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var path = _temp.Combine("cluster.json");
        File.WriteAllBytes(path, config.ToJson());

        var loaded = ClusterConfig.Load(path);
        Assert.Equal(config.NetworkId, loaded.NetworkId);
        Assert.Equal(config.EncodeCanonical(), loaded.EncodeCanonical());
        Assert.Equal(config.ToJson(), loaded.ToJson());
        Assert.Equal("p256", loaded.SuiteName);
        Assert.Equal(Crypto.Frost.Ciphersuite.P256, loaded.Suite);
        Assert.Equal(TimeSpan.FromSeconds(30), loaded.Period);
        Assert.Equal(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero), loaded.Genesis);
        Assert.Equal(8003, loaded.Server(3).ApiPort);
        Assert.Equal(StartKey(3), loaded.Server(3).StartPublicKey);

        using var json = JsonDocument.Parse(File.ReadAllBytes(path));
        Assert.Equal("proactive-cluster-v1", json.RootElement.GetProperty("format").GetString());
        Assert.Equal(30, json.RootElement.GetProperty("periodSeconds").GetInt32());
        Assert.Equal("2030-01-02T03:04:05Z", json.RootElement.GetProperty("genesis").GetString());
    }

    [Fact]
    public void The_network_id_is_derived_from_the_content()
    {
        Assert.Equal(Create().NetworkId, Create().NetworkId);
        Assert.NotEqual(Create().NetworkId, Create(period: "2h").NetworkId);
        Assert.NotEqual(Create().NetworkId, Create(t: 3).NetworkId);
        Assert.NotEqual(Create().NetworkId, Create(suite: "ristretto255").NetworkId);
        Assert.NotEqual(Create().NetworkId, Create(genesis: DateTimeOffset.UnixEpoch.AddDays(20000)).NetworkId);

        Assert.True(ClusterConfig.TryCreate(Servers(5), null, null, TimeSpan.FromHours(1), "ed25519", null, out var withoutApi, out _));
        Assert.NotEqual(Create().NetworkId, withoutApi.NetworkId);
    }

    [Fact]
    public void The_canonical_encoding_has_the_documented_layout()
    {
        var config = Create(n: 4, t: 1, f: 1, period: "30s");
        var bytes = config.EncodeCanonical();
        Assert.Equal(ClusterConfig.EncodingVersion, bytes[0]);
        Assert.Equal((byte)Crypto.Groups.GroupId.Ed25519, bytes[1]);
        Assert.Equal(new byte[] { 0, 4, 0, 1, 0, 1 }, bytes[2..8]);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 30 }, bytes[8..16]);
        Assert.Equal(0, bytes[16]); // no genesis
        Assert.Equal(config.NetworkId.ToArray(), bytes[17..33]);
        var host = Encoding.ASCII.GetBytes("127.0.0.1");
        var server = 2 + 1 + host.Length + 2 + 2 + 32;
        Assert.Equal(33 + (4 * server), bytes.Length);
        Assert.Equal(new byte[] { 0, 1, (byte)host.Length }, bytes[33..36]);
    }

    [Fact]
    public void A_hand_edited_file_whose_id_no_longer_matches_is_refused()
    {
        var json = JsonNode.Parse(Create().ToJson())!;
        json["servers"]![1]!["host"] = "10.0.0.2";
        var errors = ParseErrors(json.ToJsonString());
        Assert.Contains(errors, e => e.StartsWith("networkId:", StringComparison.Ordinal) && e.Contains("edited", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(3, 1, 1, "n >= 3f + 1")]
    [InlineData(4, 0, 1, "f <= t")]
    [InlineData(4, 3, 1, "t + 1 <= n - f")]
    [InlineData(4, -1, 0, "cannot be negative")]
    public void Each_threshold_rule_is_named_when_it_fails(int n, int t, int f, string rule)
    {
        var errors = CreateErrors(Servers(n), t, f);
        Assert.Contains(errors, e => e.Contains(rule, StringComparison.Ordinal));
    }

    [Fact]
    public void A_network_without_servers_is_refused()
    {
        Assert.Contains(CreateErrors([]), e => e.Contains("at least one server", StringComparison.Ordinal));
    }

    [Fact]
    public void Duplicate_ids_are_refused_and_the_gap_named()
    {
        var servers = Servers(4);
        servers[3] = new ClusterServer(2, "127.0.0.1", 7999, null, StartKey(44));
        var errors = CreateErrors(servers);
        Assert.Contains("server ids are 1..n: id 2 appears more than once.", errors);
        Assert.Contains("server ids are 1..n: missing 4.", errors);
    }

    [Fact]
    public void An_id_outside_1_to_n_is_refused()
    {
        var servers = Servers(4);
        servers[0] = new ClusterServer(9, "127.0.0.1", 7009, null, StartKey(9));
        Assert.Contains(CreateErrors(servers), e => e.Contains("id 9 is outside 1..4", StringComparison.Ordinal));
    }

    [Fact]
    public void A_shared_start_key_is_refused()
    {
        var servers = Servers(4);
        servers[2] = new ClusterServer(3, "127.0.0.1", 7003, null, StartKey(1));
        Assert.Contains(CreateErrors(servers), e => e.StartsWith("start keys are unique: servers 1 and 3", StringComparison.Ordinal));
    }

    [Fact]
    public void A_shared_endpoint_is_refused_whether_peer_or_api_port()
    {
        var servers = Servers(4, apiBase: 8000);
        servers[1] = new ClusterServer(2, "127.0.0.1", 7001, 8002, StartKey(2));
        servers[3] = new ClusterServer(4, "127.0.0.1", 7004, 7003, StartKey(4));
        var errors = CreateErrors(servers);
        Assert.Contains(errors, e => e.StartsWith("endpoints are unique: server 2's peer port and server 1's peer port", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("endpoints are unique: server 4's API port and server 3's peer port", StringComparison.Ordinal));

        // The same port on different hosts is fine (one server per machine).
        var spread = Enumerable.Range(1, 4).Select(i => new ClusterServer(i, $"10.0.0.{i}", 7000, 8000, StartKey(i))).ToList();
        Assert.True(ClusterConfig.TryCreate(spread, null, null, TimeSpan.FromHours(1), "ed25519", null, out _, out var none), string.Join("; ", none));
    }

    [Fact]
    public void Bad_hosts_and_ports_are_refused()
    {
        var servers = Servers(4);
        servers[0] = new ClusterServer(1, "not a host", 7001, null, StartKey(1));
        servers[1] = new ClusterServer(2, "127.0.0.1", 0, 70000, StartKey(2));
        var errors = CreateErrors(servers);
        Assert.Contains(errors, e => e.StartsWith("server 1: the host 'not a host'", StringComparison.Ordinal));
        Assert.Contains("server 2: peerPort 0 is outside 1..65535.", errors);
        Assert.Contains("server 2: apiPort 70000 is outside 1..65535.", errors);
    }

    [Fact]
    public void Period_suite_and_genesis_are_checked()
    {
        var errors = CreateErrors(Servers(4), period: TimeSpan.FromMilliseconds(1500), suite: "rsa", genesis: new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.FromHours(2)));
        Assert.Contains(errors, e => e.StartsWith("period:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("suite: 'rsa' is unknown", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("genesis:", StringComparison.Ordinal));
    }

    public static TheoryData<string, string> BadFiles()
    {
        var valid = JsonNode.Parse(Create(n: 4).ToJson())!.AsObject();
        JsonObject With(Action<JsonObject> edit)
        {
            var copy = valid.DeepClone().AsObject();
            edit(copy);
            return copy;
        }

        return new TheoryData<string, string>
        {
            { "", "not valid JSON" },
            { "{\"format\":", "not valid JSON" },
            { "[1,2]", "must be a JSON object" },
            { With(o => o["format"] = "proactive-cluster-v9").ToJsonString(), "this build reads \"proactive-cluster-v1\"" },
            { With(o => o.Remove("threshold")).ToJsonString(), "missing field 'threshold'" },
            { With(o => o["faults"] = "1").ToJsonString(), "'faults' must be an integer" },
            { With(o => o["periodSeconds"] = 1.5).ToJsonString(), "'periodSeconds' must be an integer" },
            { With(o => o["periodSeconds"] = 0).ToJsonString(), "period:" },
            { With(o => o["extra"] = true).ToJsonString(), "unknown field 'extra'" },
            { With(o => o["genesis"] = "tomorrow").ToJsonString(), "genesis:" },
            { With(o => o["servers"] = new JsonObject()).ToJsonString(), "servers: must be an array" },
            { With(o => o["servers"]![0] = 5).ToJsonString(), "servers[0]: must be an object" },
            { With(o => o["servers"]![1]!["startPublicKey"] = "00").ToJsonString(), "server 2: startPublicKey is not a valid V_start" },
            { With(o => o["servers"]![1]!.AsObject().Remove("host")).ToJsonString(), "server 2: missing field 'host'" },
            { With(o => o["servers"]![1]!["nickname"] = "b").ToJsonString(), "server 2: unknown field 'nickname'" },
            { With(o => o["servers"]![2]!["id"] = 2).ToJsonString(), "id 2 appears more than once" },
            { With(o => o["servers"]![2]!["id"] = 99999999999).ToJsonString(), "'id' is out of range" },
            { With(o => o["threshold"] = 3).ToJsonString(), "t + 1 <= n - f" },
            { "{\"format\":\"proactive-cluster-v1\",\"format\":\"proactive-cluster-v1\"}", "field 'format' appears twice" },
            { "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "not valid JSON" },
        };
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_malformed_file_is_refused_naming_the_problem(string text, string problem)
    {
        var errors = ParseErrors(text);
        Assert.Contains(errors, e => e.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var json = JsonNode.Parse(Create(n: 4).ToJson())!.AsObject();
        json["suite"] = "rsa";
        json["servers"]![0]!["peerPort"] = "7001";
        json["servers"]![3]!["startPublicKey"] = "zz";
        var errors = ParseErrors(json.ToJsonString());
        Assert.Contains(errors, e => e.StartsWith("suite: 'rsa' is unknown", StringComparison.Ordinal));
        Assert.Contains("server 1: 'peerPort' must be an integer.", errors);
        Assert.Contains(errors, e => e.StartsWith("server 4: startPublicKey is not a valid V_start", StringComparison.Ordinal));
    }

    [Fact]
    public void Loading_a_missing_or_broken_file_throws_one_exception_listing_the_problems()
    {
        var missing = Assert.Throws<ClusterConfigException>(() => ClusterConfig.Load(_temp.Combine("absent.json")));
        Assert.Contains("cannot read the file", missing.Message, StringComparison.Ordinal);

        var path = _temp.Combine("broken.json");
        File.WriteAllText(path, "{\"format\":\"proactive-cluster-v1\"}");
        var broken = Assert.Throws<ClusterConfigException>(() => ClusterConfig.Load(path));
        Assert.Equal(path, broken.Path);
        Assert.Contains("missing field 'servers'", broken.Message, StringComparison.Ordinal);
        Assert.True(broken.Errors.Count > 1);
    }

    [Fact]
    public void Random_damage_never_crashes_the_parser()
    {
        var valid = Create(n: 4).ToJson();
        var random = new SeededRandom(7);
        Span<byte> pick = stackalloc byte[3];
        for (var i = 0; i < 1000; i++)
        {
            var bytes = (byte[])valid.Clone();
            random.Fill(pick);
            bytes[((pick[0] << 8) | pick[1]) % bytes.Length] = pick[2];
            var parsed = ClusterConfig.TryParse(bytes, out var config, out var errors);
            Assert.True(parsed ? config is not null : errors.Count > 0);
        }
    }

    private static IReadOnlyList<string> ParseErrors(string text)
    {
        Assert.False(ClusterConfig.TryParse(Encoding.UTF8.GetBytes(text), out var config, out var errors));
        Assert.Null(config);
        Assert.NotEmpty(errors);
        return errors;
    }
}
