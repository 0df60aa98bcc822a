using System.Diagnostics.Metrics;
using Proactive.Node.Observability;

namespace Proactive.Node.Tests.Observability;

/// <summary>The hand-written exporter: what it writes is the Prometheus text format, exactly, for every kind of instrument.</summary>
public sealed class PrometheusExporterTests : IDisposable
{
    private readonly Meter _meter = new("Proactive.Test.Exporter");
    private readonly PrometheusExporter _exporter;

    public PrometheusExporterTests() => _exporter = new PrometheusExporter(_meter);

    public void Dispose()
    {
        _exporter.Dispose();
        _meter.Dispose();
    }

    [Fact]
    public void Counters_gauges_and_histograms_come_out_as_the_text_format_with_help_type_and_values()
    {
        var counter = _meter.CreateCounter<long>("test.requests", "{request}", "Requests served.");
        var upDown = _meter.CreateUpDownCounter<int>("test.inflight", "{request}", "Requests in flight.");
        var histogram = _meter.CreateHistogram("test.duration", "s", "How long.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 1, 10] });
        _meter.CreateObservableGauge("test.temperature", () => 21.5, "Cel", "The room.");
        _meter.CreateObservableCounter("test.bytes.read", () => 4096L, "By", "Bytes read.");

        counter.Add(2, new KeyValuePair<string, object?>("route", "/a"));
        counter.Add(3, new KeyValuePair<string, object?>("route", "/a"));
        counter.Add(1, new KeyValuePair<string, object?>("route", "/b"));
        upDown.Add(5);
        upDown.Add(-2);
        foreach (var value in new[] { 0.05, 0.1, 0.5, 5, 50 })
        {
            histogram.Record(value, new KeyValuePair<string, object?>("kind", "x"));
        }

        var text = _exporter.Collect();
        var scrape = PrometheusTextParser.Parse(text);

        Assert.Equal("counter", scrape["test_requests_total"].Type);
        Assert.Equal("Requests served.", scrape["test_requests_total"].Help);
        Assert.Equal(5, scrape.Value("test_requests_total", "route=/a"));
        Assert.Equal(1, scrape.Value("test_requests_total", "route=/b"));
        Assert.Equal("gauge", scrape["test_inflight"].Type);
        Assert.Equal(3, scrape.Value("test_inflight"));
        Assert.Equal("gauge", scrape["test_temperature_cel"].Type);
        Assert.Equal(21.5, scrape.Value("test_temperature_cel"));
        Assert.Equal("counter", scrape["test_bytes_read_bytes_total"].Type);
        Assert.Equal(4096, scrape.Value("test_bytes_read_bytes_total"));

        Assert.Equal("histogram", scrape["test_duration_seconds"].Type);
        // Cumulative: le 0.1 holds 0.05 and 0.1 (bounds are inclusive), le 1 adds 0.5, le 10 adds 5, +Inf adds 50.
        Assert.Equal(2, scrape.Value("test_duration_seconds_bucket", "kind=x", "le=0.1"));
        Assert.Equal(3, scrape.Value("test_duration_seconds_bucket", "kind=x", "le=1"));
        Assert.Equal(4, scrape.Value("test_duration_seconds_bucket", "kind=x", "le=10"));
        Assert.Equal(5, scrape.Value("test_duration_seconds_bucket", "kind=x", "le=+Inf"));
        Assert.Equal(5, scrape.Value("test_duration_seconds_count", "kind=x"));
        Assert.Equal(55.65, scrape.Value("test_duration_seconds_sum", "kind=x")!.Value, 9);
        Assert.Contains("test_duration_seconds_bucket{kind=\"x\",le=\"+Inf\"} 5\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Label_values_and_help_texts_are_escaped_and_read_back_unchanged()
    {
        const string Nasty = "back\\slash \"quoted\"\nnew line, {braces}=and,commas ünïcödé";
        var counter = _meter.CreateCounter<long>("test.escaped", null, "Help with a \\ backslash,\na line feed and \"quotes\".");
        counter.Add(1, new KeyValuePair<string, object?>("value", Nasty), new KeyValuePair<string, object?>("bad-label.name", 7));

        var text = _exporter.Collect();
        var scrape = PrometheusTextParser.Parse(text);

        var sample = Assert.Single(scrape["test_escaped_total"].Samples);
        Assert.Equal(Nasty, sample.Labels["value"]);
        Assert.Equal("7", sample.Labels["bad_label_name"]);
        Assert.Equal("Help with a \\ backslash,\na line feed and \"quotes\".", scrape["test_escaped_total"].Help);
        Assert.Contains("# HELP test_escaped_total Help with a \\\\ backslash,\\na line feed and \"quotes\".\n", text, StringComparison.Ordinal);
        Assert.Contains("value=\"back\\\\slash \\\"quoted\\\"\\nnew line", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("proactive.refresh.duration", "s", false, "proactive_refresh_duration_seconds")]
    [InlineData("proactive.api.requests", "{request}", true, "proactive_api_requests_total")]
    [InlineData("http.server.request.duration", "ms", false, "http_server_request_duration_milliseconds")]
    [InlineData("queue.size", "By", false, "queue_size_bytes")]
    [InlineData("already_seconds", "s", false, "already_seconds")]
    [InlineData("sent_total", "1", true, "sent_total")]
    [InlineData("9lives-cat", null, false, "_9lives_cat")]
    public void Instrument_names_and_units_become_prometheus_metric_names(string name, string? unit, bool counter, string expected) =>
        Assert.Equal(expected, PrometheusText.MetricName(name, unit, counter));

    [Theory]
    [InlineData(1.0, "1")]
    [InlineData(0.005, "0.005")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(1e-7, "1E-07")]
    public void Values_are_written_as_go_parses_floats(double value, string expected) =>
        Assert.Equal(expected, PrometheusText.FormatValue(value));

    [Fact]
    public void Observable_series_show_only_what_the_last_callback_reported()
    {
        var peers = new List<int> { 2, 3 };
        _meter.CreateObservableGauge("test.peer.up", () => peers.Select(p => new Measurement<int>(1, new KeyValuePair<string, object?>("peer", p))));

        Assert.Equal(2, PrometheusTextParser.Parse(_exporter.Collect())["test_peer_up"].Samples.Count);
        peers.Remove(3);
        var after = PrometheusTextParser.Parse(_exporter.Collect());
        Assert.Equal("2", Assert.Single(after["test_peer_up"].Samples).Labels["peer"]);
    }

    [Fact]
    public void Label_sets_beyond_the_limit_fold_into_one_overflow_series()
    {
        var counter = _meter.CreateCounter<long>("test.wide");
        for (var i = 0; i < PrometheusExporter.MaxSeriesPerMetric + 50; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("id", i));
        }

        var scrape = PrometheusTextParser.Parse(_exporter.Collect());

        Assert.Equal(PrometheusExporter.MaxSeriesPerMetric + 1, scrape["test_wide_total"].Samples.Count);
        Assert.Equal(50, scrape.Value("test_wide_total", "otel_metric_overflow=true"));
    }

    [Fact]
    public void Only_the_given_meter_is_exported_even_when_another_has_the_same_name()
    {
        using var other = new Meter(_meter.Name);
        other.CreateCounter<long>("test.elsewhere").Add(1);
        _meter.CreateCounter<long>("test.here").Add(1);

        var scrape = PrometheusTextParser.Parse(_exporter.Collect());

        Assert.True(scrape.ContainsKey("test_here_total"));
        Assert.False(scrape.ContainsKey("test_elsewhere_total"));
    }

    [Fact]
    public void A_counter_ignores_negative_increments_and_a_histogram_ignores_nan()
    {
        var counter = _meter.CreateCounter<double>("test.monotonic");
        var histogram = _meter.CreateHistogram<double>("test.latency", "s");
        counter.Add(2);
        counter.Add(-1);
        histogram.Record(double.NaN);
        histogram.Record(0.2);

        var scrape = PrometheusTextParser.Parse(_exporter.Collect());

        Assert.Equal(2, scrape.Value("test_monotonic_total"));
        Assert.Equal(1, scrape.Value("test_latency_seconds_count"));
        Assert.Equal(PrometheusExporter.DefaultBuckets.Count + 1, scrape["test_latency_seconds"].Samples.Count(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal)));
    }

    [Fact]
    public void Nothing_measured_is_an_empty_text_and_the_content_type_is_version_0_0_4()
    {
        Assert.Equal(string.Empty, _exporter.Collect());
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", PrometheusText.ContentType);
    }

    [Theory]
    [InlineData("# TYPE a counter\na_total 1", "line feed")]
    [InlineData("# TYPE a_total counter\na_total{x=\"\\t\"} 1\n", "bad escape")]
    [InlineData("a 1\n", "before its TYPE")]
    [InlineData("# TYPE a gauge\na 1\n# TYPE a gauge\n", "second TYPE")]
    [InlineData("# TYPE a gauge\na 1\na 2\n", "twice")]
    [InlineData("# TYPE a gauge\n# TYPE b gauge\nb 1\na 1\n", "not contiguous")]
    [InlineData("# TYPE a gauge\na one\n", "bad value")]
    [InlineData("# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n", "twice")]
    [InlineData("# TYPE a gauge\na{1x=\"1\"} 1\n", "bad label name")]
    [InlineData("# TYPE a gauge\na  1\n", "bad value")]
    [InlineData("# TYPE a gauge\n\na 1\n", "only HELP")]
    [InlineData("# TYPE a counter\na 1\n", "_total")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "+Inf")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "cumulative")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n", "_count")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "_sum")]
    public void The_test_parser_is_strict(string text, string why)
    {
        var error = Assert.Throws<FormatException>(() => PrometheusTextParser.Parse(text));
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }
}
