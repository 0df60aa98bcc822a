using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Simulation.Byzantine;
using Proactive.Simulation.Network;
using Proactive.Simulation.Tracing;

namespace Proactive.Simulation.Tests;

public sealed class SimulatorTests
{
    private static readonly ClusterParameters FourServers = ClusterParameters.Create(4, 1, 1);
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void Same_seed_gives_the_same_trace_and_another_seed_another()
    {
        var first = RunNoisyScenario(seed: 42);
        var second = RunNoisyScenario(seed: 42);
        var other = RunNoisyScenario(seed: 43);

        Assert.Equal(first.Trace.Hash, second.Trace.Hash);
        Assert.Equal(
            first.Trace.Events.Select(SimulationTrace.Describe),
            second.Trace.Events.Select(SimulationTrace.Describe));
        Assert.NotEqual(first.Trace.Hash, other.Trace.Hash);
        Assert.True(first.Trace.Sent > 10, $"the scenario should move messages (sent {first.Trace.Sent})");
    }

    [Fact]
    public void Trace_hash_covers_the_bytes_inside_protocol_events()
    {
        var first = new Simulator(new SimulationOptions(FourServers, seed: 1));
        var second = new Simulator(new SimulationOptions(FourServers, seed: 1));
        first.StartMachine(1, new FloodMachine(origin: true, value: [1], relay: false));
        second.StartMachine(1, new FloodMachine(origin: true, value: [2], relay: false));

        first.RunUntilIdle();
        second.RunUntilIdle();

        var describe = (Simulator s) => SimulationTrace.Describe(s.Trace.OfType<ProtocolEventTrace>().Single());
        Assert.NotEqual(describe(first), describe(second));
        Assert.Contains("ValueReceived Sender=1 Value=", describe(first), StringComparison.Ordinal);
    }

    [Fact]
    public void Starting_a_second_machine_for_the_same_instance_is_refused()
    {
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 17));
        simulator.StartMachine(2, new TimerMachine((1, 10 * Ms)));
        simulator.StartMachine(2, new TimerMachine());

        var error = Assert.Throws<InvalidOperationException>(simulator.RunUntilIdle);
        Assert.Contains("already runs instance", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Machine_that_throws_stops_the_run_naming_server_instance_and_seed()
    {
        var faulty = new Simulator(new SimulationOptions(FourServers, seed: 17));
        faulty.StartMachine(2, new ThrowingMachine());
        var fault = Assert.Throws<MachineFaultException>(faulty.RunUntilIdle);
        Assert.Contains($"Server 2, instance {TestInstances.Main}: Start threw", fault.Message, StringComparison.Ordinal);
        Assert.Contains("seed 17", fault.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trace_hash_does_not_depend_on_whether_events_are_kept()
    {
        var kept = RunNoisyScenario(seed: 7, recordTrace: true);
        var counted = RunNoisyScenario(seed: 7, recordTrace: false);

        Assert.Equal(kept.Trace.Hash, counted.Trace.Hash);
        Assert.Empty(counted.Trace.Events);
        Assert.Equal(kept.Trace.Sent, counted.Trace.Sent);
    }

    [Fact]
    public void Loss_duplication_and_delay_follow_the_link_settings()
    {
        const int count = 2000;
        var network = new NetworkModel(new LinkBehavior(10 * Ms, 50 * Ms, lossProbability: 0.2, duplicationProbability: 0.1));
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 1) { Network = network, RecordTrace = false });
        var sink = new SinkMachine();
        simulator.StartMachine(2, sink);
        simulator.StartMachine(1, new SprayMachine(target: 2, count));

        simulator.RunUntilIdle();

        var lost = simulator.Trace.DroppedFor(DropReason.Loss);
        var duplicated = simulator.Trace.Duplicated;
        Assert.InRange(lost, 300, 500); // expected 400
        Assert.InRange(duplicated, 110, 210); // expected 160 of the 1600 that survive
        Assert.Equal(count - lost + duplicated, sink.Received.Count);
        Assert.All(sink.Received, r => Assert.InRange(r.Delay, 10 * Ms, 50 * Ms));
        var meanMs = sink.Received.Average(r => r.Delay.TotalMilliseconds);
        Assert.InRange(meanMs, 27, 33); // expected 30
        var order = sink.Received.Select(r => r.Index).ToList();
        Assert.NotEqual(order.Order(), order); // independent delays reorder
    }

    [Fact]
    public void After_stabilization_nothing_is_lost_and_delays_are_bounded()
    {
        var network = new NetworkModel(new LinkBehavior(10 * Ms, 5000 * Ms, lossProbability: 0.5))
        {
            GlobalStabilizationTime = TimeSpan.FromSeconds(1),
            StableMaxDelay = 20 * Ms,
        };
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 2) { Network = network });
        var sink = new SinkMachine();
        simulator.StartMachine(2, sink);
        simulator.StartMachine(1, new SprayMachine(target: 2, count: 200), at: TimeSpan.FromSeconds(1));

        simulator.RunUntilIdle();

        Assert.Equal(0, simulator.Trace.DroppedFor(DropReason.Loss));
        Assert.Equal(200, sink.Received.Count);
        Assert.All(sink.Received, r => Assert.InRange(r.Delay, 10 * Ms, 20 * Ms));
    }

    [Fact]
    public void Message_sent_before_stabilization_arrives_by_stabilization_plus_the_bound()
    {
        var network = new NetworkModel(new LinkBehavior(TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(100)))
        {
            GlobalStabilizationTime = TimeSpan.FromSeconds(2),
            StableMaxDelay = 50 * Ms,
        };
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 3) { Network = network });
        var sink = new SinkMachine();
        simulator.StartMachine(2, sink);
        simulator.StartMachine(1, new SprayMachine(target: 2, count: 1));

        simulator.RunUntilIdle();

        Assert.Equal(TimeSpan.FromSeconds(2) + (50 * Ms), Assert.Single(sink.Received).Delay);
    }

    [Fact]
    public void Partition_blocks_a_server_until_it_heals()
    {
        var healAt = TimeSpan.FromSeconds(1);
        var network = new NetworkModel().AddPartition(Partition.Isolate(TimeSpan.Zero, healAt, 4));
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 4) { Network = network });
        foreach (var id in FourServers.Servers)
        {
            simulator.StartMachine(id, new AckCollectorMachine(id, leader: 1, retry: 200 * Ms));
        }

        simulator.RunUntilIdle();

        var leaderEvents = simulator.Server(1).Events;
        var quorum = Assert.Single(leaderEvents, e => e.Event is QuorumReached);
        Assert.True(quorum.Time < healAt, "n - f servers answer during the partition");
        var ackFromIsolated = Assert.Single(leaderEvents, e => e.Event is AckReceived { From: 4 });
        Assert.True(ackFromIsolated.Time >= healAt, $"the isolated server's ack arrived at {ackFromIsolated.Time}");
        Assert.True(simulator.Trace.DroppedFor(DropReason.Partition) > 0);
        Assert.DoesNotContain(simulator.Trace.OfType<DeliverTrace>(), d => d.Time < healAt && (d.Sender == 4) != (d.Recipient == 4));
        Assert.True(simulator.Server(1).Machines.Single().IsFinished);
    }

    [Fact]
    public void Crash_loses_volatile_state_and_restart_restores_only_what_was_persisted()
    {
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 5) { RestartFactory = restart => [TickMachine.FromStore(restart)] });
        var original = new TickMachine(0);
        simulator.StartMachine(1, original);
        simulator.ScheduleCrash(1, TimeSpan.FromSeconds(5.5));
        simulator.ScheduleRestart(1, TimeSpan.FromSeconds(10));

        simulator.RunUntil(TimeSpan.FromSeconds(10));
        Assert.Equal(5, original.Ticks);
        var restored = Assert.IsType<TickMachine>(Assert.Single(simulator.Server(1).Machines));
        Assert.NotSame(original, restored);
        Assert.Equal(3, restored.Ticks); // the checkpoint of tick 3, not the 5 ticks held in memory

        simulator.RunUntil(TimeSpan.FromSeconds(11));

        var ticks = simulator.Server(1).Events.Select(e => (((Ticked)e.Event).Ticks, e.Time)).ToList();
        Assert.Equal([1, 2, 3, 4, 5, 4], ticks.Select(t => t.Ticks));
        Assert.Equal(TimeSpan.FromSeconds(11), ticks[^1].Time);
        Assert.DoesNotContain(simulator.Trace.OfType<TimerTrace>(), t => t.Time > TimeSpan.FromSeconds(5.5) && t.Time < TimeSpan.FromSeconds(10));
        Assert.Equal(1, simulator.Server(1).Incarnation);
    }

    [Fact]
    public void Messages_to_a_down_server_are_lost()
    {
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 6));
        var sink = new SinkMachine();
        simulator.StartMachine(2, sink);
        simulator.ScheduleCrash(2, TimeSpan.FromMilliseconds(1));
        simulator.StartMachine(1, new SprayMachine(target: 2, count: 3), at: TimeSpan.FromMilliseconds(2));

        simulator.RunUntilIdle();

        Assert.Empty(sink.Received);
        Assert.Equal(3, simulator.Trace.DroppedFor(DropReason.RecipientDown));
    }

    [Fact]
    public void Crash_in_the_middle_of_a_step_keeps_the_writes_and_loses_the_messages()
    {
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 7));
        simulator.StartMachine(1, new PersistAndSendMachine());
        simulator.ScheduleCrash(1, TimeSpan.FromMilliseconds(500), midStep: true);

        simulator.RunUntilIdle();

        Assert.True(simulator.Server(1).Store.TryGet("vote", out var vote));
        Assert.Equal(new byte[] { 1 }, vote.ToArray());
        Assert.False(simulator.Server(1).IsUp);
        Assert.Empty(simulator.Trace.OfType<SendTrace>());
        Assert.True(Assert.Single(simulator.Trace.OfType<CrashTrace>()).MidStep);
        Assert.Equal(1, simulator.Trace.DroppedFor(DropReason.SenderCrashed));
    }

    [Fact]
    public void Equivocating_server_is_visible_in_the_trace()
    {
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 8));
        simulator.SetByzantine(1, new EquivocateToEach());
        var machines = FourServers.Servers.ToDictionary(id => id, id => new FloodMachine(origin: id == 1, value: [0], relay: false));
        foreach (var (id, machine) in machines)
        {
            simulator.StartMachine(id, machine);
        }

        simulator.RunUntilIdle();

        var sends = simulator.Trace.OfType<SendTrace>().Where(s => s.Sender == 1).ToList();
        Assert.All(sends, s => Assert.True(s.FromByzantine));
        var digests = sends.GroupBy(s => (s.Instance, s.Attempt, s.Round, s.Type)).Single().Select(s => s.PayloadDigest).Distinct();
        Assert.Equal(4, digests.Count());
        Assert.Equal([2, 3, 4], machines.Where(m => m.Key > 1).Select(m => (int)m.Value.Received![0]));
    }

    [Fact]
    public void Byzantine_garbage_is_rejected_by_the_codec_and_the_run_goes_on()
    {
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 9));
        simulator.SetByzantine(1, new SendGarbageInstead());
        var sink = new SinkMachine();
        simulator.StartMachine(2, sink);
        simulator.StartMachine(1, new SprayMachine(target: 2, count: 5));

        simulator.RunUntilIdle();

        Assert.Empty(sink.Received);
        Assert.Equal(5, simulator.Trace.DroppedFor(DropReason.Rejected));
        Assert.Equal(0, simulator.Trace.DroppedFor(DropReason.Withheld));
        Assert.Equal(5, simulator.Trace.RawInjected);
    }

    [Fact]
    public void Byzantine_strategy_can_corrupt_its_servers_disk()
    {
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 10));
        simulator.SetByzantine(1, new CorruptDisk());
        simulator.StartMachine(1, new PersistAndSendMachine());

        simulator.RunUntil(TimeSpan.FromSeconds(2));

        Assert.True(simulator.Server(1).Store.TryGet("vote", out var vote));
        Assert.Equal(new byte[] { 0xFF }, vote.ToArray());
    }

    [Fact]
    public void Timers_fire_in_time_order_and_a_reset_timer_fires_once_at_its_new_time()
    {
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 11));
        simulator.StartMachine(1, new TimerMachine(
            (3, 300 * Ms), (1, 100 * Ms), (2, 200 * Ms), (4, 200 * Ms), (5, 500 * Ms), (5, 150 * Ms)));

        simulator.RunUntilIdle();

        var fired = simulator.Server(1).Events.Select(e => (((TimerFired)e.Event).TimerId, e.Time.TotalMilliseconds)).ToList();
        Assert.Equal([(1, 100), (5, 150), (2, 200), (4, 200), (3, 300)], fired);
    }

    [Fact]
    public void Event_cap_stops_a_runaway_machine_with_a_clear_error()
    {
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 12) { MaxEvents = 1000 });
        simulator.StartMachine(3, new RunawayMachine());

        var error = Assert.Throws<SimulationLimitException>(simulator.RunUntilIdle);

        Assert.Contains("cap of 1000 events", error.Message, StringComparison.Ordinal);
        Assert.Contains("seed 12", error.Message, StringComparison.Ordinal);
        Assert.Contains($"instance {TestInstances.Main} on server 3", error.Message, StringComparison.Ordinal);
        Assert.Equal(1000, simulator.ProcessedEvents);
    }

    [Fact]
    public void Invariant_checker_sees_every_step_and_stops_the_run_on_a_violation()
    {
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 13));
        foreach (var id in FourServers.Servers)
        {
            simulator.StartMachine(id, new FloodMachine(origin: id == 1, value: [7]));
        }

        var checks = 0;
        simulator.AddInvariant("counts", _ =>
        {
            checks++;
            return null;
        });
        simulator.AddInvariant("nobody receives 7 on server 3", s =>
            s.Server(3).Events.Any(e => e.Event is ValueReceived { Value: [7] }) ? "server 3 received 7" : null);

        var error = Assert.Throws<InvariantViolationException>(simulator.RunUntilIdle);

        Assert.Contains("nobody receives 7 on server 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("seed 13", error.Message, StringComparison.Ordinal);
        Assert.Equal(simulator.ProcessedEvents, checks);
    }

    [Fact]
    public void Run_until_a_condition_stops_as_soon_as_it_holds()
    {
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 14));
        foreach (var id in FourServers.Servers)
        {
            simulator.StartMachine(id, new AckCollectorMachine(id, leader: 1, retry: 200 * Ms));
        }

        var reached = simulator.RunUntil(s => s.Server(1).Events.Any(e => e.Event is QuorumReached));

        Assert.True(reached);
        Assert.IsType<QuorumReached>(simulator.Server(1).Events[^1].Event);
        Assert.True(simulator.PendingEvents > 0);
    }

    [Fact]
    public void Traffic_is_counted_per_period()
    {
        var simulator = new Simulator(new SimulationOptions(FourServers, seed: 15));
        foreach (var id in FourServers.Servers)
        {
            simulator.StartMachine(id, new FloodMachine(origin: id == 1, value: [1, 2, 3]));
        }

        simulator.RunUntilIdle();

        var traffic = Assert.Single(simulator.Trace.Traffic);
        Assert.Equal(0UL, traffic.Period);
        Assert.Equal(20, traffic.Messages); // the origin's broadcast and four relays, four packets each
        Assert.Equal(simulator.Trace.OfType<SendTrace>().Sum(s => (long)s.Bytes), traffic.Bytes);
    }

    [Fact]
    public void Unknown_instance_is_created_by_the_instance_factory_or_dropped()
    {
        var withFactory = new Simulator(new SimulationOptions(FourServers, seed: 16) { InstanceFactory = (_, _) => new SinkMachine() });
        withFactory.StartMachine(1, new SprayMachine(target: 2, count: 2));
        withFactory.RunUntilIdle();
        Assert.Equal(2, ((SinkMachine)withFactory.Server(2).Machines.Single()).Received.Count);

        var without = new Simulator(new SimulationOptions(FourServers, seed: 16));
        without.StartMachine(1, new SprayMachine(target: 2, count: 2));
        without.RunUntilIdle();
        Assert.Equal(2, without.Trace.DroppedFor(DropReason.UnknownInstance));
    }

    private static Simulator RunNoisyScenario(ulong seed, bool recordTrace = true)
    {
        var network = new NetworkModel(new LinkBehavior(5 * Ms, 80 * Ms, lossProbability: 0.1, duplicationProbability: 0.1))
        {
            GlobalStabilizationTime = TimeSpan.FromSeconds(2),
            StableMaxDelay = 30 * Ms,
        };
        network.AddPartition(Partition.Isolate(100 * Ms, 700 * Ms, 2));
        var options = new SimulationOptions(FourServers, seed)
        {
            Network = network,
            RecordTrace = recordTrace,
            RestartFactory = restart => [new AckCollectorMachine(restart.Server, leader: 1, retry: 150 * Ms)],
        };
        var simulator = new Simulator(options);
        foreach (var id in FourServers.Servers)
        {
            simulator.StartMachine(id, new AckCollectorMachine(id, leader: 1, retry: 150 * Ms));
        }

        var flood = new InstanceId(ProtocolKind.Randomness, 1, 0);
        foreach (var id in FourServers.Servers)
        {
            simulator.StartMachine(id, new FloodMachine(origin: id == 1, value: [], randomValue: true, instance: flood), at: 20 * Ms);
        }

        simulator.ScheduleCrash(3, 50 * Ms);
        simulator.ScheduleRestart(3, 900 * Ms);
        simulator.Schedule(10 * Ms, "server 4 turns Byzantine", s => s.SetByzantine(4, new EquivocateToEach()));
        simulator.RunUntil(TimeSpan.FromSeconds(5));
        return simulator;
    }

    private sealed class ThrowingMachine : IProtocolMachine
    {
        public InstanceId Instance => TestInstances.Main;

        public bool IsFinished => false;

        public void Start(ProtocolContext context, Outbox outbox) => throw new InvalidOperationException("a bug");

        public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
        {
        }

        public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
        {
        }
    }

    /// <summary>Turns every broadcast into one send per server, each with the recipient's id as payload.</summary>
    private sealed class EquivocateToEach : ByzantineStrategy
    {
        public override void OnSend(ByzantineContext context, OutgoingMessage message)
        {
            if (message.Message.Recipient is not null)
            {
                context.Send(message);
                return;
            }

            foreach (var id in context.Parameters.Servers)
            {
                context.Send(message.To(id, [(byte)id]));
            }
        }
    }

    /// <summary>Sends random bytes in place of every message.</summary>
    private sealed class SendGarbageInstead : ByzantineStrategy
    {
        public override void OnSend(ByzantineContext context, OutgoingMessage message)
        {
            var garbage = new byte[8];
            context.Random.Fill(garbage);
            context.SendRaw(message.Message.Recipient ?? 1, garbage);
        }
    }

    /// <summary>Overwrites whatever the server stored.</summary>
    private sealed class CorruptDisk : ByzantineStrategy
    {
        public override void OnStepEnd(ByzantineContext context)
        {
            foreach (var key in context.Store.Keys.ToList())
            {
                context.Store.Put(key, [0xFF]);
            }
        }
    }
}
