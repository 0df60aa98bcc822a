using Proactive.Crypto.Groups;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Tests.Refresh;

/// <summary>
/// Complaints carry a reason: a MISSING sub-share message (a timing event) is answered by a
/// confidential re-send of the committed message, never in the clear; only an INVALID one draws
/// HJKY95's public reveal. Every test records every message that leaves every outbox.
/// </summary>
public sealed class RefreshMissingComplaintTests
{
    private static readonly ClusterParameters FiveServers = ClusterParameters.Create(5, 2, 1);
    private static readonly TimeSpan DealingWindow = RefreshTimeouts.Default.DealingWindow;

    /// <summary>Every message handed to the network: (time, from, to, message).</summary>
    private sealed class Wire
    {
        public List<(TimeSpan At, int From, int To, OutboundMessage Message)> Sent { get; } = [];

        public List<(int From, int To, OutboundMessage Message)> Held { get; } = [];

        public IEnumerable<(TimeSpan At, int From, int To, OutboundMessage Message)> SubShares =>
            Sent.Where(s => (s.Message.Round, s.Message.Type) == (RefreshWire.DealingRound, RefreshWire.SubSharesType));

        public IEnumerable<(int From, int Dealer, RefreshComplaintReason Reason)> Complaints(PrimeOrderGroup group) =>
            Sent.Where(s => (s.Message.Round, s.Message.Type) == (RefreshWire.ComplaintRound, RefreshWire.ComplaintType))
                .Select(s => RefreshComplaint.TryDecode(s.Message.Payload, group, out var complaint) ? (s.From, complaint.Dealer, complaint.Reason) : (s.From, 0, default))
                .Distinct();

        /// <summary>No message in the clear carries a sub-share vector, and no reveal goes out at all.</summary>
        public void AssertNoSubSharesInTheClear()
        {
            var vectors = SubShares.Select(s => s.Message.Payload).Concat(Held.Select(h => h.Message.Payload)).ToArray();
            Assert.NotEmpty(vectors);
            foreach (var (_, from, to, message) in Sent.Where(s => !s.Message.Confidential))
            {
                Assert.False((message.Round, message.Type) == (RefreshWire.RevealRound, RefreshWire.RevealType), $"reveal from {from} to {to}");
                foreach (var vector in vectors)
                {
                    Assert.True(message.Payload.AsSpan().IndexOf(vector) < 0, $"a sub-share vector in the clear from {from} to {to}");
                }
            }
        }
    }

    /// <summary>Records everything; holds (drops now, for later delivery) what <paramref name="hold"/> selects.</summary>
    private static Wire Record(RefreshRun run, Func<TimeSpan, int, int, OutboundMessage, bool>? hold = null)
    {
        var wire = new Wire();
        run.Bus.Interceptor = (from, to, message) =>
        {
            if (hold is not null && hold(run.Bus.Now, from, to, message))
            {
                wire.Held.Add((from, to, message));
                return null;
            }

            wire.Sent.Add((run.Bus.Now, from, to, message));
            return message;
        };
        return wire;
    }

    private static bool IsSubSharesTo(int recipient, int from, int to, OutboundMessage message) =>
        to == recipient && from != recipient && (message.Round, message.Type) == (RefreshWire.DealingRound, RefreshWire.SubSharesType);

    [Fact]
    public void Sub_shares_delayed_past_the_dealing_window_draw_Missing_complaints_confidential_re_sends_and_a_commit()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 301);
        using var run = new RefreshRun(fixture, seed: 302);
        var wire = Record(run, (now, from, to, message) => now < DealingWindow && IsSubSharesTo(3, from, to, message));
        run.Execute();

        // Server 3 complained Missing about every other dealer, and about nothing else.
        var complaints = wire.Complaints(fixture.Group).ToArray();
        Assert.Equal([(3, 1, RefreshComplaintReason.Missing), (3, 2, RefreshComplaintReason.Missing), (3, 4, RefreshComplaintReason.Missing), (3, 5, RefreshComplaintReason.Missing)],
            complaints.OrderBy(c => c.Dealer).ToArray());

        // Each dealer re-sent the very message it held back, confidentially, to server 3 only.
        Assert.Equal(4, wire.Held.Count);
        foreach (var (from, _, original) in wire.Held)
        {
            var resent = wire.SubShares.Where(s => s.From == from && s.To == 3 && s.At >= DealingWindow).ToArray();
            var single = Assert.Single(resent);
            Assert.True(single.Message.Confidential);
            Assert.Equal(original.Payload, single.Message.Payload);
        }

        wire.AssertNoSubSharesInTheClear();

        // Never disqualified, nor even accused of a bad share; everybody commits with every dealer.
        foreach (var j in FiveServers.Servers)
        {
            Assert.Empty(run.Machines[j].DisqualifiedDealers);
            Assert.Equal([1, 2, 3, 4, 5], run.Completed(j).QualifiedDealers.Order().ToArray());
            Assert.DoesNotContain(run.Bus.EventsOf<Alert>(j), a => a.Type is AlertType.InvalidShare or AlertType.Equivocation or AlertType.Unresponsive);
        }

        run.AssertSecretsKept(exceptDealer: 0);

        // The held originals finally arrive: byte-identical duplicates, not equivocation.
        foreach (var (from, to, message) in wire.Held)
        {
            run.Bus.Inject(from, to, message.Round, message.Type, message.Payload, message.Confidential);
        }

        Assert.DoesNotContain(run.Bus.EventsOf<Alert>(3), a => a.Type == AlertType.Equivocation);
    }

    [Fact]
    public void Invalid_re_send_becomes_an_Invalid_complaint_whose_public_reveal_disqualifies_the_dealer()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 311);
        using var run = new RefreshRun(fixture, seed: 312, faulty: new() { [2] = new RefreshDealerFaults { CommitToWrongSubSharesFor = 3 } });
        var wire = Record(run, (now, from, to, message) => now < DealingWindow && from == 2 && IsSubSharesTo(3, from, to, message));
        run.Execute();

        var complaints = wire.Complaints(fixture.Group).Where(c => c.From == 3).ToArray();
        Assert.Equal([(3, 2, RefreshComplaintReason.Missing), (3, 2, RefreshComplaintReason.Invalid)], complaints);

        // The re-send went confidentially; the reveal answers the Invalid complaint only, in public.
        Assert.Contains(wire.SubShares, s => s.From == 2 && s.To == 3 && s.Message.Confidential && s.At >= DealingWindow);
        var reveals = wire.Sent.Where(s => s.Message.Type == RefreshWire.RevealType).ToArray();
        Assert.NotEmpty(reveals);
        Assert.All(reveals, r =>
        {
            Assert.Equal(2, r.From);
            Assert.False(r.Message.Confidential);
            Assert.True(RefreshReveal.TryDecode(r.Message.Payload, fixture.Group, out var complainer, out _));
            Assert.Equal(3, complainer);
        });

        foreach (var j in FiveServers.Servers)
        {
            Assert.Contains(run.Bus.EventsOf<Alert>(j), a => a.Type == AlertType.InvalidShare && a.Culprit == 2);
            Assert.Contains(2, run.Machines[j].DisqualifiedDealers);
        }

        run.AssertSecretsKept(exceptDealer: 2);
    }

    [Fact]
    public void Invalid_complaint_is_still_answered_by_a_public_reveal()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 321);
        using var run = new RefreshRun(fixture, seed: 322, faulty: new() { [2] = new RefreshDealerFaults { SendWrongSubSharesTo = 3 } });
        var wire = Record(run);
        run.Execute();

        Assert.Equal([(3, 2, RefreshComplaintReason.Invalid)], wire.Complaints(fixture.Group).ToArray());
        Assert.Contains(wire.Sent, s => s.From == 2 && s.Message.Type == RefreshWire.RevealType && !s.Message.Confidential);
        run.AssertSecretsKept(exceptDealer: 0);
    }

    [Fact]
    public void False_Missing_complaint_from_a_Byzantine_server_gets_only_its_own_sub_shares_confidentially()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 331);
        using var run = new RefreshRun(fixture, seed: 332);
        var wire = Record(run);
        run.Bus.StartAll();
        var original = wire.SubShares.Single(s => s.From == 1 && s.To == 4).Message.Payload;
        var before = wire.Sent.Count;

        // Server 4 received its sub-shares from 1 but claims they are missing, twice.
        var complaint = run.SignedComplaint(4, 1, RefreshComplaintReason.Missing);
        run.Bus.Inject(4, 1, RefreshWire.ComplaintRound, RefreshWire.ComplaintType, complaint, confidential: false);
        run.Bus.Inject(4, 1, RefreshWire.ComplaintRound, RefreshWire.ComplaintType, complaint, confidential: false);
        run.Bus.Run();

        var answer = Assert.Single(wire.Sent.Skip(before));
        Assert.Equal((1, 4), (answer.From, answer.To));
        Assert.Equal((RefreshWire.DealingRound, RefreshWire.SubSharesType), (answer.Message.Round, answer.Message.Type));
        Assert.True(answer.Message.Confidential);
        Assert.Equal(original, answer.Message.Payload);
        Assert.True(SubShareVectorCodec.TryDecode(answer.Message.Payload, fixture.Group, out var addressedTo, out _));
        Assert.Equal(4, addressedTo);
        wire.AssertNoSubSharesInTheClear();
        Assert.Empty(run.Machines[1].DisqualifiedDealers);
    }

    [Theory]
    [InlineData(3, 0)] // reason 0
    [InlineData(3, 3)] // reason 3
    [InlineData(3, 255)]
    [InlineData(2, 1)] // version 2: unsigned
    [InlineData(1, -1)] // version 1: no reason, unsigned
    public void Complaint_with_a_malformed_reason_or_an_old_unsigned_format_raises_MalformedMessage(byte version, int reason)
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 341);
        using var run = new RefreshRun(fixture, seed: 342);
        var wire = Record(run);
        run.Bus.StartAll();
        var suite = (byte)fixture.Group.Id;
        var payload = version switch
        {
            1 => [1, suite, 0, 1],
            2 => [2, suite, 0, 1, (byte)reason],
            _ => run.SignedComplaint(4, 1, RefreshComplaintReason.Missing),
        };
        if (version == 3)
        {
            payload[6] = (byte)reason; // u8 version, u8 suite, u16 complainer, u16 dealer, u8 reason
        }

        var before = wire.Sent.Count;
        run.Bus.Inject(4, 1, RefreshWire.ComplaintRound, RefreshWire.ComplaintType, payload, confidential: false);
        run.Bus.Run();

        Assert.Contains(run.Bus.EventsOf<Alert>(1), a => a.Type == AlertType.MalformedMessage && a.Culprit == 4);
        Assert.Equal(before, wire.Sent.Count); // no answer of any kind
    }

    [Fact]
    public void Complaint_codec_round_trips_both_reasons_and_refuses_an_undefined_one()
    {
        var group = PrimeOrderGroup.Ristretto255;
        using var key = Proactive.Crypto.Signing.Ed25519PrivateKey.FromSeed(new byte[32]);
        var instance = new InstanceId(ProtocolKind.Refresh, 3, 0);
        foreach (var reason in new[] { RefreshComplaintReason.Missing, RefreshComplaintReason.Invalid })
        {
            var bytes = RefreshComplaint.Sign(group, key, instance, [9], 2, 5, reason).Encode();
            Assert.Equal(RefreshComplaint.FormatVersion, bytes[0]);
            Assert.True(RefreshComplaint.TryDecode(bytes, group, out var decoded));
            Assert.Equal((2, 5, reason), (decoded.Complainer, decoded.Dealer, decoded.Reason));
            Assert.Equal(bytes, decoded.Encode());
            Assert.True(decoded.Verify(key.PublicKey, instance, [9]));
            Assert.False(RefreshComplaint.TryDecode([.. bytes, 0], group, out _));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => RefreshComplaint.Sign(group, key, instance, [], 2, 5, (RefreshComplaintReason)7));
    }
}
