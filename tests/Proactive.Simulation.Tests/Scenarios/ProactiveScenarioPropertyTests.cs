using Proactive.Crypto.Groups;
using Proactive.Simulation.Scenarios;

namespace Proactive.Simulation.Tests.Scenarios;

/// <summary>
/// The CI property test: 200 seeds (1000..1199) x 20 periods, mobile adversary, a fast group for all
/// secrets, over the envelope layer (the scenario's default). Split in two classes, seeds 1000..1099
/// here and 1100..1199 in <see cref="ProactiveScenarioPropertyTestsSecondHalf"/>, because xunit runs
/// test classes side by side and the cases of one class in turn: on two cores the halves take half
/// the time. Each half has 4 batches of 25 seeds (test cases of their own: a failure names its batch).
/// </summary>
public sealed class ProactiveScenarioPropertyTests
{
    internal const int PropertyPeriods = 20;

    [Theory]
    [MemberData(nameof(Batches), 1000)]
    public void PropertyMobileAdversaryManySeeds(int firstSeed, int seeds) => RunPropertySeeds(firstSeed, seeds);

    /// <summary>4 batches of 25 seeds from <paramref name="firstSeed"/>.</summary>
    public static TheoryData<int, int> Batches(int firstSeed)
    {
        var data = new TheoryData<int, int>();
        for (var batch = 0; batch < 4; batch++)
        {
            data.Add(firstSeed + (batch * 25), 25);
        }

        return data;
    }

    internal static void RunPropertySeeds(int firstSeed, int seeds)
    {
        for (var seed = (ulong)firstSeed; seed < (ulong)(firstSeed + seeds); seed++)
        {
            RunPropertySeed(seed);
        }
    }

    internal static void RunPropertySeed(ulong seed) => AssertEveryPeriodCommitsCleanly(new ProactiveScenarioOptions
    {
        Nodes = 4,
        Threshold = 1,
        Faults = 1,
        Periods = PropertyPeriods,
        Secrets = 2,
        Seed = seed,
        MobileAdversary = true,
        Group = PrimeOrderGroup.Ristretto255,
    });

    /// <summary>Runs the scenario and asserts no invariant violation and every period committed.</summary>
    internal static void AssertEveryPeriodCommitsCleanly(ProactiveScenarioOptions options)
    {
        var report = new ProactiveScenario(options).Run();
        Assert.True(report.Violations.Count == 0, $"seed {options.Seed}: {string.Join(" | ", report.Violations)}");
        Assert.True(report.PeriodsCommitted == options.Periods, $"seed {options.Seed}: {report.PeriodsCommitted} periods committed");
    }
}

/// <summary>Seeds 1100..1199 of the property test (see <see cref="ProactiveScenarioPropertyTests"/>).</summary>
public sealed class ProactiveScenarioPropertyTestsSecondHalf
{
    [Theory]
    [MemberData(nameof(ProactiveScenarioPropertyTests.Batches), 1100, MemberType = typeof(ProactiveScenarioPropertyTests))]
    public void PropertyMobileAdversaryManySeeds(int firstSeed, int seeds) => ProactiveScenarioPropertyTests.RunPropertySeeds(firstSeed, seeds);
}
