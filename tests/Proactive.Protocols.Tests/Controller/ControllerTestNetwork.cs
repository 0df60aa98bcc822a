using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Dkg;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Recovery;
using Proactive.Protocols.Refresh;
using Proactive.Protocols.Signing;

namespace Proactive.Protocols.Tests.Controller;

/// <summary>
/// n <see cref="ServerController"/>s on an in-memory network with a virtual clock: every message takes
/// one millisecond, timers fire in time order, every step's writes land in the server's store first
/// (tombstones erase), events are logged with their time. The test plays the envelope layer (Signed =
/// sender id and payload) and the key directory (deterministic period keys).
/// </summary>
internal sealed class ControllerTestNetwork : IDisposable
{
    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(1);

    private readonly ClusterParameters _parameters;
    private readonly ulong _seed;
    private readonly ControllerTimeouts _timeouts;
    private readonly NetworkId _network;
    private readonly Dictionary<int, IRandomSource> _random = [];
    private readonly PriorityQueue<Action, (TimeSpan At, long Order)> _queue = new();
    private readonly Dictionary<int, int> _incarnation = [];
    private long _order;

    public ControllerTestNetwork(ClusterParameters parameters, ulong seed, ControllerTimeouts? timeouts = null)
    {
        _parameters = parameters;
        _seed = seed;
        _timeouts = timeouts ?? Fast;
        _network = NetworkId.FromBytes(Enumerable.Repeat((byte)seed, NetworkId.Length).ToArray());
        foreach (var server in parameters.Servers)
        {
            _random[server] = new DeterministicRandomSource((seed * 1000) + (ulong)server);
            Controllers[server] = new ServerController(server, parameters, PrimeOrderGroup.Ed25519, _network, _timeouts);
            Stores[server] = [];
            Events[server] = [];
            _incarnation[server] = 0;
        }
    }

    /// <summary>Short deadlines: virtual time is free, but the defaults make tests wait for nothing.</summary>
    public static ControllerTimeouts Fast { get; } = new(
        new AgreementTimeouts(TimeSpan.FromMilliseconds(600), TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(200)),
        new DkgOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)),
        new RefreshTimeouts(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3)),
        new RecoveryTimeouts(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(6)),
        new KeyTableTimeouts(TimeSpan.FromSeconds(1)),
        new PeriodCertificateTimeouts(TimeSpan.FromSeconds(4), TimeSpan.FromMilliseconds(500), new SigningTimeouts(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20))));

    public TimeSpan Now { get; private set; }

    public Dictionary<int, ServerController> Controllers { get; } = [];

    public Dictionary<int, Dictionary<string, byte[]>> Stores { get; } = [];

    public Dictionary<int, List<(TimeSpan Time, InstanceId Instance, ProtocolEvent Event)>> Events { get; } = [];

    /// <summary>Servers that send and receive nothing (their timers still fire).</summary>
    public HashSet<int> Silent { get; } = [];

    /// <summary>Rewrites or drops (null) a message in flight: (from, to, instance, message).</summary>
    public Func<int, int, InstanceId, OutboundMessage, OutboundMessage?>? Interceptor { get; set; }

    /// <summary>Messages delivered, (from, to, instance, message).</summary>
    public List<(int From, int To, InstanceId Instance, OutboundMessage Message)> Delivered { get; } = [];

    public IEnumerable<T> EventsOf<T>(int server) => Events[server].Select(e => e.Event).OfType<T>();

    /// <summary>
    /// Period 0: the DKG of the network key (and, with <paramref name="dprfKey"/>, of the DPRF key) through
    /// the controllers and agreement, then the import of <paramref name="secrets"/> data secrets a client
    /// dealt with Shamir.
    /// </summary>
    public void RunNetworkKeyDkg(int secrets = 0, bool dprfKey = false)
    {
        InstallKeys(0, _parameters.Servers);
        foreach (var server in _parameters.Servers)
        {
            Run(server, c => Controllers[server].StartDkg(c, ServerController.NetworkKeyDkg));
            if (dprfKey)
            {
                Run(server, c => Controllers[server].StartDkg(c, ServerController.DprfKeyDkg));
            }
        }

        RunUntil(() => _parameters.Servers.All(s => Controllers[s].NetworkKey is not null && (!dprfKey || Controllers[s].DprfKey is not null)), TimeSpan.FromSeconds(30));
        var dealt = _parameters.Servers.ToDictionary(s => s, _ => new Scalar[secrets]);
        var client = new DeterministicRandomSource(_seed + 424242);
        for (var k = 0; k < secrets; k++)
        {
            var (shares, polynomial) = Shamir.Split(PrimeOrderGroup.Ed25519, PrimeOrderGroup.Ed25519.RandomScalar(client), _parameters.Threshold, _parameters.ServerCount, client);
            polynomial.Dispose();
            foreach (var share in shares)
            {
                dealt[share.Index][k] = share.Value;
                share.Dispose();
            }
        }

        foreach (var server in _parameters.Servers)
        {
            Run(server, c => Controllers[server].ImportDataShares(c, dealt[server]));
        }
    }

    /// <summary>Period <paramref name="period"/> begins at <paramref name="servers"/> (all when empty), with <paramref name="recovering"/>.</summary>
    public void BeginPeriod(ulong period, IReadOnlyCollection<int> recovering, params int[] servers)
    {
        // Every server gets its keys (the key directory is global), even one that will not begin the period.
        var starting = servers.Length == 0 ? _parameters.Servers.ToArray() : servers;
        InstallKeys(period, _parameters.Servers);
        foreach (var server in starting)
        {
            Run(server, c => Controllers[server].BeginPeriod(c, period, recovering));
        }
    }

    /// <summary>Rebuilds <paramref name="server"/>'s controller from its store (its in-flight timers are lost, as in a crash).</summary>
    public void Restart(int server, ulong period)
    {
        Controllers[server].Dispose();
        _incarnation[server]++;
        Controllers[server] = ServerController.Restore(server, _parameters, PrimeOrderGroup.Ed25519, _network, _timeouts, Stores[server]);
        InstallKeys(period, [server], withPrevious: true);
    }

    /// <summary>Runs a controller call at <paramref name="server"/> now and applies its step.</summary>
    public void Run(int server, Func<ProtocolContext, ControllerStep> call) => Apply(server, call(Context(server)));

    /// <summary>Delivers a message to <paramref name="to"/> now, as if <paramref name="from"/> had sent it.</summary>
    public void Inject(int from, int to, InstanceId instance, OutboundMessage message) => Deliver(from, to, instance, message);

    /// <summary>Processes events until <paramref name="done"/> holds (checked after each) or the clock passes <paramref name="limit"/> from now.</summary>
    public bool RunUntil(Func<bool> done, TimeSpan limit)
    {
        var end = Now + limit;
        while (!done())
        {
            if (!_queue.TryPeek(out _, out var next) || next.At > end)
            {
                Now = end;
                return done();
            }

            _queue.Dequeue()();
        }

        return true;
    }

    /// <summary>Processes every event up to <paramref name="time"/> from now.</summary>
    public void RunFor(TimeSpan time) => RunUntil(() => false, time);

    public void Dispose()
    {
        foreach (var controller in Controllers.Values)
        {
            controller.Dispose();
        }
    }

    private ProtocolContext Context(int server) => new(server, _parameters, Now, _random[server]);

    private void InstallKeys(ulong period, IEnumerable<int> servers, bool withPrevious = false)
    {
        var everyone = _parameters.Servers.Select(s => KeysOf(s, period).PublicKeys).ToList();
        foreach (var server in servers)
        {
            if (withPrevious && period >= 1)
            {
                Controllers[server].InstallPeriodKeys(KeysOf(server, period - 1), _parameters.Servers.Select(s => KeysOf(s, period - 1).PublicKeys));
            }

            Controllers[server].InstallPeriodKeys(KeysOf(server, period), everyone);
        }
    }

    private PeriodKeys KeysOf(int server, ulong period) => PeriodKeys.Generate(server, period, new DeterministicRandomSource((_seed * 7919) + (period * 131) + (ulong)server));

    private void Apply(int server, ControllerStep step)
    {
        var store = Stores[server];
        var tombstones = new List<string>();
        foreach (var output in step.Outputs)
        {
            foreach (var write in output.Outbox.Persisted)
            {
                if (write.Key.StartsWith(ServerController.ErasePrefix, StringComparison.Ordinal))
                {
                    tombstones.Add(write.Key[ServerController.ErasePrefix.Length..]);
                }
                else
                {
                    store[write.Key] = write.Value;
                }
            }
        }

        foreach (var key in tombstones)
        {
            store.Remove(key);
        }

        var incarnation = _incarnation[server];
        foreach (var output in step.Outputs)
        {
            foreach (var message in Silent.Contains(server) ? [] : output.Outbox.Messages)
            {
                foreach (var to in message.Recipient is { } r ? [r] : _parameters.Servers.ToArray())
                {
                    Enqueue(Now + Latency, () => Deliver(server, to, output.Instance, message));
                }
            }

            foreach (var timer in output.Outbox.Timers)
            {
                var instance = output.Instance;
                Enqueue(timer.At < Now ? Now : timer.At, () =>
                {
                    if (_incarnation[server] == incarnation)
                    {
                        Apply(server, Controllers[server].Timeout(Context(server), instance, timer.TimerId));
                    }
                });
            }

            Events[server].AddRange(output.Outbox.Events.Select(e => (Now, output.Instance, e)));
        }
    }

    private void Deliver(int from, int to, InstanceId instance, OutboundMessage message)
    {
        if (Silent.Contains(to))
        {
            return;
        }

        var delivered = Interceptor is null ? message : Interceptor(from, to, instance, message);
        if (delivered is null)
        {
            return;
        }

        Delivered.Add((from, to, instance, delivered));
        var signed = new byte[1 + delivered.Payload.Length];
        signed[0] = (byte)from;
        delivered.Payload.CopyTo(signed, 1);
        var inbound = new InboundMessage(from, delivered.Attempt, delivered.Round, delivered.Type, delivered.Payload, delivered.Confidential, signed);
        Apply(to, Controllers[to].Receive(Context(to), instance, inbound));
    }

    private void Enqueue(TimeSpan at, Action action)
    {
        _queue.Enqueue(() =>
        {
            Now = at > Now ? at : Now;
            action();
        }, (at, _order++));
    }
}
