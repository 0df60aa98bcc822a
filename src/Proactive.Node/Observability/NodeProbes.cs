// References: docs/BRIEF.md section 4 "Observability" (health and readiness endpoints); Kubernetes
// liveness and readiness probes (a failed liveness probe restarts the process, a failed readiness probe
// only takes it out of service); docs/API.md "GET /healthz, GET /readyz".
using System.Text.Json.Serialization;
using Proactive.Node.Api;

namespace Proactive.Node.Observability;

/// <summary>What the liveness and readiness probes judge, read at the moment of the probe.</summary>
/// <param name="State">Where the node is in its life.</param>
/// <param name="LoopHeartbeatAge">How long ago the node's loop last ticked.</param>
/// <param name="LoopStopped">The loop has ended (the node is shutting down).</param>
/// <param name="Rejoining">It sits the period out: it restores the certified public state from a peer and recovers its shares in the next period (docs/NODE.md "Recovery").</param>
/// <param name="BehindSchedule">The period the clock puts it in has not started here, for longer than a late start is allowed.</param>
/// <param name="LedgerCurrent">Its application state is of the current period (or the one before): it can answer applications.</param>
public sealed record NodeVitals(NodeState State, TimeSpan LoopHeartbeatAge, bool LoopStopped, bool Rejoining, bool BehindSchedule, bool LedgerCurrent);

/// <summary>The body of <c>GET /healthz</c> (200 when <see cref="Alive"/>, 503 otherwise).</summary>
/// <param name="Alive">The process and its loop are alive.</param>
/// <param name="Reason"><c>alive</c>, <c>loop-stalled</c> or <c>stopped</c>.</param>
/// <param name="Detail">One sentence for a human.</param>
/// <param name="LoopHeartbeatAgeMs">How long ago the loop last ticked, in milliseconds.</param>
public sealed record LivenessReport(bool Alive, string Reason, string Detail, double LoopHeartbeatAgeMs);

/// <summary>The body of <c>GET /readyz</c> (200 when <see cref="Ready"/>, 503 otherwise).</summary>
/// <param name="Ready">Operational and able to serve applications.</param>
/// <param name="Reason"><c>ready</c>, or why not: <c>loop-stalled</c>, <c>stopped</c>, <c>initializing</c>, <c>recovering</c>, <c>stopping</c>, <c>rejoining</c>, <c>behind-schedule</c>, <c>ledger-behind</c>.</param>
/// <param name="Detail">One sentence for a human.</param>
/// <param name="State">The node's state.</param>
public sealed record ReadinessReport(bool Ready, string Reason, string Detail, NodeState State);

/// <summary>
/// The two probes: <b>liveness</b> (restart me if not: the loop is stuck or gone) and <b>readiness</b>
/// (send me application traffic: operational, in its period, its application state current). Pure
/// functions of <see cref="NodeVitals"/>, so every state is testable without a network.
/// </summary>
/// <remarks>
/// A recovering server is alive but not ready: restarting it would only start its recovery over. The
/// stall threshold is generous (<see cref="LoopStallThreshold"/>): the loop ticks every 50 ms, but one unit of
/// work (a state transfer, a slow disk) may hold it for seconds, and a false "dead" costs a restart.
/// </remarks>
public static class NodeProbes
{
    /// <summary>How long the loop may go without a tick before the node counts as stalled.</summary>
    public static readonly TimeSpan LoopStallThreshold = TimeSpan.FromSeconds(30);

    /// <summary>Whether the process and its loop are alive.</summary>
    public static LivenessReport Liveness(NodeVitals vitals)
    {
        ArgumentNullException.ThrowIfNull(vitals);
        var age = vitals.LoopHeartbeatAge.TotalMilliseconds;
        if (vitals.LoopStopped)
        {
            return new LivenessReport(false, "stopped", "The node's loop has ended: the server is shutting down.", age);
        }

        if (vitals.LoopHeartbeatAge > LoopStallThreshold)
        {
            return new LivenessReport(false, "loop-stalled", $"The node's loop has not ticked for {vitals.LoopHeartbeatAge.TotalSeconds:F0} s (more than {LoopStallThreshold.TotalSeconds:F0} s).", age);
        }

        return new LivenessReport(true, "alive", "The node's loop is ticking.", age);
    }

    /// <summary>Whether the node can serve applications now.</summary>
    public static ReadinessReport Readiness(NodeVitals vitals)
    {
        ArgumentNullException.ThrowIfNull(vitals);
        var liveness = Liveness(vitals);
        if (!liveness.Alive)
        {
            return new ReadinessReport(false, liveness.Reason, liveness.Detail, vitals.State);
        }

        return vitals.State switch
        {
            NodeState.Initializing => new(false, "initializing", "The server is initializing (toolkit Table 3) or restoring its state; it holds no shares yet.", vitals.State),
            NodeState.Recovering => new(false, "recovering", "The server is recovering its shares or its certificate from its peers (toolkit Table 2).", vitals.State),
            NodeState.Stopping => new(false, "stopping", "The server is shutting down.", vitals.State),
            _ when vitals.Rejoining => new(false, "rejoining", "The server sits this period out: it restores the certified public state from a peer and recovers its shares in the next period.", vitals.State),
            _ when vitals.BehindSchedule => new(false, "behind-schedule", "The period the clock is in has not started here in time.", vitals.State),
            _ when !vitals.LedgerCurrent => new(false, "ledger-behind", "The server's application state is behind the network's; it is catching up.", vitals.State),
            _ => new(true, "ready", "Operational in the current period, serving applications.", vitals.State),
        };
    }
}

/// <summary>Source-generated JSON for the probes' bodies (camelCase, like every other body of the API).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(LivenessReport))]
[JsonSerializable(typeof(ReadinessReport))]
internal sealed partial class ProbeJsonContext : JsonSerializerContext;
