using Proactive.Crypto.Codec;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Bootstrap;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Tests.Bootstrap;

/// <summary>
/// The public-state sync (Table 2: "other public state is restored from any peer and verified against
/// a root the network threshold-signs every period"): a seeker takes only a state the network signed.
/// </summary>
public sealed class StateSyncTests
{
    private static readonly ClusterParameters FourServers = ClusterParameters.Create(4, 1, 1);
    private static readonly NetworkId Network = NetworkId.FromBytes(new byte[NetworkId.Length]);
    private static readonly Ciphersuite Suite = Ciphersuite.Ed25519;

    private static ProtocolContext Context(int self, TimeSpan now) => new(self, FourServers, now, new DeterministicRandomSource(5));

    private static (GroupPublicKey Key, Func<byte[], Signature> Sign) NetworkKey(ulong seed)
    {
        var random = new DeterministicRandomSource(seed);
        var dealt = TrustedDealer.Generate(Suite, null, 2, 4, random);
        return (dealt.PublicKeyPackage.GroupPublicKey, message =>
        {
            var signers = dealt.KeyPackages.Take(2).ToArray();
            var nonces = signers.Select(k => Round1.Commit(k.SigningShare, random)).ToArray();
            var package = SigningPackage.Create(Suite, nonces.Select(n => n.Commitments), message);
            var shares = signers.Select((k, i) => Round2.Sign(package, nonces[i], k).Value).ToArray();
            return Aggregation.Aggregate(package, shares, dealt.PublicKeyPackage).Value;
        }
        );
    }

    private static RefreshPublicState State(ulong seed)
    {
        var group = PrimeOrderGroup.Ed25519;
        var random = new DeterministicRandomSource(seed);
        var commitment = new FeldmanCommitment(group, [group.MultiplyBase(group.RandomScalar(random)), group.MultiplyBase(group.RandomScalar(random))]);
        return new RefreshPublicState(group, 1, [commitment]);
    }

    /// <summary>A certificate of <paramref name="period"/> over a KeyTable of that period and <paramref name="state"/>, signed with <paramref name="sign"/>.</summary>
    private static PeriodCertificate Certificate(ulong period, RefreshPublicState state, Func<byte[], Signature> sign)
    {
        using var keys = PeriodKeys.Generate(1, period, new DeterministicRandomSource(period));
        var entry = SignedKeyTableEntry.Create(new KeyTableEntry(keys.PublicKeys, new byte[KeyTableEntry.FingerprintLength]), Network, keys.Signing, null);
        var table = new KeyTableDocument(period, [entry]).Encode();
        var hash = PeriodCertificate.HashPublicState(state);
        return new PeriodCertificate(period, table, hash, sign(PeriodCertificate.SigningMessage(period, table, hash)));
    }

    private static byte[] Answer(PeriodCertificate certificate, RefreshPublicState state)
    {
        var provider = StateSyncMachine.ForProvider(StateSyncMachine.InstanceOf(0), 2);
        provider.Provide(certificate, state);
        var outbox = new Outbox();
        provider.Receive(Context(2, TimeSpan.Zero), new InboundMessage(1, 0, StateSyncWire.Round, StateSyncWire.RequestType, new byte[8], false, Array.Empty<byte>()), outbox);
        return Assert.Single(outbox.Messages).Payload;
    }

    private static (StateSyncMachine Seeker, Outbox Outbox) Seeker(GroupPublicKey key, ulong oldest)
    {
        var seeker = StateSyncMachine.ForSeeker(StateSyncMachine.InstanceOf(5), 1, key, oldest, TimeSpan.FromSeconds(1));
        var outbox = new Outbox();
        seeker.Start(Context(1, TimeSpan.Zero), outbox);
        return (seeker, outbox);
    }

    private static Outbox Deliver(StateSyncMachine seeker, byte[] payload, int from = 2)
    {
        var outbox = new Outbox();
        seeker.Receive(Context(1, TimeSpan.FromMilliseconds(10)), new InboundMessage(from, 0, StateSyncWire.Round, StateSyncWire.AnswerType, payload, false, Array.Empty<byte>()), outbox);
        return outbox;
    }

    [Fact]
    public void A_seeker_adopts_a_state_its_certificate_signs_and_learns_the_keytable_of_that_period()
    {
        var (key, sign) = NetworkKey(1);
        var state = State(1);
        var certificate = Certificate(5, state, sign);
        var (seeker, start) = Seeker(key, 5);
        Assert.Contains(start.Messages, m => m.Type == StateSyncWire.RequestType && m.Recipient is null);

        var outbox = Deliver(seeker, Answer(certificate, state), from: 3);

        var restored = Assert.IsType<PublicStateRestored>(Assert.Single(outbox.Events));
        Assert.Equal(5UL, restored.Certificate.Period);
        Assert.Equal(3, restored.From);
        Assert.Equal(state.Encode(), restored.State.Encode());
        Assert.True(restored.Certificate.TryGetTable(out var table));
        Assert.Equal(5UL, table.Period);
        Assert.True(seeker.IsFinished);
        Assert.Empty(Deliver(seeker, Answer(certificate, state)).Events);
    }

    [Fact]
    public void A_seeker_refuses_another_networks_signature_an_older_period_a_swapped_state_and_garbage()
    {
        var (key, sign) = NetworkKey(1);
        var (_, otherSign) = NetworkKey(2);
        var state = State(1);
        var (seeker, _) = Seeker(key, 5);

        Assert.Empty(Deliver(seeker, Answer(Certificate(5, state, otherSign), state)).Events);
        Assert.Empty(Deliver(seeker, Answer(Certificate(4, state, sign), state)).Events);
        Assert.Empty(Deliver(seeker, Answer(Certificate(5, state, sign), State(2))).Events);
        Assert.Empty(Deliver(seeker, [1, 2, 3]).Events);
        var valid = Answer(Certificate(5, state, sign), state);
        Assert.Empty(Deliver(seeker, valid[..^1]).Events);
        Assert.Empty(Deliver(seeker, [.. valid, 0]).Events);
        Assert.False(seeker.IsFinished);

        Assert.Single(Deliver(seeker, valid).Events);
    }

    [Fact]
    public void A_seeker_asks_again_until_an_answer_verifies_and_a_provider_answers_a_bounded_number_of_times()
    {
        var (key, sign) = NetworkKey(1);
        var (seeker, start) = Seeker(key, 1);
        var timer = Assert.Single(start.Timers);
        var retry = new Outbox();
        seeker.Timeout(Context(1, timer.At), StateSyncMachine.RetryTimer, retry);
        Assert.Contains(retry.Messages, m => m.Type == StateSyncWire.RequestType);
        Assert.Single(retry.Timers);

        var provider = StateSyncMachine.ForProvider(StateSyncMachine.InstanceOf(0), 2);
        var silent = new Outbox();
        provider.Receive(Context(2, TimeSpan.Zero), new InboundMessage(1, 0, StateSyncWire.Round, StateSyncWire.RequestType, new byte[8], false, Array.Empty<byte>()), silent);
        Assert.Empty(silent.Messages); // nothing certified yet: nothing to give

        provider.Provide(Certificate(3, State(1), sign), State(1));
        var answers = 0;
        for (var i = 0; i < StateSyncMachine.MaxAnswersPerRequester + 5; i++)
        {
            var outbox = new Outbox();
            provider.Receive(Context(2, TimeSpan.Zero), new InboundMessage(1, (uint)i, StateSyncWire.Round, StateSyncWire.RequestType, new byte[8], false, Array.Empty<byte>()), outbox);
            answers += outbox.Messages.Count;
        }

        Assert.Equal(StateSyncMachine.MaxAnswersPerRequester, answers);
    }

    [Fact]
    public void Open_frames_carry_only_self_authenticating_messages_and_name_their_network_and_recipient()
    {
        var push = new OutboundMessage(null, 7, VcertRecoverWire.Round, VcertRecoverWire.PushType, [1, 2, 3], false);
        var frame = OpenFrame.Encode(GroupId.Ed25519, Network, 2, VcertRecoverMachine.InstanceOf(4), push);
        Assert.True(OpenFrame.LooksLikeOpenFrame(frame));
        Assert.True(OpenFrame.TryDecode(frame, PrimeOrderGroup.Ed25519, Network, 1, out var header, out var message, out _));
        Assert.Equal((2, 7u, VcertRecoverMachine.InstanceOf(4)), ((int)header.Sender, message.Attempt, header.Instance));
        Assert.Equal(new byte[] { 1, 2, 3 }, message.Payload.ToArray());

        // Another network, another recipient, a flipped byte in the instance: refused with a reason.
        Assert.False(OpenFrame.TryDecode(frame, PrimeOrderGroup.Ed25519, NetworkId.FromBytes([.. Enumerable.Repeat((byte)9, NetworkId.Length)]), 1, out _, out _, out var why));
        Assert.Contains("network", why, StringComparison.Ordinal);
        var direct = OpenFrame.Encode(GroupId.Ed25519, Network, 2, VcertRecoverMachine.InstanceOf(4), push with { Recipient = 3 });
        Assert.False(OpenFrame.TryDecode(direct, PrimeOrderGroup.Ed25519, Network, 1, out _, out _, out _));
        Assert.True(OpenFrame.TryDecode(direct, PrimeOrderGroup.Ed25519, Network, 3, out _, out _, out _));

        // Refresh, agreement, recovery and the like must be signed: neither encoded nor accepted unsigned.
        var refresh = new InstanceId(ProtocolKind.Refresh, 4, 0);
        Assert.Throws<ArgumentException>(() => OpenFrame.Encode(GroupId.Ed25519, Network, 2, refresh, push));
        var forged = (byte[])frame.Clone();
        forged[1 + 1 + NetworkId.Length + 8] = (byte)ProtocolKind.Refresh;
        Assert.False(OpenFrame.TryDecode(forged, PrimeOrderGroup.Ed25519, Network, 1, out _, out _, out why));
        Assert.Contains("unsigned", why, StringComparison.Ordinal);

        // A sealed envelope is not an open frame.
        using var keys = PeriodKeys.Generate(2, 4, new DeterministicRandomSource(3));
        var directory = new PeriodKeyDirectory();
        directory.TryAdd(keys.PublicKeys);
        var envelope = new EnvelopeSealer(2, keys, directory, Network, PrimeOrderGroup.Ed25519, new DeterministicRandomSource(4)).Seal(VcertRecoverMachine.InstanceOf(4), push);
        Assert.False(OpenFrame.LooksLikeOpenFrame(envelope));
        Assert.False(OpenFrame.TryDecode(envelope, PrimeOrderGroup.Ed25519, Network, 1, out _, out _, out _));
    }
}
