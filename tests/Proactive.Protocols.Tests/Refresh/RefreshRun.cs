using Proactive.Crypto.Signing;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Tests.Refresh;

/// <summary>One refresh over the bus, with the test playing agreement: server 1's proposal (or the first honest one) is decided.</summary>
internal sealed class RefreshRun : IDisposable
{
    private readonly RefreshFixture _fixture;

    // absent: servers with no machine (the adversary's, which the test plays itself); messages to them are dropped.
    public RefreshRun(
        RefreshFixture fixture, ulong seed, Dictionary<int, RefreshDealerFaults>? faulty = null, Dictionary<int, ShareVector>? replaceShares = null,
        IReadOnlyCollection<int>? absent = null)
    {
        _fixture = fixture;
        Faulty = faulty ?? [];
        foreach (var j in fixture.Parameters.Servers)
        {
            Keys[j] = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)j, Ed25519PrivateKey.SeedLength).ToArray());
        }

        foreach (var j in fixture.Parameters.Servers.Where(j => absent?.Contains(j) != true))
        {
            var shares = replaceShares is not null && replaceShares.TryGetValue(j, out var replaced) ? replaced : fixture.Shares[j];
            Machines[j] = new RefreshMachine(
                Instance, fixture.Parameters, j, fixture.State, shares, Keys[j], PublicKey, InstanceContext,
                fixture.Digests[j], timeouts: null, faults: Faulty.GetValueOrDefault(j));
        }

        Bus = new FifoTestBus(fixture.Parameters, Machines.ToDictionary(p => p.Key, p => (IProtocolMachine)p.Value), seed);
    }

    /// <summary>The refresh instance every machine runs.</summary>
    public static InstanceId Instance { get; } = new(ProtocolKind.Refresh, 7, 0);

    /// <summary>What every complaint signature binds besides the instance (the controller passes the agreement's instance context).</summary>
    public static byte[] InstanceContext { get; } = "test network, refresh of period 7"u8.ToArray();

    public Dictionary<int, RefreshMachine> Machines { get; } = [];

    /// <summary>Every server's period signing key, the absent ones' included (the test signs for them).</summary>
    public Dictionary<int, Ed25519PrivateKey> Keys { get; } = [];

    public Ed25519PublicKey? PublicKey(int server) => Keys.TryGetValue(server, out var key) ? key.PublicKey : null;

    /// <summary>A complaint signed by <paramref name="complainer"/>'s key (what a Byzantine complainer can make).</summary>
    public byte[] SignedComplaint(int complainer, int dealer, RefreshComplaintReason reason) =>
        RefreshComplaint.Sign(_fixture.Group, Keys[complainer], Instance, InstanceContext, complainer, dealer, reason).Encode();

    public Dictionary<int, RefreshDealerFaults> Faulty { get; }

    public FifoTestBus Bus { get; }

    /// <summary>Start, let both deadlines pass, decide the first honest proposal (checked acceptable by every server), deliver.</summary>
    public void Execute()
    {
        Bus.StartAll();
        Finish();
    }

    /// <summary>After a start: let both deadlines pass, decide the first honest latest proposal (checked acceptable by every honest server), deliver.</summary>
    public void Finish()
    {
        Bus.AdvanceTo(TimeSpan.FromSeconds(30));
        var proposer = Machines.Keys.Order().First(j => !Faulty.ContainsKey(j));
        var proposal = Bus.EventsOf<RefreshQualifiedSetProposal>(proposer).Last();
        foreach (var j in Machines.Keys.Where(j => !Faulty.ContainsKey(j) && Machines[j].Status != RefreshStatus.SharesLost))
        {
            Assert.True(Machines[j].IsAcceptableQualifiedSet(proposal.EncodedSet), $"server {j} rejects the proposal");
        }

        foreach (var j in Machines.Keys.Order())
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

        foreach (var key in Keys.Values)
        {
            key.Dispose();
        }
    }
}
