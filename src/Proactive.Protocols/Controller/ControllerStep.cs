// References: docs/BRIEF.md section 4 ("controller: dispatches messages to protocol instances");
// docs/PROTOCOLS.md "Controller and simulator".
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Controller;

/// <summary>
/// What one controller step produced, per instance: one step of the controller may drive several
/// machines (a refresh step emits a proposal, which starts an agreement instance, whose first step
/// sends a proposal of its own), and every outbound message must travel under its own instance.
/// The driver applies <see cref="Outputs"/> as one step: every write in every outbox durable first,
/// then the messages, timers and events in order.
/// </summary>
public sealed class ControllerStep
{
    private readonly List<InstanceOutput> _outputs = [];
    private readonly List<ControllerDrop> _drops = [];

    /// <summary>Outboxes in the order the machines ran.</summary>
    public IReadOnlyList<InstanceOutput> Outputs => _outputs;

    /// <summary>Inbound messages the controller did not route, with the reason (for the trace and metrics).</summary>
    public IReadOnlyList<ControllerDrop> Drops => _drops;

    internal void Add(InstanceId instance, Outbox outbox)
    {
        if (outbox.Messages.Count + outbox.Events.Count + outbox.Timers.Count + outbox.Persisted.Count > 0)
        {
            _outputs.Add(new InstanceOutput(instance, outbox));
        }
    }

    internal void Drop(InstanceId instance, int sender, string reason) => _drops.Add(new ControllerDrop(instance, sender, reason));
}

/// <summary>One machine's outbox within a controller step.</summary>
public sealed record InstanceOutput(InstanceId Instance, Outbox Outbox);

/// <summary>A message the controller dropped instead of routing it.</summary>
public sealed record ControllerDrop(InstanceId Instance, int Sender, string Reason);

/// <summary>
/// The period's refresh committed here and the controller swapped in the new shares (durable before
/// the old ones were erased). <paramref name="State"/> is the public state every honest server must share.
/// </summary>
public sealed record PeriodCommitted(ulong Period, RefreshPublicState State, ShareVectorDigest Digest) : ProtocolEvent;

/// <summary>The controller found its stored shares missing or corrupt and asks for share recovery this period.</summary>
public sealed record RecoveryNeeded(ulong Period, string Reason) : ProtocolEvent;

/// <summary>Timeouts of every protocol the controller runs (short ones in the simulator, the defaults in the node).</summary>
public sealed record ControllerTimeouts(
    Agreement.AgreementTimeouts Agreement, Dkg.DkgOptions Dkg, RefreshTimeouts Refresh, Recovery.RecoveryTimeouts Recovery,
    KeyTable.KeyTableTimeouts? KeyTable = null, KeyTable.PeriodCertificateTimeouts? Certificate = null)
{
    public static ControllerTimeouts Default { get; } = new(
        Proactive.Protocols.Agreement.AgreementTimeouts.Default, Proactive.Protocols.Dkg.DkgOptions.Default, RefreshTimeouts.Default, Proactive.Protocols.Recovery.RecoveryTimeouts.Default);
}
