using Proactive.Crypto.Groups;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Tests.Refresh;

/// <summary>
/// Signed, echoed Invalid complaints (docs/PROTOCOLS.md "Refresh", complaints). At n = 7, t = 4, f = 2
/// the honest servers are exactly t + 1 = 5, so every honest dealer must be acceptable at every honest
/// server: a Byzantine complainer that shows its Invalid complaint to one honest server only, and not
/// to the dealer, would otherwise leave that server requiring a reveal nobody sends, and the refresh
/// stalled. Actors: honest servers 1-5 (dealer 2 is the accused), Byzantine 6 (the complainer) and 7
/// (a relay); neither Byzantine server deals, and the test signs and sends for them.
/// </summary>
public sealed class RefreshComplaintEchoTests
{
    private static readonly ClusterParameters SevenServers = ClusterParameters.Create(7, 4, 2);
    private static readonly int[] Honest = [1, 2, 3, 4, 5];
    private static readonly int[] Byzantine = [6, 7];
    private static readonly TimeSpan RevealDeadline = RefreshTimeouts.Default.DealingWindow + RefreshTimeouts.Default.ComplaintWindow;

    private const int Complainer = 6;
    private const int Relay = 7;
    private const int Dealer = 2;

    public static TheoryData<string, TimeSpan, int[]> SelectiveComplaints => new()
    {
        { "while dealing, to honest server 1 only", TimeSpan.FromMilliseconds(1), [1] },
        { "just before the reveal deadline, to honest server 4 only", RevealDeadline - TimeSpan.FromMilliseconds(1), [4] },
        { "after the reveal deadline (agreement running), to honest server 5 only", RevealDeadline + TimeSpan.FromSeconds(1), [5] },
        { "while dealing, to honest servers 1 and 3 (never the dealer)", TimeSpan.FromMilliseconds(1), [1, 3] },
    };

    [Theory]
    [MemberData(nameof(SelectiveComplaints))]
    public void Invalid_complaint_shown_to_some_honest_servers_only_is_echoed_and_the_refresh_commits_with_every_honest_dealer(string actor, TimeSpan at, int[] witnesses)
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, SevenServers, 3, 1, seed: 401);
        using var run = new RefreshRun(fixture, seed: 402, absent: Byzantine);
        run.Bus.StartAll();
        run.Bus.AdvanceTo(at);
        var complaint = run.SignedComplaint(Complainer, Dealer, RefreshComplaintReason.Invalid);
        foreach (var witness in witnesses)
        {
            run.Bus.Inject(Complainer, witness, RefreshWire.ComplaintRound, RefreshWire.ComplaintType, complaint, confidential: false);
        }

        run.Bus.Run();
        run.Bus.AdvanceTo(TimeSpan.FromSeconds(30));

        // The dealer heard of the complaint only through echoes, and answered it once, in public.
        Assert.DoesNotContain(run.Bus.Delivered, d => d.From == Complainer && d.To == Dealer);
        Assert.Contains(run.Bus.Delivered, d => d.To == Dealer && d.Message.Type == RefreshWire.ComplaintEchoType);
        Assert.Single(Reveals(run, to: 1), r => r.From == Dealer);

        // Every honest server echoed it exactly once (the witnesses included) and ends with the same view.
        var everyone = QualifiedSetCodec.Encode(fixture.Group, Honest.Select(i => KeyValuePair.Create(i, DealingHash(run, i))));
        foreach (var j in Honest)
        {
            Assert.True(Echoes(run, from: j, to: 1).Length == 1, $"{actor}: server {j} echoed {Echoes(run, j, 1).Length} times");
            var latest = run.Bus.EventsOf<RefreshQualifiedSetProposal>(j).Last().EncodedSet;
            Assert.True(latest.AsSpan().SequenceEqual(everyone), $"{actor}: server {j} proposes another set");
            Assert.All(Honest, k => Assert.True(run.Machines[k].IsAcceptableQualifiedSet(latest), $"{actor}: server {k} refuses server {j}'s proposal"));
            Assert.DoesNotContain(run.Bus.EventsOf<Alert>(j), a => a.Type is AlertType.MalformedMessage or AlertType.InvalidShare or AlertType.Equivocation);
        }

        run.Finish();
        AssertCommittedWithEveryHonestDealer(fixture, run);
    }

    [Fact]
    public void Dealer_reveals_after_learning_the_complaint_only_from_an_echo_sent_to_it_alone()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, SevenServers, 3, 1, seed: 411);
        using var run = new RefreshRun(fixture, seed: 412, absent: Byzantine);
        run.Bus.StartAll();

        // Byzantine 7 relays Byzantine 6's genuine signed complaint to the dealer and nobody else.
        var complaint = run.SignedComplaint(Complainer, Dealer, RefreshComplaintReason.Invalid);
        run.Bus.Inject(Relay, Dealer, RefreshWire.ComplaintRound, RefreshWire.ComplaintEchoType, complaint, confidential: false);
        run.Bus.Run();

        var reveal = Assert.Single(Reveals(run, to: 1));
        Assert.Equal(Dealer, reveal.From);
        Assert.True(RefreshReveal.TryDecode(reveal.Message.Payload, fixture.Group, out var revealedFor, out _));
        Assert.Equal(Complainer, revealedFor);

        // The dealer echoed it too, so every honest server requires (and holds) the reveal.
        Assert.Single(Echoes(run, from: Dealer, to: 1));
        run.Finish();
        AssertCommittedWithEveryHonestDealer(fixture, run);
    }

    [Fact]
    public void Reveal_arriving_after_the_reveal_deadline_requalifies_the_dealer_and_every_honest_server_proposes_again()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, SevenServers, 3, 1, seed: 451);
        using var run = new RefreshRun(fixture, seed: 452, absent: Byzantine);
        var held = new List<(int From, int To, OutboundMessage Message)>();
        run.Bus.Interceptor = (from, to, message) =>
        {
            if (message.Type == RefreshWire.RevealType && run.Bus.Now < RevealDeadline + TimeSpan.FromSeconds(1))
            {
                held.Add((from, to, message));
                return null;
            }

            return message;
        };
        run.Bus.StartAll();
        run.Bus.Inject(Complainer, 1, RefreshWire.ComplaintRound, RefreshWire.ComplaintType,
            run.SignedComplaint(Complainer, Dealer, RefreshComplaintReason.Invalid), confidential: false);
        run.Bus.Run();
        run.Bus.AdvanceTo(RevealDeadline + TimeSpan.FromSeconds(1));

        // At the deadline the reveal was still in flight: dealer 2 excluded for now (not disqualified), too few dealers.
        foreach (var j in Honest)
        {
            Assert.Contains(run.Bus.EventsOf<Alert>(j), a => a.Type == AlertType.Unresponsive && a.Culprit == Dealer);
            Assert.Empty(run.Machines[j].DisqualifiedDealers);
            var first = run.Bus.EventsOf<RefreshQualifiedSetProposal>(j).Single().EncodedSet;
            Assert.True(QualifiedSetCodec.TryDecode(first, fixture.Group, 7, out var set));
            Assert.Equal([1, 3, 4, 5], set.Keys);
            Assert.False(run.Machines[j].IsAcceptableQualifiedSet(first));
        }

        foreach (var (from, to, message) in held)
        {
            run.Bus.Inject(from, to, message.Round, message.Type, message.Payload, message.Confidential);
        }

        run.Bus.Run();
        foreach (var j in Honest)
        {
            var latest = run.Bus.EventsOf<RefreshQualifiedSetProposal>(j).Last().EncodedSet;
            Assert.True(QualifiedSetCodec.TryDecode(latest, fixture.Group, 7, out var set));
            Assert.Equal(Honest, set.Keys);
            Assert.All(Honest, k => Assert.True(run.Machines[k].IsAcceptableQualifiedSet(latest)));
        }

        run.Finish();
        AssertCommittedWithEveryHonestDealer(fixture, run);
    }

    private static readonly Dictionary<string, Func<RefreshRun, byte[]>> ForgedEchoPayloads = new()
    {
        { "complaint of honest 3 signed with the relay's own key", run => Forge(run, signer: Relay, claimed: 3) },
        { "complaint of honest 3 with a signature by Byzantine 6", run => Forge(run, signer: Complainer, claimed: 3) },
        { "genuine complaint of honest 3 with one signature bit flipped", run => Flip(Genuine(run, 3, RefreshRun.Instance, RefreshRun.InstanceContext), ^1) },
        { "genuine complaint of honest 3 from the refresh of another period", run => Genuine(run, 3, new InstanceId(ProtocolKind.Refresh, 6, 0), RefreshRun.InstanceContext) },
        { "genuine complaint of honest 3 from another network", run => Genuine(run, 3, RefreshRun.Instance, "another network"u8.ToArray()) },
        { "genuine complaint of honest 3 whose reason byte was changed to Invalid", run => WithReason(Genuine(run, 3, RefreshRun.Instance, RefreshRun.InstanceContext, RefreshComplaintReason.Missing), RefreshComplaintReason.Invalid) },
        { "bytes that do not decode", _ => [1, 2, 3] },
        { "a genuine Missing complaint (never echoed)", run => Genuine(run, 3, RefreshRun.Instance, RefreshRun.InstanceContext, RefreshComplaintReason.Missing) },
    };

    public static TheoryData<string> ForgedEchoes => [.. ForgedEchoPayloads.Keys];

    [Theory]
    [MemberData(nameof(ForgedEchoes))]
    public void Forged_or_malformed_echo_raises_MalformedMessage_naming_the_relay_and_no_reveal_happens(string actor)
    {
        var forge = ForgedEchoPayloads[actor];
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, SevenServers, 3, 1, seed: 421);
        using var run = new RefreshRun(fixture, seed: 422, absent: Byzantine);
        run.Bus.StartAll();
        var payload = forge(run);
        foreach (var j in Honest)
        {
            run.Bus.Inject(Relay, j, RefreshWire.ComplaintRound, RefreshWire.ComplaintEchoType, payload, confidential: false);
        }

        run.Bus.Run();

        Assert.Empty(Reveals(run, to: 1));
        foreach (var j in Honest)
        {
            var malformed = run.Bus.EventsOf<Alert>(j).Where(a => a.Type == AlertType.MalformedMessage).ToArray();
            Assert.True(malformed.Length == 1, $"{actor}: server {j} raised {malformed.Length} MalformedMessage alerts");
            Assert.Equal(Relay, malformed[0].Culprit);
            Assert.DoesNotContain(run.Bus.EventsOf<Alert>(j), a => a.Culprit == 3);
            Assert.Empty(Echoes(run, from: j, to: 1));
        }

        run.Finish();
        AssertCommittedWithEveryHonestDealer(fixture, run);
        Assert.DoesNotContain(run.Bus.Delivered, d => d.Message.Type == RefreshWire.RevealType);
    }

    [Fact]
    public void Repeated_echoes_and_an_echo_of_a_complaint_received_directly_are_ignored_silently()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, SevenServers, 3, 1, seed: 431);
        using var run = new RefreshRun(fixture, seed: 432, absent: Byzantine);
        run.Bus.StartAll();
        var complaint = run.SignedComplaint(Complainer, Dealer, RefreshComplaintReason.Invalid);
        run.Bus.Inject(Complainer, 1, RefreshWire.ComplaintRound, RefreshWire.ComplaintType, complaint, confidential: false);
        run.Bus.Inject(Complainer, 3, RefreshWire.ComplaintRound, RefreshWire.ComplaintType, complaint, confidential: false);
        for (var copy = 0; copy < 3; copy++)
        {
            foreach (var j in Honest)
            {
                run.Bus.Enqueue(Relay, j, RefreshWire.ComplaintRound, RefreshWire.ComplaintEchoType, complaint);
            }
        }

        run.Bus.Run();
        run.Bus.Inject(Complainer, 1, RefreshWire.ComplaintRound, RefreshWire.ComplaintType, complaint, confidential: false);
        run.Bus.Run();

        Assert.Single(Reveals(run, to: 1));
        foreach (var j in Honest)
        {
            Assert.Single(Echoes(run, from: j, to: 1));
            Assert.Empty(run.Bus.EventsOf<Alert>(j));
        }

        run.Finish();
        AssertCommittedWithEveryHonestDealer(fixture, run);
    }

    private static readonly Dictionary<string, Func<RefreshRun, byte[]>> BadDirectComplaintPayloads = new()
    {
        { "complaint signed by another key", run => Forge(run, signer: Relay, claimed: Complainer) },
        { "complaint of honest 3 sent as Byzantine 6's own", run => Genuine(run, 3, RefreshRun.Instance, RefreshRun.InstanceContext) },
    };

    public static TheoryData<string> BadDirectComplaints => [.. BadDirectComplaintPayloads.Keys];

    [Theory]
    [MemberData(nameof(BadDirectComplaints))]
    public void Direct_complaint_with_a_bad_signature_or_another_complainer_is_malformed_and_neither_echoed_nor_answered(string actor)
    {
        var forge = BadDirectComplaintPayloads[actor];
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, SevenServers, 3, 1, seed: 441);
        using var run = new RefreshRun(fixture, seed: 442, absent: Byzantine);
        run.Bus.StartAll();
        var payload = forge(run);
        foreach (var j in Honest)
        {
            run.Bus.Inject(Complainer, j, RefreshWire.ComplaintRound, RefreshWire.ComplaintType, payload, confidential: false);
        }

        run.Bus.Run();

        Assert.Empty(Reveals(run, to: 1));
        foreach (var j in Honest)
        {
            var alert = Assert.Single(run.Bus.EventsOf<Alert>(j));
            Assert.True((AlertType.MalformedMessage, Complainer) == (alert.Type, alert.Culprit), $"{actor}: {alert.Type} naming {alert.Culprit}");
            Assert.Empty(Echoes(run, from: j, to: 1));
        }
    }

    private static (int From, OutboundMessage Message)[] Reveals(RefreshRun run, int to) =>
        run.Bus.Delivered.Where(d => d.To == to && (d.Message.Round, d.Message.Type) == (RefreshWire.RevealRound, RefreshWire.RevealType))
            .Select(d => (d.From, d.Message)).ToArray();

    private static OutboundMessage[] Echoes(RefreshRun run, int from, int to) =>
        run.Bus.Delivered.Where(d => d.From == from && d.To == to && (d.Message.Round, d.Message.Type) == (RefreshWire.ComplaintRound, RefreshWire.ComplaintEchoType))
            .Select(d => d.Message).ToArray();

    private static byte[] DealingHash(RefreshRun run, int dealer)
    {
        var broadcast = run.Bus.Delivered.First(d => d.From == dealer && d.Message.Type == RefreshWire.DealingCommitmentsType).Message.Payload;
        return RefreshTranscript.DealingHash(RefreshRun.Instance, dealer, broadcast);
    }

    /// <summary>A complaint claiming <paramref name="claimed"/> as complainer against the dealer, signed with <paramref name="signer"/>'s key.</summary>
    private static byte[] Forge(RefreshRun run, int signer, int claimed)
    {
        var signed = RefreshComplaint.Sign(PrimeOrderGroup.Ristretto255, run.Keys[signer], RefreshRun.Instance, RefreshRun.InstanceContext, signer, Dealer, RefreshComplaintReason.Invalid).Encode();
        signed[3] = (byte)claimed; // u16 complainer at bytes 2-3
        return signed;
    }

    private static byte[] Genuine(RefreshRun run, int complainer, InstanceId instance, byte[] context, RefreshComplaintReason reason = RefreshComplaintReason.Invalid) =>
        RefreshComplaint.Sign(PrimeOrderGroup.Ristretto255, run.Keys[complainer], instance, context, complainer, Dealer, reason).Encode();

    private static byte[] Flip(byte[] bytes, Index at)
    {
        bytes[at] ^= 1;
        return bytes;
    }

    private static byte[] WithReason(byte[] bytes, RefreshComplaintReason reason)
    {
        bytes[6] = (byte)reason; // u8 version, u8 suite, u16 complainer, u16 dealer, u8 reason
        return bytes;
    }

    /// <summary>Every honest server committed with every honest dealer, and any t + 1 new shares still give every secret.</summary>
    private static void AssertCommittedWithEveryHonestDealer(RefreshFixture fixture, RefreshRun run)
    {
        foreach (var j in Honest)
        {
            Assert.Equal(RefreshStatus.Completed, run.Machines[j].Status);
            Assert.Equal(Honest, run.Completed(j).QualifiedDealers.Order().ToArray());
            Assert.Empty(run.Machines[j].DisqualifiedDealers);
        }

        var shares = run.TakeNewShares();
        try
        {
            for (var k = 0; k < fixture.Secrets.Length; k++)
            {
                Assert.Equal(fixture.Secrets[k], fixture.Reconstruct(k, Honest.Select(j => (j, shares[j])).ToArray()));
            }
        }
        finally
        {
            foreach (var vector in shares.Values)
            {
                vector.Dispose();
            }
        }
    }
}
