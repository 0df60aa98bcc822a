using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;
using Proactive.Simulation.Adversary;
using Proactive.Simulation.Scenarios;

namespace Proactive.Simulation.Tests.Scenarios;

/// <summary>
/// End to end (controller, agreement, simulated network): at n = 7, t = 4, f = 2 Byzantine server 6
/// deals nothing and sends one genuine signed Invalid complaint against honest dealer 2 to honest
/// server 1 only, and Byzantine server 7 is silent, so all five honest dealers are needed. The echo
/// brings the complaint to dealer 2, whose reveal satisfies everyone: every period commits, with
/// dealer 2 qualified.
/// </summary>
public sealed class SelectiveComplaintScenarioTests
{
    [Theory]
    [InlineData(3UL)]
    [InlineData(11UL)]
    public void Complaint_shown_to_one_honest_server_only_neither_stalls_the_refresh_nor_excludes_the_honest_dealer(ulong seed)
    {
        const ulong period = 1;
        var scenario = new ProactiveScenario(new ProactiveScenarioOptions
        {
            Nodes = 7,
            Threshold = 4,
            Faults = 2,
            Periods = 2,
            Secrets = 3,
            Seed = seed,
            Injections =
            [
                new Injection(period, 6, AdversaryStrategyKind.SelectiveComplaint, Target: 2),
                new Injection(period, 7, AdversaryStrategyKind.Silent),
            ],
        });
        var report = scenario.Run();

        Assert.True(report.Violations.Count == 0, $"seed {seed}: {string.Join(" | ", report.Violations)}");
        Assert.Equal(2, report.PeriodsCommitted);
        foreach (var server in new[] { 1, 2, 3, 4, 5 })
        {
            var completed = scenario.Simulator.Server(server).Events.Select(e => e.Event).OfType<RefreshCompleted>().Single(c => c.Instance.Period == period);
            Assert.Equal([1, 2, 3, 4, 5], completed.QualifiedDealers.Order().ToArray());
        }

        Assert.DoesNotContain(scenario.AllAlerts(), a => a.Alert.Period == period && a.Alert.Culprit == 2);
    }
}
