using Proactive.Protocols.Machines;

namespace Proactive.Simulation.Tracing;

/// <summary>
/// One thing that happened in a run, at virtual time <see cref="Time"/>. The trace is the run's
/// record: tests read it, and its hash (<see cref="SimulationTrace.Hash"/>) proves two runs equal.
/// </summary>
public abstract record TraceEvent(TimeSpan Time);

/// <summary>Why the network or a server did not pass a message on.</summary>
public enum DropReason
{
    /// <summary>The link lost it (loss probability, before GST).</summary>
    Loss,

    /// <summary>A partition separated sender and recipient.</summary>
    Partition,

    /// <summary>The recipient was down when it arrived.</summary>
    RecipientDown,

    /// <summary>The wire codec refused the bytes.</summary>
    Rejected,

    /// <summary>No machine for that instance runs at the recipient.</summary>
    UnknownInstance,

    /// <summary>The instance has finished and takes no more input.</summary>
    InstanceFinished,

    /// <summary>A Byzantine strategy withheld a message its honest machine produced.</summary>
    Withheld,

    /// <summary>The sender crashed in the middle of the step that produced it.</summary>
    SenderCrashed,
}

/// <summary>
/// A packet left <see cref="Sender"/> for <see cref="Recipient"/>. <see cref="PayloadDigest"/> and
/// <see cref="WireDigest"/> are the first 8 bytes of SHA-256 in hex: two sends of one slot with
/// different payload digests are equivocation. <see cref="Instance"/> is null for raw bytes a
/// Byzantine strategy injected.
/// </summary>
public sealed record SendTrace(TimeSpan Time, int Sender, int Recipient, InstanceId? Instance, uint Attempt, byte Round, byte Type, int Bytes, string PayloadDigest, string WireDigest, bool FromByzantine)
    : TraceEvent(Time);

/// <summary>The network made a second copy of a packet.</summary>
public sealed record DuplicateTrace(TimeSpan Time, int Sender, int Recipient, string WireDigest) : TraceEvent(Time);

/// <summary>A decoded message was handed to its machine.</summary>
public sealed record DeliverTrace(TimeSpan Time, int Sender, int Recipient, InstanceId Instance, uint Attempt, byte Round, byte Type, string WireDigest)
    : TraceEvent(Time);

/// <summary>
/// A packet that did not reach a machine, and why (<see cref="Detail"/> holds the codec's reason or
/// the instance). For <see cref="DropReason.Withheld"/> and <see cref="DropReason.SenderCrashed"/> no
/// packet exists yet: <see cref="WireDigest"/> is then the payload's digest and a recipient of 0
/// means a broadcast.
/// </summary>
public sealed record DropTrace(TimeSpan Time, int Sender, int Recipient, DropReason Reason, string WireDigest, string Detail)
    : TraceEvent(Time);

public sealed record StartTrace(TimeSpan Time, int Server, InstanceId Instance) : TraceEvent(Time);

public sealed record TimerTrace(TimeSpan Time, int Server, InstanceId Instance, int TimerId) : TraceEvent(Time);

public sealed record PersistTrace(TimeSpan Time, int Server, string Key, int Bytes) : TraceEvent(Time);

public sealed record ProtocolEventTrace(TimeSpan Time, int Server, InstanceId Instance, ProtocolEvent Event) : TraceEvent(Time);

/// <summary>A crash; <see cref="MidStep"/> when it hit after a step's writes and before its messages.</summary>
public sealed record CrashTrace(TimeSpan Time, int Server, bool MidStep) : TraceEvent(Time);

public sealed record RestartTrace(TimeSpan Time, int Server, int Incarnation, int Machines) : TraceEvent(Time);

/// <summary>A scenario action ran (a fault, a corruption, a new instance), with its description.</summary>
public sealed record ActionTrace(TimeSpan Time, string Description) : TraceEvent(Time);
