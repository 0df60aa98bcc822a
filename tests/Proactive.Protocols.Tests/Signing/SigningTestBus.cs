using Proactive.Crypto.Frost;
using Proactive.Crypto.Random;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Signing;

namespace Proactive.Protocols.Tests.Signing;

/// <summary>
/// An in-memory network of signing servers with a virtual clock. Each server has its nonce pool,
/// commitment book, nonce channel and the session machines it runs (a signer's session instance is made
/// when the first package arrives, as a node's controller would). It delivers every queued message, then
/// fires the earliest timer, and so on. Broadcasts go to every server, the sender included. Persisted
/// values go to a per-server store, which <see cref="Restart"/> rebuilds the server from.
/// Fault hooks: <see cref="Tamper"/> rewrites or drops a message, <see cref="Muted"/> servers send nothing,
/// <see cref="CrashWhen"/> stops a server after a step's persisted values are durable but before its
/// messages leave.
/// </summary>
internal sealed class SigningTestBus : IDisposable
{
    private readonly Queue<(int From, int To, InstanceId Instance, OutboundMessage Message)> _queue = new();
    private readonly List<(int Node, InstanceId Instance, TimerRequest Timer)> _timers = [];
    private readonly TrustedDealerOutput _keys;
    private uint _counter;

    public SigningTestBus(Ciphersuite suite, ClusterParameters parameters, ulong seed, SigningTimeouts? timeouts = null)
    {
        Suite = suite;
        Parameters = parameters;
        Timeouts = timeouts ?? new SigningTimeouts(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));
        _keys = TrustedDealer.Generate(suite, null, parameters.ReconstructionThreshold, parameters.ServerCount, new DeterministicRandomSource(seed));
        foreach (var id in parameters.Servers)
        {
            Nodes[id] = new Node(id, _keys.KeyPackages[id - 1], new DeterministicRandomSource((seed * 1000) + (ulong)id));
            Nodes[id].Fresh(Period, parameters, BatchSize);
        }
    }

    public const ulong Period = 0;

    public const int BatchSize = 4;

    public Ciphersuite Suite { get; }

    public ClusterParameters Parameters { get; }

    public SigningTimeouts Timeouts { get; }

    public PublicKeyPackage PublicKeyPackage => _keys.PublicKeyPackage;

    public TimeSpan Now { get; private set; }

    public Dictionary<int, Node> Nodes { get; } = [];

    /// <summary>Every message delivered (after tampering), in order.</summary>
    public List<(int From, int To, InstanceId Instance, OutboundMessage Message)> Delivered { get; } = [];

    /// <summary>Servers whose outgoing messages are dropped (silent or crashed peers).</summary>
    public HashSet<int> Muted { get; } = [];

    /// <summary>(from, to, instance, message) to the message delivered, or null to drop it.</summary>
    public Func<int, int, InstanceId, OutboundMessage, OutboundMessage?>? Tamper { get; set; }

    /// <summary>(server, outbox of one step) to true: the server crashes after the step's persists, before its messages leave.</summary>
    public Func<int, Outbox, bool>? CrashWhen { get; set; }

    /// <summary>Servers that are down (crashed, not restarted): they receive nothing.</summary>
    public HashSet<int> Down { get; } = [];

    public IEnumerable<T> EventsOf<T>(int node) => Nodes[node].Events.OfType<T>();

    public IEnumerable<Alert> AlertsOf(int node) => EventsOf<Alert>(node);

    public IEnumerable<Alert> AllAlerts => Nodes.Values.SelectMany(n => n.Events.OfType<Alert>());

    public ProtocolContext Context(int node) => new(node, Parameters, Now, Nodes[node].Random);

    /// <summary>Every server publishes its first batch; runs until quiet.</summary>
    public void StartChannels()
    {
        foreach (var node in Nodes.Values)
        {
            Step(node.Id, node.Channel.Instance, outbox => node.Channel.Start(Context(node.Id), outbox));
        }

        Run();
    }

    /// <summary>Starts a session coordinated by <paramref name="coordinator"/> (not run yet).</summary>
    public InstanceId BeginSession(int coordinator, byte[] message)
    {
        var node = Nodes[coordinator];
        var session = SigningSessionIds.Session(Period, coordinator, ++_counter);
        var machine = SigningSessionMachine.ForCoordinator(session, Parameters, coordinator, node.Pool, node.Book, PublicKeyPackage, node.Policy, message, Timeouts);
        node.Machines[session] = machine;
        Step(coordinator, session, outbox => machine.Start(Context(coordinator), outbox));
        return session;
    }

    /// <summary>Signs one message and runs until quiet.</summary>
    public InstanceId Sign(int coordinator, byte[] message)
    {
        var session = BeginSession(coordinator, message);
        Run();
        return session;
    }

    public SigningSessionMachine Session(int node, InstanceId session) => (SigningSessionMachine)Nodes[node].Machines[session];

    /// <summary>
    /// Delivers one message now, as if it came from <paramref name="from"/> (for replays and garbage), then
    /// runs until quiet, or with <paramref name="fireTimers"/> false only delivers what is queued.
    /// </summary>
    public void Inject(int from, int to, InstanceId instance, OutboundMessage message, bool fireTimers = true)
    {
        _queue.Enqueue((from, to, instance, message));
        if (fireTimers)
        {
            Run();
            return;
        }

        while (_queue.TryDequeue(out var item))
        {
            Deliver(item.From, item.To, item.Instance, item.Message);
        }
    }

    /// <summary>Rebuilds a crashed server from its store: nonces discarded, used set restored, new generation, fresh book.</summary>
    public void Restart(int id)
    {
        var node = Nodes[id];
        node.Pool.Dispose();
        node.Machines.Clear();
        _timers.RemoveAll(t => t.Node == id);
        node.Restored(Period, Parameters, BatchSize);
        Down.Remove(id);
        Muted.Remove(id);
        Step(id, node.Channel.Instance, outbox => node.Channel.Start(Context(id), outbox));
        Run();
    }

    /// <summary>Delivers every queued message, then the earliest timer, until nothing is left (or a step limit).</summary>
    public void Run()
    {
        for (var steps = 0; steps < 100_000; steps++)
        {
            if (_queue.TryDequeue(out var item))
            {
                Deliver(item.From, item.To, item.Instance, item.Message);
                continue;
            }

            if (_timers.Count == 0)
            {
                return;
            }

            var next = _timers.MinBy(t => t.Timer.At);
            _timers.Remove(next);
            Now = next.Timer.At > Now ? next.Timer.At : Now;
            if (!Down.Contains(next.Node) && Nodes[next.Node].Machines.TryGetValue(next.Instance, out var machine) && !machine.IsFinished)
            {
                Step(next.Node, next.Instance, outbox => machine.Timeout(Context(next.Node), next.Timer.TimerId, outbox));
            }
        }

        throw new InvalidOperationException("The signing bus did not settle.");
    }

    public void Dispose()
    {
        foreach (var node in Nodes.Values)
        {
            node.Pool.Dispose();
        }

        _keys.Dispose();
    }

    private void Deliver(int from, int to, InstanceId instance, OutboundMessage message)
    {
        if (Down.Contains(to))
        {
            return;
        }

        var tampered = Tamper is null ? message : Tamper(from, to, instance, message);
        if (tampered is null)
        {
            return;
        }

        Delivered.Add((from, to, instance, tampered));
        var node = Nodes[to];
        if (!node.Machines.TryGetValue(instance, out var machine) || machine.IsFinished)
        {
            if (!SigningSessionIds.TryGetCoordinator(instance, out var coordinator) || coordinator == to)
            {
                return;
            }

            var signer = SigningSessionMachine.ForSigner(instance, Parameters, to, node.Pool, PublicKeyPackage, node.Policy, Timeouts);
            node.Machines[instance] = signer;
            machine = signer;
            Step(to, instance, outbox => signer.Start(Context(to), outbox));
        }

        var inbound = new InboundMessage(from, tampered.Attempt, tampered.Round, tampered.Type, tampered.Payload, tampered.Confidential, tampered.Payload);
        Step(to, instance, outbox => machine.Receive(Context(to), inbound, outbox));
    }

    private void Step(int id, InstanceId instance, Action<Outbox> step)
    {
        var node = Nodes[id];
        var outbox = new Outbox();
        step(outbox);
        foreach (var write in outbox.Persisted)
        {
            node.Store[write.Key] = write.Value;
        }

        if (CrashWhen?.Invoke(id, outbox) == true)
        {
            Down.Add(id);
            node.Crashes++;
            return;
        }

        node.Events.AddRange(outbox.Events);
        foreach (var timer in outbox.Timers)
        {
            _timers.Add((id, instance, timer));
        }

        if (Muted.Contains(id))
        {
            return;
        }

        foreach (var message in outbox.Messages)
        {
            if (message.Recipient is int recipient)
            {
                _queue.Enqueue((id, recipient, instance, message));
            }
            else
            {
                foreach (var to in Parameters.Servers)
                {
                    _queue.Enqueue((id, to, instance, message));
                }
            }
        }
    }

    internal sealed class Node(int id, KeyPackage keyPackage, DeterministicRandomSource random)
    {
        public int Id { get; } = id;

        public KeyPackage KeyPackage { get; } = keyPackage;

        public DeterministicRandomSource Random { get; } = random;

        public NoncePool Pool { get; private set; } = null!;

        public CommitmentBook Book { get; private set; } = null!;

        public NonceChannelMachine Channel { get; private set; } = null!;

        public Dictionary<InstanceId, IProtocolMachine> Machines { get; } = [];

        public Dictionary<string, byte[]> Store { get; } = [];

        public List<ProtocolEvent> Events { get; } = [];

        public SigningMessagePolicy Policy { get; set; } = static (_, _, _) => true;

        public int Crashes { get; set; }

        public void Fresh(ulong period, ClusterParameters parameters, int batchSize) =>
            Open(NoncePool.Create(KeyPackage, period), parameters, batchSize);

        public void Restored(ulong period, ClusterParameters parameters, int batchSize) =>
            Open(NoncePool.Restore(KeyPackage, period, Store), parameters, batchSize);

        private void Open(NoncePool pool, ClusterParameters parameters, int batchSize)
        {
            Pool = pool;
            Book = new CommitmentBook(KeyPackage.Suite, Id);
            Channel = new NonceChannelMachine(parameters, Id, pool, Book, batchSize);
            Machines[Channel.Instance] = Channel;
        }
    }
}
