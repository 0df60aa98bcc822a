// References: docs/BRIEF.md section 4 ("Status GUI", "Observability"); docs/NODE.md "Observability".
using Proactive.Node.Transport;

namespace Proactive.Node.Observability;

/// <summary>
/// What the node's gauges show at one moment: built by the node (from its published snapshot, the
/// transport's counters and what its loop published) whenever a scrape reads the observable instruments.
/// Nothing secret: states, numbers, counts.
/// </summary>
/// <param name="ServerId">This server.</param>
/// <param name="Version">The node's software version.</param>
/// <param name="State">The loop's state: <c>starting</c>, <c>initializing</c>, <c>operational</c>, <c>recovering</c> or <c>stopping</c>.</param>
/// <param name="Period">The current period.</param>
/// <param name="StartedAt">When the process (its node) started.</param>
public sealed record NodeReading(int ServerId, string Version, string State, ulong Period, DateTimeOffset StartedAt)
{
    /// <summary>The states a node can be in, in the order of its life (the values of the state label).</summary>
    public static IReadOnlyList<string> States { get; } = ["starting", "initializing", "operational", "recovering", "stopping"];

    /// <summary>The last period whose refresh committed here; null before the first.</summary>
    public ulong? CommittedPeriod { get; init; }

    /// <summary>When the current period began; null before initialization.</summary>
    public DateTimeOffset? PeriodStartedAt { get; init; }

    /// <summary>When the next refresh is due; null when none is scheduled.</summary>
    public DateTimeOffset? NextRefreshAt { get; init; }

    /// <summary>How long the last refresh took; null before the first.</summary>
    public TimeSpan? LastRefreshDuration { get; init; }

    /// <summary>How long ago the loop last showed it is alive (it does at every clock tick).</summary>
    public TimeSpan LoopHeartbeatAge { get; init; }

    /// <summary>The peers as the transport sees them, by id; empty before the transport starts.</summary>
    public IReadOnlyList<PeerReachability> Peers { get; init; } = [];

    /// <summary>The peer listener's counters; null before the transport starts.</summary>
    public PeerListenerStatistics? Listener { get; init; }

    /// <summary>The applications' ledger and state; null before the loop published them.</summary>
    public LedgerReading? Ledger { get; init; }

    /// <summary>Peer envelopes waiting for their sender's keys.</summary>
    public int ParkedFrames { get; init; }
}

/// <summary>The ledger's position and the size of the agreed application state (counts only).</summary>
/// <param name="Period">The period whose ledger is open.</param>
/// <param name="NextSequence">The sequence of the open ledger's next decision (from 1).</param>
/// <param name="PendingRequests">Authenticated requests waiting for a batch.</param>
/// <param name="Applications">Registered applications.</param>
/// <param name="DataEntries">Stored data entries, public and secret.</param>
/// <param name="Secrets">Secrets stored (each with its data key shared among the servers).</param>
/// <param name="Keys">Signing keys and joint secrets applications generated.</param>
public sealed record LedgerReading(ulong Period, ulong NextSequence, int PendingRequests, int Applications, int DataEntries, ulong Secrets, ulong Keys);
