using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Tests.Refresh;

/// <summary>One refresh over the bus, with the test playing agreement: server 1's proposal (or the first honest one) is decided.</summary>
internal sealed class RefreshRun : IDisposable
{
    private readonly RefreshFixture _fixture;

    public RefreshRun(RefreshFixture fixture, ulong seed, Dictionary<int, RefreshDealerFaults>? faulty = null, Dictionary<int, ShareVector>? replaceShares = null)
    {
        _fixture = fixture;
        Faulty = faulty ?? [];
        foreach (var j in fixture.Parameters.Servers)
        {
            var shares = replaceShares is not null && replaceShares.TryGetValue(j, out var replaced) ? replaced : fixture.Shares[j];
            Machines[j] = new RefreshMachine(
                new InstanceId(ProtocolKind.Refresh, 7, 0), fixture.Parameters, j, fixture.State, shares,
                fixture.Digests[j], timeouts: null, faults: Faulty.GetValueOrDefault(j));
        }

        Bus = new FifoTestBus(fixture.Parameters, Machines.ToDictionary(p => p.Key, p => (IProtocolMachine)p.Value), seed);
    }

    public Dictionary<int, RefreshMachine> Machines { get; } = [];

    public Dictionary<int, RefreshDealerFaults> Faulty { get; }

    public FifoTestBus Bus { get; }

    /// <summary>Start, let both deadlines pass, decide the first honest proposal (checked acceptable by every server), deliver.</summary>
    public void Execute()
    {
        Bus.StartAll();
        Bus.AdvanceTo(TimeSpan.FromSeconds(30));
        var proposer = _fixture.Parameters.Servers.First(j => !Faulty.ContainsKey(j));
        var proposal = Bus.EventsOf<RefreshQualifiedSetProposal>(proposer).Single();
        foreach (var j in _fixture.Parameters.Servers.Where(j => !Faulty.ContainsKey(j) && Machines[j].Status != RefreshStatus.SharesLost))
        {
            Assert.True(Machines[j].IsAcceptableQualifiedSet(proposal.EncodedSet), $"server {j} rejects the proposal");
        }

        foreach (var j in _fixture.Parameters.Servers)
        {
            Bus.Step(j, (context, outbox) => Machines[j].OnQualifiedSetDecided(context, proposal.EncodedSet, outbox));
        }

        Bus.Run();
    }

    public RefreshCompleted Completed(int server) => Bus.EventsOf<RefreshCompleted>(server).Single();

    public Dictionary<int, ShareVector> TakeNewShares() =>
        Machines.Where(p => p.Value.Status == RefreshStatus.Completed).ToDictionary(p => p.Key, p => p.Value.TakeNewShares()!);

    /// <summary>Every honest server completed, the dealer (if any) is out of QUAL, and new shares still reconstruct every secret.</summary>
    public void AssertSecretsKept(int exceptDealer)
    {
        foreach (var j in _fixture.Parameters.Servers)
        {
            Assert.Equal(RefreshStatus.Completed, Machines[j].Status);
            if (exceptDealer != 0)
            {
                Assert.DoesNotContain(exceptDealer, Completed(j).QualifiedDealers);
            }
        }

        var shares = TakeNewShares();
        try
        {
            for (var k = 0; k < _fixture.Secrets.Length; k++)
            {
                Assert.Equal(_fixture.Secrets[k], _fixture.Reconstruct(k, (1, shares[1]), (3, shares[3]), (5, shares[5])));
                Assert.Equal(_fixture.Secrets[k], _fixture.Reconstruct(k, (2, shares[2]), (3, shares[3]), (4, shares[4])));
            }

            for (var k = 0; k < _fixture.State.SigningKeyCount; k++)
            {
                var commitment = Completed(1).NewState.SigningKeyCommitments[k];
                Assert.Equal(_fixture.State.SigningKeyCommitments[k].ConstantTerm, commitment.ConstantTerm);
                foreach (var (j, vector) in shares)
                {
                    Assert.True(commitment.VerifyShare(j, vector[k]));
                }
            }
        }
        finally
        {
            foreach (var v in shares.Values)
            {
                v.Dispose();
            }
        }
    }

    public void Dispose()
    {
        foreach (var m in Machines.Values)
        {
            m.Dispose();
        }
    }
}
