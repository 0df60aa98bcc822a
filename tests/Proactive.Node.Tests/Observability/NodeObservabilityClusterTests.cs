using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Proactive.Node.Tests.Support;

namespace Proactive.Node.Tests.Observability;

/// <summary>The metrics and probes of real nodes (the ledger routes' in-process network): they move when the node works, and show nothing secret.</summary>
[Collection(LedgerClusterCollection.Name)]
public sealed partial class NodeObservabilityClusterTests(LedgerClusterFixture fixture)
{
    [Fact]
    public async Task A_signature_shows_in_the_metrics_with_its_latency_its_route_and_the_protocol_messages_behind_it()
    {
        var before = await ScrapeAsync(1);
        var signatures = before.Value("proactive_signature_duration_seconds_count", "operation=sign", "outcome=signed") ?? 0;

        using var signed = await fixture.ExpectAsync(HttpStatusCode.OK, fixture.Signed(HttpMethod.Post, "/v1/keys/k/sign", """{"message":"bWV0cmljcw=="}"""), server: 1);
        var (text, after) = await ScrapeTextAsync(1);

        Assert.Equal(signatures + 1, after.Value("proactive_signature_duration_seconds_count", "operation=sign", "outcome=signed"));
        Assert.True(after.Value("proactive_signature_duration_seconds_sum", "operation=sign", "outcome=signed") > 0);
        Assert.True(after.Value("proactive_api_requests_total", "method=POST", "route=/v1/keys/{id}/sign", "status=200") >= 1);
        Assert.True(after.Sum("proactive_protocol_messages_total", "protocol=app-signing", "outcome=accepted") > before.Sum("proactive_protocol_messages_total", "protocol=app-signing", "outcome=accepted"));
        Assert.True(after.Sum("proactive_protocol_messages_total", "protocol=ledger", "outcome=accepted") > 0);
        Assert.Equal(1, after.Value("proactive_node_state", "state=operational"));
        Assert.Equal(1, after.Value("proactive_peers"));
        Assert.True(after.Value("proactive_applications") >= 1);
        Assert.True(after.Value("proactive_app_keys") >= 1);
        Assert.True(after.Value("proactive_secrets") >= 2);
        Assert.True(after.Value("proactive_ledger_next_sequence") >= 1);
        Assert.True(after.Value("proactive_loop_heartbeat_age_seconds") < 30);
        Assert.True(after.Value("proactive_uptime_seconds") > 0);

        // What the API serves is the node's own meter.
        var direct = PrometheusTextParser.Parse(fixture.Cluster.Nodes[1].Metrics.Exporter.Collect());
        Assert.Equal(after.Value("proactive_signature_duration_seconds_count", "operation=sign", "outcome=signed"), direct.Value("proactive_signature_duration_seconds_count", "operation=sign", "outcome=signed"));

        // Nothing secret or identifying: no handle, application id, key, share or fingerprint (no long hex at all).
        Assert.DoesNotContain(fixture.Handle, text, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.ApplicationIdHex, text, StringComparison.Ordinal);
        Assert.DoesNotContain("k/sign", text.Replace("{id}/sign", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.False(LongHex().IsMatch(text), LongHex().Match(text).Value);
    }

    [Fact]
    public async Task Both_servers_are_live_and_ready()
    {
        foreach (var server in fixture.Cluster.Nodes.Keys)
        {
            foreach (var (path, member, reason) in new[] { ("/healthz", "alive", "alive"), ("/readyz", "ready", "ready") })
            {
                using var response = await fixture.Http.GetAsync(new Uri(fixture.Cluster.Api(server), path));
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"server {server} {path}: {body.RootElement}");
                Assert.True(body.RootElement.GetProperty(member).GetBoolean());
                Assert.Equal(reason, body.RootElement.GetProperty("reason").GetString());
            }
        }
    }

    private async Task<IReadOnlyDictionary<string, PrometheusFamily>> ScrapeAsync(int server) => (await ScrapeTextAsync(server)).Scrape;

    private async Task<(string Text, IReadOnlyDictionary<string, PrometheusFamily> Scrape)> ScrapeTextAsync(int server)
    {
        var text = await fixture.Http.GetStringAsync(new Uri(fixture.Cluster.Api(server), "/metrics"));
        return (text, PrometheusTextParser.Parse(text));
    }

    [GeneratedRegex("[0-9a-fA-F]{24,}")]
    private static partial Regex LongHex();
}
