using Proactive.Node.Configuration;
using Proactive.Node.Storage;

namespace Proactive.Node.Tests.Configuration;

public sealed class ClusterServerTests
{
    private static readonly string Key = StartKeyText.Format(ClusterConfigTests.StartKey(1));

    [Fact]
    public void The_short_form_gives_id_host_peer_port_and_key()
    {
        Assert.True(ClusterServer.TryParse($"3=node3.example:7003:{Key}", out var server, out var error), error);
        Assert.Equal(3, server.Id);
        Assert.Equal("node3.example", server.Host);
        Assert.Equal(7003, server.PeerPort);
        Assert.Null(server.ApiPort);
        Assert.Equal(Key, StartKeyText.Format(server.StartPublicKey));
        Assert.Equal("node3.example:7003", server.PeerEndpoint);
    }

    [Fact]
    public void The_long_form_adds_the_api_port_and_ipv6_hosts_go_in_brackets()
    {
        Assert.True(ClusterServer.TryParse($"2=[::1]:7002:8002:{Key.ToUpperInvariant()}", out var server, out var error), error);
        Assert.Equal("::1", server.Host);
        Assert.Equal(7002, server.PeerPort);
        Assert.Equal(8002, server.ApiPort);
        Assert.Equal("[::1]:7002", server.PeerEndpoint);
        Assert.Equal("[::1]:8002", server.ApiEndpoint);
    }

    [Fact]
    public void Host_names_are_lowercased()
    {
        Assert.True(ClusterServer.TryParse($"1=Node1.Example:7001:{Key}", out var server, out _));
        Assert.Equal("node1.example", server.Host);
    }

    public static TheoryData<string, string> BadSpecs => new()
    {
        { "", "empty" },
        { "127.0.0.1:7001:" + Key, "no server id" },
        { "0=127.0.0.1:7001:" + Key, "between 1 and 255" },
        { "256=127.0.0.1:7001:" + Key, "between 1 and 255" },
        { "x=127.0.0.1:7001:" + Key, "between 1 and 255" },
        { "1=127.0.0.1:" + Key, "expected I=HOST:PORT:VSTART" },
        { "1=127.0.0.1:0:" + Key, "peer port '0'" },
        { "1=127.0.0.1:65536:" + Key, "peer port '65536'" },
        { "1=127.0.0.1:70a:" + Key, "peer port '70a'" },
        { "1=127.0.0.1:7001:x:" + Key, "API port 'x'" },
        { "1=127.0.0.1:7001:abcdef", "not a valid V_start" },
        { "1=127.0.0.1:7001:" + new string('0', 64), "not a valid V_start" },
        { "1=::1:7001:" + Key, "IPv6 host in brackets" },
        { "1=[::1:7001:" + Key, "bracketed IPv6" },
        { "1=bad host:7001:" + Key, "not a DNS name or an IP address" },
        { "1=:7001:" + Key, "1 to 253 ASCII characters" },
        { "1=hôte:7001:" + Key, "ASCII" },
    };

    [Theory]
    [MemberData(nameof(BadSpecs))]
    public void A_malformed_server_is_refused_with_the_reason(string spec, string reason)
    {
        Assert.False(ClusterServer.TryParse(spec, out var server, out var error));
        Assert.Null(server);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
