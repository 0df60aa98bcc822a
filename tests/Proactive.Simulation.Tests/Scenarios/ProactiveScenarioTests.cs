using Proactive.Simulation.Scenarios;

namespace Proactive.Simulation.Tests.Scenarios;

public sealed class ProactiveScenarioTests
{
    [Fact]
    public void FivePeriodsWithoutAdversaryAllCommitWithNoViolation()
    {
        const ulong seed = 11;
        var report = new ProactiveScenario(new ProactiveScenarioOptions { Nodes = 5, Threshold = 2, Faults = 1, Periods = 5, Secrets = 10, Seed = seed }).Run();
        Assert.True(report.Violations.Count == 0, $"seed {seed}: {string.Join(" | ", report.Violations)}");
        Assert.True(report.PeriodsCommitted == 5, $"seed {seed}: {report.PeriodsCommitted} periods committed");
    }
}
