using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Dkg;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Dkg;

/// <summary>
/// The DKG machine end to end on <see cref="DkgTestBus"/>, with named actors: honest servers, and a
/// Byzantine dealer played by tampering with what an otherwise honest machine sends.
/// </summary>
public class DkgMachineTests
{
    private const int Leader = 1;

    public static TheoryData<string> Suites => new() { "Ed25519", "ristretto255", "P-256" };

    public static TheoryData<string, int, int> SuitesAndSizes
    {
        get
        {
            var data = new TheoryData<string, int, int>();
            foreach (var suite in new[] { "Ed25519", "ristretto255", "P-256" })
            {
                data.Add(suite, 5, 2);
                data.Add(suite, 7, 3);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(SuitesAndSizes))]
    public void All_honest_servers_agree_on_one_group_key_whose_secret_is_the_sum_of_the_dealt_constants(string suite, int n, int t)
    {
        var parameters = ClusterParameters.Create(n, t, (n - 1) / 3);
        using var bus = new DkgTestBus(GroupByName(suite), parameters, seed: 11);
        bus.StartAll();
        bus.Run();
        var honest = parameters.Servers.ToArray();
        bus.DecideOnProposalOf(Leader, honest);

        var result = AssertConsistentResult(bus, honest);
        Assert.Equal(honest, result.QualifiedDealers);
        Assert.All(honest, id => Assert.Empty(bus.AlertsOf(id)));
    }

    [Fact]
    public void Dealer_persists_its_polynomial_before_any_message_leaves_and_sends_shares_only_confidentially()
    {
        using var bus = new DkgTestBus(PrimeOrderGroup.Ed25519, ClusterParameters.Default(5), seed: 12);
        bus.StartAll();
        foreach (var id in bus.Parameters.Servers)
        {
            Assert.True(bus.Persisted[id].ContainsKey(DkgMachine.DealerStateKey(DkgTestBus.Instance)));
            Assert.All(bus.Sent[id], s => Assert.True(s.PersistedBefore >= 1));
            var shares = bus.Sent[id].Select(s => s.Message).Where(m => m.Type == (byte)DkgMessageType.Share).ToArray();
            Assert.Equal(4, shares.Length);
            Assert.All(shares, m => Assert.True(m.Confidential && m.Recipient is not null && m.Recipient != id));
            Assert.Single(bus.Sent[id], s => s.Message.Type == (byte)DkgMessageType.Dealing && s.Message.Recipient is null);
        }
    }

    [Fact]
    public void Restarted_dealer_resends_the_very_same_dealing_from_its_persisted_state()
    {
        var group = PrimeOrderGroup.P256;
        var parameters = ClusterParameters.Default(5);
        using var first = new DkgMachine(DkgTestBus.Instance, group, DkgTestBus.Options, DkgTestBus.KeyOf(2), DkgTestBus.PublicKeyOf);
        var before = new Outbox();
        first.Start(new ProtocolContext(2, parameters, TimeSpan.Zero, new DeterministicRandomSource(1)), before);
        var persisted = before.Persisted.Single().Value;

        using var restarted = new DkgMachine(DkgTestBus.Instance, group, DkgTestBus.Options, DkgTestBus.KeyOf(2), DkgTestBus.PublicKeyOf, persistedDealerState: persisted);
        var after = new Outbox();
        restarted.Start(new ProtocolContext(2, parameters, TimeSpan.FromSeconds(3), new DeterministicRandomSource(2)), after);

        Assert.Equal(before.Messages.Select(m => m.Payload), after.Messages.Select(m => m.Payload));
        Assert.Throws<ArgumentException>(() =>
            new DkgMachine(DkgTestBus.Instance, group, DkgTestBus.Options, DkgTestBus.KeyOf(3), DkgTestBus.PublicKeyOf, persistedDealerState: persisted)
                .Start(new ProtocolContext(3, parameters, TimeSpan.Zero, new DeterministicRandomSource(3)), new Outbox()));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Bad_share_to_one_server_draws_a_complaint_and_a_good_reveal_keeps_the_dealer_qualified(string suite)
    {
        const int dealer = 2, victim = 3;
        using var bus = new DkgTestBus(GroupByName(suite), ClusterParameters.Default(5), seed: 21);
        bus.Tamper = (from, to, m) => from == dealer && to == victim && m.Type == (byte)DkgMessageType.Share ? WithShiftedScalar(bus.Group, m) : m;
        bus.StartAll();
        bus.Run();
        var honest = bus.Parameters.Servers.ToArray();

        var alert = Assert.Single(bus.AlertsOf(victim));
        Assert.Equal((AlertType.InvalidShare, dealer), (alert.Type, alert.Culprit));
        var complaint = Assert.Single(bus.Sent[victim], s => s.Message.Type == (byte)DkgMessageType.Complaint).Message;
        Assert.True(DkgComplaint.TryDecode(complaint.Payload, bus.Group, out var decoded, out _));
        Assert.Equal((victim, dealer, DkgComplaintReason.Invalid), (decoded.Complainer, decoded.Accused, decoded.Reason));
        Assert.Single(bus.Sent[dealer], s => s.Message.Type == (byte)DkgMessageType.Reveal);
        Assert.DoesNotContain(bus.Sent[dealer], s => s.Message.Type == (byte)DkgMessageType.Resend);

        bus.DecideOnProposalOf(Leader, honest);
        var result = AssertConsistentResult(bus, honest);
        Assert.Contains(dealer, result.QualifiedDealers);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Bad_share_answered_by_a_bad_reveal_disqualifies_the_dealer_everywhere(string suite)
    {
        const int dealer = 2, victim = 3;
        using var bus = new DkgTestBus(GroupByName(suite), ClusterParameters.Default(5), seed: 22);
        bus.Tamper = (from, to, m) =>
            from == dealer && ((to == victim && m.Type == (byte)DkgMessageType.Share) || m.Type == (byte)DkgMessageType.Reveal)
                ? WithShiftedScalar(bus.Group, m)
                : m;
        bus.StartAll();
        bus.Run();
        int[] honest = [1, 3, 4, 5];

        foreach (var id in honest)
        {
            Assert.Contains(bus.AlertsOf(id), a => a.Type == AlertType.InvalidShare && a.Culprit == dealer && a.Detail.Contains("revealed"));
        }

        bus.DecideOnProposalOf(Leader, honest);
        var result = AssertConsistentResult(bus, honest);
        Assert.DoesNotContain(dealer, result.QualifiedDealers);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Bad_share_never_answered_excludes_the_dealer_after_the_reveal_deadline(string suite)
    {
        const int dealer = 2, victim = 3;
        using var bus = new DkgTestBus(GroupByName(suite), ClusterParameters.Default(5), seed: 23);
        bus.Tamper = (from, to, m) =>
            from != dealer ? m
            : m.Type == (byte)DkgMessageType.Reveal ? null
            : to == victim && m.Type == (byte)DkgMessageType.Share ? WithShiftedScalar(bus.Group, m)
            : m;
        bus.StartAll();
        bus.Run();
        int[] honest = [1, 3, 4, 5];

        foreach (var id in honest)
        {
            Assert.Contains(bus.AlertsOf(id), a => a.Type == AlertType.Unresponsive && a.Culprit == dealer);
            Assert.False(bus.Machines[id].IsAcceptableQualifiedSet(
                new DkgQualifiedSet(bus.Group, DkgTestBus.Instance, [.. bus.Parameters.Servers.Select(i => new DkgQualifiedDealer(i, new byte[32]))]).Encode()));
        }

        bus.DecideOnProposalOf(Leader, honest);
        Assert.DoesNotContain(dealer, AssertConsistentResult(bus, honest).QualifiedDealers);
    }

    [Fact]
    public void A_dealer_missing_a_share_is_complained_about_at_the_deadline_and_its_confidential_resend_completes_the_victim()
    {
        const int dealer = 4, victim = 1;
        using var bus = new DkgTestBus(PrimeOrderGroup.Ristretto255, ClusterParameters.Default(5), seed: 24);
        bus.Tamper = (from, to, m) => from == dealer && to == victim && m.Type == (byte)DkgMessageType.Share ? null : m;
        bus.StartAll();
        bus.Run();
        var honest = bus.Parameters.Servers.ToArray();

        Assert.Empty(bus.AlertsOf(victim));
        var resend = Assert.Single(bus.Sent[dealer], s => s.Message.Type == (byte)DkgMessageType.Resend).Message;
        Assert.Equal((victim, true), (resend.Recipient, resend.Confidential));
        AssertNoShareInTheClear(bus);
        bus.DecideOnProposalOf(Leader, honest);
        Assert.Contains(dealer, AssertConsistentResult(bus, honest).QualifiedDealers);
    }

    [Fact]
    public void Server_that_learns_the_decision_before_the_reveal_waits_for_it_and_then_completes()
    {
        const int dealer = 4, victim = 1;
        var held = new List<(int To, OutboundMessage Message)>();
        using var bus = new DkgTestBus(PrimeOrderGroup.Ed25519, ClusterParameters.Default(5), seed: 25);
        bus.Tamper = (from, to, m) =>
        {
            if (from == dealer && to == victim && m.Type is (byte)DkgMessageType.Share or (byte)DkgMessageType.Resend)
            {
                held.Add((to, m));
                return null;
            }

            return m;
        };
        bus.StartAll();
        bus.Run();
        int[] others = [2, 3, 4, 5];

        Assert.False(bus.Machines[victim].IsAcceptableQualifiedSet(bus.LatestProposal(2)!));
        bus.DecideOnProposalOf(2, accepting: others, learning: bus.Parameters.Servers.ToArray());
        Assert.Equal(DkgState.AwaitingShares, bus.Machines[victim].State);
        Assert.Equal([dealer], Assert.Single(bus.EventsOf<DkgSharesPending>(victim)).Dealers);

        var resend = held.Single(h => h.Message.Type == (byte)DkgMessageType.Resend).Message;
        bus.Inject(dealer, victim, resend.Round, resend.Type, resend.Payload, confidential: true);
        bus.Run();
        AssertNoShareInTheClear(bus);
        Assert.Contains(dealer, AssertConsistentResult(bus, bus.Parameters.Servers.ToArray()).QualifiedDealers);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Honest_server_whose_shares_all_arrive_after_the_deadline_gets_confidential_resends_and_no_share_is_ever_revealed(string suite)
    {
        const int slow = 3;
        var held = new List<(int From, OutboundMessage Message)>();
        using var bus = new DkgTestBus(GroupByName(suite), ClusterParameters.Default(5), seed: 26);
        bus.Tamper = (from, to, m) =>
        {
            if (to == slow && m.Type == (byte)DkgMessageType.Share)
            {
                held.Add((from, m));
                return null;
            }

            return m;
        };
        bus.StartAll();
        bus.Run();
        var honest = bus.Parameters.Servers.ToArray();
        int[] dealers = [1, 2, 4, 5];

        var complaints = bus.Sent[slow].Select(s => s.Message).Where(m => m.Type == (byte)DkgMessageType.Complaint)
            .Select(m => DkgComplaint.TryDecode(m.Payload, bus.Group, out var c, out _) ? c : null).ToArray();
        Assert.Equal(dealers, complaints.Select(c => c!.Accused).Order());
        Assert.All(complaints, c => Assert.Equal(DkgComplaintReason.Missing, c!.Reason));
        foreach (var dealer in dealers)
        {
            var resend = Assert.Single(bus.Sent[dealer], s => s.Message.Type == (byte)DkgMessageType.Resend).Message;
            Assert.Equal((slow, true), (resend.Recipient, resend.Confidential));
            Assert.Equal(held.Single(h => h.From == dealer).Message.Payload, resend.Payload);
        }

        Assert.All(honest, id => Assert.DoesNotContain(bus.Sent[id], s => s.Message.Type == (byte)DkgMessageType.Reveal));
        AssertNoShareInTheClear(bus);

        // The originals finally arrive: byte-identical to the re-sends, so duplicates, not equivocation.
        foreach (var (from, m) in held)
        {
            bus.Inject(from, slow, m.Round, m.Type, m.Payload, confidential: true);
        }

        bus.Run();
        Assert.All(honest, id => Assert.Empty(bus.AlertsOf(id)));
        bus.DecideOnProposalOf(Leader, honest);
        Assert.Equal(honest, AssertConsistentResult(bus, honest).QualifiedDealers);
    }

    [Fact]
    public void Missing_complaints_of_others_do_not_delay_the_dealer_s_qualification_elsewhere()
    {
        const int dealer = 2, slow = 5;
        using var bus = new DkgTestBus(PrimeOrderGroup.Ed25519, ClusterParameters.Default(5), seed: 27);
        bus.Tamper = (from, to, m) => from == dealer && to == slow && m.Type is (byte)DkgMessageType.Share or (byte)DkgMessageType.Resend ? null : m;
        bus.StartAll();
        bus.Run();
        int[] others = [1, 2, 3, 4];

        Assert.All(others, id => Assert.Contains(dealer, DecodedProposal(bus, id)));
        Assert.Contains(bus.AlertsOf(slow), a => a.Type == AlertType.Unresponsive && a.Culprit == dealer);
        Assert.False(bus.Machines[slow].IsAcceptableQualifiedSet(bus.LatestProposal(Leader)!));
        AssertNoShareInTheClear(bus);

        bus.DecideOnProposalOf(Leader, accepting: others, learning: bus.Parameters.Servers.ToArray());
        Assert.Equal(DkgState.AwaitingShares, bus.Machines[slow].State);
        Assert.Equal([dealer], Assert.Single(bus.EventsOf<DkgSharesPending>(slow)).Dealers);
        Assert.Contains(dealer, AssertConsistentResult(bus, others).QualifiedDealers);
    }

    [Fact]
    public void Invalid_resent_share_turns_into_an_invalid_complaint_answered_in_public()
    {
        const int dealer = 4, victim = 2;
        using var bus = new DkgTestBus(PrimeOrderGroup.P256, ClusterParameters.Default(5), seed: 28);
        bus.Tamper = (from, to, m) =>
            from != dealer || to != victim ? m
            : m.Type == (byte)DkgMessageType.Share ? null
            : m.Type == (byte)DkgMessageType.Resend ? WithShiftedScalar(bus.Group, m)
            : m;
        bus.StartAll();
        bus.Run();
        var honest = bus.Parameters.Servers.ToArray();

        var reasons = bus.Sent[victim].Select(s => s.Message).Where(m => m.Type == (byte)DkgMessageType.Complaint)
            .Select(m => DkgComplaint.TryDecode(m.Payload, bus.Group, out var c, out _) ? c!.Reason : default).ToArray();
        Assert.Equal([DkgComplaintReason.Missing, DkgComplaintReason.Invalid], reasons);
        var alert = Assert.Single(bus.AlertsOf(victim));
        Assert.Equal((AlertType.InvalidShare, dealer), (alert.Type, alert.Culprit));
        Assert.Single(bus.Sent[dealer], s => s.Message.Type == (byte)DkgMessageType.Reveal);
        AssertNoShareInTheClear(bus);

        bus.DecideOnProposalOf(Leader, honest);
        Assert.Contains(dealer, AssertConsistentResult(bus, honest).QualifiedDealers);
    }

    [Fact]
    public void False_missing_complaint_by_a_byzantine_server_gets_only_a_confidential_copy_of_its_own_share()
    {
        const int byzantine = 4, dealer = 1;
        var group = PrimeOrderGroup.Ristretto255;
        using var bus = new DkgTestBus(group, ClusterParameters.Default(5), seed: 29);
        bus.StartAll();
        bus.Run();
        var honest = bus.Parameters.Servers.ToArray();
        var ownShare = bus.Sent[dealer].Select(s => s.Message).Single(m => m.Type == (byte)DkgMessageType.Share && m.Recipient == byzantine);

        var complaint = DkgTestBus.SignedComplaint(group, byzantine, dealer, DkgComplaintReason.Missing);
        foreach (var id in honest)
        {
            bus.Inject(byzantine, id, DkgRounds.Complaints, (byte)DkgMessageType.Complaint, complaint, confidential: false);
        }

        bus.Run();
        var resend = Assert.Single(bus.Sent[dealer], s => s.Message.Type == (byte)DkgMessageType.Resend).Message;
        Assert.Equal((byzantine, true), (resend.Recipient, resend.Confidential));
        Assert.Equal(ownShare.Payload, resend.Payload);
        Assert.All(honest, id => Assert.DoesNotContain(bus.Sent[id], s => s.Message.Type == (byte)DkgMessageType.Reveal));
        Assert.All(honest, id => Assert.Empty(bus.AlertsOf(id)));

        bus.DecideOnProposalOf(Leader, honest);
        Assert.Contains(dealer, AssertConsistentResult(bus, honest).QualifiedDealers);
    }

    [Fact]
    public void Complaint_with_an_unknown_reason_an_old_unsigned_format_or_a_bad_signature_is_malformed_and_answered_by_nothing()
    {
        const int byzantine = 3;
        var group = PrimeOrderGroup.Ed25519;
        using var bus = new DkgTestBus(group, ClusterParameters.Default(5), seed: 42);
        bus.StartAll();
        bus.Run();
        var valid = DkgTestBus.SignedComplaint(group, byzantine, 1, DkgComplaintReason.Missing);
        Assert.True(DkgComplaint.TryDecode(valid, group, out var decoded, out _));
        Assert.Equal(valid, decoded.Encode());
        Assert.Equal(DkgComplaint.FormatVersion, valid[0]);

        // u8 version, u8 suite, u16 complainer, u16 accused, u8 reason (byte 6), 64-byte signature.
        byte[][] bad = [WithByte(valid, 6, 0), WithByte(valid, 6, 3), WithByte(valid, 6, 0xFF), [2, .. valid[1..7]], [1, .. valid[1..6]], [.. valid, 1], WithByte(valid, ^1, (byte)(valid[^1] ^ 1))];
        Assert.False(DkgComplaint.TryDecode(bad[0], group, out _, out var failure));
        Assert.Equal(Proactive.Crypto.Codec.CodecError.InvalidValue, failure.Error);
        var sentBefore = bus.Sent[1].Count;
        foreach (var payload in bad)
        {
            bus.Inject(byzantine, 1, DkgRounds.Complaints, (byte)DkgMessageType.Complaint, payload, confidential: false);
        }

        bus.Run();
        var alerts = bus.AlertsOf(1).ToArray();
        Assert.Equal(bad.Length, alerts.Length);
        Assert.All(alerts, a => Assert.Equal((AlertType.MalformedMessage, byzantine), (a.Type, a.Culprit)));
        Assert.Equal(sentBefore, bus.Sent[1].Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => DkgComplaint.Sign(group, DkgTestBus.KeyOf(1), DkgTestBus.Instance, [], 1, 2, (DkgComplaintReason)7));
    }

    private static byte[] WithByte(byte[] bytes, Index at, byte value)
    {
        var copy = bytes.ToArray();
        copy[at] = value;
        return copy;
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Invalid_proof_of_knowledge_disqualifies_the_dealer(string suite)
    {
        const int dealer = 4;
        using var bus = new DkgTestBus(GroupByName(suite), ClusterParameters.Default(5), seed: 31);
        bus.Tamper = (from, _, m) => from == dealer && m.Type == (byte)DkgMessageType.Dealing ? RewriteDealing(bus.Group, m, d =>
            d with { Proof = new DkgProofOfKnowledge(bus.Group, d.Proof.Commitment, bus.Group.Add(d.Proof.Response, bus.Group.One)) }) : m;
        bus.StartAll();
        bus.Run();
        int[] honest = [1, 2, 3, 5];

        foreach (var id in honest)
        {
            var alert = Assert.Single(bus.AlertsOf(id));
            Assert.Equal((AlertType.InvalidProof, dealer), (alert.Type, alert.Culprit));
        }

        bus.DecideOnProposalOf(Leader, honest);
        Assert.DoesNotContain(dealer, AssertConsistentResult(bus, honest).QualifiedDealers);
    }

    [Fact]
    public void Commitment_of_the_wrong_degree_disqualifies_the_dealer()
    {
        const int dealer = 5;
        using var bus = new DkgTestBus(PrimeOrderGroup.Ed25519, ClusterParameters.Default(5), seed: 32);
        bus.Tamper = (from, _, m) => from == dealer && m.Type == (byte)DkgMessageType.Dealing ? RewriteDealing(bus.Group, m, d =>
            d with { Commitment = new FeldmanCommitment(bus.Group, d.Commitment.Coefficients[..^1]) }) : m;
        bus.StartAll();
        bus.Run();
        int[] honest = [1, 2, 3, 4];

        Assert.All(honest, id => Assert.Contains(bus.AlertsOf(id), a => a.Type == AlertType.InvalidCommitment && a.Culprit == dealer));
        bus.DecideOnProposalOf(Leader, honest);
        Assert.DoesNotContain(dealer, AssertConsistentResult(bus, honest).QualifiedDealers);
    }

    [Fact]
    public void Proof_of_knowledge_is_bound_to_the_dealer_and_the_context()
    {
        var group = PrimeOrderGroup.Ed25519;
        var random = new DeterministicRandomSource(33);
        var secret = group.RandomNonzeroScalar(random);
        var commitment = group.MultiplyBase(secret);
        var proof = DkgProofOfKnowledge.Create(group, 3, "instance A"u8, secret, random);

        Assert.True(proof.Verify(3, "instance A"u8, commitment));
        Assert.False(proof.Verify(4, "instance A"u8, commitment));
        Assert.False(proof.Verify(3, "instance B"u8, commitment));
        Assert.False(proof.Verify(3, "instance A"u8, group.Add(commitment, group.Generator)));
    }

    [Fact]
    public void Malformed_payloads_raise_alerts_naming_the_sender_and_never_throw()
    {
        const int byzantine = 4;
        var group = PrimeOrderGroup.P256;
        using var bus = new DkgTestBus(group, ClusterParameters.Default(5), seed: 41);
        bus.StartAll();
        var validShareFromAnother = new DkgShare(group, 2, 1, group.One).Encode();
        var shareInClear = new DkgShare(group, byzantine, 1, group.One).Encode();
        byte[][] garbage = [[], [1], [0xFF, 0xFF, 0xFF], [.. Enumerable.Repeat((byte)0xAB, 200)]];
        foreach (var payload in garbage)
        {
            foreach (var type in Enum.GetValues<DkgMessageType>())
            {
                bus.Inject(byzantine, 1, DkgRounds.Of(type), (byte)type, payload, confidential: type is DkgMessageType.Share or DkgMessageType.Resend);
            }
        }

        bus.Inject(byzantine, 1, DkgRounds.Dealing, 99, [1, 2, 3], confidential: false);
        bus.Inject(byzantine, 1, DkgRounds.Complaints, (byte)DkgMessageType.Dealing, [1, 2, 3], confidential: false);
        bus.Inject(byzantine, 1, DkgRounds.Dealing, (byte)DkgMessageType.Share, validShareFromAnother, confidential: true);
        bus.Inject(byzantine, 1, DkgRounds.Dealing, (byte)DkgMessageType.Share, shareInClear, confidential: false);
        bus.Inject(byzantine, 1, DkgRounds.Complaints, (byte)DkgMessageType.Complaint, DkgTestBus.SignedComplaint(group, byzantine, byzantine, DkgComplaintReason.Invalid), confidential: false);
        bus.Inject(byzantine, 1, DkgRounds.Complaints, (byte)DkgMessageType.Complaint, DkgTestBus.SignedComplaint(group, byzantine, 9, DkgComplaintReason.Missing), confidential: false);
        bus.Inject(byzantine, 1, DkgRounds.Complaints, (byte)DkgMessageType.Reveal, new DkgReveal(group, 3, 1, group.One).Encode(), confidential: false);
        bus.Run();

        var alerts = bus.AlertsOf(1).ToArray();
        Assert.Equal((garbage.Length * Enum.GetValues<DkgMessageType>().Length) + 7, alerts.Length);
        Assert.All(alerts, a => Assert.Equal((AlertType.MalformedMessage, byzantine), (a.Type, a.Culprit)));
        var honest = bus.Parameters.Servers.ToArray();
        bus.DecideOnProposalOf(Leader, honest);
        Assert.Contains(byzantine, AssertConsistentResult(bus, honest).QualifiedDealers);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Silent_dealer_is_excluded_after_the_timeout_and_the_others_complete(string suite)
    {
        const int silent = 5;
        using var bus = new DkgTestBus(GroupByName(suite), ClusterParameters.Default(5), seed: 51);
        bus.Silent.Add(silent);
        bus.StartAll();
        bus.Run();
        int[] honest = [1, 2, 3, 4];

        Assert.All(honest, id => Assert.Contains(bus.AlertsOf(id), a => a.Type == AlertType.Unresponsive && a.Culprit == silent));
        bus.DecideOnProposalOf(Leader, honest);
        Assert.Equal(honest, AssertConsistentResult(bus, honest).QualifiedDealers);
    }

    [Fact]
    public void Validity_predicate_refuses_sets_that_are_short_foreign_malformed_or_list_an_unknown_dealing()
    {
        using var bus = new DkgTestBus(PrimeOrderGroup.Ed25519, ClusterParameters.Default(5), seed: 61);
        bus.StartAll();
        bus.Run();
        var machine = bus.Machines[1];
        var own = bus.LatestProposal(1)!;
        Assert.True(DkgQualifiedSet.TryDecode(own, bus.Group, out var set, out _));
        var dealers = set.Dealers;

        Assert.True(machine.IsAcceptableQualifiedSet(own));
        Assert.False(machine.IsAcceptableQualifiedSet([.. own, 0]));
        Assert.False(machine.IsAcceptableQualifiedSet([]));
        Assert.False(machine.IsAcceptableQualifiedSet(new DkgQualifiedSet(bus.Group, DkgTestBus.Instance, [.. dealers.Take(2)]).Encode()));
        Assert.True(machine.IsAcceptableQualifiedSet(new DkgQualifiedSet(bus.Group, DkgTestBus.Instance, [.. dealers.Take(3)]).Encode()));
        Assert.False(machine.IsAcceptableQualifiedSet(new DkgQualifiedSet(bus.Group, DkgTestBus.Instance with { Sequence = 1 }, dealers).Encode()));
        Assert.False(machine.IsAcceptableQualifiedSet(new DkgQualifiedSet(bus.Group, DkgTestBus.Instance, [.. dealers.Take(4), new DkgQualifiedDealer(5, new byte[32])]).Encode()));
        Assert.False(machine.IsAcceptableQualifiedSet(new DkgQualifiedSet(bus.Group, DkgTestBus.Instance, [.. dealers, new DkgQualifiedDealer(6, new byte[32])]).Encode()));
        Assert.False(machine.IsAcceptableQualifiedSet(new DkgQualifiedSet(PrimeOrderGroup.P256, DkgTestBus.Instance, dealers).Encode()));
    }

    [Fact]
    public void Qualified_set_decoding_refuses_unsorted_or_duplicate_dealers_and_trailing_bytes()
    {
        var group = PrimeOrderGroup.Ristretto255;
        var digest = new byte[32];
        var encoded = new DkgQualifiedSet(group, DkgTestBus.Instance, [new(1, digest), new(2, digest)]).Encode();
        Assert.True(DkgQualifiedSet.TryDecode(encoded, group, out var decoded, out _));
        Assert.Equal(encoded, decoded.Encode());

        var swapped = (byte[])encoded.Clone();
        swapped[24] = 3; // header 2, instance 17, count 4: the first dealer id's low byte, now 3 then 2
        Assert.False(DkgQualifiedSet.TryDecode(swapped, group, out _, out _));
        swapped[24] = 2;
        Assert.False(DkgQualifiedSet.TryDecode(swapped, group, out _, out _));
        Assert.False(DkgQualifiedSet.TryDecode([.. encoded, 0], group, out _, out var failure));
        Assert.Equal(Proactive.Crypto.Codec.CodecError.TrailingBytes, failure.Error);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Dkg_shares_sign_with_frost_and_the_signature_verifies_under_the_group_key(string suite)
    {
        var parameters = ClusterParameters.Default(5);
        var ciphersuite = Ciphersuite.FromGroupId(GroupByName(suite).Id);
        using var bus = new DkgTestBus(ciphersuite.Group, parameters, seed: 71);
        bus.StartAll();
        bus.Run();
        var honest = parameters.Servers.ToArray();
        bus.DecideOnProposalOf(Leader, honest);
        var result = AssertConsistentResult(bus, honest);

        var groupKey = new GroupPublicKey(ciphersuite, result.GroupPublicKey);
        var keyPackages = honest.ToDictionary(
            id => id,
            id => new KeyPackage(
                new SigningShare(ciphersuite, Identifier.FromInt(ciphersuite, id), bus.Machines[id].Share!.Value),
                groupKey,
                parameters.ReconstructionThreshold,
                parameters.ServerCount));
        try
        {
            var publicKeys = new PublicKeyPackage(
                groupKey,
                honest.Select(id => new VerifyingShare(ciphersuite, Identifier.FromInt(ciphersuite, id), result.PublicShares[id - 1])),
                parameters.ReconstructionThreshold);
            Assert.All(honest, id => Assert.Equal(keyPackages[id].VerifyingShare.Element, result.PublicShares[id - 1]));

            var message = "signed by a key nobody ever held"u8.ToArray();
            var random = new DeterministicRandomSource(72);
            int[] signers = [1, 3, 5];
            var nonces = signers.Select(id => Round1.Commit(keyPackages[id].SigningShare, random)).ToArray();
            var package = new SigningPackage(ciphersuite, nonces.Select(n => n.Commitments), message);
            var shares = signers.Select((id, k) => Round2.Sign(package, nonces[k], keyPackages[id]).Value).ToArray();
            var signature = Aggregation.Aggregate(package, shares, publicKeys);

            Assert.True(signature.IsSuccess, signature.ToString());
            Assert.True(groupKey.Verify(message, signature.Value));
            if (ciphersuite == Ciphersuite.Ed25519)
            {
                Assert.True(Ed25519PublicKey.Decode(groupKey.Encode()).Verify(message, signature.Value.Encode()));
            }

            foreach (var n in nonces)
            {
                n.Dispose();
            }
        }
        finally
        {
            foreach (var package in keyPackages.Values)
            {
                package.Dispose();
            }
        }
    }

    private static PrimeOrderGroup GroupByName(string name) => name switch
    {
        "Ed25519" => PrimeOrderGroup.Ed25519,
        "ristretto255" => PrimeOrderGroup.Ristretto255,
        "P-256" => PrimeOrderGroup.P256,
        _ => throw new ArgumentException(name, nameof(name)),
    };

    /// <summary>
    /// Every honest server completed with the same public result; the shares are Feldman-consistent;
    /// any t+1 of them reconstruct the sum of the QUAL dealers' constant terms (read back from each
    /// dealer's persisted state), whose multiple of G is the group key.
    /// </summary>
    private static DkgCompleted AssertConsistentResult(DkgTestBus bus, int[] honest)
    {
        var group = bus.Group;
        var results = honest.Select(id =>
        {
            Assert.Equal(DkgState.Completed, bus.Machines[id].State);
            Assert.True(bus.Persisted[id].ContainsKey(DkgMachine.ShareKey(DkgTestBus.Instance)));
            return Assert.Single(bus.EventsOf<DkgCompleted>(id));
        }).ToArray();
        var first = results[0];
        Assert.All(results, r =>
        {
            Assert.Equal(first.GroupPublicKey, r.GroupPublicKey);
            Assert.Equal(first.Combined, r.Combined);
            Assert.Equal(first.QualifiedDealers, r.QualifiedDealers);
            Assert.Equal(first.PublicShares, r.PublicShares);
        });

        var expectedSecret = group.Zero;
        foreach (var dealer in first.QualifiedDealers)
        {
            expectedSecret = group.Add(expectedSecret, PersistedConstantTerm(bus, dealer));
        }

        Assert.Equal(group.MultiplyBase(expectedSecret), first.GroupPublicKey);
        foreach (var id in honest)
        {
            var share = bus.Machines[id].Share!;
            Assert.Equal(id, share.Index);
            Assert.Equal(group.MultiplyBase(share.Value), first.PublicShares[id - 1]);
            Assert.Equal(first.Combined.PublicShare(id), first.PublicShares[id - 1]);
        }

        var t = bus.Parameters.Threshold;
        foreach (var subset in new[] { honest.Take(t + 1), honest.Skip(honest.Length - (t + 1)) })
        {
            var shares = subset.Select(id => bus.Machines[id].Share!).ToArray();
            Assert.Equal(expectedSecret, Shamir.Reconstruct(group, shares));
        }

        return first;
    }

    /// <summary>a_i0 from dealer i's persisted state: header 2, protocol 1, period 8, sequence 8, dealer 2, count 4, then a_0.</summary>
    private static Scalar PersistedConstantTerm(DkgTestBus bus, int dealer)
    {
        var state = bus.Persisted[dealer][DkgMachine.DealerStateKey(DkgTestBus.Instance)];
        Assert.True(bus.Group.TryDecodeScalar(state.AsSpan(25, bus.Group.ScalarLength), out var a0));
        return a0;
    }

    private static int[] DecodedProposal(DkgTestBus bus, int id)
    {
        Assert.True(DkgQualifiedSet.TryDecode(bus.LatestProposal(id)!, bus.Group, out var set, out _));
        return [.. set.Dealers.Select(d => d.Dealer)];
    }

    /// <summary>
    /// The privacy rule: a share leaves a server in the clear only as a Reveal, and only in answer to an
    /// Invalid complaint about that very share; shares and re-sends are always confidential.
    /// </summary>
    private static void AssertNoShareInTheClear(DkgTestBus bus)
    {
        var invalid = bus.Sent.Values.SelectMany(list => list)
            .Select(s => s.Message)
            .Where(m => m.Type == (byte)DkgMessageType.Complaint)
            .Select(m => Assert.IsType<DkgComplaint>(DkgComplaint.TryDecode(m.Payload, bus.Group, out var c, out _) ? c : null))
            .Where(c => c.Reason == DkgComplaintReason.Invalid)
            .Select(c => (c.Accused, c.Complainer))
            .ToHashSet();
        foreach (var (dealer, sent) in bus.Sent)
        {
            foreach (var m in sent.Select(s => s.Message))
            {
                if (m.Type is (byte)DkgMessageType.Share or (byte)DkgMessageType.Resend)
                {
                    Assert.True(m.Confidential && m.Recipient is not null, $"server {dealer} sent a share in the clear");
                }
                else if (m.Type == (byte)DkgMessageType.Reveal)
                {
                    Assert.True(DkgReveal.TryDecode(m.Payload, bus.Group, out var reveal, out _));
                    Assert.Contains((dealer, reveal.Complainer), invalid);
                }
            }
        }
    }

    /// <summary>A share or reveal whose scalar is off by one: a Byzantine dealer's wrong share.</summary>
    private static OutboundMessage WithShiftedScalar(PrimeOrderGroup group, OutboundMessage message)
    {
        var payload = (byte[])message.Payload.Clone();
        var scalarBytes = payload.AsSpan(payload.Length - group.ScalarLength);
        Assert.True(group.TryDecodeScalar(scalarBytes, out var value));
        group.EncodeScalar(group.Add(value, group.One), scalarBytes);
        return message with { Payload = payload };
    }

    private static OutboundMessage RewriteDealing(PrimeOrderGroup group, OutboundMessage message, Func<DkgDealing, DkgDealing> rewrite)
    {
        Assert.True(DkgDealing.TryDecode(message.Payload, group, out var dealing, out _));
        return message with { Payload = rewrite(dealing).Encode() };
    }
}
