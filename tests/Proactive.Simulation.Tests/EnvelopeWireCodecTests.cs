using System.Buffers.Binary;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;
using Proactive.Simulation.Byzantine;
using Proactive.Simulation.Network;
using Proactive.Simulation.Tracing;
using Proactive.Simulation.Wire;

namespace Proactive.Simulation.Tests;

public sealed class EnvelopeWireCodecTests
{
    private static readonly ClusterParameters FourServers = ClusterParameters.Create(4, 1, 1);
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);
    private static readonly InstanceId PeriodZero = new(ProtocolKind.Refresh, 0, 1);

    /// <summary>Offset of the sender field in an envelope (see Envelope's wire format).</summary>
    private const int SenderOffset = 41;

    [Fact]
    public void Broadcast_and_confidential_messages_are_delivered_signed_and_encrypted()
    {
        var (simulator, codec) = EnvelopeSimulator(seed: 21, captureEnvelopes: true);
        var machines = FourServers.Servers.ToDictionary(id => id, id => new ExchangeMachine(PeriodZero));
        foreach (var (id, machine) in machines)
        {
            simulator.StartMachine(id, machine);
        }

        simulator.RunUntilIdle();

        Assert.Equal(0, simulator.Trace.DroppedFor(DropReason.Rejected));
        foreach (var (id, machine) in machines)
        {
            Assert.Equal([1, 2, 3, 4], machine.Broadcasts.Select(b => b.Sender).Order());
            Assert.All(machine.Broadcasts, b => Assert.Equal(new byte[] { (byte)b.Sender }, b.Payload));
            Assert.Equal(FourServers.Servers.Where(s => s != id), machine.Secrets.Select(s => s.Sender).Order());
            Assert.All(machine.Secrets, s => Assert.Equal(ExchangeMachine.Secret(s.Sender, id), s.Payload));
        }

        // On the wire a confidential payload is enc || ciphertext, never the plaintext.
        var confidential = codec.Captured.Where(c => c.Recipient != EnvelopeHeader.Broadcast).ToList();
        Assert.Equal(12, confidential.Count);
        Assert.All(confidential, c =>
        {
            Assert.True(Envelope.TryDecode(c.Bytes, codec.Suite, out var envelope, out _));
            Assert.True(envelope.Header.Confidential);
            Assert.Equal(ExchangeMachine.SecretLength + EnvelopeSealer.ConfidentialOverhead, envelope.Payload.Length);
            Assert.False(envelope.Payload.Span.IndexOf(ExchangeMachine.Secret(c.Sender, c.Recipient)) >= 0);
        });

        // One signed envelope per broadcast: the same bytes reach all four servers.
        var broadcastSends = simulator.Trace.OfType<SendTrace>().Where(s => s.Type == ExchangeMachine.PublicType).ToList();
        Assert.Equal(16, broadcastSends.Count);
        Assert.All(broadcastSends.GroupBy(s => s.Sender), g => Assert.Single(g.Select(s => s.WireDigest).Distinct()));
    }

    [Fact]
    public void Same_seed_gives_the_same_trace_with_the_envelope_codec()
    {
        var first = RunExchange(seed: 5);
        var second = RunExchange(seed: 5);
        var other = RunExchange(seed: 6);

        Assert.Equal(first.Trace.Hash, second.Trace.Hash);
        Assert.Equal(
            first.Trace.Events.Select(SimulationTrace.Describe),
            second.Trace.Events.Select(SimulationTrace.Describe));
        Assert.NotEqual(first.Trace.Hash, other.Trace.Hash);
    }

    [Fact]
    public void Byzantine_server_that_rewrites_the_sender_is_rejected_for_a_bad_signature()
    {
        var (simulator, _) = EnvelopeSimulator(seed: 22);
        var codec = (EnvelopeWireCodec)simulator.Codec;
        simulator.SetByzantine(1, new ClaimToBe(codec, claimed: 3));
        var machines = FourServers.Servers.ToDictionary(id => id, id => new FloodMachine(origin: id == 1, value: [9], relay: false, instance: PeriodZero));
        foreach (var (id, machine) in machines)
        {
            simulator.StartMachine(id, machine);
        }

        simulator.RunUntilIdle();

        Assert.All(machines.Values, m => Assert.Null(m.Received));
        var drops = simulator.Trace.OfType<DropTrace>().Where(d => d.Reason == DropReason.Rejected).ToList();
        Assert.Equal(4, drops.Count);
        Assert.All(drops, d => Assert.Equal("envelope:BadSignature", d.Detail));
        Assert.Empty(simulator.Trace.OfType<DeliverTrace>());
    }

    [Fact]
    public void Tampered_bytes_are_rejected_and_honest_traffic_still_flows()
    {
        var (simulator, _) = EnvelopeSimulator(seed: 23);
        var codec = (EnvelopeWireCodec)simulator.Codec;
        simulator.SetByzantine(2, new FlipLastPayloadByte(codec));
        var machines = FourServers.Servers.ToDictionary(id => id, id => new ExchangeMachine(PeriodZero));
        foreach (var (id, machine) in machines)
        {
            simulator.StartMachine(id, machine);
        }

        simulator.RunUntilIdle();

        // Server 2's broadcast (to the three others) and its three secrets: every packet refused.
        var drops = simulator.Trace.OfType<DropTrace>().Where(d => d.Reason == DropReason.Rejected).ToList();
        Assert.Equal(6, drops.Count);
        Assert.All(drops, d => Assert.Equal(2, d.Sender));
        Assert.All(drops, d => Assert.Equal("envelope:BadSignature", d.Detail));
        Assert.All(machines.Values, m => Assert.DoesNotContain(m.Broadcasts.Concat(m.Secrets), r => r.Sender == 2));
        Assert.All(machines.Values, m => Assert.Equal(3, m.Broadcasts.Count));
    }

    [Fact]
    public void Byzantine_server_signs_as_itself_with_its_own_sealer()
    {
        var (simulator, _) = EnvelopeSimulator(seed: 24);
        var codec = (EnvelopeWireCodec)simulator.Codec;
        simulator.SetByzantine(1, new SealOwnHeaderInstead(codec));
        var machines = FourServers.Servers.ToDictionary(id => id, id => new FloodMachine(origin: id == 1, value: [1], relay: false, instance: PeriodZero));
        foreach (var (id, machine) in machines)
        {
            simulator.StartMachine(id, machine);
        }

        simulator.RunUntilIdle();

        // Each recipient got the strategy's own payload, authenticated as server 1.
        Assert.All(machines, m => Assert.Equal(new byte[] { 0xEE, (byte)m.Key }, m.Value.Received));
        Assert.All(simulator.Trace.OfType<DeliverTrace>(), d => Assert.Equal(1, d.Sender));
        Assert.All(simulator.Server(2).Events, e => Assert.Equal(1, ((ValueReceived)e.Event).Sender));
    }

    [Fact]
    public void Replayed_envelope_is_refused_as_a_replay_then_as_stale_once_its_period_is_gone()
    {
        var (simulator, codec) = EnvelopeSimulator(seed: 25, captureEnvelopes: true);
        var sink = new SinkMachine();
        simulator.StartMachine(2, sink);
        simulator.StartMachine(1, new SprayMachine(target: 2, count: 1));
        simulator.SetByzantine(3, new ReplayFirstCaptured(codec, target: 2, from: TimeSpan.FromSeconds(1)));
        simulator.StartMachine(3, new TimerMachine((1, TimeSpan.FromSeconds(1)), (2, TimeSpan.FromSeconds(2)), (3, TimeSpan.FromSeconds(3))));
        simulator.Schedule(TimeSpan.FromSeconds(1.5), "period 1", _ => codec.AdvancePeriod(1));
        simulator.Schedule(TimeSpan.FromSeconds(2.5), "period 2", _ => codec.AdvancePeriod(2));

        simulator.RunUntilIdle();

        Assert.Single(sink.Received);
        var replays = simulator.Trace.OfType<DropTrace>().Where(d => d.Reason == DropReason.Rejected).ToList();
        Assert.Equal(["envelope:Replay", "envelope:Replay", "envelope:StalePeriod"], replays.Select(d => d.Detail));
        Assert.All(replays, d => Assert.Equal(3, d.Sender));
        Assert.Equal(TestInstances.Main, Assert.Single(codec.Captured).Instance);

        // Server 1 signed the envelope, server 3 delivered the copies: the two replays name server 3.
        var alerts = simulator.Server(2).Events.Select(e => e.Event).OfType<Alert>().ToList();
        Assert.Equal(2, alerts.Count);
        Assert.All(alerts, a => Assert.Equal((AlertType.Replay, 3), (a.Type, a.Culprit)));
        Assert.All(alerts, a => Assert.Equal(codec.Captured[0].Bytes, a.Evidence));
    }

    [Fact]
    public void A_replay_names_the_link_level_sender_never_the_signer()
    {
        using var codec = new EnvelopeWireCodec(FourServers, seed: 31);
        var packet = Assert.Single(codec.Encode(1, PeriodZero, new OutboundMessage(2, 0, 0, 1, [5], Confidential: false)));

        Assert.True(codec.TryDecode(2, 1, packet.Bytes, out _, out _, out var first));
        Assert.Null(first);
        Assert.False(codec.TryDecode(2, 4, packet.Bytes, out _, out var rejection, out var alert));
        Assert.Equal("envelope:Replay", rejection);
        Assert.NotNull(alert);
        Assert.Equal((AlertType.Replay, 4, PeriodZero), (alert.Type, alert.Culprit, alert.Instance));

        // Other refusals accuse nobody: the bytes prove nothing about whoever delivered them.
        Assert.False(codec.TryDecode(3, 4, packet.Bytes, out _, out var notForMe, out var none));
        Assert.Equal("envelope:NotForThisServer", notForMe);
        Assert.Null(none);
    }

    [Fact]
    public void Signs_and_opens_with_the_keys_of_a_key_source_and_starts_a_restarted_servers_memory_afresh()
    {
        using var source = new InstalledKeys(FourServers, seed: 32, period: 0);
        using var codec = new EnvelopeWireCodec(FourServers, 32, NetworkId.FromBytes(new byte[NetworkId.Length]), Proactive.Crypto.Groups.PrimeOrderGroup.Ed25519, source);
        var secret = Assert.Single(codec.Encode(1, PeriodZero, new OutboundMessage(2, 0, 0, 1, [6, 6], Confidential: true)));

        Assert.True(Envelope.TryDecode(secret.Bytes, codec.Suite, out var envelope, out _));
        Assert.True(envelope.VerifySignature(source.Own[1].PublicKeys.Signing));
        Assert.True(codec.TryDecode(2, secret.Bytes, out var opened, out _));
        Assert.Equal(new byte[] { 6, 6 }, opened.Message.Payload.ToArray());
        Assert.False(codec.TryDecode(2, secret.Bytes, out _, out var replay));
        Assert.Equal("envelope:Replay", replay);

        // Server 2 restarts: a new directory object, so a new opener with an empty replay guard.
        source.Restart(2);
        Assert.True(codec.TryDecode(2, secret.Bytes, out _, out _));

        // Keys the source no longer holds cannot sign.
        source.Own.Remove(1, out var erased);
        erased!.Dispose();
        Assert.Throws<ArgumentOutOfRangeException>(() => codec.Encode(1, PeriodZero, new OutboundMessage(2, 0, 0, 1, [1], Confidential: false)));
    }

    [Fact]
    public void Network_duplicates_are_refused_as_replays()
    {
        var network = new NetworkModel(new LinkBehavior(10 * Ms, 20 * Ms, duplicationProbability: 1));
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 26) { Network = network, CodecFactory = EnvelopeWireCodec.Factory(26) });
        var sink = new SinkMachine();
        simulator.StartMachine(2, sink);
        simulator.StartMachine(1, new SprayMachine(target: 2, count: 5));

        simulator.RunUntilIdle();

        Assert.Equal(5, sink.Received.Count);
        Assert.Equal(5, simulator.Trace.Duplicated);
        Assert.Equal(5, simulator.Trace.DroppedFor(DropReason.Rejected));
        Assert.All(simulator.Trace.OfType<DropTrace>(), d => Assert.Equal("envelope:Replay", d.Detail));

        // The network made the copies, not server 1: nobody is accused.
        Assert.DoesNotContain(simulator.Server(2).Events, e => e.Event is Alert);
    }

    [Fact]
    public void Advancing_the_period_moves_the_window_of_keys()
    {
        using var codec = new EnvelopeWireCodec(FourServers, seed: 27);
        var message = new OutboundMessage(2, 0, 0, 1, [1, 2, 3], Confidential: true);
        var periodTwo = new InstanceId(ProtocolKind.Refresh, 2, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => codec.Encode(1, periodTwo, message));

        codec.AdvancePeriod(1);
        var packet = Assert.Single(codec.Encode(1, periodTwo, message));
        Assert.True(codec.TryDecode(2, packet.Bytes, out var decoded, out _));
        Assert.Equal(periodTwo, decoded.Instance);
        Assert.Equal(new byte[] { 1, 2, 3 }, decoded.Message.Payload.ToArray());
        Assert.True(decoded.Message.Confidential);
        Assert.Equal(1, decoded.Message.Sender);

        codec.AdvancePeriod(3);
        Assert.Throws<ArgumentOutOfRangeException>(() => codec.Encode(1, new InstanceId(ProtocolKind.Refresh, 1, 1), message));
        Assert.True(codec.DirectoryOf(1).TryGet(4, 4, out _));
        Assert.False(codec.DirectoryOf(1).TryGet(4, 1, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => codec.AdvancePeriod(3));
    }

    [Fact]
    public void Envelope_for_another_server_or_garbage_is_rejected_with_the_reason()
    {
        using var codec = new EnvelopeWireCodec(FourServers, seed: 28);
        var packet = Assert.Single(codec.Encode(1, PeriodZero, new OutboundMessage(2, 0, 0, 1, [7], Confidential: true)));

        Assert.False(codec.TryDecode(3, packet.Bytes, out _, out var notForMe));
        Assert.Equal("envelope:NotForThisServer", notForMe);
        Assert.False(codec.TryDecode(2, packet.Bytes.AsMemory(0, 20), out _, out var truncated));
        Assert.StartsWith("envelope:Malformed", truncated, StringComparison.Ordinal);
        Assert.True(codec.TryDecode(2, packet.Bytes, out _, out _));
    }

    [Fact]
    public void Keys_and_network_follow_the_seed()
    {
        using var first = new EnvelopeWireCodec(FourServers, seed: 29);
        using var second = new EnvelopeWireCodec(FourServers, seed: 29);
        using var other = new EnvelopeWireCodec(FourServers, seed: 30);

        Assert.Equal(first.Network, second.Network);
        Assert.NotEqual(first.Network, other.Network);
        Assert.True(first.DirectoryOf(1).TryGet(3, 1, out var a));
        Assert.True(second.DirectoryOf(1).TryGet(3, 1, out var b));
        Assert.True(other.DirectoryOf(1).TryGet(3, 1, out var c));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);

        // An envelope of one network does not open in another.
        var packet = first.Encode(1, PeriodZero, new OutboundMessage(null, 0, 0, 1, [1], Confidential: false))[1];
        Assert.False(other.TryDecode(2, packet.Bytes, out _, out var rejection));
        Assert.Equal("envelope:WrongNetwork", rejection);
    }

    /// <summary>A key source as the scenario's controllers are: each server's own keys and its own directory of everyone's public keys.</summary>
    private sealed class InstalledKeys : IEnvelopeKeySource, IDisposable
    {
        private readonly Dictionary<int, PeriodKeyDirectory> _directories = [];
        private readonly List<PeriodPublicKeys> _everyone;

        public InstalledKeys(ClusterParameters parameters, ulong seed, ulong period)
        {
            foreach (var server in parameters.Servers)
            {
                Own[server] = PeriodKeys.Generate(server, period, new Proactive.Crypto.Random.DeterministicRandomSource(seed + (ulong)server));
            }

            _everyone = Own.Values.Select(k => k.PublicKeys).ToList();
            foreach (var server in parameters.Servers)
            {
                Restart(server);
            }
        }

        public Dictionary<int, PeriodKeys> Own { get; } = [];

        public void Restart(int server)
        {
            var directory = new PeriodKeyDirectory();
            _everyone.ForEach(k => directory.TryAdd(k));
            _directories[server] = directory;
        }

        public PeriodKeys? OwnKeys(int server, ulong period) => Own.TryGetValue(server, out var keys) && keys.Period == period ? keys : null;

        public PeriodKeyDirectory DirectoryOf(int server) => _directories[server];

        public void Dispose()
        {
            foreach (var keys in Own.Values)
            {
                keys.Dispose();
            }
        }
    }

    private static (Simulator Simulator, EnvelopeWireCodec Codec) EnvelopeSimulator(ulong seed, bool captureEnvelopes = false)
    {
        var simulator = new Simulator(new SimulationOptions(FourServers, seed) { CodecFactory = EnvelopeWireCodec.Factory(seed, captureEnvelopes: captureEnvelopes) });
        return (simulator, (EnvelopeWireCodec)simulator.Codec);
    }

    private static Simulator RunExchange(ulong seed)
    {
        var network = new NetworkModel(new LinkBehavior(5 * Ms, 50 * Ms, lossProbability: 0.1, duplicationProbability: 0.1));
        var simulator = new Simulator(new SimulationOptions(FourServers, seed) { Network = network, CodecFactory = EnvelopeWireCodec.Factory(seed) });
        foreach (var id in FourServers.Servers)
        {
            simulator.StartMachine(id, new ExchangeMachine(PeriodZero));
        }

        simulator.RunUntilIdle();
        return simulator;
    }

    /// <summary>Every server broadcasts its id and sends each other server a secret only the two know.</summary>
    private sealed class ExchangeMachine(InstanceId instance) : IProtocolMachine
    {
        public const byte PublicType = 1;
        public const byte SecretType = 2;
        public const int SecretLength = 8;

        public InstanceId Instance => instance;

        public bool IsFinished => false;

        public List<(int Sender, byte[] Payload)> Broadcasts { get; } = [];

        public List<(int Sender, byte[] Payload)> Secrets { get; } = [];

        public static byte[] Secret(int from, int to)
        {
            var secret = new byte[SecretLength];
            BinaryPrimitives.WriteInt32BigEndian(secret, (from * 1000) + to);
            BinaryPrimitives.WriteInt32BigEndian(secret.AsSpan(4), 0x5EC2E7);
            return secret;
        }

        public void Start(ProtocolContext context, Outbox outbox)
        {
            outbox.Broadcast(0, 0, PublicType, [(byte)context.Self]);
            foreach (var other in context.Parameters.Servers.Where(s => s != context.Self))
            {
                outbox.Send(other, 0, 0, SecretType, Secret(context.Self, other), confidential: true);
            }
        }

        public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
        {
            if (message.Type == PublicType && !message.Confidential)
            {
                Broadcasts.Add((message.Sender, message.Payload.ToArray()));
            }
            else if (message.Type == SecretType && message.Confidential)
            {
                Secrets.Add((message.Sender, message.Payload.ToArray()));
            }
        }

        public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
        {
        }
    }

    /// <summary>Seals each message as itself, then rewrites the envelope's sender field to <paramref name="claimed"/>.</summary>
    private sealed class ClaimToBe(EnvelopeWireCodec codec, int claimed) : ByzantineStrategy
    {
        public override void OnSend(ByzantineContext context, OutgoingMessage message)
        {
            var envelope = codec.SealerFor(context).Seal(message.Instance, message.Message);
            BinaryPrimitives.WriteUInt16BigEndian(envelope.AsSpan(SenderOffset), (ushort)claimed);
            foreach (var recipient in Recipients(context, message))
            {
                context.SendRaw(recipient, envelope);
            }
        }
    }

    /// <summary>Seals each message as itself and flips the last payload byte (just before the signature).</summary>
    private sealed class FlipLastPayloadByte(EnvelopeWireCodec codec) : ByzantineStrategy
    {
        public override void OnSend(ByzantineContext context, OutgoingMessage message)
        {
            var envelope = codec.SealerFor(context).Seal(message.Instance, message.Message);
            envelope[^(Envelope.SignatureLength + 1)] ^= 0x01;
            foreach (var recipient in Recipients(context, message).Where(r => r != context.Server))
            {
                context.SendRaw(recipient, envelope);
            }
        }
    }

    /// <summary>Replaces each broadcast by a message of its own making per recipient, sealed with its own sealer.</summary>
    private sealed class SealOwnHeaderInstead(EnvelopeWireCodec codec) : ByzantineStrategy
    {
        public override void OnSend(ByzantineContext context, OutgoingMessage message)
        {
            var sealer = codec.SealerFor(context);
            foreach (var recipient in context.Parameters.Servers)
            {
                var own = message.To(recipient, [0xEE, (byte)recipient]);
                context.SendRaw(recipient, sealer.Seal(own.Instance, own.Message));
            }
        }
    }

    /// <summary>From <paramref name="from"/> on, after each of its steps, re-sends the first captured envelope verbatim.</summary>
    private sealed class ReplayFirstCaptured(EnvelopeWireCodec codec, int target, TimeSpan from) : ByzantineStrategy
    {
        public override void OnStepEnd(ByzantineContext context)
        {
            if (context.Now >= from && codec.Captured.Count > 0)
            {
                context.SendRaw(target, codec.Captured[0].Bytes);
            }
        }
    }

    private static IEnumerable<int> Recipients(ByzantineContext context, OutgoingMessage message) =>
        message.Message.Recipient is { } one ? [one] : context.Parameters.Servers;
}
