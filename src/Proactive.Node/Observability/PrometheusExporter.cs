// References: Prometheus text exposition format 0.0.4 (HELP and TYPE lines, samples, histograms as
// cumulative _bucket series with an le label ending at +Inf, then _sum and _count); OpenTelemetry
// specification "Prometheus and OpenMetrics compatibility" (instrument kinds to metric types, the
// overflow series otel_metric_overflow="true"); docs/BRIEF.md section 4 "Observability".
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Proactive.Node.Observability;

/// <summary>
/// Collects the measurements of one <see cref="Meter"/> through a <see cref="MeterListener"/> and writes
/// them in the Prometheus text format (<see cref="PrometheusText.ContentType"/>).
/// </summary>
/// <remarks>
/// <para>Hand-written because no OpenTelemetry Prometheus exporter package is on the package mirror
/// (<c>OpenTelemetry.Exporter.Prometheus.AspNetCore</c> and <c>.HttpListener</c>: "no versions
/// available"). It covers what the node's instruments need and nothing more.</para>
/// <para><b>Kinds.</b> <see cref="Counter{T}"/> and <see cref="ObservableCounter{T}"/> are counters
/// (<c>_total</c>); up-down counters and gauges, observable or not, are gauges; a
/// <see cref="Histogram{T}"/> is a histogram with the bucket bounds of its advice
/// (<see cref="InstrumentAdvice{T}.HistogramBucketBoundaries"/>), Prometheus's defaults otherwise.
/// Observable instruments are read at every scrape and show only what their callbacks report then.
/// Meter and instrument tags are not exported (the scraper adds the target's own labels).</para>
/// <para><b>Cardinality.</b> The instruments bound their label values themselves; as a last guard a
/// metric keeps at most <see cref="MaxSeriesPerMetric"/> series, and measurements of further label
/// sets are folded into one series labelled <c>otel_metric_overflow="true"</c>.</para>
/// <para>Only the given meter instance is listened to: several nodes in one process (the in-process
/// test networks) each export their own.</para>
/// </remarks>
public sealed class PrometheusExporter : IDisposable
{
    /// <summary>Most label sets one metric keeps.</summary>
    public const int MaxSeriesPerMetric = 2000;

    /// <summary>Prometheus's default bucket bounds (seconds), for a histogram without advice.</summary>
    public static IReadOnlyList<double> DefaultBuckets { get; } = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private const string OverflowLabels = "otel_metric_overflow=\"true\"";

    private readonly Meter _meter;
    private readonly MeterListener _listener;
    private readonly Lock _gate = new();
    private readonly Lock _scrape = new();
    private readonly Dictionary<string, Family> _families = new(StringComparer.Ordinal);

    /// <param name="meter">The meter to export (not owned).</param>
    public PrometheusExporter(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _meter = meter;
        _listener = new MeterListener { InstrumentPublished = OnInstrumentPublished };
        _listener.SetMeasurementEventCallback<byte>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<short>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<decimal>((_, value, tags, state) => ((Family)state!).Record((double)value, tags));
        _listener.Start();
    }

    /// <summary>Every metric now, in the text format (a scrape: observable instruments are read first).</summary>
    public string Collect()
    {
        var text = new StringBuilder(4096);
        using (var writer = new StringWriter(text, CultureInfo.InvariantCulture))
        {
            WriteTo(writer);
        }

        return text.ToString();
    }

    /// <summary>Writes every metric to <paramref name="writer"/> (lines end with a line feed, families by name).</summary>
    public void WriteTo(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);

        // One scrape at a time: observable series are cleared and refilled by their callbacks.
        lock (_scrape)
        {
            List<Family> families;
            lock (_gate)
            {
                families = [.. _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal)];
            }

            foreach (var family in families.Where(f => f.Observable))
            {
                family.Clear();
            }

            _listener.RecordObservableInstruments();
            foreach (var family in families)
            {
                family.Write(writer);
            }
        }
    }

    /// <summary>Stops listening.</summary>
    public void Dispose() => _listener.Dispose();

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!ReferenceEquals(instrument.Meter, _meter))
        {
            return;
        }

        var definition = instrument.GetType().IsGenericType ? instrument.GetType().GetGenericTypeDefinition() : null;
        MetricKind kind;
        if (definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>))
        {
            kind = MetricKind.Counter;
        }
        else if (definition == typeof(Histogram<>))
        {
            kind = MetricKind.Histogram;
        }
        else if (definition == typeof(UpDownCounter<>) || definition == typeof(ObservableUpDownCounter<>) || definition == typeof(Gauge<>) || definition == typeof(ObservableGauge<>))
        {
            kind = MetricKind.Gauge;
        }
        else
        {
            return;
        }

        var name = PrometheusText.MetricName(instrument.Name, instrument.Unit, kind == MetricKind.Counter);
        // Added up only for synchronous counters and up-down counters; observables and gauges report the value itself.
        var accumulates = !instrument.IsObservable && definition != typeof(Gauge<>);
        Family family;
        lock (_gate)
        {
            if (_families.TryGetValue(name, out var existing))
            {
                if (existing.Kind != kind || existing.Observable != instrument.IsObservable)
                {
                    return; // two instruments that would be one metric of two kinds: the first one wins
                }

                family = existing;
            }
            else
            {
                family = new Family(name, instrument.Description ?? string.Empty, kind, instrument.IsObservable, accumulates, kind == MetricKind.Histogram ? BucketsOf(instrument) : []);
                _families.Add(name, family);
            }
        }

        listener.EnableMeasurementEvents(instrument, family);
    }

    private static double[] BucketsOf(Instrument instrument)
    {
        IEnumerable<double>? advised = instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries,
            Histogram<float> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
            Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
            Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
            _ => null,
        };
        var bounds = (advised ?? DefaultBuckets).Where(double.IsFinite).Distinct().Order().ToArray();
        return bounds;
    }

    /// <summary><c>name="value"</c> pairs sorted by name, escaped, comma-separated (the text between the braces).</summary>
    internal static string RenderLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return string.Empty;
        }

        var pairs = new KeyValuePair<string, string>[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            pairs[i] = new(PrometheusText.LabelName(tags[i].Key), tags[i].Value switch
            {
                null => string.Empty,
                string value => value,
                IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
                var other => other.ToString() ?? string.Empty,
            });
        }

        Array.Sort(pairs, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var text = new StringBuilder();
        for (var i = 0; i < pairs.Length; i++)
        {
            if (i + 1 < pairs.Length && pairs[i + 1].Key == pairs[i].Key)
            {
                continue; // a label given twice: the last one counts (a name may appear once)
            }

            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(pairs[i].Key).Append("=\"").Append(PrometheusText.EscapeLabelValue(pairs[i].Value)).Append('"');
        }

        return text.ToString();
    }

    private enum MetricKind
    {
        Counter,
        Gauge,
        Histogram,
    }

    /// <summary>One metric (one name): its series by label set.</summary>
    private sealed class Family(string name, string help, MetricKind kind, bool observable, bool accumulates, double[] buckets)
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);

        public string Name { get; } = name;

        public MetricKind Kind { get; } = kind;

        public bool Observable { get; } = observable;

        public void Clear()
        {
            lock (_gate)
            {
                _series.Clear();
            }
        }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if ((Kind == MetricKind.Counter && accumulates && !(value >= 0)) || (Kind == MetricKind.Histogram && double.IsNaN(value)))
            {
                return; // a counter only goes up; a histogram has no bucket for NaN
            }

            var labels = RenderLabels(tags);
            lock (_gate)
            {
                if (!_series.TryGetValue(labels, out var series))
                {
                    if (_series.Count >= MaxSeriesPerMetric && !_series.TryGetValue(OverflowLabels, out series))
                    {
                        labels = OverflowLabels;
                    }

                    if (series is null)
                    {
                        series = new Series(buckets.Length);
                        _series.Add(labels, series);
                    }
                }

                if (Kind == MetricKind.Histogram)
                {
                    // Non-cumulative here (the bucket of the first bound not below the value); summed when written.
                    var index = Array.FindIndex(buckets, bound => value <= bound);
                    series.Buckets[index < 0 ? buckets.Length : index]++;
                    series.Sum += value;
                    series.Count++;
                }
                else if (accumulates)
                {
                    series.Value += value;
                }
                else
                {
                    series.Value = value;
                }
            }
        }

        public void Write(TextWriter writer)
        {
            List<KeyValuePair<string, Series>> series;
            lock (_gate)
            {
                series = [.. _series.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new KeyValuePair<string, Series>(s.Key, s.Value.Copy()))];
            }

            if (help.Length > 0)
            {
                writer.Write($"# HELP {Name} {PrometheusText.EscapeHelp(help)}\n");
            }

            writer.Write($"# TYPE {Name} {Kind switch { MetricKind.Counter => "counter", MetricKind.Gauge => "gauge", _ => "histogram" }}\n");
            foreach (var (labels, values) in series)
            {
                if (Kind != MetricKind.Histogram)
                {
                    writer.Write($"{Name}{Braced(labels)} {PrometheusText.FormatValue(values.Value)}\n");
                    continue;
                }

                long cumulative = 0;
                var separator = labels.Length > 0 ? "," : string.Empty;
                for (var i = 0; i <= buckets.Length; i++)
                {
                    cumulative += values.Buckets[i];
                    var le = i < buckets.Length ? PrometheusText.FormatValue(buckets[i]) : "+Inf";
                    writer.Write($"{Name}_bucket{{{labels}{separator}le=\"{le}\"}} {cumulative.ToString(CultureInfo.InvariantCulture)}\n");
                }

                writer.Write($"{Name}_sum{Braced(labels)} {PrometheusText.FormatValue(values.Sum)}\n");
                writer.Write($"{Name}_count{Braced(labels)} {values.Count.ToString(CultureInfo.InvariantCulture)}\n");
            }
        }

        private static string Braced(string labels) => labels.Length == 0 ? string.Empty : "{" + labels + "}";
    }

    /// <summary>One series' numbers: a value, or a histogram's buckets (the last one past every bound), sum and count.</summary>
    private sealed class Series(int bounds)
    {
        public double Value { get; set; }

        public long[] Buckets { get; private init; } = new long[bounds + 1];

        public double Sum { get; set; }

        public long Count { get; set; }

        public Series Copy() => new(0) { Value = Value, Buckets = [.. Buckets], Sum = Sum, Count = Count };
    }
}
