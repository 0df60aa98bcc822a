using Proactive.Node.Observability;
using Proactive.Node.Transport;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Tests.Observability;

/// <summary>The node's instruments: every metric the issue asks for is there, moves when its event happens, and has bounded labels.</summary>
public sealed class NodeMetricsTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    private readonly NodeMetrics _metrics;
    private NodeReading _reading = new(3, "1.2.3", "operational", 7, T0)
    {
        CommittedPeriod = 7,
        PeriodStartedAt = T0.AddSeconds(70),
        NextRefreshAt = T0.AddSeconds(80),
        LastRefreshDuration = TimeSpan.FromMilliseconds(420),
        LoopHeartbeatAge = TimeSpan.FromMilliseconds(30),
        Peers =
        [
            new PeerReachability(1, new Uri("https://127.0.0.1:7001/"), true, T0.AddSeconds(75), T0.AddSeconds(76), null, null, 0, 2, 300, 40, 10, 1, 0),
            new PeerReachability(2, new Uri("https://127.0.0.1:7002/"), false, null, null, T0, "connection refused", 3, 5, 900, 0, 0, 4, 1),
        ],
        Listener = new PeerListenerStatistics(20, 60, 1, 2, 3, 4, 5),
        Ledger = new LedgerReading(7, 12, 3, 2, 9, 4, 1),
        ParkedFrames = 6,
    };

    public NodeMetricsTests() => _metrics = new NodeMetrics(() => _reading, new FixedTime(T0.AddSeconds(100)));

    public void Dispose() => _metrics.Dispose();

    private IReadOnlyDictionary<string, PrometheusFamily> Scrape() => PrometheusTextParser.Parse(_metrics.Exporter.Collect());

    [Fact]
    public void Every_metric_the_issue_names_is_exported_with_help_and_type()
    {
        var scrape = Scrape();

        string[] expected =
        [
            "proactive_refresh_duration_seconds", "proactive_refresh_last_duration_seconds", "proactive_period", "proactive_alerts_total",
            "proactive_protocol_messages_total", "proactive_protocol_messages_dropped_total", "proactive_api_requests_total",
            "proactive_api_request_duration_seconds", "proactive_signature_duration_seconds", "proactive_node_state", "proactive_node_info",
            "proactive_peers_reachable", "proactive_peer_up", "proactive_ledger_period", "proactive_ledger_next_sequence",
            "proactive_applications", "proactive_secrets", "proactive_uptime_seconds", "proactive_start_time_seconds",
            "proactive_loop_heartbeat_age_seconds", "proactive_loop_errors_total",
        ];
        Assert.All(expected, name => Assert.True(scrape.ContainsKey(name), name + " is missing"));
        Assert.All(scrape.Values, family => Assert.False(string.IsNullOrEmpty(family.Help), family.Name + " has no HELP"));
        Assert.Equal("histogram", scrape["proactive_refresh_duration_seconds"].Type);
        Assert.Equal("counter", scrape["proactive_alerts_total"].Type);
        Assert.Equal("gauge", scrape["proactive_period"].Type);
    }

    [Fact]
    public void Gauges_show_the_reading()
    {
        var scrape = Scrape();

        Assert.Equal(7, scrape.Value("proactive_period"));
        Assert.Equal(7, scrape.Value("proactive_period_committed"));
        Assert.Equal(0.42, scrape.Value("proactive_refresh_last_duration_seconds"));
        Assert.Equal(T0.AddSeconds(70).ToUnixTimeSeconds(), scrape.Value("proactive_period_start_time_seconds"));
        Assert.Equal(T0.ToUnixTimeSeconds(), scrape.Value("proactive_start_time_seconds"));
        Assert.Equal(1, scrape.Value("proactive_node_info", "server=3", "version=1.2.3"));
        Assert.Equal(1, scrape.Value("proactive_node_state", "state=operational"));
        Assert.Equal(0, scrape.Sum("proactive_node_state", "state=recovering"));
        Assert.Equal(NodeReading.States.Count, scrape["proactive_node_state"].Samples.Count);
        Assert.Equal(2, scrape.Value("proactive_peers"));
        Assert.Equal(1, scrape.Value("proactive_peers_reachable"));
        Assert.Equal(1, scrape.Value("proactive_peer_up", "peer=1"));
        Assert.Equal(0, scrape.Value("proactive_peer_up", "peer=2"));
        Assert.Equal(5, scrape.Value("proactive_peer_queued_frames", "peer=2"));
        Assert.Equal(40, scrape.Value("proactive_peer_frames_sent_total", "peer=1"));
        Assert.Equal(4, scrape.Value("proactive_peer_frames_dropped_total", "peer=2"));
        Assert.Equal(T0.AddSeconds(76).ToUnixTimeSeconds(), scrape.Value("proactive_peer_last_contact_time_seconds", "peer=1"));
        Assert.Null(scrape.Value("proactive_peer_last_contact_time_seconds", "peer=2"));
        Assert.Equal(60, scrape.Value("proactive_listener_frames_accepted_total"));
        Assert.Equal(2, scrape.Value("proactive_listener_requests_refused_total", "reason=unpinned"));
        Assert.Equal(12, scrape.Value("proactive_ledger_next_sequence"));
        Assert.Equal(3, scrape.Value("proactive_ledger_pending_requests"));
        Assert.Equal(2, scrape.Value("proactive_applications"));
        Assert.Equal(9, scrape.Value("proactive_data_entries"));
        Assert.Equal(4, scrape.Value("proactive_secrets"));
        Assert.Equal(1, scrape.Value("proactive_app_keys"));
        Assert.Equal(6, scrape.Value("proactive_parked_frames"));
        Assert.Equal(0.03, scrape.Value("proactive_loop_heartbeat_age_seconds"));
        Assert.Equal(100, scrape.Value("proactive_uptime_seconds"));
    }

    [Fact]
    public void Gauges_of_what_is_not_known_yet_have_no_sample()
    {
        _reading = new NodeReading(1, "1.0.0", "starting", 0, T0);

        var scrape = Scrape();

        Assert.Equal(0, scrape.Value("proactive_period"));
        Assert.Equal(1, scrape.Value("proactive_node_state", "state=starting"));
        Assert.Empty(scrape["proactive_period_committed"].Samples);
        Assert.Empty(scrape["proactive_refresh_last_duration_seconds"].Samples);
        Assert.Empty(scrape["proactive_ledger_period"].Samples);
        Assert.Empty(scrape["proactive_peer_up"].Samples);
        Assert.Equal(0, scrape.Value("proactive_peers"));
    }

    [Fact]
    public void Refreshes_fill_the_histogram_in_seconds()
    {
        _metrics.RefreshCommitted(TimeSpan.FromMilliseconds(300));
        _metrics.RefreshCommitted(TimeSpan.FromSeconds(4));

        var scrape = Scrape();

        Assert.Equal(2, scrape.Value("proactive_refresh_duration_seconds_count"));
        Assert.Equal(4.3, scrape.Value("proactive_refresh_duration_seconds_sum")!.Value, 9);
        Assert.Equal(1, scrape.Value("proactive_refresh_duration_seconds_bucket", "le=0.5"));
        Assert.Equal(2, scrape.Value("proactive_refresh_duration_seconds_bucket", "le=5"));
    }

    [Fact]
    public void Every_alert_type_starts_at_zero_and_counts_up_when_raised()
    {
        Assert.All(Enum.GetValues<AlertType>(), type => Assert.Equal(0, Scrape().Value("proactive_alerts_total", "type=" + type)));

        _metrics.AlertRaised(AlertType.Equivocation);
        _metrics.AlertRaised(AlertType.Equivocation);
        _metrics.AlertRaised(AlertType.CorruptedShares);

        var scrape = Scrape();
        Assert.Equal(2, scrape.Value("proactive_alerts_total", "type=Equivocation"));
        Assert.Equal(1, scrape.Value("proactive_alerts_total", "type=CorruptedShares"));
        Assert.Equal(Enum.GetValues<AlertType>().Length, scrape["proactive_alerts_total"].Samples.Count);
    }

    [Fact]
    public void Messages_count_by_protocol_and_outcome_with_a_reason_class()
    {
        _metrics.MessageAccepted(ProtocolKind.Refresh);
        _metrics.MessageAccepted(ProtocolKind.Refresh);
        _metrics.MessageAccepted(ProtocolKind.AppSigning);
        _metrics.MessageRefused("envelope BadSignature");
        _metrics.MessageRefused("duplicate envelope");
        _metrics.MessageRefused("something nobody said before: 0xdeadbeef");
        _metrics.MessageDropped(ProtocolKind.Dkg, "instance finished");
        _metrics.MessageDropped(ProtocolKind.Ledger, "an unheard-of reason");

        var scrape = Scrape();

        Assert.Equal(2, scrape.Value("proactive_protocol_messages_total", "protocol=refresh", "outcome=accepted", "reason=none"));
        Assert.Equal(1, scrape.Value("proactive_protocol_messages_total", "protocol=app-signing", "outcome=accepted"));
        Assert.Equal(1, scrape.Value("proactive_protocol_messages_total", "outcome=refused", "reason=bad-signature"));
        Assert.Equal(1, scrape.Value("proactive_protocol_messages_total", "outcome=refused", "reason=duplicate"));
        Assert.Equal(1, scrape.Value("proactive_protocol_messages_total", "outcome=refused", "reason=other"));
        Assert.Equal(1, scrape.Value("proactive_protocol_messages_dropped_total", "protocol=dkg", "reason=instance-finished"));
        Assert.Equal(1, scrape.Value("proactive_protocol_messages_dropped_total", "protocol=ledger", "reason=other"));
    }

    [Theory]
    [InlineData("open frame refused", "invalid-open-frame")]
    [InlineData("open frame of another sender", "wrong-sender")]
    [InlineData("open frame StalePeriod", "stale-period")]
    [InlineData("relayed envelope", "relayed")]
    [InlineData("duplicate envelope", "duplicate")]
    [InlineData("parking full", "parking-full")]
    [InlineData("envelope Malformed", "malformed")]
    [InlineData("envelope NotForThisServer", "not-for-this-server")]
    [InlineData("envelope StalePeriod", "stale-period")]
    [InlineData("envelope 8", "other")]
    [InlineData("envelope Nonsense", "other")]
    [InlineData("", "other")]
    public void Refusal_reasons_map_to_a_fixed_set_of_classes(string counter, string expected) =>
        Assert.Equal(expected, NodeMetrics.RefusalClass(counter));

    [Theory]
    [InlineData("instance finished", "instance-finished")]
    [InlineData("replay of an old period", "old-period")]
    [InlineData("buffered until the instance starts", "buffered")]
    [InlineData("buffer full", "buffer-full")]
    [InlineData("unknown instance", "unknown-instance")]
    [InlineData("bootstrap message for no instance", "unknown-instance")]
    [InlineData("anything else", "other")]
    public void Drop_reasons_map_to_a_fixed_set_of_classes(string reason, string expected) =>
        Assert.Equal(expected, NodeMetrics.DropClass(reason));

    [Fact]
    public void Api_requests_count_by_route_template_and_status_and_signing_latency_by_outcome()
    {
        _metrics.ApiRequestServed("POST", "/v1/keys/{id}/sign", 200, TimeSpan.FromMilliseconds(40), "sign");
        _metrics.ApiRequestServed("POST", "/v1/keys/{id}/sign", 404, TimeSpan.FromMilliseconds(2), "sign");
        _metrics.ApiRequestServed("GET", "/v1/status", 200, TimeSpan.FromMilliseconds(1));
        _metrics.ApiRequestServed("BREW", null, 404, TimeSpan.FromMilliseconds(1));
        _metrics.ApiRequestServed("DELETE", null, 404, TimeSpan.FromMilliseconds(1));
        _metrics.ApiRequestServed("GET", "/v1/time", NodeMetrics.ClientClosedRequest, TimeSpan.FromSeconds(3));

        var scrape = Scrape();

        Assert.Equal(1, scrape.Value("proactive_api_requests_total", "route=/v1/keys/{id}/sign", "status=200"));
        Assert.Equal(1, scrape.Value("proactive_api_requests_total", "route=/v1/keys/{id}/sign", "status=404"));
        Assert.Equal(1, scrape.Value("proactive_api_requests_total", "method=other", "route=unmatched"));
        Assert.Equal(1, scrape.Value("proactive_api_requests_total", "method=DELETE", "route=unmatched"));
        Assert.Equal(1, scrape.Value("proactive_api_requests_total", "route=/v1/time", "status=499"));
        Assert.Equal(2, scrape.Value("proactive_api_request_duration_seconds_count", "method=POST", "route=/v1/keys/{id}/sign"));
        Assert.Equal(1, scrape.Value("proactive_signature_duration_seconds_count", "operation=sign", "outcome=signed"));
        Assert.Equal(1, scrape.Value("proactive_signature_duration_seconds_count", "operation=sign", "outcome=refused"));
        Assert.Equal(0.04, scrape.Value("proactive_signature_duration_seconds_sum", "operation=sign", "outcome=signed")!.Value, 9);
        Assert.DoesNotContain(scrape["proactive_api_requests_total"].Samples, s => s.Labels["method"] == "BREW");
    }

    [Fact]
    public void Two_nodes_in_one_process_export_only_their_own_measurements()
    {
        using var other = new NodeMetrics(() => _reading);
        other.AlertRaised(AlertType.Replay);

        Assert.Equal(0, Scrape().Value("proactive_alerts_total", "type=Replay"));
        Assert.Equal(1, PrometheusTextParser.Parse(other.Exporter.Collect()).Value("proactive_alerts_total", "type=Replay"));
    }
}

/// <summary>A clock that always says the same wall time (timestamps still run, for the reading's cache).</summary>
internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
