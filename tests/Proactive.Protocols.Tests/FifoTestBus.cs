using Proactive.Crypto.Random;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests;

/// <summary>
/// An in-memory network for the refresh, recovery, KeyTable and randomness machines: delivers every
/// outbox message in FIFO order, keeps a virtual clock and the timers, records events and persisted
/// state per server. The test plays the envelope layer (Signed = sender id and payload) and agreement.
/// </summary>
internal sealed class FifoTestBus
{
    private readonly ClusterParameters _parameters;
    private readonly Dictionary<int, IProtocolMachine> _machines;
    private readonly Dictionary<int, IRandomSource> _random = [];
    private readonly Queue<(int From, int To, OutboundMessage Message)> _queue = new();
    private readonly List<(int Server, TimerRequest Timer)> _timers = [];

    public FifoTestBus(ClusterParameters parameters, IReadOnlyDictionary<int, IProtocolMachine> machines, ulong seed)
    {
        _parameters = parameters;
        _machines = machines.ToDictionary();
        foreach (var server in parameters.Servers)
        {
            _random[server] = new DeterministicRandomSource((seed * 1000) + (ulong)server);
            Events[server] = [];
            Persisted[server] = [];
        }
    }

    public TimeSpan Now { get; private set; }

    public Dictionary<int, List<ProtocolEvent>> Events { get; } = [];

    public Dictionary<int, List<PersistRequest>> Persisted { get; } = [];

    /// <summary>Every message delivered to a simulated server, in delivery order.</summary>
    public List<(int From, int To, OutboundMessage Message)> Delivered { get; } = [];

    /// <summary>Steps whose outbox persisted something and also sent messages (atomic-commit violations).</summary>
    public int StepsSendingWithPersist { get; private set; }

    /// <summary>Rewrites or drops (null) a message in flight: (from, to, message).</summary>
    public Func<int, int, OutboundMessage, OutboundMessage?>? Interceptor { get; set; }

    public ProtocolContext Context(int server) => new(server, _parameters, Now, _random[server]);

    /// <summary>Starts <paramref name="servers"/> (all simulated ones when null) in id order, then delivers.</summary>
    public void Start(params int[] servers)
    {
        foreach (var server in servers.Length == 0 ? _machines.Keys.Order().ToArray() : servers)
        {
            Step(server, (context, outbox) => _machines[server].Start(context, outbox));
        }

        Run();
    }

    /// <summary>Starts every simulated server in id order, then delivers.</summary>
    public void StartAll() => Start();

    /// <summary>Runs one step at <paramref name="server"/> and queues what it produced.</summary>
    public void Step(int server, Action<ProtocolContext, Outbox> action)
    {
        var outbox = new Outbox();
        action(Context(server), outbox);
        Events[server].AddRange(outbox.Events);
        Persisted[server].AddRange(outbox.Persisted);

        // (The refresh dealing step persists the dealer's own sub-shares before its messages leave, by design.)
        if (outbox.Persisted.Any(p => !p.Key.EndsWith("/own-sub-shares", StringComparison.Ordinal)) && outbox.Messages.Count > 0)
        {
            StepsSendingWithPersist++;
        }

        foreach (var timer in outbox.Timers)
        {
            _timers.Add((server, timer));
        }

        foreach (var message in outbox.Messages)
        {
            var recipients = message.Recipient is { } r ? [r] : _parameters.Servers.ToArray();
            foreach (var to in recipients)
            {
                _queue.Enqueue((server, to, message));
            }
        }
    }

    /// <summary>Queues a raw message to <paramref name="to"/> (every server when null) as if <paramref name="from"/> had sent it.</summary>
    public void Enqueue(int from, int? to, byte round, byte type, byte[] payload)
    {
        foreach (var recipient in to is { } r ? [r] : _parameters.Servers.ToArray())
        {
            _queue.Enqueue((from, recipient, new OutboundMessage(recipient, 0, round, type, payload, Confidential: false)));
        }
    }

    /// <summary>Delivers a raw message to <paramref name="to"/> at once, as if <paramref name="from"/> had sent it.</summary>
    public void Inject(int from, int to, byte round, byte type, byte[] payload, bool confidential) =>
        Deliver(from, to, new OutboundMessage(to, 0, round, type, payload, confidential));

    /// <summary>Delivers until no message is in flight.</summary>
    public void Run()
    {
        while (_queue.TryDequeue(out var item))
        {
            var message = Interceptor is null ? item.Message : Interceptor(item.From, item.To, item.Message);
            if (message is not null)
            {
                Deliver(item.From, item.To, message);
            }
        }
    }

    /// <summary>Moves the clock to <paramref name="time"/>, firing due timers in order and delivering after each.</summary>
    public void AdvanceTo(TimeSpan time)
    {
        while (true)
        {
            var due = _timers.Where(t => t.Timer.At <= time).OrderBy(t => t.Timer.At).ThenBy(t => t.Server).FirstOrDefault();
            if (due == default)
            {
                break;
            }

            _timers.Remove(due);
            Now = due.Timer.At;
            Step(due.Server, (context, outbox) => _machines[due.Server].Timeout(context, due.Timer.TimerId, outbox));
            Run();
        }

        Now = time;
    }

    public IEnumerable<T> EventsOf<T>(int server) => Events[server].OfType<T>();

    private void Deliver(int from, int to, OutboundMessage message)
    {
        if (!_machines.TryGetValue(to, out var machine))
        {
            return; // a server not simulated (the adversary's, a crashed one, or a recovering one in some tests)
        }

        Delivered.Add((from, to, message));
        var signed = new byte[1 + message.Payload.Length];
        signed[0] = (byte)from;
        message.Payload.CopyTo(signed, 1);
        var inbound = new InboundMessage(from, message.Attempt, message.Round, message.Type, message.Payload, message.Confidential, signed);
        Step(to, (context, outbox) => machine.Receive(context, inbound, outbox));
    }
}
