using Proactive.Crypto.Groups;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Dkg;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Dkg;

/// <summary>
/// Signed, echoed Invalid complaints in the DKG (docs/PROTOCOLS.md "Distributed key generation"): at
/// n = 7, t = 4, f = 2 every honest dealer is needed, so a Byzantine complainer that shows its Invalid
/// complaint to one honest server only, and not to the dealer, would leave that server refusing every
/// set of t + 1 dealers. Actors: honest 1-5 (dealer 2 is accused), Byzantine 6 (complainer) and 7
/// (relay), which deal nothing; the test signs and sends for them.
/// </summary>
public sealed class DkgComplaintEchoTests
{
    private static readonly ClusterParameters SevenServers = ClusterParameters.Create(7, 4, 2);
    private static readonly int[] Honest = [1, 2, 3, 4, 5];
    private const int Complainer = 6;
    private const int Relay = 7;
    private const int Dealer = 2;

    public static TheoryData<string, bool, int[]> SelectiveComplaints => new()
    {
        { "while dealing, to honest server 1 only", false, [1] },
        { "after the reveal deadline, to honest server 4 only", true, [4] },
        { "while dealing, to honest servers 3 and 5 (never the dealer)", false, [3, 5] },
    };

    [Theory]
    [MemberData(nameof(SelectiveComplaints))]
    public void Invalid_complaint_shown_to_some_honest_servers_only_is_echoed_and_every_honest_dealer_qualifies(string actor, bool afterDeadline, int[] witnesses)
    {
        using var bus = NewBus(seed: 501);
        bus.StartAll();
        if (afterDeadline)
        {
            bus.Run();
        }

        var complaint = DkgTestBus.SignedComplaint(bus.Group, Complainer, Dealer, DkgComplaintReason.Invalid);
        foreach (var witness in witnesses)
        {
            bus.Inject(Complainer, witness, DkgRounds.Complaints, (byte)DkgMessageType.Complaint, complaint, confidential: false);
        }

        bus.Run();

        // The dealer learned it only from echoes and revealed once; every honest server echoed once.
        Assert.Single(bus.Sent[Dealer], s => s.Message.Type == (byte)DkgMessageType.Reveal);
        foreach (var id in Honest)
        {
            Assert.True(Echoes(bus, id) == 1, $"{actor}: server {id} echoed {Echoes(bus, id)} times");
            Assert.DoesNotContain(bus.AlertsOf(id), a => a.Type is AlertType.MalformedMessage or AlertType.InvalidShare);
        }

        bus.DecideOnProposalOf(1, Honest);
        AssertCompletedWithEveryHonestDealer(bus);
    }

    [Fact]
    public void Dealer_reveals_after_learning_the_complaint_only_from_an_echo_sent_to_it_alone()
    {
        using var bus = NewBus(seed: 511);
        bus.StartAll();
        bus.Inject(Relay, Dealer, DkgRounds.Complaints, (byte)DkgMessageType.ComplaintEcho,
            DkgTestBus.SignedComplaint(bus.Group, Complainer, Dealer, DkgComplaintReason.Invalid), confidential: false);
        bus.Run();

        var reveal = Assert.Single(bus.Sent[Dealer], s => s.Message.Type == (byte)DkgMessageType.Reveal).Message;
        Assert.True(DkgReveal.TryDecode(reveal.Payload, bus.Group, out var decoded, out _));
        Assert.Equal((Dealer, Complainer), (decoded.Dealer, decoded.Complainer));
        Assert.Equal(1, Echoes(bus, Dealer));
        bus.DecideOnProposalOf(1, Honest);
        AssertCompletedWithEveryHonestDealer(bus);
    }

    private static readonly Dictionary<string, Func<PrimeOrderGroup, byte[]>> ForgedEchoPayloads = new()
    {
        { "complaint of honest 3 signed with the relay's key", g => Claiming(DkgTestBus.SignedComplaint(g, Relay, Dealer, DkgComplaintReason.Invalid), 3) },
        { "genuine complaint of honest 3 with a flipped signature bit", g => Flip(DkgTestBus.SignedComplaint(g, 3, Dealer, DkgComplaintReason.Invalid)) },
        { "genuine complaint of honest 3 from another DKG instance", g => DkgComplaint.Sign(g, DkgTestBus.KeyOf(3), new InstanceId(ProtocolKind.Dkg, 0, 1), DkgTestBus.NetworkContext, 3, Dealer, DkgComplaintReason.Invalid).Encode() },
        { "genuine complaint of honest 3 from another network", g => DkgComplaint.Sign(g, DkgTestBus.KeyOf(3), DkgTestBus.Instance, "another network"u8, 3, Dealer, DkgComplaintReason.Invalid).Encode() },
        { "genuine Missing complaint of honest 3 (never echoed)", g => DkgTestBus.SignedComplaint(g, 3, Dealer, DkgComplaintReason.Missing) },
        { "bytes that do not decode", _ => [1, 2, 3] },
    };

    public static TheoryData<string> ForgedEchoes => [.. ForgedEchoPayloads.Keys];

    [Theory]
    [MemberData(nameof(ForgedEchoes))]
    public void Forged_or_malformed_echo_raises_MalformedMessage_naming_the_relay_and_no_reveal_happens(string actor)
    {
        using var bus = NewBus(seed: 521);
        bus.StartAll();
        var payload = ForgedEchoPayloads[actor](bus.Group);
        foreach (var id in Honest)
        {
            bus.Inject(Relay, id, DkgRounds.Complaints, (byte)DkgMessageType.ComplaintEcho, payload, confidential: false);
        }

        bus.Run();
        foreach (var id in Honest)
        {
            Assert.DoesNotContain(bus.Sent[id], s => s.Message.Type is (byte)DkgMessageType.Reveal or (byte)DkgMessageType.ComplaintEcho);
            var malformed = bus.AlertsOf(id).Where(a => a.Type == AlertType.MalformedMessage).ToArray();
            Assert.True(malformed.Length == 1 && malformed[0].Culprit == Relay, $"{actor}: server {id}: {string.Join("; ", malformed.Select(a => a.Detail))}");
            Assert.DoesNotContain(bus.AlertsOf(id), a => a.Culprit == 3);
        }

        bus.DecideOnProposalOf(1, Honest);
        AssertCompletedWithEveryHonestDealer(bus);
    }

    [Fact]
    public void Repeated_echoes_are_ignored_silently()
    {
        using var bus = NewBus(seed: 531);
        bus.StartAll();
        var complaint = DkgTestBus.SignedComplaint(bus.Group, Complainer, Dealer, DkgComplaintReason.Invalid);
        bus.Inject(Complainer, 1, DkgRounds.Complaints, (byte)DkgMessageType.Complaint, complaint, confidential: false);
        for (var copy = 0; copy < 3; copy++)
        {
            foreach (var id in Honest)
            {
                bus.Inject(Relay, id, DkgRounds.Complaints, (byte)DkgMessageType.ComplaintEcho, complaint, confidential: false);
            }
        }

        bus.Run();
        Assert.Single(bus.Sent[Dealer], s => s.Message.Type == (byte)DkgMessageType.Reveal);
        foreach (var id in Honest)
        {
            Assert.Equal(1, Echoes(bus, id));
            Assert.DoesNotContain(bus.AlertsOf(id), a => a.Type == AlertType.MalformedMessage);
        }
    }

    [Fact]
    public void Signed_complaint_bytes_and_what_the_signature_covers_are_pinned()
    {
        var signed = DkgComplaint.SigningBytes(GroupId.Ristretto255, DkgTestBus.Instance, "net"u8, 6, 2, DkgComplaintReason.Invalid);
        Assert.Equal(
            Convert.ToHexStringLower("proactive-dkg-complaint-v1"u8) + "02" + "02" + "0000000000000000" + "0000000000000000"
            + "00000003" + Convert.ToHexStringLower("net"u8) + "0006" + "0002" + "02",
            Convert.ToHexStringLower(signed));

        var complaint = DkgComplaint.Sign(PrimeOrderGroup.Ristretto255, DkgTestBus.KeyOf(6), DkgTestBus.Instance, "net"u8, 6, 2, DkgComplaintReason.Invalid);
        Assert.Equal(
            "0302" + "0006" + "0002" + "02" // version 3, suite, complainer 6, accused 2, Invalid
            + "5469d0bf072e0d8da60333fb990b707b71576e015ef5571ee08cabff60b7c125"
            + "19d47732f644acc7597675ba427530cfb067b0442cca8f59d7540b3d7eb59a03", // Ed25519 signature (deterministic)
            Convert.ToHexStringLower(complaint.Encode()));
        Assert.True(complaint.Verify(DkgTestBus.KeyOf(6).PublicKey, DkgTestBus.Instance, "net"u8));
    }

    [Fact]
    public void Random_mutations_of_a_signed_complaint_are_refused_or_re_encode_exactly()
    {
        var group = PrimeOrderGroup.Ristretto255;
        var random = new Random(515);
        foreach (var sample in new[] { DkgTestBus.SignedComplaint(group, 6, 2, DkgComplaintReason.Invalid), DkgTestBus.SignedComplaint(group, 1, 7, DkgComplaintReason.Missing) })
        {
            for (var i = 0; i < 500; i++)
            {
                var mutated = random.Next(3) switch
                {
                    0 => sample[..random.Next(sample.Length)],
                    1 => [.. sample, (byte)random.Next(256)],
                    _ => Flipped(sample, random),
                };
                if (DkgComplaint.TryDecode(mutated, group, out var decoded, out _))
                {
                    Assert.Equal(mutated, decoded.Encode());
                }
            }
        }
    }

    private static byte[] Flipped(byte[] sample, Random random)
    {
        var copy = sample.ToArray();
        copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        return copy;
    }

    private static DkgTestBus NewBus(ulong seed)
    {
        var bus = new DkgTestBus(PrimeOrderGroup.Ristretto255, SevenServers, seed);
        bus.Silent.UnionWith([Complainer, Relay]);
        return bus;
    }

    private static int Echoes(DkgTestBus bus, int id) => bus.Sent[id].Count(s => s.Message.Type == (byte)DkgMessageType.ComplaintEcho);

    private static byte[] Claiming(byte[] complaint, int complainer)
    {
        complaint[3] = (byte)complainer; // u16 complainer at bytes 2-3
        return complaint;
    }

    private static byte[] Flip(byte[] complaint)
    {
        complaint[^1] ^= 1;
        return complaint;
    }

    private static void AssertCompletedWithEveryHonestDealer(DkgTestBus bus)
    {
        var results = Honest.Select(id =>
        {
            Assert.Equal(DkgState.Completed, bus.Machines[id].State);
            return Assert.Single(bus.EventsOf<DkgCompleted>(id));
        }).ToArray();
        Assert.All(results, r =>
        {
            Assert.Equal(Honest, r.QualifiedDealers);
            Assert.Equal(results[0].GroupPublicKey, r.GroupPublicKey);
        });
    }
}
