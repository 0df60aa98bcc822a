using Proactive.Crypto.Random;
using Proactive.Protocols.Machines;
using Proactive.Simulation.Byzantine;

namespace Proactive.Simulation.Servers;

/// <summary>
/// One simulated server: its machines (volatile, lost in a crash), its <see cref="Store"/> (durable),
/// what it has reported (<see cref="Events"/>, kept across crashes because it was observed), and
/// optionally a <see cref="ByzantineStrategy"/> that rewrites what it sends.
/// </summary>
public sealed class SimulatedServer
{
    private readonly Dictionary<InstanceId, IProtocolMachine> _machines = [];
    private readonly List<InstanceId> _order = [];
    private readonly Dictionary<(InstanceId Instance, int TimerId), long> _timerGenerations = [];
    private readonly List<EmittedEvent> _events = [];

    internal SimulatedServer(int id, IRandomSource random)
    {
        Id = id;
        Random = random;
    }

    /// <summary>1..n.</summary>
    public int Id { get; }

    /// <summary>False between a crash and the restart.</summary>
    public bool IsUp { get; private set; } = true;

    /// <summary>How many times the server has restarted; timers of an earlier incarnation never fire.</summary>
    public int Incarnation { get; private set; }

    public PersistentStore Store { get; } = new();

    /// <summary>Everything this server's machines emitted, in order, across crashes.</summary>
    public IReadOnlyList<EmittedEvent> Events => _events;

    /// <summary>Null for an honest server.</summary>
    public ByzantineStrategy? Byzantine { get; internal set; }

    /// <summary>The running machines, in the order they started.</summary>
    public IEnumerable<IProtocolMachine> Machines => _order.Select(id => _machines[id]);

    public bool TryGetMachine(InstanceId instance, out IProtocolMachine machine) =>
        _machines.TryGetValue(instance, out machine!);

    internal IRandomSource Random { get; private set; }

    internal bool CrashInNextStep { get; set; }

    internal void AddMachine(IProtocolMachine machine)
    {
        if (!_machines.TryAdd(machine.Instance, machine))
        {
            throw new InvalidOperationException($"Server {Id} already runs instance {machine.Instance}.");
        }

        _order.Add(machine.Instance);
    }

    internal void AddEvent(EmittedEvent emitted) => _events.Add(emitted);

    /// <summary>Arms a timer and returns its generation; setting the same timer again supersedes the earlier one.</summary>
    internal long ArmTimer(InstanceId instance, int timerId)
    {
        var generation = _timerGenerations.GetValueOrDefault((instance, timerId)) + 1;
        _timerGenerations[(instance, timerId)] = generation;
        return generation;
    }

    internal bool IsCurrentTimer(InstanceId instance, int timerId, long generation) =>
        _timerGenerations.TryGetValue((instance, timerId), out var current) && current == generation;

    internal void Crash()
    {
        IsUp = false;
        CrashInNextStep = false;
        _machines.Clear();
        _order.Clear();
        _timerGenerations.Clear();
    }

    internal void Restart(IRandomSource freshRandom)
    {
        IsUp = true;
        Incarnation++;
        Random = freshRandom;
    }
}

/// <summary>A protocol event as the simulator saw it: when, where and from which instance.</summary>
public sealed record EmittedEvent(TimeSpan Time, int Server, InstanceId Instance, ProtocolEvent Event);
