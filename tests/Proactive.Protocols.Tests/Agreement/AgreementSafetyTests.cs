using System.Text;
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Agreement;

public class AgreementSafetyTests
{
    private static readonly byte[] A = Encoding.ASCII.GetBytes("ok:A");
    private static readonly byte[] B = Encoding.ASCII.GetBytes("ok:B");

    /// <summary>
    /// Server 4 of n = 4 (seed 0: proposers 1, 2, 3 for rounds 0, 1, 2) locks A in round 0; then
    /// a later proposal arrives. Servers 1-3 are scripted by the test.
    /// </summary>
    public static TheoryData<string, string, int, int, int, string> LockCases => new()
    {
        { "fresh proposal of another value: the lock holds", "B", 1, -1, 0, "nil" },
        { "fresh proposal of the locked value", "A", 1, -1, 0, "A" },
        { "another value with a polka of a later round: the lock yields", "B", 2, 1, 3, "B" },
        { "another value with 2 of the 3 prevotes its polka needs", "B", 2, 1, 2, "nil" },
        { "another value with a polka claimed at the lock round itself: its signers equivocate", "B", 1, 0, 3, "nil" },
    };

    [Theory]
    [MemberData(nameof(LockCases))]
    public void A_locked_value_is_only_overridden_by_a_polka_of_a_higher_round(string name, string proposed, int round, int validRound, int justifiers, string expectedPrevote)
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1), instanceSeed: 0);
        foreach (var i in new[] { 1, 2, 3 })
        {
            bus.MakeByzantine(i, new SilentActor());
        }

        bus.Start();
        var machine = bus.Machines[4];

        // Round 0: proposer 1 proposes A; servers 1 and 2 prevote A: with 4's own prevote, a polka.
        bus.DeliverNow(1, 4, AgreementMessageType.Proposal, 0, bus.ProposalPayload(1, 0, A));
        bus.DeliverNow(1, 4, AgreementMessageType.Prevote, 0, bus.VotePayload(1, VoteStep.Prevote, 0, A));
        bus.DeliverNow(2, 4, AgreementMessageType.Prevote, 0, bus.VotePayload(2, VoteStep.Prevote, 0, A));
        Assert.Equal(0, machine.LockedRound);
        Assert.Equal(AgreementDomain.ValueId(A), machine.LockedValueId);
        Assert.Equal(AgreementStep.Precommit, machine.Step);

        // The later proposal, with its justification, then one more server's message of that round:
        // f + 1 = 2 servers are in the round, so server 4 joins it (line 55).
        var value = proposed == "A" ? A : B;
        var proposer = bus.Proposer(round);
        var justification = new[] { 1, 2, 3 }.Take(justifiers).Select(i => bus.Sign(i, VoteStep.Prevote, validRound, value)).ToList();
        bus.DeliverNow(proposer, 4, AgreementMessageType.Proposal, (uint)round, bus.ProposalPayload(proposer, round, value, validRound, justification));
        var other = proposer == 3 ? 1 : 3;
        bus.DeliverNow(other, 4, AgreementMessageType.Precommit, (uint)round, bus.VotePayload(other, VoteStep.Precommit, round, null));
        Assert.Equal(round, machine.Round);

        // Without a prevote yet, the propose timeout decides it (nil).
        bus.Run(bus.Now + TimeSpan.FromSeconds(30), () => Prevote(bus, round) is not null);
        var prevote = Prevote(bus, round);
        Assert.NotNull(prevote);
        var expected = expectedPrevote switch { "A" => A, "B" => B, _ => null };
        Assert.True(expected is null ? !prevote.HasValue : prevote.ValueId.SequenceEqual(AgreementDomain.ValueId(expected)), name);
        if (validRound == 0)
        {
            Assert.Contains(bus.Alerts, a => a.Alert.Type == AlertType.Equivocation && a.Alert.Culprit == 1);
        }

        Assert.False(machine.IsFinished);
    }

    [Fact]
    public void A_polka_seen_after_precommitting_nil_sets_validValue_but_not_the_lock()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1), instanceSeed: 0);
        foreach (var i in new[] { 1, 2, 3 })
        {
            bus.MakeByzantine(i, new SilentActor());
        }

        bus.Start();
        var machine = bus.Machines[4];

        // Server 4 misses the proposal: timeoutPropose, PREVOTE nil (lines 57-60).
        bus.Run(bus.Now + TimeSpan.FromSeconds(1.5));
        Assert.Equal(AgreementStep.Prevote, machine.Step);

        // Prevotes for A from 1, 2, 3: n - f prevotes of any kind start timeoutPrevote (line 34);
        // without the proposal there is nothing to lock, so the timeout precommits nil (lines 61-64).
        foreach (var i in new[] { 1, 2, 3 })
        {
            bus.DeliverNow(i, 4, AgreementMessageType.Prevote, 0, bus.VotePayload(i, VoteStep.Prevote, 0, A));
        }

        bus.Run(bus.Now + TimeSpan.FromSeconds(1), () => machine.Step == AgreementStep.Precommit);
        Assert.Equal(AgreementStep.Precommit, machine.Step);

        // The proposal arrives late: lines 36-43 with step = precommit: validValue, no lock.
        bus.DeliverNow(1, 4, AgreementMessageType.Proposal, 0, bus.ProposalPayload(1, 0, A));
        Assert.Equal(0, machine.ValidRound);
        Assert.Equal(-1, machine.LockedRound);
        Assert.Null(machine.LockedValueId);
    }

    [Fact]
    public void Malformed_payloads_and_bad_signatures_are_dropped_with_an_alert_naming_the_sender()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1), instanceSeed: 0);
        foreach (var i in new[] { 1, 2, 3 })
        {
            bus.MakeByzantine(i, new SilentActor());
        }

        bus.Start();
        var machine = bus.Machines[4];

        bus.DeliverNow(2, 4, AgreementMessageType.Prevote, 0, [1, 2, 3]);
        var forged = bus.Sign(3, VoteStep.Prevote, 0, A);
        bus.DeliverNow(2, 4, AgreementMessageType.Prevote, 0, new VoteMessage(forged, null).Encode());
        var tampered = bus.VotePayload(2, VoteStep.Prevote, 0, A);
        tampered[^2] ^= 1; // the signature's last byte (the final byte is the hasProposal flag)
        bus.DeliverNow(2, 4, AgreementMessageType.Prevote, 0, tampered);
        bus.DeliverNow(3, 4, AgreementMessageType.Proposal, 0, bus.ProposalPayload(3, 0, A));
        bus.DeliverNow(3, 4, 99, 0, [1]);
        var otherInstance = new AgreementTestBus(bus.Parameters, context: "another instance"u8.ToArray());
        using (otherInstance)
        {
            bus.DeliverNow(1, 4, AgreementMessageType.Proposal, 0, otherInstance.ProposalPayload(1, 0, A));
        }

        var alerts = bus.Alerts.Select(a => (a.Alert.Type, a.Alert.Culprit)).ToList();
        Assert.Equal(
            [
                (AlertType.MalformedMessage, 2),
                (AlertType.MalformedMessage, 2),
                (AlertType.InvalidSignature, 2),
                (AlertType.MalformedMessage, 3),
                (AlertType.MalformedMessage, 3),
                (AlertType.InvalidSignature, 1),
            ],
            alerts);
        Assert.Equal(AgreementStep.Propose, machine.Step);
    }

    private static SignedVote? Prevote(AgreementTestBus bus, int round) =>
        bus.Sent
            .Where(s => s.From == 4 && s.Message.Type == (byte)AgreementMessageType.Prevote && s.Message.Attempt == round)
            .Select(s => VoteMessage.TryDecode(s.Message.Payload, out var m, out _) ? m.Vote : null)
            .FirstOrDefault();
}

internal static class AgreementBusExtensions
{
    internal static void DeliverNow(this AgreementTestBus bus, int from, int to, byte type, uint attempt, byte[] payload) =>
        bus.DeliverNow(from, to, (AgreementMessageType)type, attempt, payload);
}
