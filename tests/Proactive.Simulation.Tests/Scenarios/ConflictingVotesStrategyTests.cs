using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;
using Proactive.Simulation.Adversary;
using Proactive.Simulation.Byzantine;
using Proactive.Simulation.Servers;

namespace Proactive.Simulation.Tests.Scenarios;

/// <summary>
/// A ConflictingVotes server whose agreement instance starts late can decide on the others' votes
/// without casting a PREVOTE (n=7, t=4, f=2, seed 4, period 28): the strategy must still leave an
/// honest server two conflicting signed votes, or its expected Equivocation alert is not valid.
/// </summary>
public sealed class ConflictingVotesStrategyTests
{
    private const int Culprit = 5;

    [Fact]
    public void ServerThatNeverPrevotesStillSendsAConflictingPairToTheOddServers()
    {
        var parameters = ClusterParameters.Create(7, 4, 2);
        var network = NetworkId.FromBytes(new byte[NetworkId.Length]);
        var parent = new InstanceId(ProtocolKind.Refresh, 28, 0);
        using var key = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)Culprit, Ed25519PrivateKey.SeedLength).ToArray());
        var strategy = new ConflictingVotesStrategy(28, key, network);
        var sent = new List<OutgoingMessage>();
        var context = new ByzantineContext(new SimulatedServer(Culprit, new DeterministicRandomSource(1)), parameters, TimeSpan.Zero, new DeterministicRandomSource(2), sent.Add, (_, _) => { });

        // Its first agreement message is a certificate answer (it decided on buffered votes), then a repeat.
        var decision = new OutgoingMessage(AgreementWiring.AgreementFor(parent), new OutboundMessage(3, 0, 0, (byte)AgreementMessageType.Decision, [1, 2, 3], false));
        strategy.OnSend(context, decision);
        strategy.OnSend(context, decision);

        var prevotes = sent.Where(m => m.Message.Type == (byte)AgreementMessageType.Prevote).ToList();
        Assert.Equal(2, sent.Count(m => m.Message.Type == (byte)AgreementMessageType.Decision));
        var toAll = Assert.Single(prevotes, m => m.Message.Recipient is null);
        var toOdd = prevotes.Where(m => m.Message.Recipient is not null).ToList();
        Assert.Equal([1, 3, 7], toOdd.Select(m => m.Message.Recipient!.Value).Order());

        var instanceContext = AgreementWiring.InstanceContext(parent, network);
        Assert.True(VoteMessage.TryDecode(toAll.Message.Payload, out var first, out _));
        foreach (var message in toOdd)
        {
            Assert.Equal(0u, message.Message.Attempt);
            Assert.True(VoteMessage.TryDecode(message.Message.Payload, out var second, out _));
            var proof = new VoteEquivocationProof(first.Vote, second.Vote);
            Assert.True(proof.Verify(parameters, s => s == Culprit ? key.PublicKey : null, instanceContext));
            Assert.Equal(Culprit, proof.Culprit);
        }
    }
}
