using Proactive.Crypto.Random;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Simulation.Byzantine;
using Proactive.Simulation.Network;
using Proactive.Simulation.Servers;
using Proactive.Simulation.Tracing;
using Proactive.Simulation.Wire;

namespace Proactive.Simulation;

/// <summary>
/// A deterministic discrete-event simulator for <see cref="IProtocolMachine"/>s: virtual time, one
/// event queue ordered by (time, sequence number), a network that delays, loses, duplicates and
/// partitions, servers that crash and restart from their disks, and Byzantine strategies. Every
/// random choice comes from the seed, so a seed names a run: same seed, same trace hash.
/// </summary>
/// <remarks>
/// <para>A step of a machine (start, message, timer) is applied as the node will apply it: writes
/// made durable first, then messages sent (through the wire codec and the network), then timers
/// armed, then events recorded. Invariant checks run after every processed event.</para>
/// <para>Timers: setting timer id k of an instance again replaces the pending one; a timer set in
/// the past fires now. A crash drops machines and pending timers; messages to a down server are
/// lost; messages it sent before the crash are still in flight.</para>
/// <para>Not thread-safe; one run per instance.</para>
/// </remarks>
public sealed class Simulator
{
    private readonly PriorityQueue<ScheduledEvent, (TimeSpan Time, long Sequence)> _queue = new();
    private readonly List<SimulatedServer> _servers = [];
    private readonly List<(string Name, Func<Simulator, string?> Check)> _invariants = [];
    private readonly Dictionary<(int Server, InstanceId Instance), long> _stepsPerInstance = [];
    private readonly IRandomSource _networkRandom;
    private readonly IRandomSource _byzantineRandom;
    private readonly IWireCodec _codec;
    private readonly SimulationOptions _options;
    private long _sequence;

    public Simulator(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _codec = options.CodecFactory(options.Parameters);
        _networkRandom = SimulationSeed.Source(options.Seed, "network");
        _byzantineRandom = SimulationSeed.Source(options.Seed, "byzantine");
        SchedulingRandom = SimulationSeed.Integers(options.Seed, "scheduling");
        foreach (var id in options.Parameters.Servers)
        {
            _servers.Add(new SimulatedServer(id, ProtocolRandom(id, incarnation: 0)));
        }

        Trace = new SimulationTrace(options.RecordTrace);
    }

    public ulong Seed => _options.Seed;

    public ClusterParameters Parameters => _options.Parameters;

    public NetworkModel Network => _options.Network;

    public IWireCodec Codec => _codec;

    /// <summary>Virtual time: the time of the event being (or last) processed.</summary>
    public TimeSpan Now { get; private set; }

    public SimulationTrace Trace { get; }

    public IReadOnlyList<SimulatedServer> Servers => _servers;

    /// <summary>Events processed so far (counted against <see cref="SimulationOptions.MaxEvents"/>).</summary>
    public long ProcessedEvents { get; private set; }

    /// <summary>Events waiting in the queue.</summary>
    public int PendingEvents => _queue.Count;

    /// <summary>For scenarios that need random integers (which server to crash, when); derived from the seed.</summary>
    public System.Random SchedulingRandom { get; }

    public SimulatedServer Server(int id)
    {
        if (id < 1 || id > _servers.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Server ids are 1..{_servers.Count}.");
        }

        return _servers[id - 1];
    }

    /// <summary>Hands the server to the adversary from now on (null makes it honest again).</summary>
    public void SetByzantine(int server, ByzantineStrategy? strategy) => Server(server).Byzantine = strategy;

    /// <summary>Starts <paramref name="machine"/> on <paramref name="server"/> at <paramref name="at"/> (now by default).</summary>
    public void StartMachine(int server, IProtocolMachine machine, TimeSpan? at = null)
    {
        ArgumentNullException.ThrowIfNull(machine);
        _ = Server(server);
        Enqueue(At(at), new StartEvent(server, machine));
    }

    /// <summary>
    /// Crashes <paramref name="server"/> at <paramref name="at"/>. With <paramref name="midStep"/> the
    /// crash waits for the server's next step and hits after its writes are durable and before any of
    /// its messages leave, the moment that tests "durable before sent".
    /// </summary>
    public void ScheduleCrash(int server, TimeSpan at, bool midStep = false)
    {
        _ = Server(server);
        Enqueue(At(at), new CrashEvent(server, midStep));
    }

    /// <summary>Restarts <paramref name="server"/> at <paramref name="at"/> with <see cref="SimulationOptions.RestartFactory"/>.</summary>
    public void ScheduleRestart(int server, TimeSpan at)
    {
        _ = Server(server);
        if (_options.RestartFactory is null)
        {
            throw new InvalidOperationException("A restart needs SimulationOptions.RestartFactory to rebuild the server's machines from its disk.");
        }

        Enqueue(At(at), new RestartEvent(server));
    }

    /// <summary>Runs <paramref name="action"/> at <paramref name="at"/>: a fault, a corruption, a new instance. It is traced with <paramref name="description"/>.</summary>
    public void Schedule(TimeSpan at, string description, Action<Simulator> action)
    {
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(action);
        Enqueue(At(at), new ActionEvent(description, action));
    }

    /// <summary>
    /// Adds a check run after every processed event. It reads the simulator (servers' events and
    /// disks, the trace) and returns null, or a description of the violation, which stops the run
    /// with <see cref="InvariantViolationException"/>.
    /// </summary>
    public void AddInvariant(string name, Func<Simulator, string?> check)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(check);
        _invariants.Add((name, check));
    }

    /// <summary>Processes every event up to and including <paramref name="time"/>, then sets the clock to it.</summary>
    public void RunUntil(TimeSpan time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(time, Now);
        while (_queue.TryPeek(out _, out var priority) && priority.Time <= time)
        {
            Step();
        }

        Now = time;
    }

    /// <summary>
    /// Processes events until <paramref name="condition"/> holds (checked before the first event and
    /// after each), the queue empties, or the next event lies after <paramref name="deadline"/>.
    /// Returns whether the condition holds.
    /// </summary>
    public bool RunUntil(Func<Simulator, bool> condition, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = deadline ?? TimeSpan.MaxValue;
        while (!condition(this))
        {
            if (!_queue.TryPeek(out _, out var priority) || priority.Time > limit)
            {
                return false;
            }

            Step();
        }

        return true;
    }

    /// <summary>Processes events until none is left.</summary>
    public void RunUntilIdle()
    {
        while (Step())
        {
        }
    }

    /// <summary>Processes the next event; false when the queue is empty.</summary>
    public bool Step()
    {
        if (!_queue.TryDequeue(out var next, out var priority))
        {
            return false;
        }

        if (ProcessedEvents >= _options.MaxEvents)
        {
            throw new SimulationLimitException(LimitMessage());
        }

        ProcessedEvents++;
        Now = priority.Time;
        switch (next)
        {
            case DeliveryEvent delivery:
                Deliver(delivery);
                break;
            case TimerEvent timer:
                FireTimer(timer);
                break;
            case StartEvent start:
                StartOn(Server(start.Server), start.Machine);
                break;
            case CrashEvent crash:
                Crash(crash);
                break;
            case RestartEvent restart:
                Restart(Server(restart.Server));
                break;
            case ActionEvent action:
                Trace.Record(new ActionTrace(Now, action.Description));
                action.Action(this);
                break;
        }

        CheckInvariants();
        return true;
    }

    private void StartOn(SimulatedServer server, IProtocolMachine machine)
    {
        if (!server.IsUp)
        {
            // A machine scheduled on a server that is down never starts: the restart factory decides what runs after.
            Trace.Record(new ActionTrace(Now, $"start of {machine.Instance} on server {server.Id} skipped: server down"));
            return;
        }

        server.AddMachine(machine);
        Trace.Record(new StartTrace(Now, server.Id, machine.Instance));
        RunStep(server, machine, "Start", (context, outbox) => machine.Start(context, outbox));
    }

    private void Deliver(DeliveryEvent delivery)
    {
        var recipient = Server(delivery.Recipient);
        var digest = SimulationTrace.Digest(delivery.Bytes);
        if (!recipient.IsUp)
        {
            Drop(delivery, DropReason.RecipientDown, digest, "");
            return;
        }

        if (Network.IsPartitioned(delivery.Sender, delivery.Recipient, Now))
        {
            Drop(delivery, DropReason.Partition, digest, "partitioned on arrival");
            return;
        }

        if (!_codec.TryDecode(recipient.Id, delivery.Sender, delivery.Bytes, out var decoded, out var rejection, out var alert))
        {
            Drop(delivery, DropReason.Rejected, digest, rejection);

            // The link-level sender is to blame for what it delivered, except for a copy the network made.
            if (alert is not null && !delivery.NetworkCopy)
            {
                RecordEvent(recipient, alert.Instance ?? default, alert);
            }

            return;
        }

        var message = decoded.Message;
        if (!recipient.TryGetMachine(decoded.Instance, out var machine))
        {
            var created = _options.InstanceFactory?.Invoke(recipient.Id, decoded.Instance);
            if (created is null || created.Instance != decoded.Instance)
            {
                Drop(delivery, DropReason.UnknownInstance, digest, decoded.Instance.ToString());
                return;
            }

            StartOn(recipient, created);
            if (!recipient.IsUp)
            {
                Drop(delivery, DropReason.RecipientDown, digest, "crashed while starting the instance");
                return;
            }

            machine = created;
        }

        if (machine.IsFinished)
        {
            Drop(delivery, DropReason.InstanceFinished, digest, decoded.Instance.ToString());
            return;
        }

        Trace.Record(new DeliverTrace(Now, message.Sender, recipient.Id, decoded.Instance, message.Attempt, message.Round, message.Type, digest));
        RunStep(recipient, machine, "Receive", (context, outbox) => machine.Receive(context, message, outbox));
    }

    private void FireTimer(TimerEvent timer)
    {
        var server = Server(timer.Server);
        if (!server.IsUp
            || server.Incarnation != timer.Incarnation
            || !server.IsCurrentTimer(timer.Instance, timer.TimerId, timer.Generation)
            || !server.TryGetMachine(timer.Instance, out var machine)
            || machine.IsFinished)
        {
            return;
        }

        Trace.Record(new TimerTrace(Now, server.Id, timer.Instance, timer.TimerId));
        RunStep(server, machine, "Timeout", (context, outbox) => machine.Timeout(context, timer.TimerId, outbox));
    }

    private void Crash(CrashEvent crash)
    {
        var server = Server(crash.Server);
        if (!server.IsUp)
        {
            return;
        }

        if (crash.MidStep)
        {
            server.CrashInNextStep = true;
            return;
        }

        server.Crash();
        Trace.Record(new CrashTrace(Now, server.Id, MidStep: false));
    }

    private void Restart(SimulatedServer server)
    {
        if (server.IsUp)
        {
            Trace.Record(new ActionTrace(Now, $"restart of server {server.Id} skipped: server up"));
            return;
        }

        // Fresh OS randomness after a reboot: a restored machine must not see its old stream again.
        server.Restart(ProtocolRandom(server.Id, server.Incarnation + 1));
        var context = new RestartContext(server.Id, Parameters, server.Store.Snapshot(), server.Incarnation);
        var machines = _options.RestartFactory!(context).ToList();
        Trace.Record(new RestartTrace(Now, server.Id, server.Incarnation, machines.Count));
        foreach (var machine in machines)
        {
            StartOn(server, machine);
        }
    }

    private void RunStep(SimulatedServer server, IProtocolMachine machine, string what, Action<ProtocolContext, Outbox> step)
    {
        var key = (server.Id, machine.Instance);
        _stepsPerInstance[key] = _stepsPerInstance.GetValueOrDefault(key) + 1;
        var context = new ProtocolContext(server.Id, Parameters, Now, server.Random);
        var outbox = new Outbox();
        try
        {
            step(context, outbox);
        }
        catch (Exception e)
        {
            throw new MachineFaultException($"Server {server.Id}, instance {machine.Instance}: {what} threw at {Now} (seed {Seed}).", e);
        }

        Apply(server, machine.Instance, outbox);
    }

    /// <summary>Durable writes, then messages, then timers, then events: the node's order.</summary>
    private void Apply(SimulatedServer server, InstanceId instance, Outbox outbox) =>
        ApplyOutputs(server, [(instance, outbox)], stepEnd: true);

    /// <summary>
    /// Applies one step of a server that drove several instances (a controller): every write of every
    /// outbox durable first (a key written as <c>erase:K</c> is a tombstone: K is deleted after the
    /// writes), then each outbox's messages, timers and events in order.
    /// </summary>
    internal void ApplyOutputs(SimulatedServer server, IReadOnlyList<(InstanceId Instance, Outbox Outbox)> outputs, bool stepEnd)
    {
        const string ErasePrefix = "erase:";
        var tombstones = new List<string>();
        foreach (var (_, outbox) in outputs)
        {
            foreach (var write in outbox.Persisted)
            {
                if (write.Key.StartsWith(ErasePrefix, StringComparison.Ordinal))
                {
                    tombstones.Add(write.Key[ErasePrefix.Length..]);
                    continue;
                }

                server.Store.Put(write.Key, write.Value);
                Trace.Record(new PersistTrace(Now, server.Id, write.Key, write.Value.Length));
            }
        }

        foreach (var key in tombstones)
        {
            if (server.Store.Remove(key))
            {
                Trace.Record(new PersistTrace(Now, server.Id, ErasePrefix + key, 0));
            }
        }

        if (server.CrashInNextStep)
        {
            foreach (var (instance, outbox) in outputs)
            {
                foreach (var message in outbox.Messages)
                {
                    Trace.Record(new DropTrace(Now, server.Id, message.Recipient ?? 0, DropReason.SenderCrashed, SimulationTrace.Digest(message.Payload), instance.ToString()));
                }
            }

            server.Crash();
            Trace.Record(new CrashTrace(Now, server.Id, MidStep: true));
            return;
        }

        var byzantine = server.Byzantine;
        ByzantineContext? adversary = byzantine is null
            ? null
            : new ByzantineContext(server, Parameters, Now, _byzantineRandom, m => Send(server, m, fromByzantine: true), (to, bytes) => SendRaw(server, to, bytes));
        foreach (var (instance, outbox) in outputs)
        {
            ApplyMessagesTimersEvents(server, instance, outbox, byzantine, adversary);
        }

        if (stepEnd && adversary is not null)
        {
            byzantine!.OnStepEnd(adversary);
        }
    }

    private void ApplyMessagesTimersEvents(SimulatedServer server, InstanceId instance, Outbox outbox, ByzantineStrategy? byzantine, ByzantineContext? adversary)
    {
        foreach (var message in outbox.Messages)
        {
            var outgoing = new OutgoingMessage(instance, message);
            if (adversary is null)
            {
                Send(server, outgoing, fromByzantine: false);
            }
            else
            {
                var sentBefore = Trace.Sent;
                byzantine!.OnSend(adversary, outgoing);
                if (Trace.Sent == sentBefore)
                {
                    Trace.Record(new DropTrace(Now, server.Id, message.Recipient ?? 0, DropReason.Withheld, SimulationTrace.Digest(message.Payload), instance.ToString()));
                }
            }
        }

        foreach (var timer in outbox.Timers)
        {
            var generation = server.ArmTimer(instance, timer.TimerId);
            var at = timer.At < Now ? Now : timer.At;
            Enqueue(at, new TimerEvent(server.Id, server.Incarnation, instance, timer.TimerId, generation));
        }

        foreach (var protocolEvent in outbox.Events)
        {
            RecordEvent(server, instance, protocolEvent);
        }
    }

    private void RecordEvent(SimulatedServer server, InstanceId instance, ProtocolEvent protocolEvent)
    {
        server.AddEvent(new EmittedEvent(Now, server.Id, instance, protocolEvent));
        Trace.Record(new ProtocolEventTrace(Now, server.Id, instance, protocolEvent));
    }

    /// <summary>Runs a driver step on <paramref name="server"/> now (a controller call made by a scenario) and applies its outputs.</summary>
    internal void RunDriverStep(int server, Func<ProtocolContext, IReadOnlyList<(InstanceId Instance, Outbox Outbox)>> step)
    {
        var target = Server(server);
        if (!target.IsUp)
        {
            return;
        }

        var outputs = step(new ProtocolContext(target.Id, Parameters, Now, target.Random));
        ApplyOutputs(target, outputs, stepEnd: true);
    }

    /// <summary>The context a machine of <paramref name="server"/> would see now.</summary>
    internal ProtocolContext ContextOf(int server) => new(server, Parameters, Now, Server(server).Random);

    private void Send(SimulatedServer server, OutgoingMessage outgoing, bool fromByzantine)
    {
        var message = outgoing.Message;
        var payloadDigest = SimulationTrace.Digest(message.Payload);
        foreach (var packet in _codec.Encode(server.Id, outgoing.Instance, message))
        {
            var wireDigest = SimulationTrace.Digest(packet.Bytes);
            Trace.Record(new SendTrace(Now, server.Id, packet.Recipient, outgoing.Instance, message.Attempt, message.Round, message.Type, packet.Bytes.Length, payloadDigest, wireDigest, fromByzantine));
            Transmit(server.Id, packet.Recipient, packet.Bytes, wireDigest);
        }
    }

    private void SendRaw(SimulatedServer server, int recipient, byte[] bytes)
    {
        _ = Server(recipient);
        var wireDigest = SimulationTrace.Digest(bytes);
        Trace.Record(new SendTrace(Now, server.Id, recipient, null, 0, 0, 0, bytes.Length, "", wireDigest, FromByzantine: true));
        Transmit(server.Id, recipient, bytes.ToArray(), wireDigest);
    }

    /// <summary>The network: partition at send time, loss before GST, a delay, perhaps a duplicate.</summary>
    private void Transmit(int sender, int recipient, byte[] bytes, string wireDigest)
    {
        if (sender == recipient)
        {
            Enqueue(Now, new DeliveryEvent(sender, recipient, bytes));
            return;
        }

        if (Network.IsPartitioned(sender, recipient, Now))
        {
            Trace.Record(new DropTrace(Now, sender, recipient, DropReason.Partition, wireDigest, "partitioned when sent"));
            return;
        }

        var link = Network.LinkFor(sender, recipient);
        var stable = Now >= Network.GlobalStabilizationTime;
        if (!stable && link.LossProbability > 0 && SimulationSeed.NextUnit(_networkRandom) < link.LossProbability)
        {
            Trace.Record(new DropTrace(Now, sender, recipient, DropReason.Loss, wireDigest, ""));
            return;
        }

        // Both copies of a duplicated packet are marked: either may arrive first, and neither is the sender's doing.
        var delay = Delay(link);
        var duplicated = link.DuplicationProbability > 0 && SimulationSeed.NextUnit(_networkRandom) < link.DuplicationProbability;
        Enqueue(Now + delay, new DeliveryEvent(sender, recipient, bytes, duplicated));
        if (duplicated)
        {
            Trace.Record(new DuplicateTrace(Now, sender, recipient, wireDigest));
            Enqueue(Now + Delay(link), new DeliveryEvent(sender, recipient, bytes, NetworkCopy: true));
        }
    }

    /// <summary>
    /// Uniform in [min, max]; after GST at most the stable bound, and a message sent before GST
    /// arrives by GST + bound (partial synchrony).
    /// </summary>
    private TimeSpan Delay(LinkBehavior link)
    {
        var delay = link.MinDelay + TimeSpan.FromTicks(SimulationSeed.NextInclusive(_networkRandom, (link.MaxDelay - link.MinDelay).Ticks));
        var gst = Network.GlobalStabilizationTime;
        if (gst == TimeSpan.MaxValue)
        {
            return delay;
        }

        var latest = (Now >= gst ? Now : gst) + Network.StableMaxDelay;
        return Now + delay > latest ? latest - Now : delay;
    }

    private void Drop(DeliveryEvent delivery, DropReason reason, string digest, string detail) =>
        Trace.Record(new DropTrace(Now, delivery.Sender, delivery.Recipient, reason, digest, detail));

    private void CheckInvariants()
    {
        foreach (var (name, check) in _invariants)
        {
            if (check(this) is { } violation)
            {
                throw new InvariantViolationException($"Invariant '{name}' violated at {Now} after {ProcessedEvents} events (seed {Seed}): {violation}");
            }
        }
    }

    private string LimitMessage()
    {
        var busiest = _stepsPerInstance.OrderByDescending(p => p.Value).FirstOrDefault();
        var where = busiest.Value == 0
            ? ""
            : $" The busiest machine is instance {busiest.Key.Instance} on server {busiest.Key.Server} with {busiest.Value} steps.";
        return $"The simulation reached its cap of {_options.MaxEvents} events at virtual time {Now} (seed {Seed}) with {_queue.Count + 1} events still queued.{where} "
            + "A machine may be looping (a timer re-armed for the same moment, a message storm); raise SimulationOptions.MaxEvents if the run is just long.";
    }

    private DeterministicRandomSource ProtocolRandom(int server, int incarnation) =>
        SimulationSeed.Source(Seed, $"server {server} incarnation {incarnation} protocol");

    private TimeSpan At(TimeSpan? at)
    {
        var time = at ?? Now;
        ArgumentOutOfRangeException.ThrowIfLessThan(time, Now, nameof(at));
        return time;
    }

    private void Enqueue(TimeSpan at, ScheduledEvent scheduled) => _queue.Enqueue(scheduled, (at, _sequence++));

    private abstract record ScheduledEvent;

    /// <summary>A packet on its way; <paramref name="NetworkCopy"/> when the network duplicated it (the sender sent it once).</summary>
    private sealed record DeliveryEvent(int Sender, int Recipient, byte[] Bytes, bool NetworkCopy = false) : ScheduledEvent;

    private sealed record TimerEvent(int Server, int Incarnation, InstanceId Instance, int TimerId, long Generation) : ScheduledEvent;

    private sealed record StartEvent(int Server, IProtocolMachine Machine) : ScheduledEvent;

    private sealed record CrashEvent(int Server, bool MidStep) : ScheduledEvent;

    private sealed record RestartEvent(int Server) : ScheduledEvent;

    private sealed record ActionEvent(string Description, Action<Simulator> Action) : ScheduledEvent;
}
