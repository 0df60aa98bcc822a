// References: docs/BRIEF.md section 4 "Observability"; issue 6 item 3; docs/NODE.md "Observability".
using System.Diagnostics;
using Proactive.Node.Observability;

namespace Proactive.Node.Hosting;

/// <summary>
/// The node's side of its metrics and probes: the instruments the loop feeds (hooks at the places things
/// happen), what the loop publishes for the gauges and probes at every tick, and the readings other threads
/// build from it.
/// </summary>
public sealed partial class NodeHost
{
    private readonly NodeObservability _observability;
    private long _heartbeat = Stopwatch.GetTimestamp();
    private volatile LoopObservation? _loopObservation;
    private volatile bool _loopStopped;

    /// <summary>This node's instruments and their Prometheus exporter (what its API serves at <c>/metrics</c>).</summary>
    public NodeMetrics Metrics => _observability.Metrics;

    /// <summary>What the probes judge now (any thread).</summary>
    public NodeVitals Vitals()
    {
        var loop = _loopObservation;
        return new NodeVitals(Status().State, HeartbeatAge, _loopStopped, loop?.Rejoining ?? false, loop?.BehindSchedule ?? false, loop?.LedgerCurrent ?? false);
    }

    private TimeSpan HeartbeatAge => Stopwatch.GetElapsedTime(Interlocked.Read(ref _heartbeat));

    private NodeObservability CreateObservability() => new(new NodeMetrics(ReadMetrics), Vitals);

    /// <summary>The gauges' reading (any thread): the published snapshot, the transport's counters, what the loop published.</summary>
    private NodeReading ReadMetrics()
    {
        var snapshot = _snapshot;
        var loop = _loopObservation;
        var transport = _transport;
        return new NodeReading(Self, NodeAssembly.Version, snapshot.State, snapshot.Period, snapshot.StartedAt)
        {
            CommittedPeriod = snapshot.CommittedPeriod,
            PeriodStartedAt = snapshot.PeriodStartedAt,
            NextRefreshAt = snapshot.NextRefreshAt,
            LastRefreshDuration = snapshot.LastRefreshDurationMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
            LoopHeartbeatAge = HeartbeatAge,
            Peers = transport?.Reachability() ?? [],
            Listener = transport?.ListenerStatistics,
            Ledger = loop?.Ledger,
            ParkedFrames = loop?.ParkedFrames ?? 0,
        };
    }

    /// <summary>
    /// On the loop, whenever it publishes its snapshot (every tick, and <c>stopping</c> when it ends): the
    /// heartbeat, and what only the loop may read (the controller's ledger, the parking area, the schedule).
    /// </summary>
    private void ObserveLoop(string? state)
    {
        if (state == "stopping")
        {
            _loopStopped = true;
            return;
        }

        Interlocked.Exchange(ref _heartbeat, Stopwatch.GetTimestamp());
        var controller = _controller;
        var ledger = controller?.Ledger;
        var operational = _phase == NodePhase.Operational && controller is not null;
        var rejoining = operational && (_seeker is not null || (_joinFrom is { } join && controller!.CurrentPeriod < join));
        var now = DateTimeOffset.UtcNow;
        var due = PeriodAt(now);
        var behind = operational && _anchor is not null && due > controller!.CurrentPeriod && now - PeriodStart(due) > LateStart;
        _loopObservation = new LoopObservation(
            ledger is null ? null : new LedgerReading(ledger.Period, ledger.NextSequence, ledger.PendingCount, ledger.State.ApplicationCount, ledger.State.DataCount, ledger.State.SecretCount, ledger.State.KeyCount),
            _parkedFrames.Count,
            rejoining,
            behind,
            operational && controller!.IsLedgerCurrent);
    }

    /// <summary>Counts a refused frame under <paramref name="counter"/> (a fixed name): in the status and in the metrics.</summary>
    private void CountRefused(string counter)
    {
        _counters.Count(counter);
        Metrics.MessageRefused(counter);
    }

    /// <summary>What the loop published for the gauges and the probes.</summary>
    private sealed record LoopObservation(LedgerReading? Ledger, int ParkedFrames, bool Rejoining, bool BehindSchedule, bool LedgerCurrent);
}
