// References: docs/BRIEF.md section 1 ("Adversary": bad shares, equivocation, silence, replay,
// corrupting their own disk; it moves between periods); issue 3 items 11-12; toolkit (seed 001)
// section 2; docs/PROTOCOLS.md "Controller and simulator" (the adversary catalogue).
using Proactive.Crypto.Groups;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Dkg;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;
using Proactive.Simulation.Byzantine;
using Proactive.Simulation.Wire;

namespace Proactive.Simulation.Adversary;

/// <summary>The misbehaviours the simulator injects. Byte values appear in reports; they never change.</summary>
public enum AdversaryStrategyKind : byte
{
    /// <summary>Sends nothing (detected: Unresponsive).</summary>
    Silent = 1,

    /// <summary>Down for the whole refresh, restarted after it (detected: Unresponsive).</summary>
    Crash = 2,

    /// <summary>Deals and commits to a wrong sub-share for one recipient (detected: InvalidShare via the reveal).</summary>
    BadSubShare = 3,

    /// <summary>Publishes a commitment to a different combined polynomial (detected: InvalidCommitment).</summary>
    WrongCommitments = 4,

    /// <summary>Refresh dealing with a non-zero constant term (detected: NonZeroRefreshConstant).</summary>
    NonZeroConstant = 5,

    /// <summary>Two different versions of one broadcast, the second to some recipients only (detected: Equivocation).</summary>
    Equivocation = 6,

    /// <summary>A DKG dealing whose proof of knowledge does not verify (detected: InvalidProof).</summary>
    InvalidProof = 7,

    /// <summary>
    /// Replays old traffic (detected: Replay). Over the envelope layer, every signed envelope of the
    /// previous period it saw (<see cref="EnvelopeReplayStrategy"/>); over the plain codec, what it sent
    /// two periods ago (<see cref="ReplayStrategy"/>).
    /// </summary>
    Replay = 8,

    /// <summary>Signs two different agreement votes for one (round, step) (detected: Equivocation).</summary>
    ConflictingVotes = 9,

    /// <summary>Overwrites its own stored shares (detected by the server itself at the next period start: CorruptedShares).</summary>
    CorruptOwnShares = 10,

    /// <summary>
    /// Deals in the refresh, then is down for the rest of it and restarted after it (a crash, not a
    /// fault: nothing to detect, its dealing was sent). Exercises applying a missed refresh whose
    /// qualified set holds the server's own dealing (its own sub-shares were persisted before sending).
    /// </summary>
    CrashAfterDealing = 11,

    /// <summary>
    /// Silent in the refresh except for one signed Invalid complaint against the honest dealer
    /// <see cref="Injection.Target"/>, sent to one other server only (nothing to detect: the
    /// complaint is echoed, the dealer reveals, and the reveal is good). Without the echo this split
    /// honest views and stalled the refresh at n = t + f + 1. Injected explicitly, not by the mobile
    /// adversary.
    /// </summary>
    SelectiveComplaint = 12,
}

/// <summary>One misbehaviour to inject: server <see cref="Server"/> in period <see cref="Period"/>; <see cref="Target"/> is the victim where one is needed.</summary>
public sealed record Injection(ulong Period, int Server, AdversaryStrategyKind Strategy, int Target = 0);

/// <summary>The alert an injection must cause on some honest server (the harness checks it: invariant f).</summary>
public sealed record ExpectedAlert(ulong Period, int Culprit, AlertType Type, AdversaryStrategyKind Strategy);

/// <summary>Catalogue: which strategies exist, in which period they can act, what they must cause.</summary>
public static class AdversaryCatalogue
{
    /// <summary>Strategies the mobile adversary draws from (crash and invalid proofs are injected explicitly: see the docs).</summary>
    public static IReadOnlyList<AdversaryStrategyKind> Mobile { get; } =
    [
        AdversaryStrategyKind.Silent, AdversaryStrategyKind.BadSubShare, AdversaryStrategyKind.WrongCommitments,
        AdversaryStrategyKind.NonZeroConstant, AdversaryStrategyKind.Equivocation, AdversaryStrategyKind.Replay,
        AdversaryStrategyKind.ConflictingVotes, AdversaryStrategyKind.CorruptOwnShares,
    ];

    /// <summary>The alert the injection must cause, or null when the behaviour is undetectable by design.</summary>
    public static ExpectedAlert? ExpectedFor(Injection injection) => injection.Strategy switch
    {
        AdversaryStrategyKind.Silent or AdversaryStrategyKind.Crash => new(injection.Period, injection.Server, AlertType.Unresponsive, injection.Strategy),
        AdversaryStrategyKind.BadSubShare => new(injection.Period, injection.Server, AlertType.InvalidShare, injection.Strategy),
        AdversaryStrategyKind.WrongCommitments => new(injection.Period, injection.Server, AlertType.InvalidCommitment, injection.Strategy),
        AdversaryStrategyKind.NonZeroConstant => new(injection.Period, injection.Server, AlertType.NonZeroRefreshConstant, injection.Strategy),
        AdversaryStrategyKind.Equivocation or AdversaryStrategyKind.ConflictingVotes => new(injection.Period, injection.Server, AlertType.Equivocation, injection.Strategy),
        AdversaryStrategyKind.InvalidProof => new(injection.Period, injection.Server, AlertType.InvalidProof, injection.Strategy),
        AdversaryStrategyKind.Replay => injection.Period >= 2 ? new(injection.Period, injection.Server, AlertType.Replay, injection.Strategy) : null,
        AdversaryStrategyKind.CorruptOwnShares => new(injection.Period + 1, injection.Server, AlertType.CorruptedShares, injection.Strategy),
        _ => null,
    };

    /// <summary>The refresh dealer faults a strategy uses (null for message-level strategies).</summary>
    internal static RefreshDealerFaults? RefreshFaultsFor(Injection injection) => injection.Strategy switch
    {
        AdversaryStrategyKind.BadSubShare => new RefreshDealerFaults { CommitToWrongSubSharesFor = injection.Target },
        AdversaryStrategyKind.WrongCommitments => new RefreshDealerFaults { CorruptCombinedCommitment = true },
        AdversaryStrategyKind.NonZeroConstant => new RefreshDealerFaults { NonZeroConstant = true },
        _ => null,
    };
}

/// <summary>Forwards nothing: the server is silent (its machines still run and still compute).</summary>
public sealed class SilentStrategy : ByzantineStrategy
{
    public override void OnSend(ByzantineContext context, OutgoingMessage message)
    {
    }
}

/// <summary>
/// Equivocates on the refresh dealing broadcasts: every server gets the honest version, and the
/// servers with an odd id also get a second version with a different payload (one bit changed).
/// A server that holds both has two different messages from one sender for one slot.
/// </summary>
public sealed class EquivocationStrategy(ulong period) : ByzantineStrategy
{
    public override void OnSend(ByzantineContext context, OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        context.Send(message);
        if (message.Instance.Protocol != ProtocolKind.Refresh || message.Instance.Period != period || message.Message.Recipient is not null || message.Message.Payload.Length == 0)
        {
            return;
        }

        var altered = message.Message.Payload.ToArray();
        altered[^1] ^= 0x01;
        foreach (var recipient in context.Parameters.Servers.Where(s => s != context.Server && s % 2 == 1))
        {
            context.Send(message.To(recipient, altered));
        }
    }
}

/// <summary>Replaces the DKG proof of knowledge's response z by z + 1: the dealing still decodes, the proof fails.</summary>
public sealed class InvalidProofStrategy(PrimeOrderGroup group) : ByzantineStrategy
{
    public override void OnSend(ByzantineContext context, OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        if (message.Instance.Protocol == ProtocolKind.Dkg && message.Message.Recipient is null
            && DkgDealing.TryDecode(message.Message.Payload, group, out var dealing, out _))
        {
            var broken = new DkgDealing(dealing.Dealer, dealing.Commitment, new DkgProofOfKnowledge(group, dealing.Proof.Commitment, group.Add(dealing.Proof.Response, group.One)));
            context.Send(message with { Message = message.Message with { Payload = broken.Encode() } });
            return;
        }

        context.Send(message);
    }
}

/// <summary>
/// Re-sends, once, every message the server sent two periods ago (read from the server, which the
/// adversary controls) under their original instances: honest controllers see traffic for an
/// instance two periods old.
/// </summary>
public sealed class ReplayStrategy(IReadOnlyList<OutgoingMessage> oldMessages) : ByzantineStrategy
{
    private bool _replayed;

    public override void OnStepEnd(ByzantineContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_replayed)
        {
            return;
        }

        _replayed = true;
        foreach (var message in oldMessages)
        {
            context.Send(message);
        }
    }
}

/// <summary>
/// The replay attack against the envelope layer: re-sends, once, verbatim, every signed envelope of the
/// previous period the server saw (every broadcast, its own and the others', and what it sent to one
/// recipient), broadcasts to every other server, direct messages to their recipient. Any server that
/// saw a signed envelope can do this, so the signer proves nothing about who replays: every recipient
/// that had accepted the envelope refuses it as <c>envelope:Replay</c> and blames the link-level sender,
/// this server (<see cref="EnvelopeWireCodec"/>). A sample is enough to be caught: the first
/// <see cref="MaxReplayed"/> such envelopes.
/// </summary>
public sealed class EnvelopeReplayStrategy(IReadOnlyList<CapturedEnvelope> seen) : ByzantineStrategy
{
    /// <summary>Envelopes replayed at most (each broadcast to n - 1 servers, each refused and reported).</summary>
    public const int MaxReplayed = 16;

    private bool _replayed;

    /// <summary>What <paramref name="server"/> saw of <paramref name="captured"/> in <paramref name="period"/> (every broadcast, and its own messages to one recipient), the first <see cref="MaxReplayed"/>.</summary>
    public static IReadOnlyList<CapturedEnvelope> SeenBy(int server, IEnumerable<CapturedEnvelope> captured, ulong period)
    {
        ArgumentNullException.ThrowIfNull(captured);
        return captured.Where(c => c.Instance.Period == period && (c.Recipient == EnvelopeHeader.Broadcast || c.Sender == server)).Take(MaxReplayed).ToList();
    }

    public override void OnStepEnd(ByzantineContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_replayed)
        {
            return;
        }

        _replayed = true;
        foreach (var envelope in seen)
        {
            if (envelope.Recipient != EnvelopeHeader.Broadcast)
            {
                context.SendRaw(envelope.Recipient, envelope.Bytes);
                continue;
            }

            foreach (var recipient in context.Parameters.Servers.Where(s => s != context.Server))
            {
                context.SendRaw(recipient, envelope.Bytes);
            }
        }
    }
}

/// <summary>
/// As a voter (and as leader) in agreement, signs a second, conflicting PREVOTE for every PREVOTE it
/// casts (nil for a value, a random value for nil) and sends it to the odd-numbered servers after
/// the honest one: they hold two signed votes for one slot, a transferable equivocation proof.
/// </summary>
/// <remarks>
/// Detection by an honest server: the odd-numbered servers other than the culprit are at least
/// floor(n/2) - 1 and include at least one honest server whenever that exceeds f - 1 (n=4, f=1 and
/// n=7, f=2 included), and agreement checks votes that arrive after it decided
/// (<c>CheckLateVote</c>), so the pair is caught even when the receiver decided on the others' votes.
/// The second version is not sent to every server: honest servers exclude a proven equivocator, and
/// share recovery's agreement runs without the recovering server's vote (docs/PROTOCOLS.md, limitations).
/// A server whose agreement instance starts late can decide on the others' buffered votes (or on a
/// laggard's certificate) without ever casting a PREVOTE of its own: then there is nothing to
/// conflict with, and an expected Equivocation alert would not be a valid expectation. So the first
/// agreement message of the period's instance that is not a PREVOTE (a PRECOMMIT, a certificate)
/// makes the strategy sign a conflicting pair for round 0 itself: nil to everyone, a random value to
/// the odd-numbered servers (found at n=7, t=4, f=2, seed 4, period 28).
/// </remarks>
public sealed class ConflictingVotesStrategy(ulong period, Ed25519PrivateKey key, NetworkId network) : ByzantineStrategy
{
    private readonly HashSet<InstanceId> _equivocated = [];

    public override void OnSend(ByzantineContext context, OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        context.Send(message);
        if (message.Instance.Protocol != ProtocolKind.Agreement || message.Instance.Period != period
            || !AgreementWiring.TryParentOf(message.Instance, out var parent))
        {
            return;
        }

        if (message.Message.Type != (byte)AgreementMessageType.Prevote)
        {
            if (message.Message.Type != (byte)AgreementMessageType.Proposal && _equivocated.Add(message.Instance))
            {
                SendConflictingPair(context, message, parent);
            }

            return;
        }

        if (!VoteMessage.TryDecode(message.Message.Payload, out var vote, out _))
        {
            return;
        }

        _equivocated.Add(message.Instance);
        var valueId = new byte[AgreementDomain.ValueIdLength];
        var isNil = vote.Vote.HasValue;
        if (!isNil)
        {
            context.Random.Fill(valueId);
        }

        var conflicting = SignedVote.Create(key, context.Server, AgreementWiring.InstanceContext(parent, network), VoteStep.Prevote, vote.Vote.Round, isNil ? [] : valueId, isNil);
        var payload = new VoteMessage(conflicting, vote.ProposalHeader).Encode();
        foreach (var recipient in context.Parameters.Servers.Where(s => s != context.Server && s % 2 == 1))
        {
            context.Send(message.To(recipient, payload));
        }
    }

    /// <summary>A nil PREVOTE for round 0 to everyone, then a PREVOTE for a random value to the odd-numbered servers.</summary>
    private void SendConflictingPair(ByzantineContext context, OutgoingMessage message, InstanceId parent)
    {
        var instanceContext = AgreementWiring.InstanceContext(parent, network);
        var prevote = message with { Message = message.Message with { Recipient = null, Attempt = 0, Round = 0, Type = (byte)AgreementMessageType.Prevote, Confidential = false } };
        var nil = SignedVote.Create(key, context.Server, instanceContext, VoteStep.Prevote, 0, [], true);
        context.Send(prevote with { Message = prevote.Message with { Payload = new VoteMessage(nil, null).Encode() } });
        var valueId = new byte[AgreementDomain.ValueIdLength];
        context.Random.Fill(valueId);
        var value = SignedVote.Create(key, context.Server, instanceContext, VoteStep.Prevote, 0, valueId, false);
        var payload = new VoteMessage(value, null).Encode();
        foreach (var recipient in context.Parameters.Servers.Where(s => s != context.Server && s % 2 == 1))
        {
            context.Send(prevote.To(recipient, payload));
        }
    }
}

/// <summary>
/// Sends nothing, except, on its first refresh message of <paramref name="period"/>, a complaint
/// signed with its own period key (so it is genuine) saying <paramref name="target"/>'s sub-shares
/// were invalid, to the lowest-numbered server other than itself and the target only. The test
/// picks that witness honest. docs/PROTOCOLS.md "Refresh" (echo).
/// </summary>
public sealed class SelectiveComplaintStrategy(ulong period, PrimeOrderGroup group, Ed25519PrivateKey key, NetworkId network, int target) : ByzantineStrategy
{
    private bool _complained;

    public override void OnSend(ByzantineContext context, OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        if (_complained || message.Instance.Protocol != ProtocolKind.Refresh || message.Instance.Period != period)
        {
            return;
        }

        _complained = true;
        var witness = context.Parameters.Servers.First(s => s != context.Server && s != target);
        var complaint = RefreshComplaint.Sign(
            group, key, message.Instance, AgreementWiring.InstanceContext(message.Instance, network), context.Server, target, RefreshComplaintReason.Invalid);
        context.Send(message with
        {
            Message = message.Message with
            {
                Recipient = witness,
                Attempt = 0,
                Round = RefreshWire.ComplaintRound,
                Type = RefreshWire.ComplaintType,
                Payload = complaint.Encode(),
                Confidential = false,
            },
        });
    }
}

/// <summary>Overwrites the last share of its stored vector with a fixed value after every step (idempotent), keeping the encoding valid.</summary>
public sealed class CorruptOwnSharesStrategy(PrimeOrderGroup group) : ByzantineStrategy
{
    public override void OnStepEnd(ByzantineContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Store.TryGet(ServerController.SharesKey, out var stored) || stored.Length < group.ScalarLength)
        {
            return;
        }

        var corrupted = stored.ToArray();
        group.EncodeScalar(group.FromUInt64(0x5eed)).CopyTo(corrupted.AsSpan(corrupted.Length - group.ScalarLength));
        context.Store.Put(ServerController.SharesKey, corrupted);
    }
}
