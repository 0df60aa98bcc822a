// References: docs/BRIEF.md section 4 "Observability" (System.Diagnostics.Metrics, a Prometheus text
// endpoint); issue 6 item 3 (refresh duration, period, alerts by type, protocol messages by type and
// outcome, API requests by route and status, signature latency); issue 4 (refusals counted by reason);
// docs/NODE.md "Observability" (every metric and its labels).
using System.Diagnostics.Metrics;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Observability;

/// <summary>
/// One node's instruments on a <see cref="Meter"/> named <see cref="MeterName"/>: counters and histograms
/// the node and its API feed as things happen, and gauges read from a <see cref="NodeReading"/> when a
/// scrape asks. Each node has its own meter instance, so nodes sharing a process are told apart.
/// </summary>
/// <remarks>
/// <para><b>Labels are bounded</b>: protocol kinds and alert types are enums; refusal and drop reasons
/// are mapped to a fixed set of classes (<see cref="RefusalClass"/>, <see cref="DropClass"/>); API routes
/// are the route table's templates, never raw paths; methods of unknown routes collapse to <c>other</c>;
/// peers are the servers of the configuration.</para>
/// <para><b>Nothing secret</b> is measured: no key, share, handle, application id or request content,
/// only kinds, states, counts and durations.</para>
/// <para>Thread-safe: the loop, the API's request threads and scrapes call it concurrently.</para>
/// </remarks>
public sealed class NodeMetrics : IDisposable
{
    /// <summary>The meter's name (what a <see cref="MeterListener"/> or <c>dotnet-counters</c> selects).</summary>
    public const string MeterName = "Proactive.Node";

    /// <summary>The route label of a request that matched no route.</summary>
    public const string UnmatchedRoute = "unmatched";

    /// <summary>The status label of a request whose client went away before the answer (nginx's convention).</summary>
    public const int ClientClosedRequest = 499;

    private static readonly double[] RefreshBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
    private static readonly double[] RequestBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    private static readonly HashSet<string> KnownMethods = new(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"], StringComparer.Ordinal);

    private static readonly Dictionary<string, string> RefusalClasses = new(StringComparer.Ordinal)
    {
        ["open frame refused"] = "invalid-open-frame",
        ["open frame of another sender"] = "wrong-sender",
        ["open frame StalePeriod"] = "stale-period",
        ["relayed envelope"] = "relayed",
        ["duplicate envelope"] = "duplicate",
        ["parking full"] = "parking-full",
    };

    private static readonly Dictionary<string, string> DropClasses = new(StringComparer.Ordinal)
    {
        ["instance finished"] = "instance-finished",
        ["replay of an old period"] = "old-period",
        ["buffered until the instance starts"] = "buffered",
        ["buffer full"] = "buffer-full",
        ["unknown instance"] = "unknown-instance",
        ["bootstrap message for no instance"] = "unknown-instance",
    };

    private static readonly Dictionary<ProtocolKind, string> ProtocolNames =
        Enum.GetValues<ProtocolKind>().ToDictionary(kind => kind, kind => Kebab(kind.ToString()));

    private readonly Meter _meter;
    private readonly Func<NodeReading> _read;
    private readonly TimeProvider _time;
    private readonly Lock _readGate = new();
    private readonly Histogram<double> _refreshDuration;
    private readonly Counter<long> _alerts;
    private readonly Counter<long> _messages;
    private readonly Counter<long> _messagesDropped;
    private readonly Counter<long> _apiRequests;
    private readonly Histogram<double> _apiDuration;
    private readonly Histogram<double> _signatureDuration;
    private readonly Counter<long> _loopErrors;
    private (NodeReading Reading, long At)? _lastRead;

    /// <param name="read">What the gauges show now; called on a scrape's thread, so it must be thread-safe and quick.</param>
    /// <param name="time">The clock for uptime and ages; the system's when null.</param>
    public NodeMetrics(Func<NodeReading> read, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(read);
        _read = read;
        _time = time ?? TimeProvider.System;
        _meter = new Meter(MeterName, NodeAssembly.Version);
        // Listening before the first instrument exists: the alert types' zeros below are recorded.
        Exporter = new PrometheusExporter(_meter);

        _refreshDuration = _meter.CreateHistogram("proactive.refresh.duration", "s",
            "How long each refresh took here, from the period's start to its commit (toolkit Table 1).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RefreshBuckets });
        _alerts = _meter.CreateCounter<long>("proactive.alerts", "{alert}", "Alerts this server raised since it started, by type.");
        _messages = _meter.CreateCounter<long>("proactive.protocol.messages", "{message}",
            "Peer messages judged by this server: accepted (authenticated, handed to its protocol; its own broadcasts included) or refused (reason: a class of why).");
        _messagesDropped = _meter.CreateCounter<long>("proactive.protocol.messages.dropped", "{message}",
            "Accepted messages the protocols did not use (late, replayed, for no instance) or buffered until their instance starts, by reason.");
        _apiRequests = _meter.CreateCounter<long>("proactive.api.requests", "{request}", "API requests answered, by route template and status (499: the client went away).");
        _apiDuration = _meter.CreateHistogram("proactive.api.request.duration", "s", "How long API requests took, from their arrival to the answer, by route template.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RequestBuckets });
        _signatureDuration = _meter.CreateHistogram("proactive.signature.duration", "s",
            "Application signing latency, from the API request to the answer (operation sign: an application key; period-key: the network key certifying an instance's period key), by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RequestBuckets });
        _loopErrors = _meter.CreateCounter<long>("proactive.loop.errors", "{error}", "Units of work the node's loop dropped on an internal error (a bug; its log has the stack).");

        _meter.CreateObservableGauge("proactive.node.info", () => Gauge(1, r => [new("server", r.ServerId), new("version", r.Version)]), "{node}", "This server's id and software version (always 1).");
        _meter.CreateObservableGauge("proactive.node.state", () => States(), "{state}", "1 for the state the node is in, 0 for the others.");
        _meter.CreateObservableGauge("proactive.period", () => Gauge(r => (long)r.Period), "{period}", "The current period.");
        _meter.CreateObservableGauge("proactive.period.committed", () => Optional(r => (long?)r.CommittedPeriod), "{period}", "The last period whose refresh committed here.");
        _meter.CreateObservableGauge("proactive.period.start.time", () => Optional(r => r.PeriodStartedAt?.ToUnixTimeMilliseconds() / 1000.0), "s", "When the current period began (Unix time).");
        _meter.CreateObservableGauge("proactive.refresh.next.time", () => Optional(r => r.NextRefreshAt?.ToUnixTimeMilliseconds() / 1000.0), "s", "When the next refresh is due (Unix time).");
        _meter.CreateObservableGauge("proactive.refresh.last.duration", () => Optional(r => r.LastRefreshDuration?.TotalSeconds), "s", "How long the last refresh took.");
        _meter.CreateObservableGauge("proactive.start.time", () => Gauge(r => r.StartedAt.ToUnixTimeMilliseconds() / 1000.0), "s", "When this server's process started (Unix time).");
        _meter.CreateObservableGauge("proactive.uptime", () => Gauge(r => Math.Max(0, (_time.GetUtcNow() - r.StartedAt).TotalSeconds)), "s", "How long this server's process has run.");
        _meter.CreateObservableGauge("proactive.loop.heartbeat.age", () => Gauge(r => r.LoopHeartbeatAge.TotalSeconds), "s", "How long ago the node's loop last ticked (it ticks every 50 ms when it keeps up).");
        _meter.CreateObservableGauge("proactive.peers", () => Gauge(r => (long)r.Peers.Count), "{server}", "The other servers of the configuration.");
        _meter.CreateObservableGauge("proactive.peers.reachable", () => Gauge(r => (long)r.Peers.Count(p => p.Reachable)), "{server}", "Peers whose transport answered the last request.");
        _meter.CreateObservableGauge("proactive.peer.up", () => PerPeer(p => p.Reachable ? 1 : 0), "{server}", "1 when the peer's transport answered the last request, 0 otherwise.");
        _meter.CreateObservableGauge("proactive.peer.queued.frames", () => PerPeer(p => p.QueuedFrames), "{frame}", "Frames waiting for the peer (or in the request in flight).");
        _meter.CreateObservableGauge("proactive.peer.last.contact.time", () => PeerLastContact(), "s", "When the peer last answered or delivered a batch (Unix time).");
        _meter.CreateObservableCounter("proactive.peer.frames.sent", () => PerPeer(p => p.FramesSent), "{frame}", "Frames the peer accepted.");
        _meter.CreateObservableCounter("proactive.peer.frames.dropped", () => PerPeer(p => p.FramesDropped), "{frame}", "Frames to the peer dropped (queue full, or queued when the link stopped).");
        _meter.CreateObservableCounter("proactive.peer.frames.rejected", () => PerPeer(p => p.FramesRejected), "{frame}", "Frames the peer refused for good (400 or 413).");
        _meter.CreateObservableCounter("proactive.listener.frames.accepted", () => Optional(r => r.Listener?.FramesAccepted), "{frame}", "Frames the peer listener handed to the node.");
        _meter.CreateObservableCounter("proactive.listener.requests.refused", () => ListenerRefusals(), "{request}", "Peer requests or handshakes the listener refused, by reason.");
        _meter.CreateObservableGauge("proactive.parked.frames", () => Gauge(r => (long)r.ParkedFrames), "{frame}", "Peer envelopes waiting for their sender's keys.");
        _meter.CreateObservableGauge("proactive.ledger.period", () => Optional(r => (long?)r.Ledger?.Period), "{period}", "The period whose application ledger is open.");
        _meter.CreateObservableGauge("proactive.ledger.next.sequence", () => Optional(r => (long?)r.Ledger?.NextSequence), "{decision}", "The sequence of the open ledger's next decision (from 1 in each period).");
        _meter.CreateObservableGauge("proactive.ledger.pending.requests", () => Optional(r => (long?)r.Ledger?.PendingRequests), "{request}", "Application requests waiting for a ledger batch.");
        _meter.CreateObservableGauge("proactive.applications", () => Optional(r => (long?)r.Ledger?.Applications), "{application}", "Registered applications.");
        _meter.CreateObservableGauge("proactive.data.entries", () => Optional(r => (long?)r.Ledger?.DataEntries), "{entry}", "Stored data entries, public and secret.");
        _meter.CreateObservableGauge("proactive.secrets", () => Optional(r => (long?)r.Ledger?.Secrets), "{secret}", "Secret entries stored (their data keys shared and refreshed every period).");
        _meter.CreateObservableGauge("proactive.app.keys", () => Optional(r => (long?)r.Ledger?.Keys), "{key}", "Signing keys and joint secrets applications generated.");

        // Every alert type from the start, at 0: a rate or an alerting rule needs the series before the first alert.
        foreach (var type in Enum.GetValues<AlertType>())
        {
            _alerts.Add(0, new KeyValuePair<string, object?>("type", type.ToString()));
        }
    }

    /// <summary>The meter (for another listener: <c>dotnet-counters</c>, an OpenTelemetry SDK).</summary>
    public Meter Meter => _meter;

    /// <summary>The Prometheus text of this meter (<c>GET /metrics</c>).</summary>
    public PrometheusExporter Exporter { get; }

    /// <summary>A refresh committed after <paramref name="duration"/>.</summary>
    public void RefreshCommitted(TimeSpan duration) => _refreshDuration.Record(Math.Max(0, duration.TotalSeconds));

    /// <summary>This server raised an alert.</summary>
    public void AlertRaised(AlertType type) => _alerts.Add(1, new KeyValuePair<string, object?>("type", type.ToString()));

    /// <summary>A peer message passed the node's checks and went to its protocol.</summary>
    public void MessageAccepted(ProtocolKind protocol) =>
        _messages.Add(1, new("protocol", ProtocolName(protocol)), new("outcome", "accepted"), new("reason", "none"));

    /// <summary>A peer frame was refused; <paramref name="counter"/> is the node's counter name for it (<see cref="RefusalClass"/>).</summary>
    public void MessageRefused(string counter) =>
        _messages.Add(1, new("protocol", "unknown"), new("outcome", "refused"), new("reason", RefusalClass(counter)));

    /// <summary>The controller dropped (or buffered) an accepted message for <paramref name="reason"/> (<see cref="DropClass"/>).</summary>
    public void MessageDropped(ProtocolKind protocol, string reason) =>
        _messagesDropped.Add(1, new("protocol", ProtocolName(protocol)), new("reason", DropClass(reason)));

    /// <summary>The loop dropped a unit of work on an internal error.</summary>
    public void LoopError() => _loopErrors.Add(1);

    /// <summary>
    /// An API request was answered. <paramref name="route"/> is the route template (null: no route matched);
    /// <paramref name="signature"/> names the signing operation when the route is one (its latency is also
    /// recorded as a signature's).
    /// </summary>
    public void ApiRequestServed(string method, string? route, int status, TimeSpan elapsed, string? signature = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        var methodLabel = route is null && !KnownMethods.Contains(method) ? "other" : method;
        var routeLabel = route ?? UnmatchedRoute;
        var seconds = Math.Max(0, elapsed.TotalSeconds);
        _apiRequests.Add(1, new("method", methodLabel), new("route", routeLabel), new("status", StatusLabel(status)));
        _apiDuration.Record(seconds, new KeyValuePair<string, object?>("method", methodLabel), new KeyValuePair<string, object?>("route", routeLabel));
        if (signature is not null)
        {
            var outcome = status switch
            {
                ClientClosedRequest => "abandoned",
                >= 200 and < 300 => "signed",
                >= 400 and < 500 => "refused",
                _ => "failed",
            };
            _signatureDuration.Record(seconds, new KeyValuePair<string, object?>("operation", signature), new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    /// <summary>
    /// The reason class of a refusal from the node's counter name: one of a fixed set, <c>other</c> for
    /// a name it does not know (an envelope's rejection is named after <see cref="EnvelopeRejection"/>).
    /// </summary>
    public static string RefusalClass(string counter)
    {
        ArgumentNullException.ThrowIfNull(counter);
        if (RefusalClasses.TryGetValue(counter, out var known))
        {
            return known;
        }

        const string Envelope = "envelope ";
        return counter.StartsWith(Envelope, StringComparison.Ordinal)
            && Enum.TryParse<EnvelopeRejection>(counter.AsSpan(Envelope.Length), ignoreCase: false, out var rejection)
            && Enum.IsDefined(rejection) && !char.IsAsciiDigit(counter[Envelope.Length])
            ? Kebab(rejection.ToString())
            : "other";
    }

    /// <summary>The reason class of a controller's drop: one of a fixed set, <c>other</c> for one it does not know.</summary>
    public static string DropClass(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        return DropClasses.GetValueOrDefault(reason, "other");
    }

    /// <summary>Stops the exporter and releases the meter (its instruments stop reporting).</summary>
    public void Dispose()
    {
        Exporter.Dispose();
        _meter.Dispose();
    }

    /// <summary><c>BadSignature</c> becomes <c>bad-signature</c>.</summary>
    private static string Kebab(string pascal)
    {
        var text = new System.Text.StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            if (char.IsAsciiLetterUpper(pascal[i]) && i > 0)
            {
                text.Append('-');
            }

            text.Append(char.ToLowerInvariant(pascal[i]));
        }

        return text.ToString();
    }

    private static string ProtocolName(ProtocolKind protocol) => ProtocolNames.GetValueOrDefault(protocol, "unknown");

    private static string StatusLabel(int status) => status is >= 100 and <= 999 ? status.ToString(System.Globalization.CultureInfo.InvariantCulture) : "other";

    /// <summary>The reading for this scrape: read once and shared by every gauge of the scrape (within 250 ms).</summary>
    private NodeReading Current()
    {
        lock (_readGate)
        {
            var now = _time.GetTimestamp();
            if (_lastRead is { } last && _time.GetElapsedTime(last.At, now) < TimeSpan.FromMilliseconds(250))
            {
                return last.Reading;
            }

            var reading = _read();
            _lastRead = (reading, now);
            return reading;
        }
    }

    private Measurement<double>[] Gauge(Func<NodeReading, double> value) => [new(value(Current()))];

    private Measurement<long>[] Gauge(Func<NodeReading, long> value) => [new(value(Current()))];

    private Measurement<long>[] Gauge(long value, Func<NodeReading, KeyValuePair<string, object?>[]> labels) => [new(value, labels(Current()))];

    private Measurement<double>[] Optional(Func<NodeReading, double?> value) => value(Current()) is { } known ? [new(known)] : [];

    private Measurement<long>[] Optional(Func<NodeReading, long?> value) => value(Current()) is { } known ? [new(known)] : [];

    private IEnumerable<Measurement<long>> States()
    {
        var state = Current().State;
        return NodeReading.States.Select(s => new Measurement<long>(s == state ? 1 : 0, new KeyValuePair<string, object?>("state", s)));
    }

    private IEnumerable<Measurement<long>> PerPeer(Func<Transport.PeerReachability, long> value) =>
        Current().Peers.Select(p => new Measurement<long>(value(p), new KeyValuePair<string, object?>("peer", p.PeerId)));

    private IEnumerable<Measurement<double>> PeerLastContact() =>
        Current().Peers.Select(p => (p.PeerId, Last: Latest(p.LastSuccess, p.LastReceived)))
            .Where(p => p.Last is not null)
            .Select(p => new Measurement<double>(p.Last!.Value.ToUnixTimeMilliseconds() / 1000.0, new KeyValuePair<string, object?>("peer", p.PeerId)));

    private IEnumerable<Measurement<long>> ListenerRefusals()
    {
        if (Current().Listener is not { } listener)
        {
            return [];
        }

        return
        [
            new(listener.HandshakesRefused, new KeyValuePair<string, object?>("reason", "handshake")),
            new(listener.RequestsUnpinned, new KeyValuePair<string, object?>("reason", "unpinned")),
            new(listener.RequestsTooLarge, new KeyValuePair<string, object?>("reason", "too-large")),
            new(listener.RequestsMalformed, new KeyValuePair<string, object?>("reason", "malformed")),
            new(listener.RequestsAborted, new KeyValuePair<string, object?>("reason", "aborted")),
        ];
    }

    private static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : (a > b ? a : b);
}
