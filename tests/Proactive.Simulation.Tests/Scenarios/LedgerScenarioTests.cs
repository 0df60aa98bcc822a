using Proactive.Simulation.Network;
using Proactive.Simulation.Scenarios;

namespace Proactive.Simulation.Tests.Scenarios;

/// <summary>
/// The applications' ledger under the mobile adversary, crashes and a partition: honest servers at the
/// same ledger position hold the same application state, and every request is applied everywhere within
/// its period once the network is synchronous (checked by the scenario every period).
/// </summary>
public sealed class LedgerScenarioTests
{
    [Theory]
    [InlineData(41UL, 4, 1, 1)]
    [InlineData(42UL, 5, 2, 1)]
    [InlineData(43UL, 7, 3, 2)]
    public void RequestsUnderTheMobileAdversaryAreAppliedAlikeEverywhere(ulong seed, int nodes, int threshold, int faults)
    {
        var options = new ProactiveScenarioOptions
        {
            Nodes = nodes,
            Threshold = threshold,
            Faults = faults,
            Periods = 4,
            Secrets = 2,
            Seed = seed,
            MobileAdversary = true,
            ApplicationRequests = 12,
        };
        var scenario = new ProactiveScenario(options);
        var report = scenario.Run();
        Assert.True(report.Violations.Count == 0, $"seed {seed}: {string.Join(" | ", report.Violations)}");
        Assert.Equal(options.Periods, report.PeriodsCommitted);
        // Period 1 registers the application; periods 2..4 store 12 entries each.
        Assert.Contains(scenario.StoredEntries().Values, count => count == 36);
    }

    [Fact]
    public void RequestsSurviveCrashesAndAPartition()
    {
        const ulong seed = 44;
        var network = new NetworkModel(new LinkBehavior(TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(120), duplicationProbability: 0.05));
        network.AddPartition(Partition.Isolate(TimeSpan.FromSeconds(31), TimeSpan.FromSeconds(34), 2));
        var scenario = new ProactiveScenario(new ProactiveScenarioOptions { Periods = 4, Secrets = 2, Seed = seed, Network = network, CrashProbability = 1.0, ApplicationRequests = 10 });
        var report = scenario.Run();
        Assert.True(report.Violations.Count == 0, $"seed {seed}: {string.Join(" | ", report.Violations)}");
        Assert.Contains(scenario.StoredEntries().Values, count => count == 30);
    }

    [Fact]
    public void Application_signatures_verify_and_every_honest_coordinator_gets_its_own_under_the_mobile_adversary()
    {
        const ulong seed = 45;
        var options = new ProactiveScenarioOptions
        {
            Periods = 5,
            Secrets = 1,
            Seed = seed,
            MobileAdversary = true,
            ApplicationRequests = 1,
            SigningRequests = 8,
        };
        var scenario = new ProactiveScenario(options);
        var report = scenario.Run();
        Assert.True(report.Violations.Count == 0, $"seed {seed}: {string.Join(" | ", report.Violations)}");
        Assert.Equal(options.Periods, report.PeriodsCommitted);
        Assert.True(scenario.SignaturesProduced >= 8, $"only {scenario.SignaturesProduced} signatures were produced");
    }

    [Fact]
    public void Application_signatures_survive_crashes_and_a_partition()
    {
        const ulong seed = 46;
        var network = new NetworkModel(new LinkBehavior(TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(120), duplicationProbability: 0.05));
        network.AddPartition(Partition.Isolate(TimeSpan.FromSeconds(101), TimeSpan.FromSeconds(104), 3));
        var scenario = new ProactiveScenario(new ProactiveScenarioOptions { Periods = 5, Secrets = 1, Seed = seed, Network = network, CrashProbability = 1.0, SigningRequests = 6 });
        var report = scenario.Run();
        Assert.True(report.Violations.Count == 0, $"seed {seed}: {string.Join(" | ", report.Violations)}");
        Assert.True(scenario.SignaturesProduced >= 6, $"only {scenario.SignaturesProduced} signatures were produced");
    }
}
