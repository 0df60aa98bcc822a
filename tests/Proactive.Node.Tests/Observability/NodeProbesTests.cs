using Proactive.Node.Api;
using Proactive.Node.Observability;

namespace Proactive.Node.Tests.Observability;

/// <summary>Liveness and readiness in the states that matter: alive but not ready while recovering, dead only when the loop is.</summary>
public sealed class NodeProbesTests
{
    private static NodeVitals Healthy => new(NodeState.Operational, TimeSpan.FromMilliseconds(40), LoopStopped: false, Rejoining: false, BehindSchedule: false, LedgerCurrent: true);

    public static TheoryData<string, NodeVitals, bool, string, bool, string> Cases => new()
    {
        { "operational", Healthy, true, "alive", true, "ready" },
        { "initializing", Healthy with { State = NodeState.Initializing, LedgerCurrent = false }, true, "alive", false, "initializing" },
        { "recovering", Healthy with { State = NodeState.Recovering }, true, "alive", false, "recovering" },
        { "stopping", Healthy with { State = NodeState.Stopping }, true, "alive", false, "stopping" },
        { "rejoining", Healthy with { Rejoining = true }, true, "alive", false, "rejoining" },
        { "behind", Healthy with { BehindSchedule = true }, true, "alive", false, "behind-schedule" },
        { "ledger behind", Healthy with { LedgerCurrent = false }, true, "alive", false, "ledger-behind" },
        { "loop stalled", Healthy with { LoopHeartbeatAge = NodeProbes.LoopStallThreshold + TimeSpan.FromSeconds(1) }, false, "loop-stalled", false, "loop-stalled" },
        { "loop slow but within the threshold", Healthy with { LoopHeartbeatAge = NodeProbes.LoopStallThreshold }, true, "alive", true, "ready" },
        { "loop ended", Healthy with { LoopStopped = true, State = NodeState.Stopping }, false, "stopped", false, "stopped" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Probes_judge_the_vitals(string name, NodeVitals vitals, bool alive, string livenessReason, bool ready, string readinessReason)
    {
        var liveness = NodeProbes.Liveness(vitals);
        var readiness = NodeProbes.Readiness(vitals);

        Assert.True(alive == liveness.Alive, name);
        Assert.Equal(livenessReason, liveness.Reason);
        Assert.True(ready == readiness.Ready, name);
        Assert.Equal(readinessReason, readiness.Reason);
        Assert.Equal(vitals.State, readiness.State);
        Assert.False(string.IsNullOrWhiteSpace(readiness.Detail));
        Assert.Equal(vitals.LoopHeartbeatAge.TotalMilliseconds, liveness.LoopHeartbeatAgeMs);
    }
}
