using Proactive.Crypto.Groups;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Recovery;
using Proactive.Protocols.Refresh;
using Proactive.Protocols.Tests.Refresh;

namespace Proactive.Protocols.Tests.Recovery;

public sealed class RecoveryMachineTests
{
    private static readonly ClusterParameters FiveServers = ClusterParameters.Create(5, 2, 1);
    private const int Wiped = 3;

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1)]
    [InlineData(1000, 2)]
    [InlineData(50, 0)]
    public void Wiped_server_recovers_exactly_its_old_shares(int secrets, int signingKeys)
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, secrets, signingKeys, seed: 201);
        var (machines, bus) = Build(fixture, seed: 202);
        try
        {
            PlayAgreement(machines, bus);

            var recovering = machines[Wiped];
            Assert.Equal(RecoveryStatus.Recovered, recovering.Status);
            Assert.Empty(bus.EventsOf<Alert>(Wiped));
            using var restored = recovering.TakeRecoveredShares()!;
            Assert.True(restored.ValueEquals(fixture.Shares[Wiped]));
            Assert.Equal(recovering.SharesPersistKey, bus.Persisted[Wiped].Single().Key);
            foreach (var h in FiveServers.Servers.Where(h => h != Wiped))
            {
                Assert.Equal(RecoveryStatus.Answered, machines[h].Status);
            }
        }
        finally
        {
            Dispose(machines);
        }
    }

    [Fact]
    public void Helper_sending_a_wrong_blinded_value_is_named_and_the_shares_still_recover()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 10, 1, seed: 211);
        var (machines, bus) = Build(fixture, seed: 212);
        bus.Interceptor = (from, to, message) =>
        {
            if (from != 1 || message.Type != RecoveryWire.BlindedSharesType)
            {
                return message;
            }

            Assert.True(SubShareVectorCodec.TryDecode(message.Payload, fixture.Group, out var recipient, out var values));
            values[7] = fixture.Group.Add(values[7], fixture.Group.One);
            return message with { Payload = SubShareVectorCodec.Encode(fixture.Group, recipient, values) };
        };
        try
        {
            PlayAgreement(machines, bus);

            var recovering = machines[Wiped];
            Assert.Equal(RecoveryStatus.Recovered, recovering.Status);
            Assert.Contains(bus.EventsOf<Alert>(Wiped), a => a.Type == AlertType.InvalidShare && a.Culprit == 1);
            Assert.Equal([1], bus.EventsOf<ShareRecovered>(Wiped).Single().WrongHelpers);
            using var restored = recovering.TakeRecoveredShares()!;
            Assert.True(restored.ValueEquals(fixture.Shares[Wiped]));
        }
        finally
        {
            Dispose(machines);
        }
    }

    [Fact]
    public void Blinded_values_alone_do_not_reveal_the_helpers_shares()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 221);
        var (machines, bus) = Build(fixture, seed: 222);
        var seen = new Dictionary<int, Scalar[]>();
        bus.Interceptor = (from, to, message) =>
        {
            if (message.Type == RecoveryWire.BlindedSharesType)
            {
                Assert.True(SubShareVectorCodec.TryDecode(message.Payload, fixture.Group, out _, out var values));
                seen[from] = values;
            }

            return message;
        };
        try
        {
            PlayAgreement(machines, bus);
            foreach (var (helper, values) in seen)
            {
                for (var k = 0; k < 3; k++)
                {
                    Assert.NotEqual(fixture.Shares[helper][k], values[k]);
                }
            }
        }
        finally
        {
            Dispose(machines);
        }
    }

    [Fact]
    public void Recovery_that_gets_no_matching_answers_fails_with_an_alert()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 231);
        var (machines, bus) = Build(fixture, seed: 232);
        bus.Interceptor = (from, to, message) => message.Type == RecoveryWire.BlindedSharesType && from != 1 ? null : message;
        try
        {
            PlayAgreement(machines, bus);
            bus.AdvanceTo(TimeSpan.FromMinutes(5));
            Assert.Equal(RecoveryStatus.Failed, machines[Wiped].Status);
            Assert.Contains(bus.EventsOf<Alert>(Wiped), a => a.Type == AlertType.RecoveryFailed && a.Culprit == 0);
        }
        finally
        {
            Dispose(machines);
        }
    }

    [Fact]
    public void Malformed_recovery_payloads_raise_alerts_and_never_throw()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 241);
        var (machines, bus) = Build(fixture, seed: 242);
        try
        {
            bus.StartAll();
            bus.Inject(2, Wiped, RecoveryWire.AnswerRound, RecoveryWire.BlindedSharesType, [1, 2, 3], confidential: true);
            bus.Inject(2, 1, RecoveryWire.BlindingRound, RecoveryWire.BlindingSubSharesType, [9], confidential: false);
            bus.Inject(Wiped, 1, RecoveryWire.BlindingRound, RecoveryWire.BlindingCommitmentsType, [9], confidential: false);
            bus.Inject(2, 1, 7, 7, [], confidential: false);
            bus.Run();
            Assert.Contains(bus.EventsOf<Alert>(Wiped), a => a.Type == AlertType.MalformedMessage && a.Culprit == 2);
            Assert.True(bus.EventsOf<Alert>(1).Count(a => a.Type == AlertType.MalformedMessage) >= 3);
            Assert.False(machines[1].IsAcceptableHelperSet([0, 1]));
        }
        finally
        {
            Dispose(machines);
        }
    }

    [Fact]
    public void Recovering_server_proposes_every_helper_whose_public_commitments_it_checked()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 251);
        var (machines, bus) = Build(fixture, seed: 252);
        try
        {
            bus.StartAll();
            bus.AdvanceTo(TimeSpan.FromSeconds(5));
            var proposal = bus.EventsOf<RecoveryHelperSetProposal>(Wiped).Single();
            Assert.True(QualifiedSetCodec.TryDecode(proposal.EncodedSet, fixture.Group, FiveServers.ServerCount, out var set));
            Assert.Equal(FiveServers.Servers.Where(h => h != Wiped), set.Keys);
            foreach (var j in FiveServers.Servers)
            {
                Assert.True(machines[j].IsAcceptableHelperSet(proposal.EncodedSet));
            }
        }
        finally
        {
            Dispose(machines);
        }
    }

    [Fact]
    public void Helpers_give_up_when_no_helper_set_is_decided_so_the_refresh_is_not_blocked()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 261);
        var (machines, bus) = Build(fixture, seed: 262);
        try
        {
            bus.StartAll();
            bus.AdvanceTo(RecoveryTimeouts.Default.BlindingWindow + RecoveryTimeouts.Default.AnswerWindow + TimeSpan.FromSeconds(1));
            Assert.All(FiveServers.Servers, j => Assert.Equal(RecoveryStatus.Failed, machines[j].Status));
            Assert.Contains(bus.EventsOf<Alert>(Wiped), a => a.Type == AlertType.RecoveryFailed);
        }
        finally
        {
            Dispose(machines);
        }
    }

    [Fact]
    public void Transition_table_covers_every_state()
    {
        var reachable = RecoveryMachine.ValidTransitions.Values.SelectMany(v => v).Append(RecoveryStatus.Created).ToHashSet();
        Assert.Equal(Enum.GetValues<RecoveryStatus>().ToHashSet(), reachable);
    }

    private static (Dictionary<int, RecoveryMachine> Machines, FifoTestBus Bus) Build(RefreshFixture fixture, ulong seed)
    {
        var instance = new InstanceId(ProtocolKind.ShareRecovery, 7, 1);
        var machines = FiveServers.Servers.ToDictionary(
            j => j,
            j => new RecoveryMachine(
                instance, FiveServers, j, Wiped, fixture.State,
                j == Wiped ? null : fixture.Shares[j],
                j == Wiped ? fixture.Digests[Wiped] : null));
        var bus = new FifoTestBus(FiveServers, machines.ToDictionary(p => p.Key, p => (IProtocolMachine)p.Value), seed);
        return (machines, bus);
    }

    /// <summary>Start everyone, decide helper 1's proposal (every helper accepts it), deliver the answers.</summary>
    private static void PlayAgreement(Dictionary<int, RecoveryMachine> machines, FifoTestBus bus)
    {
        bus.StartAll();
        bus.AdvanceTo(TimeSpan.FromSeconds(5));
        var proposal = bus.EventsOf<RecoveryHelperSetProposal>(1).Single();
        foreach (var h in FiveServers.Servers.Where(h => h != Wiped))
        {
            Assert.True(machines[h].IsAcceptableHelperSet(proposal.EncodedSet));
        }

        Assert.True(machines[Wiped].IsAcceptableHelperSet(proposal.EncodedSet)); // r votes on B too
        foreach (var h in FiveServers.Servers)
        {
            bus.Step(h, (context, outbox) => machines[h].OnHelperSetDecided(context, proposal.EncodedSet, outbox));
        }

        bus.Run();
    }

    private static void Dispose(Dictionary<int, RecoveryMachine> machines)
    {
        foreach (var m in machines.Values)
        {
            m.Dispose();
        }
    }
}
