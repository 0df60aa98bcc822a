using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Dkg;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Dkg;

/// <summary>The transition table of <see cref="DkgMachine"/>, one row per input, on a lone machine (server 1 of 5).</summary>
public class DkgTransitionTests
{
    private static readonly ClusterParameters Parameters = ClusterParameters.Default(5);

    /// <summary>Rows: the inputs applied in order, and the state after the last one.</summary>
    public static TheoryData<string, string, DkgState> Table => new()
    {
        { "timer before start is ignored", "dealing-deadline", DkgState.Created },
        { "start deals", "start", DkgState.Dealing },
        { "stale reveal deadline in Dealing is ignored", "start reveal-deadline", DkgState.Dealing },
        { "dealing deadline opens complaints", "start dealing-deadline", DkgState.Complaining },
        { "a repeated dealing deadline is ignored", "start dealing-deadline dealing-deadline", DkgState.Complaining },
        { "reveal deadline awaits the decision", "start dealing-deadline reveal-deadline", DkgState.AwaitingDecision },
        { "unknown timer is ignored", "start timer-99", DkgState.Dealing },
        { "malformed decision fails the instance", "start malformed-decision", DkgState.Failed },
        { "decision of another instance fails it", "start foreign-decision", DkgState.Failed },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Transition(string row, string inputs, DkgState expected)
    {
        using var machine = new DkgMachine(DkgTestBus.Instance, PrimeOrderGroup.Ed25519, DkgTestBus.Options, DkgTestBus.KeyOf(1), DkgTestBus.PublicKeyOf);
        var random = new DeterministicRandomSource(7);
        var context = new ProtocolContext(1, Parameters, TimeSpan.Zero, random);
        var digest = new byte[32];
        foreach (var input in inputs.Split(' '))
        {
            var outbox = new Outbox();
            switch (input)
            {
                case "start":
                    machine.Start(context, outbox);
                    break;
                case "dealing-deadline":
                    machine.Timeout(context, DkgMachine.DealingDeadlineTimer, outbox);
                    break;
                case "reveal-deadline":
                    machine.Timeout(context, DkgMachine.RevealDeadlineTimer, outbox);
                    break;
                case "timer-99":
                    machine.Timeout(context, 99, outbox);
                    break;
                case "malformed-decision":
                    machine.OnQualifiedSetDecided(context, [1, 2, 3], outbox);
                    Assert.Contains(outbox.Events, e => e is DkgFailed);
                    break;
                case "foreign-decision":
                    var foreign = new DkgQualifiedSet(PrimeOrderGroup.Ed25519, DkgTestBus.Instance with { Period = 9 }, [new(1, digest), new(2, digest), new(3, digest)]);
                    machine.OnQualifiedSetDecided(context, foreign.Encode(), outbox);
                    break;
                default:
                    throw new ArgumentException(input, nameof(inputs));
            }
        }

        Assert.True(expected == machine.State, $"{row}: {machine.State}");
    }

    [Fact]
    public void Decision_before_start_and_a_second_different_decision_are_caller_mistakes()
    {
        using var machine = new DkgMachine(DkgTestBus.Instance, PrimeOrderGroup.Ed25519, DkgTestBus.Options, DkgTestBus.KeyOf(1), DkgTestBus.PublicKeyOf);
        var context = new ProtocolContext(1, Parameters, TimeSpan.Zero, new DeterministicRandomSource(8));
        Assert.Throws<InvalidOperationException>(() => machine.OnQualifiedSetDecided(context, [1], new Outbox()));
        machine.Start(context, new Outbox());
        machine.OnQualifiedSetDecided(context, [1], new Outbox());
        machine.OnQualifiedSetDecided(context, [1], new Outbox());
        Assert.Throws<InvalidOperationException>(() => machine.OnQualifiedSetDecided(context, [2], new Outbox()));
        Assert.Throws<ArgumentException>(() => new DkgMachine(new InstanceId(ProtocolKind.Refresh, 0, 0), PrimeOrderGroup.Ed25519, DkgTestBus.Options, DkgTestBus.KeyOf(1), DkgTestBus.PublicKeyOf));
    }

    [Fact]
    public void Two_different_shares_from_one_dealer_are_equivocation_but_a_retransmission_or_identical_resend_is_not()
    {
        using var bus = new DkgTestBus(PrimeOrderGroup.Ed25519, Parameters, seed: 81);
        bus.StartAll();
        var original = bus.Sent[2].Select(s => s.Message).Single(m => m.Type == (byte)DkgMessageType.Share && m.Recipient == 1);
        bus.Inject(2, 1, original.Round, original.Type, original.Payload, confidential: true);
        bus.Inject(2, 1, DkgRounds.Complaints, (byte)DkgMessageType.Resend, original.Payload, confidential: true);
        bus.Run();
        Assert.Empty(bus.AlertsOf(1));

        bus.Inject(2, 1, original.Round, original.Type, new DkgShare(bus.Group, 2, 1, bus.Group.One).Encode(), confidential: true);
        bus.Run();
        var alert = Assert.Single(bus.AlertsOf(1));
        Assert.Equal((AlertType.Equivocation, 2), (alert.Type, alert.Culprit));
    }

    [Fact]
    public void Resend_that_differs_from_the_received_share_is_equivocation()
    {
        using var bus = new DkgTestBus(PrimeOrderGroup.Ed25519, Parameters, seed: 82);
        bus.StartAll();
        bus.Inject(2, 1, DkgRounds.Complaints, (byte)DkgMessageType.Resend, new DkgShare(bus.Group, 2, 1, bus.Group.One).Encode(), confidential: true);
        bus.Run();
        var alert = Assert.Single(bus.AlertsOf(1));
        Assert.Equal((AlertType.Equivocation, 2), (alert.Type, alert.Culprit));
    }
}
