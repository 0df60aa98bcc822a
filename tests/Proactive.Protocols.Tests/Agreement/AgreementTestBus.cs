using System.Text;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Agreement;

/// <summary>A server the test scripts instead of running the honest machine.</summary>
internal interface IByzantineActor
{
    /// <summary>Called once when the bus starts.</summary>
    void Start(AgreementTestBus bus, int self);

    /// <summary>Called for every message delivered to this server.</summary>
    void Receive(AgreementTestBus bus, int self, InboundMessage message);
}

/// <summary>
/// An in-memory network for agreement instances on virtual time: it delivers Outbox messages after
/// a delay the test chooses (or drops them), fires timers in time order, and lets a test replace any
/// server by a Byzantine script that signs with that server's real key. Deterministic: events at the
/// same time run in the order they were scheduled.
/// </summary>
internal sealed class AgreementTestBus : IDisposable
{
    internal static readonly InstanceId Instance = new(ProtocolKind.Agreement, 7, 3);
    internal static readonly byte[] DefaultContext = Encoding.ASCII.GetBytes("test-network/p7/agreement#3");

    internal static readonly AgreementTimeouts TestTimeouts = new(
        TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(250));

    private readonly PriorityQueue<Action, (TimeSpan At, long Sequence)> _queue = new();
    private readonly Ed25519PrivateKey[] _keys;
    private readonly Dictionary<int, IByzantineActor> _byzantine = [];
    private readonly DeterministicRandomSource _random;
    private readonly HashSet<int> _down = [];
    private readonly Dictionary<int, int> _incarnation = [];
    private long _sequence;

    /// <param name="parameters">n, t, f.</param>
    /// <param name="values">getValue() per honest server (default "ok:server-i").</param>
    /// <param name="instanceSeed">Rotates the proposer: proposer(r) = ((seed + r) mod n) + 1.</param>
    /// <param name="isValid">valid(v) (default: the value starts with "ok:").</param>
    /// <param name="context">The instance context every signature binds.</param>
    internal AgreementTestBus(ClusterParameters parameters, ulong instanceSeed = 0, Func<int, byte[]>? values = null, Func<byte[], bool>? isValid = null, byte[]? context = null)
    {
        Parameters = parameters;
        InstanceSeed = instanceSeed;
        Context = context ?? DefaultContext;
        IsValid = isValid ?? (v => v.AsSpan().StartsWith("ok:"u8));
        Values = values ?? (i => Encoding.ASCII.GetBytes($"ok:server-{i}"));
        _random = new DeterministicRandomSource(instanceSeed);
        _keys = [.. parameters.Servers.Select(i => Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)i, Ed25519PrivateKey.SeedLength).ToArray()))];
    }

    internal ClusterParameters Parameters { get; }

    internal ulong InstanceSeed { get; }

    internal byte[] Context { get; }

    internal Func<byte[], bool> IsValid { get; }

    /// <summary>getValue() per server; a test may change it before restoring a server (a restarted server may compute another value).</summary>
    internal Func<int, byte[]> Values { get; set; }

    internal TimeSpan Now { get; private set; }

    /// <summary>The honest machines, by server id.</summary>
    internal Dictionary<int, TendermintAgreement> Machines { get; } = [];

    /// <summary>Every message every honest server sent, in order.</summary>
    internal List<(int From, OutboundMessage Message)> Sent { get; } = [];

    /// <summary>Every event every honest server emitted, in order.</summary>
    internal List<(int Server, ProtocolEvent Event)> Events { get; } = [];

    /// <summary>
    /// Chooses each message's delay: (from, to, message, now) -> delay, or null to drop it.
    /// Default: 10 ms to everyone.
    /// </summary>
    internal Func<int, int, OutboundMessage, TimeSpan, TimeSpan?> Latency { get; set; } = (_, _, _, _) => TimeSpan.FromMilliseconds(10);

    /// <summary>Each honest server's durable store: what its machine asked to persist, applied before its messages left.</summary>
    internal Dictionary<int, Dictionary<string, byte[]>> Stores { get; } = [];

    /// <summary>Crashes and restores, in order: (server, time, true for a crash).</summary>
    internal List<(int Server, TimeSpan At, bool Crash)> CrashLog { get; } = [];

    /// <summary>Servers crashed and not yet restored.</summary>
    internal IReadOnlyCollection<int> Down => _down;

    internal IEnumerable<int> Honest => Parameters.Servers.Where(i => !_byzantine.ContainsKey(i));

    internal Ed25519PublicKey? PublicKey(int server) =>
        server >= 1 && server <= _keys.Length ? _keys[server - 1].PublicKey : null;

    internal Ed25519PrivateKey Key(int server) => _keys[server - 1];

    /// <summary>Whether the honest machines send certificates only to non-signers (as ledger instances do); set before Start.</summary>
    internal bool CertifiesNonSignersOnly { get; set; }

    internal int Proposer(int round) => TendermintAgreement.Proposer(InstanceSeed, round, Parameters.ServerCount);

    /// <summary>Replaces server <paramref name="server"/> by a script.</summary>
    internal void MakeByzantine(int server, IByzantineActor actor) => _byzantine[server] = actor;

    /// <summary>Creates the honest machines and starts everyone at time 0.</summary>
    internal void Start()
    {
        foreach (var i in Honest)
        {
            var self = i;
            Machines[i] = new TendermintAgreement(Instance, Parameters, i, _keys[i - 1], PublicKey, Context, () => Values(self), IsValid, InstanceSeed, TestTimeouts)
            {
                CertifiesNonSignersOnly = CertifiesNonSignersOnly,
            };
        }

        foreach (var i in Parameters.Servers)
        {
            if (_byzantine.TryGetValue(i, out var actor))
            {
                actor.Start(this, i);
            }
            else
            {
                Step(i, (m, c, o) => m.Start(c, o));
            }
        }
    }

    /// <summary>
    /// Crashes <paramref name="server"/> now: its machine and pending timers are lost, messages to it
    /// are dropped until it is restored; what it persisted stays in <see cref="Stores"/>.
    /// </summary>
    internal void Crash(int server)
    {
        if (_down.Add(server))
        {
            _incarnation[server] = _incarnation.GetValueOrDefault(server) + 1;
            CrashLog.Add((server, Now, true));
        }
    }

    /// <summary>
    /// Restarts <paramref name="server"/> now as the controller would: <see cref="TendermintAgreement.Restore"/>
    /// from its persisted state when there is one (a fresh machine otherwise, or when
    /// <paramref name="fresh"/> asks for the unsafe behaviour), then Start.
    /// </summary>
    internal void Restart(int server, bool fresh = false)
    {
        if (!_down.Remove(server))
        {
            return;
        }

        CrashLog.Add((server, Now, false));
        var self = server;
        var key = TendermintAgreement.StateKey(Instance);
        Machines[server] = !fresh && Stores.TryGetValue(server, out var store) && store.TryGetValue(key, out var state)
            ? TendermintAgreement.Restore(Instance, Parameters, server, _keys[server - 1], PublicKey, Context, () => Values(self), IsValid, InstanceSeed, state, TestTimeouts)
            : new TendermintAgreement(Instance, Parameters, server, _keys[server - 1], PublicKey, Context, () => Values(self), IsValid, InstanceSeed, TestTimeouts);
        Machines[server].CertifiesNonSignersOnly = CertifiesNonSignersOnly;
        Step(server, (m, c, o) => m.Start(c, o));
    }

    /// <summary>Schedules an action on the virtual clock (crashes, restarts).</summary>
    internal void At(TimeSpan at, Action action) => Schedule(at < Now ? Now : at, action);

    /// <summary>Runs events in time order until <paramref name="until"/> or until <paramref name="stop"/> holds.</summary>
    internal void Run(TimeSpan until, Func<bool>? stop = null)
    {
        while (_queue.TryPeek(out _, out var key) && key.At <= until)
        {
            if (stop is not null && stop())
            {
                return;
            }

            _queue.Dequeue()();
        }
    }

    /// <summary>Runs until every honest server decided (or <paramref name="until"/>).</summary>
    internal void RunUntilAllDecided(TimeSpan? until = null) =>
        Run(until ?? TimeSpan.FromMinutes(5), () => Honest.All(i => Machines[i].IsFinished));

    internal IEnumerable<(int Server, AgreementDecided Decision)> Decisions =>
        Events.Where(e => e.Event is AgreementDecided).Select(e => (e.Server, (AgreementDecided)e.Event));

    internal IEnumerable<(int Server, Alert Alert)> Alerts =>
        Events.Where(e => e.Event is Alert).Select(e => (e.Server, (Alert)e.Event));

    /// <summary>Signs a statement as <paramref name="server"/> (for Byzantine scripts and forged evidence).</summary>
    internal SignedVote Sign(int server, VoteStep step, int round, byte[]? value, int validRound = -1) =>
        SignedVote.Create(_keys[server - 1], server, Context, step, round, value is null ? [] : AgreementDomain.ValueId(value), isNil: value is null, validRound);

    /// <summary>Sends a message from <paramref name="from"/> (a Byzantine script) to one server or, when null, to all.</summary>
    internal void Inject(int from, int? to, uint attempt, AgreementMessageType type, byte[] payload, TimeSpan? delay = null)
    {
        var message = new OutboundMessage(to, attempt, 0, (byte)type, payload, false);
        foreach (var recipient in to is null ? Parameters.Servers : [to.Value])
        {
            Schedule(Now + (delay ?? TimeSpan.FromMilliseconds(10)), () => Deliver(from, recipient, message));
        }
    }

    /// <summary>A proposal message as <paramref name="server"/> would sign it.</summary>
    internal byte[] ProposalPayload(int server, int round, byte[] value, int validRound = -1, IEnumerable<SignedVote>? justification = null) =>
        new ProposalMessage(Sign(server, VoteStep.Proposal, round, value, validRound), value, justification ?? []).Encode();

    /// <summary>A vote message as <paramref name="server"/> would sign it (value null: nil).</summary>
    internal byte[] VotePayload(int server, VoteStep step, int round, byte[]? value) =>
        new VoteMessage(Sign(server, step, round, value), null).Encode();

    /// <summary>Delivers one message to an honest machine now, bypassing the queue (for transition tests).</summary>
    internal void DeliverNow(int from, int to, AgreementMessageType type, uint attempt, byte[] payload) =>
        Deliver(from, to, new OutboundMessage(to, attempt, 0, (byte)type, payload, false));

    public void Dispose()
    {
        foreach (var key in _keys)
        {
            key.Dispose();
        }
    }

    private void Schedule(TimeSpan at, Action action) => _queue.Enqueue(() =>
    {
        Now = at;
        action();
    }, (at, _sequence++));

    private void Deliver(int from, int to, OutboundMessage message)
    {
        // The envelope layer would sign this; the tests use the payload as the "signed envelope" evidence.
        if (_down.Contains(to))
        {
            return;
        }

        var inbound = new InboundMessage(from, message.Attempt, message.Round, message.Type, message.Payload, false, message.Payload);
        if (_byzantine.TryGetValue(to, out var actor))
        {
            actor.Receive(this, to, inbound);
        }
        else
        {
            Step(to, (m, c, o) => m.Receive(c, inbound, o));
        }
    }

    private void Step(int server, Action<TendermintAgreement, ProtocolContext, Outbox> step)
    {
        var machine = Machines[server];
        var outbox = new Outbox();
        step(machine, new ProtocolContext(server, Parameters, Now, _random), outbox);
        if (!Stores.TryGetValue(server, out var store))
        {
            store = [];
            Stores[server] = store;
        }

        foreach (var persisted in outbox.Persisted)
        {
            store[persisted.Key] = persisted.Value;
        }

        foreach (var e in outbox.Events)
        {
            Events.Add((server, e));
        }

        var incarnation = _incarnation.GetValueOrDefault(server);
        foreach (var timer in outbox.Timers)
        {
            Schedule(timer.At < Now ? Now : timer.At, () =>
            {
                if (!_down.Contains(server) && _incarnation.GetValueOrDefault(server) == incarnation)
                {
                    Step(server, (m, c, o) => m.Timeout(c, timer.TimerId, o));
                }
            });
        }

        foreach (var message in outbox.Messages)
        {
            Sent.Add((server, message));
            foreach (var recipient in message.Recipient is null ? Parameters.Servers : [message.Recipient.Value])
            {
                var delay = recipient == server ? TimeSpan.Zero : Latency(server, recipient, message, Now);
                if (delay is not null)
                {
                    Schedule(Now + delay.Value, () => Deliver(server, recipient, message));
                }
            }
        }
    }
}
