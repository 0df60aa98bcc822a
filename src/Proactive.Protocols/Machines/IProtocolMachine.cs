using Proactive.Crypto.Random;
using Proactive.Protocols.Cluster;

namespace Proactive.Protocols.Machines;

/// <summary>
/// What a protocol instance sees of the world in one step. Time and randomness are inputs
/// (STYLE rule 2): nothing in Proactive.Protocols reads a clock or the OS random generator.
/// </summary>
/// <param name="Self">This server's id, 1..n.</param>
/// <param name="Parameters">n, t, f.</param>
/// <param name="Now">The driver's clock: virtual time in the simulator, a monotonic clock in the node.</param>
/// <param name="Random">Randomness: a seeded source in the simulator, the OS CSPRNG in the node.</param>
public sealed record ProtocolContext(int Self, ClusterParameters Parameters, TimeSpan Now, IRandomSource Random);

/// <summary>
/// A protocol instance as a deterministic state machine: (state, input) -> (state, outbox).
/// The same object runs in the simulator and in the node; drivers only move bytes, keep time and
/// make state durable. Implementations never throw on untrusted input: a bad message is dropped
/// or answered with an <see cref="Alert"/>.
/// </summary>
public interface IProtocolMachine
{
    /// <summary>Which run this is; every message it sends and accepts carries it.</summary>
    InstanceId Instance { get; }

    /// <summary>True once the instance has reached its final state and needs no more input.</summary>
    bool IsFinished { get; }

    /// <summary>First step: send the opening messages, set the first timers.</summary>
    void Start(ProtocolContext context, Outbox outbox);

    /// <summary>An authenticated message for this instance arrived.</summary>
    void Receive(ProtocolContext context, InboundMessage message, Outbox outbox);

    /// <summary>A timer this instance set has fired.</summary>
    void Timeout(ProtocolContext context, int timerId, Outbox outbox);
}
