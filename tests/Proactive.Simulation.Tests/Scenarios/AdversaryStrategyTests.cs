using Proactive.Protocols.Machines;
using Proactive.Simulation.Adversary;
using Proactive.Simulation.Scenarios;
using Proactive.Simulation.Wire;

namespace Proactive.Simulation.Tests.Scenarios;

/// <summary>
/// One run per strategy and codec: server 2 misbehaves (victim 4 where one is needed); an honest
/// server must name it with the exact alert type, and no honest server may be named (the run's
/// invariant f, both ways). The envelope layer is the scenario's default; the plain codec stays an option.
/// </summary>
public sealed class AdversaryStrategyTests
{
    [Theory]
    [InlineData(AdversaryStrategyKind.Silent, 1UL, AlertType.Unresponsive)]
    [InlineData(AdversaryStrategyKind.Crash, 1UL, AlertType.Unresponsive)]
    [InlineData(AdversaryStrategyKind.BadSubShare, 1UL, AlertType.InvalidShare)]
    [InlineData(AdversaryStrategyKind.WrongCommitments, 1UL, AlertType.InvalidCommitment)]
    [InlineData(AdversaryStrategyKind.NonZeroConstant, 1UL, AlertType.NonZeroRefreshConstant)]
    [InlineData(AdversaryStrategyKind.Equivocation, 1UL, AlertType.Equivocation)]
    [InlineData(AdversaryStrategyKind.InvalidProof, 0UL, AlertType.InvalidProof)]
    [InlineData(AdversaryStrategyKind.Replay, 2UL, AlertType.Replay)]
    [InlineData(AdversaryStrategyKind.ConflictingVotes, 1UL, AlertType.Equivocation)]
    [InlineData(AdversaryStrategyKind.CorruptOwnShares, 1UL, AlertType.CorruptedShares)]
    public void EachStrategyRaisesItsAlertNamingTheCulprit(AdversaryStrategyKind strategy, ulong period, AlertType expected) =>
        Run(strategy, period, expected, plain: false);

    [Theory]
    [InlineData(AdversaryStrategyKind.Silent, 1UL, AlertType.Unresponsive)]
    [InlineData(AdversaryStrategyKind.Equivocation, 1UL, AlertType.Equivocation)]
    [InlineData(AdversaryStrategyKind.Replay, 2UL, AlertType.Replay)]
    [InlineData(AdversaryStrategyKind.ConflictingVotes, 1UL, AlertType.Equivocation)]
    [InlineData(AdversaryStrategyKind.CorruptOwnShares, 1UL, AlertType.CorruptedShares)]
    public void MessageLevelStrategiesRaiseTheirAlertsOverThePlainCodecToo(AdversaryStrategyKind strategy, ulong period, AlertType expected) =>
        Run(strategy, period, expected, plain: true);

    private static void Run(AdversaryStrategyKind strategy, ulong period, AlertType expected, bool plain)
    {
        const ulong seed = 5;
        const int culprit = 2;
        var scenario = new ProactiveScenario(new ProactiveScenarioOptions
        {
            Periods = 3,
            Secrets = 3,
            Seed = seed,
            Injections = [new Injection(period, culprit, strategy, Target: 4)],
            CodecFactory = plain ? parameters => new PlainWireCodec(parameters) : null,
        });
        var report = scenario.Run();

        Assert.True(report.Violations.Count == 0, $"seed {seed}, {strategy}: {string.Join(" | ", report.Violations)}");
        var reporters = scenario.AllAlerts().Where(a => a.Alert.Type == expected && a.Alert.Culprit == culprit).Select(a => a.Server).Distinct().ToList();
        var selfDetected = strategy == AdversaryStrategyKind.CorruptOwnShares;
        Assert.True(
            selfDetected ? reporters.Contains(culprit) : reporters.Any(r => r != culprit),
            $"seed {seed}, {strategy}: no {expected} alert naming server {culprit}; reporters [{string.Join(",", reporters)}]");
        Assert.Equal(expected, AdversaryCatalogue.ExpectedFor(new Injection(period, culprit, strategy, 4))!.Type);
    }
}
