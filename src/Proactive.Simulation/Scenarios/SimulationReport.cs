// References: issue 3 item 12 (what `proactive simulate` prints); docs/PROTOCOLS.md "Controller and simulator".
using Proactive.Simulation.Tracing;

namespace Proactive.Simulation.Scenarios;

/// <summary>
/// The outcome of one <see cref="ProactiveScenario"/> run: what the CLI prints (as text or JSON).
/// <see cref="Violations"/> empty means every invariant held; each entry names the invariant, the
/// period and the seed.
/// </summary>
public sealed record SimulationReport(
    ulong Seed,
    int Periods,
    int PeriodsCommitted,
    IReadOnlyList<PeriodTraffic> Traffic,
    IReadOnlyDictionary<string, int> AlertsByType,
    IReadOnlyDictionary<int, int> AlertsByCulprit,
    IReadOnlyList<string> Violations,
    TimeSpan ElapsedVirtualTime)
{
    public int TotalAlerts => AlertsByType.Values.Sum();
}
