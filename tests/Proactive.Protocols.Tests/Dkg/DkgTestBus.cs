using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Dkg;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Dkg;

/// <summary>
/// An in-memory network for DKG machines with a virtual clock: it delivers every queued message,
/// then fires the earliest timer, and so on. Broadcasts go to every server, the sender included.
/// <see cref="Tamper"/> lets a test play a Byzantine sender (rewrite or drop a message to one
/// recipient); <see cref="Silent"/> servers are never started and receive nothing. The test plays
/// the agreement with DecideOnProposalOf.
/// </summary>
internal sealed class DkgTestBus : IDisposable
{
    private readonly Queue<(int From, int To, OutboundMessage Message)> _queue = new();
    private readonly List<(int Node, TimerRequest Timer)> _timers = [];
    private readonly Dictionary<int, DeterministicRandomSource> _random = [];

    public DkgTestBus(PrimeOrderGroup group, ClusterParameters parameters, ulong seed, DkgOptions? options = null)
    {
        Group = group;
        Parameters = parameters;
        Seed = seed;
        foreach (var id in parameters.Servers)
        {
            Machines[id] = new DkgMachine(Instance, group, options ?? Options, KeyOf(id), PublicKeyOf, NetworkContext);
            Events[id] = [];
            Persisted[id] = [];
            Sent[id] = [];
            _random[id] = new DeterministicRandomSource((seed * 1000) + (ulong)id);
        }
    }

    public static InstanceId Instance { get; } = new(ProtocolKind.Dkg, 0, 0);

    /// <summary>The network context every machine binds into proofs and complaint signatures.</summary>
    public static byte[] NetworkContext { get; } = "dkg-test-network"u8.ToArray();

    /// <summary>Server <paramref name="id"/>'s period signing key (deterministic; the test signs for Byzantine servers with it).</summary>
    public static Ed25519PrivateKey KeyOf(int id) => Keys.GetOrAdd(id, i => Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)(0x40 + i), Ed25519PrivateKey.SeedLength).ToArray()));

    public static Ed25519PublicKey? PublicKeyOf(int id) => id is >= 1 and <= ClusterParameters.MaxServers ? KeyOf(id).PublicKey : null;

    /// <summary>A complaint signed by <paramref name="complainer"/>'s key.</summary>
    public static byte[] SignedComplaint(PrimeOrderGroup group, int complainer, int accused, DkgComplaintReason reason) =>
        DkgComplaint.Sign(group, KeyOf(complainer), Instance, NetworkContext, complainer, accused, reason).Encode();

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, Ed25519PrivateKey> Keys = new();

    public static DkgOptions Options { get; } = new(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));

    public PrimeOrderGroup Group { get; }

    public ClusterParameters Parameters { get; }

    public ulong Seed { get; }

    public TimeSpan Now { get; private set; }

    public Dictionary<int, DkgMachine> Machines { get; } = [];

    public Dictionary<int, List<ProtocolEvent>> Events { get; } = [];

    public Dictionary<int, Dictionary<string, byte[]>> Persisted { get; } = [];

    /// <summary>Every message each server asked to send, before tampering, with what it had persisted by then.</summary>
    public Dictionary<int, List<(OutboundMessage Message, int PersistedBefore)>> Sent { get; } = [];

    public HashSet<int> Silent { get; } = [];

    /// <summary>(from, to, message) to the message delivered, or null to drop it.</summary>
    public Func<int, int, OutboundMessage, OutboundMessage?>? Tamper { get; set; }

    public IEnumerable<T> EventsOf<T>(int node) => Events[node].OfType<T>();

    public IEnumerable<Alert> AlertsOf(int node) => EventsOf<Alert>(node);

    public ProtocolContext Context(int node) => new(node, Parameters, Now, _random[node]);

    public void StartAll()
    {
        foreach (var (id, machine) in Machines)
        {
            if (!Silent.Contains(id))
            {
                Step(id, outbox => machine.Start(Context(id), outbox));
            }
        }
    }

    /// <summary>Runs until no message is queued and no timer is left.</summary>
    public void Run()
    {
        for (var steps = 0; steps < 100_000; steps++)
        {
            if (_queue.TryDequeue(out var item))
            {
                Deliver(item.From, item.To, item.Message);
                continue;
            }

            if (_timers.Count == 0)
            {
                return;
            }

            var next = _timers.OrderBy(t => t.Timer.At).ThenBy(t => t.Node).First();
            _timers.Remove(next);
            Now = next.Timer.At > Now ? next.Timer.At : Now;
            Step(next.Node, outbox => Machines[next.Node].Timeout(Context(next.Node), next.Timer.TimerId, outbox));
        }

        throw new InvalidOperationException("The bus did not quiesce.");
    }

    /// <summary>Delivers a hand-made message (a Byzantine server's garbage) to <paramref name="to"/>.</summary>
    public void Inject(int from, int to, byte round, byte type, byte[] payload, bool confidential) =>
        _queue.Enqueue((from, to, new OutboundMessage(to, 0, round, type, payload, confidential)));

    /// <summary>The latest proposal of each server.</summary>
    public byte[]? LatestProposal(int node) => EventsOf<DkgQualifiedSetProposal>(node).LastOrDefault()?.EncodedQualifiedSet;

    /// <summary>
    /// Plays the agreement: every honest server has proposed the same set and accepts it under the
    /// validity predicate; then all of them learn the decision (the leader's proposal).
    /// </summary>
    public byte[] DecideOnProposalOf(int leader, IReadOnlyCollection<int> honest) => DecideOnProposalOf(leader, honest, honest);

    /// <summary>
    /// As the other overload, when only <paramref name="accepting"/> (at least n - f servers) vote for
    /// the proposal: the others (slow, or missing a share) learn the decision all the same.
    /// </summary>
    public byte[] DecideOnProposalOf(int leader, IReadOnlyCollection<int> accepting, IReadOnlyCollection<int> learning)
    {
        var decided = LatestProposal(leader) ?? throw new InvalidOperationException($"Server {leader} proposed nothing.");
        foreach (var id in accepting)
        {
            Assert.Equal(decided, LatestProposal(id));
            Assert.True(Machines[id].IsAcceptableQualifiedSet(decided), $"server {id} refuses the proposal (seed {Seed})");
        }

        foreach (var id in learning)
        {
            Step(id, outbox => Machines[id].OnQualifiedSetDecided(Context(id), decided, outbox));
        }

        Run();
        return decided;
    }

    public void Dispose()
    {
        foreach (var machine in Machines.Values)
        {
            machine.Dispose();
        }
    }

    /// <summary>Synthetic "signed envelope" evidence: who, to whom, what.</summary>
    private static byte[] Envelope(int from, int to, OutboundMessage message) =>
        [(byte)from, (byte)to, message.Round, message.Type, .. message.Payload];

    private void Deliver(int from, int to, OutboundMessage message)
    {
        if (Silent.Contains(to))
        {
            return;
        }

        var inbound = new InboundMessage(from, message.Attempt, message.Round, message.Type, message.Payload, message.Confidential, Envelope(from, to, message));
        Step(to, outbox => Machines[to].Receive(Context(to), inbound, outbox));
    }

    private void Step(int node, Action<Outbox> action)
    {
        var outbox = new Outbox();
        action(outbox);
        foreach (var persisted in outbox.Persisted)
        {
            Persisted[node][persisted.Key] = persisted.Value;
        }

        Events[node].AddRange(outbox.Events);
        foreach (var timer in outbox.Timers)
        {
            _timers.Add((node, timer));
        }

        foreach (var message in outbox.Messages)
        {
            Sent[node].Add((message, Persisted[node].Count));
            var recipients = message.Recipient is int r ? [r] : Parameters.Servers;
            foreach (var to in recipients)
            {
                var delivered = Silent.Contains(node) ? null : Tamper is null ? message : Tamper(node, to, message);
                if (delivered is not null)
                {
                    _queue.Enqueue((node, to, delivered));
                }
            }
        }
    }
}
