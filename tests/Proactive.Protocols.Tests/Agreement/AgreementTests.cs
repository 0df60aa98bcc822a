using System.Text;
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Agreement;

/// <summary>A Byzantine server that never sends anything (a crashed or partitioned proposer).</summary>
internal sealed class SilentActor : IByzantineActor
{
    public void Start(AgreementTestBus bus, int self)
    {
    }

    public void Receive(AgreementTestBus bus, int self, InboundMessage message)
    {
    }
}

/// <summary>A round-0 proposer that sends value A to the servers in <paramref name="getA"/> and value B to the others.</summary>
internal sealed class EquivocatingProposer(Func<int, bool> getA) : IByzantineActor
{
    internal static readonly byte[] A = Encoding.ASCII.GetBytes("ok:value-A");
    internal static readonly byte[] B = Encoding.ASCII.GetBytes("ok:value-B");

    public void Start(AgreementTestBus bus, int self)
    {
        foreach (var to in bus.Parameters.Servers.Where(i => i != self))
        {
            bus.Inject(self, to, 0, AgreementMessageType.Proposal, bus.ProposalPayload(self, 0, getA(to) ? A : B));
        }
    }

    public void Receive(AgreementTestBus bus, int self, InboundMessage message)
    {
    }
}

/// <summary>A voter that answers the round-0 proposal with both a PREVOTE for it and a nil PREVOTE, to everyone.</summary>
internal sealed class DoubleVoter : IByzantineActor
{
    private bool _voted;

    public void Start(AgreementTestBus bus, int self)
    {
    }

    public void Receive(AgreementTestBus bus, int self, InboundMessage message)
    {
        if (_voted || message.Type != (byte)AgreementMessageType.Proposal || !ProposalMessage.TryDecode(message.Payload.Span, out var proposal, out _))
        {
            return;
        }

        _voted = true;
        var round = proposal.Header.Round;
        bus.Inject(self, null, (uint)round, AgreementMessageType.Prevote, bus.VotePayload(self, VoteStep.Prevote, round, proposal.Value.ToArray()));
        bus.Inject(self, null, (uint)round, AgreementMessageType.Prevote, bus.VotePayload(self, VoteStep.Prevote, round, null));
    }
}

/// <summary>
/// A Byzantine server that, once per round it hears of, proposes random values to each server
/// separately when it leads, and sends each server its own random PREVOTE and PRECOMMIT.
/// </summary>
internal sealed class RandomByzantineVoter(Random random) : IByzantineActor
{
    private readonly HashSet<int> _roundsActed = [];
    private readonly List<byte[]> _seen = [];

    public void Start(AgreementTestBus bus, int self) => Act(bus, self, 0);

    public void Receive(AgreementTestBus bus, int self, InboundMessage message)
    {
        if (message.Type == (byte)AgreementMessageType.Proposal && ProposalMessage.TryDecode(message.Payload.Span, out var proposal, out _))
        {
            _seen.Add(proposal.Value.ToArray());
        }

        Act(bus, self, (int)message.Attempt);
    }

    private void Act(AgreementTestBus bus, int self, int round)
    {
        if (round > AgreementDomain.MaxRound - 2 || !_roundsActed.Add(round))
        {
            return;
        }

        foreach (var to in bus.Parameters.Servers.Where(i => i != self))
        {
            if (bus.Proposer(round) == self)
            {
                bus.Inject(self, to, (uint)round, AgreementMessageType.Proposal, bus.ProposalPayload(self, round, Encoding.ASCII.GetBytes(random.Next(3) == 0 ? "bad:evil" : $"ok:evil-{random.Next(2)}")));
            }

            foreach (var step in new[] { VoteStep.Prevote, VoteStep.Precommit })
            {
                var type = step == VoteStep.Prevote ? AgreementMessageType.Prevote : AgreementMessageType.Precommit;
                var target = random.Next(4) == 0 ? round + 1 : round;
                bus.Inject(self, to, (uint)target, type, bus.VotePayload(self, step, target, Pick()), TimeSpan.FromMilliseconds(random.Next(1, 300)));
            }
        }
    }

    private byte[]? Pick() => random.Next(4) switch
    {
        0 => null,
        1 => Encoding.ASCII.GetBytes("ok:evil-0"),
        2 => Encoding.ASCII.GetBytes("bad:evil"),
        _ => _seen.Count == 0 ? null : _seen[random.Next(_seen.Count)],
    };
}

public class AgreementTests
{
    public static TheoryData<int, int> Sizes => new() { { 4, 1 }, { 7, 2 } };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void All_honest_servers_decide_the_round_0_proposers_value(int n, int f)
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(n, f, f), instanceSeed: 5);
        bus.Start();
        bus.RunUntilAllDecided();

        var decisions = bus.Decisions.ToList();
        Assert.Equal(bus.Honest, decisions.Select(d => d.Server).Order());
        foreach (var (_, decision) in decisions)
        {
            Assert.Equal(bus.Values(bus.Proposer(0)), decision.Value);
            Assert.Equal(0, decision.Certificate.Round);
            Assert.True(decision.Certificate.Verify(bus.Parameters, bus.PublicKey, bus.Context).IsValid);
            Assert.Equal(AgreementTestBus.Instance, decision.Instance);
        }

        Assert.Empty(bus.Alerts);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void A_silent_proposer_times_out_and_the_next_proposer_decides_in_round_1(int n, int f)
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(n, f, f), instanceSeed: 2);
        var silent = bus.Proposer(0);
        bus.MakeByzantine(silent, new SilentActor());
        bus.Start();
        bus.RunUntilAllDecided();

        Assert.All(bus.Honest, i => Assert.True(bus.Machines[i].IsFinished));
        Assert.All(bus.Decisions, d =>
        {
            Assert.Equal(bus.Values(bus.Proposer(1)), d.Decision.Value);
            Assert.Equal(1, d.Decision.Certificate.Round);
        });
        Assert.True(bus.Now >= AgreementTestBus.TestTimeouts.Propose);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void An_equivocating_proposer_never_splits_the_decision_and_is_reported(int n, int f)
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(n, f, f), instanceSeed: 0);
        var proposer = bus.Proposer(0);
        bus.MakeByzantine(proposer, new EquivocatingProposer(to => to % 2 == 0));
        bus.Start();
        bus.RunUntilAllDecided();

        var values = bus.Decisions.Select(d => Convert.ToHexString(d.Decision.Value)).Distinct().ToList();
        Assert.Single(values);
        Assert.Equal(bus.Honest.Count(), bus.Decisions.Count());
        var alerts = bus.Alerts.Where(a => a.Alert.Type == AlertType.Equivocation).ToList();
        Assert.NotEmpty(alerts);
        Assert.All(alerts, a =>
        {
            Assert.Equal(proposer, a.Alert.Culprit);
            Assert.True(VoteEquivocationProof.TryDecode(a.Alert.Evidence, out var proof, out _));
            Assert.Equal(VoteStep.Proposal, proof.First.Step);
            Assert.True(proof.Verify(bus.Parameters, bus.PublicKey, bus.Context));
        });
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void A_double_voter_is_reported_with_a_proof_that_verifies_and_names_it(int n, int f)
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(n, f, f), instanceSeed: 0);
        var culprit = n;
        Assert.NotEqual(culprit, bus.Proposer(0));
        bus.MakeByzantine(culprit, new DoubleVoter());
        bus.Start();
        bus.RunUntilAllDecided();

        Assert.Equal(bus.Honest.Count(), bus.Decisions.Count());
        var alerts = bus.Alerts.Where(a => a.Alert.Type == AlertType.Equivocation).ToList();
        Assert.Equal(bus.Honest, alerts.Select(a => a.Server).Order());
        foreach (var (server, alert) in alerts)
        {
            Assert.Equal(culprit, alert.Culprit);
            Assert.Equal(AgreementTestBus.Instance, alert.Instance);
            Assert.True(VoteEquivocationProof.TryDecode(alert.Evidence, out var proof, out _));
            Assert.Equal(culprit, proof.Culprit);
            Assert.Equal(VoteStep.Prevote, proof.Second.Step);
            Assert.True(proof.Verify(bus.Parameters, bus.PublicKey, bus.Context));
            Assert.False(proof.Verify(bus.Parameters, bus.PublicKey, "another instance"u8));
            Assert.Contains(culprit, bus.Machines[server].Excluded);
        }
    }

    /// <summary>
    /// Honest servers learn of an equivocation at different times (the second version may reach only
    /// some of them): dropping the culprit's later votes at some honest servers only splits their
    /// views of a polka and can stall agreement at n = 3f + 1 (n=7, t=4, f=2, seed 29). The culprit is
    /// reported and no longer leads, but its first vote per (round, step) still counts.
    /// </summary>
    [Fact]
    public void A_proven_double_voter_is_reported_but_its_later_votes_still_count()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1), instanceSeed: 0);
        const int proposer = 1, receiver = 2, honestVoter = 3, culprit = 4;
        Assert.Equal(proposer, bus.Proposer(0));
        bus.MakeByzantine(culprit, new DoubleVoter());
        bus.Start();
        var value = bus.Values(proposer);

        bus.DeliverNow(culprit, receiver, AgreementMessageType.Prevote, 0, bus.VotePayload(culprit, VoteStep.Prevote, 0, value));
        bus.DeliverNow(culprit, receiver, AgreementMessageType.Prevote, 0, bus.VotePayload(culprit, VoteStep.Prevote, 0, null));
        Assert.Contains(culprit, bus.Machines[receiver].Excluded);
        Assert.Contains(bus.Alerts, a => a.Server == receiver && a.Alert.Type == AlertType.Equivocation && a.Alert.Culprit == culprit);

        bus.DeliverNow(proposer, receiver, AgreementMessageType.Proposal, 0, bus.ProposalPayload(proposer, 0, value));
        bus.DeliverNow(proposer, receiver, AgreementMessageType.Precommit, 0, bus.VotePayload(proposer, VoteStep.Precommit, 0, value));
        bus.DeliverNow(honestVoter, receiver, AgreementMessageType.Precommit, 0, bus.VotePayload(honestVoter, VoteStep.Precommit, 0, value));
        Assert.False(bus.Machines[receiver].IsFinished);
        bus.DeliverNow(culprit, receiver, AgreementMessageType.Precommit, 0, bus.VotePayload(culprit, VoteStep.Precommit, 0, value));

        Assert.True(bus.Machines[receiver].IsFinished);
        Assert.Equal(value, bus.Decisions.Single(d => d.Server == receiver).Decision.Value);
        Assert.Single(bus.Alerts, a => a.Server == receiver && a.Alert.Type == AlertType.Equivocation);
    }

    /// <summary>
    /// Validity is subjective (a refresh dealer's equivocation disqualifies it only where the proof
    /// arrived): a server that rejects v but sees n - f PREVOTEs for it (at least n - 2f honest servers
    /// checked v) locks and precommits like the paper's line 36, so servers locked on v can still
    /// decide when every honest vote is needed (n=7, t=4, f=2, seed 32).
    /// </summary>
    [Fact]
    public void A_server_that_rejects_a_value_follows_a_polka_for_it()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1), instanceSeed: 0, isValid: _ => false);
        const int proposer = 1, receiver = 2;
        bus.Start();
        var value = "ok:a value only the others accept"u8.ToArray();

        bus.DeliverNow(proposer, receiver, AgreementMessageType.Proposal, 0, bus.ProposalPayload(proposer, 0, value));
        Assert.Equal(AgreementStep.Prevote, bus.Machines[receiver].Step);
        Assert.Equal(-1, bus.Machines[receiver].LockedRound);
        foreach (var voter in new[] { 1, 3, 4 })
        {
            bus.DeliverNow(voter, receiver, AgreementMessageType.Prevote, 0, bus.VotePayload(voter, VoteStep.Prevote, 0, value));
        }

        Assert.Equal(0, bus.Machines[receiver].LockedRound);
        Assert.Equal(AgreementStep.Precommit, bus.Machines[receiver].Step);
        foreach (var voter in new[] { 1, 3 })
        {
            bus.DeliverNow(voter, receiver, AgreementMessageType.Precommit, 0, bus.VotePayload(voter, VoteStep.Precommit, 0, value));
        }

        Assert.True(bus.Machines[receiver].IsFinished);
        Assert.Equal(value, bus.Decisions.Single(d => d.Server == receiver).Decision.Value);
    }

    /// <summary>
    /// valid(v) can turn true with time (a ledger batch sealing period L is valid only once a server is in
    /// L + 1): every server refuses the value in round 0, and accepts the same value when it comes again in
    /// round 1. A remembered refusal made the servers prevote nil on it in every round, never deciding.
    /// </summary>
    [Fact]
    public void A_value_refused_in_one_round_is_judged_again_when_it_is_proposed_in_a_later_round()
    {
        var validFrom = TimeSpan.FromMilliseconds(200);
        AgreementTestBus? running = null;
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1), instanceSeed: 0, values: _ => "ok:the seal"u8.ToArray(),
            isValid: v => running!.Now >= validFrom && v.AsSpan().StartsWith("ok:"u8));
        running = bus;
        bus.Start();
        bus.RunUntilAllDecided(TimeSpan.FromSeconds(30));

        Assert.All(bus.Machines.Values, m => Assert.True(m.IsFinished));
        Assert.All(bus.Decisions, d => Assert.Equal("ok:the seal"u8.ToArray(), d.Decision.Value));
        Assert.Equal(1, bus.Machines[1].Decision!.Round);
        Assert.All(bus.Sent.Where(s => s.Message.Type == (byte)AgreementMessageType.Prevote && s.Message.Attempt == 0),
            s => Assert.False(VoteMessage.TryDecode(s.Message.Payload, out var vote, out _) && vote.Vote.HasValue));
    }

    /// <summary>
    /// Views split on an equivocating refresh dealer (3 and 5 disqualified it and reject v; 2, 6, 7
    /// accept v) and a vote equivocator (4 prevoted v to some, nil to others). Server 3 got 4's nil
    /// first, so it logs only four prevotes for v in round 0 while 2, 6, 7 saw a polka and locked; the
    /// next proposer re-proposes v with validRound 0 and the polka as justification, which holds 4's
    /// signed prevote for v. Server 3 must count it (n - f distinct signers of PREVOTE(0, id(v))) and
    /// prevote v (line 28), or it never does and the refresh never decides (n=7, t=4, f=2, seed 5).
    /// </summary>
    [Fact]
    public void A_server_that_logged_an_equivocators_nil_prevote_first_follows_the_polka_in_a_proposals_justification()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(7, 4, 2), instanceSeed: 0, isValid: _ => false);
        const int receiver = 3, equivocator = 4;
        Assert.Equal(1, bus.Proposer(0));
        Assert.Equal(2, bus.Proposer(1));
        bus.Start();
        var value = "ok:the set with the equivocating dealer"u8.ToArray();
        var valueId = AgreementDomain.ValueId(value);

        bus.DeliverNow(1, receiver, AgreementMessageType.Proposal, 0, bus.ProposalPayload(1, 0, value));
        foreach (var voter in new[] { 1, 2, 6, 7 })
        {
            bus.DeliverNow(voter, receiver, AgreementMessageType.Prevote, 0, bus.VotePayload(voter, VoteStep.Prevote, 0, value));
        }

        bus.DeliverNow(equivocator, receiver, AgreementMessageType.Prevote, 0, bus.VotePayload(equivocator, VoteStep.Prevote, 0, null));
        bus.DeliverNow(5, receiver, AgreementMessageType.Prevote, 0, bus.VotePayload(5, VoteStep.Prevote, 0, null));
        Assert.Equal(-1, bus.Machines[receiver].LockedRound);

        var polka = new[] { 1, 2, equivocator, 6, 7 }.Select(voter => bus.Sign(voter, VoteStep.Prevote, 0, value)).ToArray();
        bus.DeliverNow(2, receiver, AgreementMessageType.Proposal, 1, bus.ProposalPayload(2, 1, value, validRound: 0, justification: polka));
        foreach (var voter in new[] { 6, 7 })
        {
            bus.DeliverNow(voter, receiver, AgreementMessageType.Prevote, 1, bus.VotePayload(voter, VoteStep.Prevote, 1, value));
        }

        Assert.Equal(1, bus.Machines[receiver].Round);
        var prevote = bus.Sent
            .Where(s => s.From == receiver && s.Message.Attempt == 1 && s.Message.Type == (byte)AgreementMessageType.Prevote)
            .Select(s => VoteMessage.TryDecode(s.Message.Payload, out var m, out _) ? m.Vote : null)
            .Single();
        Assert.NotNull(prevote);
        Assert.True(prevote.HasValue);
        Assert.Equal(valueId, prevote.ValueId.ToArray());
        Assert.Contains(bus.Alerts, a => a.Server == receiver && a.Alert.Type == AlertType.Equivocation && a.Alert.Culprit == equivocator);

        foreach (var voter in new[] { 2, 5 })
        {
            bus.DeliverNow(voter, receiver, AgreementMessageType.Prevote, 1, bus.VotePayload(voter, VoteStep.Prevote, 1, value));
        }

        Assert.Equal(1, bus.Machines[receiver].LockedRound);
        foreach (var voter in new[] { 2, 5, 6, 7 })
        {
            bus.DeliverNow(voter, receiver, AgreementMessageType.Precommit, 1, bus.VotePayload(voter, VoteStep.Precommit, 1, value));
        }

        Assert.True(bus.Machines[receiver].IsFinished);
        Assert.Equal(value, bus.Decisions.Single(d => d.Server == receiver).Decision.Value);
    }

    [Fact]
    public void Equivocation_proofs_of_one_statement_twice_or_of_two_signers_do_not_verify()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1));
        var a = bus.Sign(2, VoteStep.Precommit, 3, "ok:a"u8.ToArray());
        var b = bus.Sign(2, VoteStep.Precommit, 3, null);
        var other = bus.Sign(3, VoteStep.Precommit, 3, null);
        var laterRound = bus.Sign(2, VoteStep.Precommit, 4, null);
        Assert.True(new VoteEquivocationProof(a, b).Verify(bus.Parameters, bus.PublicKey, bus.Context));
        Assert.False(new VoteEquivocationProof(a, a).Verify(bus.Parameters, bus.PublicKey, bus.Context));
        Assert.False(new VoteEquivocationProof(a, other).Verify(bus.Parameters, bus.PublicKey, bus.Context));
        Assert.False(new VoteEquivocationProof(a, laterRound).Verify(bus.Parameters, bus.PublicKey, bus.Context));

        var encoded = new VoteEquivocationProof(a, b).Encode();
        Assert.True(VoteEquivocationProof.TryDecode(encoded, out var decoded, out _));
        Assert.Equal(a, decoded.First);
        Assert.Equal(b, decoded.Second);
        Assert.False(VoteEquivocationProof.TryDecode(encoded.AsSpan(0, encoded.Length - 1), out _, out var failure));
        Assert.True(failure.IsFailure);
    }
}
