using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Simulation.Network;
using Proactive.Simulation.Wire;

namespace Proactive.Simulation;

/// <summary>
/// Everything a run depends on besides the scenario's own actions. Two simulators built from equal
/// options and driven by the same calls produce the same trace, byte for byte.
/// To add a setting: a property with a default that keeps existing tests meaningful, checked in
/// <see cref="Validate"/>.
/// </summary>
public sealed class SimulationOptions
{
    public SimulationOptions(ClusterParameters parameters, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters;
        Seed = seed;
    }

    public ClusterParameters Parameters { get; }

    /// <summary>Drives every random choice of the run; print it in failing tests.</summary>
    public ulong Seed { get; }

    public NetworkModel Network { get; init; } = new();

    /// <summary>
    /// How bytes are framed. <see cref="EnvelopeWireCodec.Factory"/> plugs in the real envelope layer
    /// (signed, encrypted, replay-guarded). The plain codec stays the default of the bare simulator
    /// because the envelope layer refuses identical signed bytes a second time, so network duplicates
    /// and same-attempt retransmissions never reach a machine, and some scenarios (duplication
    /// statistics) count them; <c>ProactiveScenario</c> runs over the envelope layer by default.
    /// </summary>
    public Func<ClusterParameters, IWireCodec> CodecFactory { get; init; } = parameters => new PlainWireCodec(parameters);

    /// <summary>
    /// Rebuilds a server's machines after a restart from what its disk holds. The simulator then
    /// calls <see cref="IProtocolMachine.Start"/> on each: Start is the first step of a machine in
    /// this process, so a restored machine re-arms its timers and resends what it must there.
    /// </summary>
    public Func<RestartContext, IEnumerable<IProtocolMachine>>? RestartFactory { get; init; }

    /// <summary>
    /// Creates a machine when a message arrives for an instance a server does not run (e.g. a signing
    /// session another server opened). Returning null drops the message. The new machine is started,
    /// then given the message.
    /// </summary>
    public Func<int, InstanceId, IProtocolMachine?>? InstanceFactory { get; init; }

    /// <summary>Stops a runaway run with <see cref="SimulationLimitException"/> after this many events.</summary>
    public long MaxEvents { get; init; } = 1_000_000;

    /// <summary>Keep every event in <see cref="Tracing.SimulationTrace.Events"/>; counts and the hash are kept regardless.</summary>
    public bool RecordTrace { get; init; } = true;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxEvents, 1, nameof(MaxEvents));
        ArgumentNullException.ThrowIfNull(Network, nameof(Network));
        ArgumentNullException.ThrowIfNull(CodecFactory, nameof(CodecFactory));
    }
}

/// <summary>What a restart factory gets: the server, the cluster, and a copy of the server's disk (nothing else survives).</summary>
public sealed record RestartContext(int Server, ClusterParameters Parameters, IReadOnlyDictionary<string, byte[]> Store, int Incarnation);

/// <summary>The run hit <see cref="SimulationOptions.MaxEvents"/>: something keeps generating work.</summary>
public sealed class SimulationLimitException(string message) : Exception(message);

/// <summary>An invariant checker reported a violation; the message names the check, the time and the seed.</summary>
public sealed class InvariantViolationException(string message) : Exception(message);

/// <summary>A machine threw from a step: a bug in the machine (untrusted input must never make it throw).</summary>
public sealed class MachineFaultException(string message, Exception inner) : Exception(message, inner);
