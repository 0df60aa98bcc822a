// References: Naor, Pinkas, Reingold, "Distributed Pseudo-Random Functions and KDCs" (EUROCRYPT 1999),
// the DDH-based DPRF f_x(m) = x*H(m) from t+1 partial evaluations; Chaum-Pedersen DLEQ proofs;
// docs/BRIEF.md section 2 ("joint randomness": output H(m)^x from t+1 partials, each with a DLEQ proof
// against the server's public share, so anyone can verify it; unique, so unbiasable) and section 6
// (joint randomness as an application); toolkit paper (seed 001) section 5 (services);
// docs/PROTOCOLS.md "Joint randomness".
using System.Buffers.Binary;
using Proactive.Crypto.Dprf;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Randomness;

/// <summary>Where a joint-randomness instance is. Transitions: see <see cref="RandomnessMachine.ValidTransitions"/>.</summary>
public enum RandomnessStatus
{
    /// <summary>Constructed; <see cref="RandomnessMachine.Start"/> not yet called (partials are already verified and kept).</summary>
    Created,

    /// <summary>Own partial broadcast (if this server holds a share); collecting valid partials.</summary>
    Collecting,

    /// <summary>Final: t+1 valid partials combined, <see cref="RandomnessProduced"/> emitted.</summary>
    Produced,
}

/// <summary>
/// The value of a joint-randomness session: the DPRF input, the publicly verifiable output
/// (<see cref="DprfOutput"/> encoding: the t+1 partials with their DLEQ proofs) and its 64-byte value.
/// Anyone holding the public shares checks it with <see cref="DistributedPrf.VerifyOutput"/>.
/// </summary>
public sealed record RandomnessProduced(InstanceId Instance, byte[] Message, byte[] EncodedOutput, byte[] Value) : ProtocolEvent;

/// <summary>Message kinds of the randomness protocol (round, type on the envelope).</summary>
public static class RandomnessWire
{
    /// <summary>The only round: partial evaluations.</summary>
    public const byte PartialRound = 0;

    /// <summary>A <see cref="DprfPartialEvaluation"/> (its canonical encoding, suite in the header).</summary>
    public const byte PartialType = 1;
}

/// <summary>
/// One joint-randomness evaluation: every server broadcasts Y_i = x_i*H(m) with a DLEQ proof against
/// its public share X_i, verifies the others' partials as they arrive, and combines as soon as it holds
/// t+1 valid ones. Any t+1 valid partials interpolate to the same Y (uniqueness), so the t or fewer
/// servers the adversary controls can neither predict the value before an honest server answers nor
/// bias it by choosing whose partials count; at most they delay it, and only while fewer than t+1
/// honest servers have answered (t+1 &lt;= n-f, so the honest servers alone suffice).
/// </summary>
/// <remarks>
/// <para>A partial that does not decode, that names a server other than its sender, or whose proof
/// does not verify gives an <see cref="Alert"/> naming the sender (<see cref="AlertType.MalformedMessage"/>
/// or <see cref="AlertType.InvalidProof"/>, evidence = the signed envelope); that sender's later
/// partials in the instance are ignored. A second partial from a server whose first was valid is
/// ignored (proofs are randomized, so two valid partials of one server differ only in the proof).</para>
/// <para>There is no timer: without t+1 valid partials there is simply no output yet; the driver
/// decides when to give up. The share is borrowed (used in Start, not kept or disposed); a server
/// without a share (recovering) passes null and still collects, verifies and combines.</para>
/// </remarks>
public sealed class RandomnessMachine : IProtocolMachine
{
    /// <summary>Longest DPRF input a session accepts.</summary>
    public const int MaxMessageLength = DistributedPrf.MaxMessageLength;

    /// <summary>The transitions this machine makes; anything else is a bug.</summary>
    public static readonly IReadOnlyDictionary<RandomnessStatus, RandomnessStatus[]> ValidTransitions = new Dictionary<RandomnessStatus, RandomnessStatus[]>
    {
        [RandomnessStatus.Created] = [RandomnessStatus.Collecting, RandomnessStatus.Produced],
        [RandomnessStatus.Collecting] = [RandomnessStatus.Produced],
        [RandomnessStatus.Produced] = [],
    };

    private static readonly byte[] PeriodLabel = "proactive-randomness-period-v1"u8.ToArray();

    private readonly ClusterParameters _parameters;
    private readonly DistributedPrf _prf;
    private readonly DprfPublicShares _publicShares;
    private readonly byte[] _message;
    private SecretShare? _share;
    private readonly SortedDictionary<int, DprfPartialEvaluation> _valid = [];
    private readonly HashSet<int> _culprits = [];

    /// <summary>An evaluation of the DPRF on <paramref name="message"/> at server <paramref name="self"/>.</summary>
    /// <param name="instance">A <see cref="ProtocolKind.Randomness"/> instance.</param>
    /// <param name="parameters">n, t, f; t must be the degree of the DPRF key's sharing.</param>
    /// <param name="self">This server, 1..n.</param>
    /// <param name="prf">The DPRF (group and domain).</param>
    /// <param name="message">The input m (e.g. <see cref="PeriodMessage"/>); at most <see cref="MaxMessageLength"/> bytes.</param>
    /// <param name="share">This server's share x_self of the DPRF key, or null if it has none; borrowed.</param>
    /// <param name="publicShares">Every server's X_i = x_i*G (from the key's Feldman commitments).</param>
    /// <exception cref="ArgumentException">Mismatched group, index or threshold, or a message too long.</exception>
    public RandomnessMachine(
        InstanceId instance, ClusterParameters parameters, int self, DistributedPrf prf, ReadOnlySpan<byte> message,
        SecretShare? share, DprfPublicShares publicShares)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(prf);
        ArgumentNullException.ThrowIfNull(publicShares);
        if (instance.Protocol != ProtocolKind.Randomness)
        {
            throw new ArgumentException("A randomness machine runs a Randomness instance.", nameof(instance));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(self, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(self, parameters.ServerCount);
        if (message.Length > MaxMessageLength)
        {
            throw new ArgumentException($"DPRF inputs are at most {MaxMessageLength} bytes.", nameof(message));
        }

        if (publicShares.Group != prf.Group || publicShares.Threshold != parameters.Threshold)
        {
            throw new ArgumentException("The public shares must be of the DPRF's group, with degree t.", nameof(publicShares));
        }

        if (share is not null && (share.Group != prf.Group || share.Index != self))
        {
            throw new ArgumentException("The share must be this server's, in the DPRF's group.", nameof(share));
        }

        Instance = instance;
        _parameters = parameters;
        _prf = prf;
        _publicShares = publicShares;
        _message = message.ToArray();
        _share = share;
    }

    /// <inheritdoc />
    public InstanceId Instance { get; }

    /// <summary>Where the instance is.</summary>
    public RandomnessStatus Status { get; private set; } = RandomnessStatus.Created;

    /// <inheritdoc />
    public bool IsFinished => Status == RandomnessStatus.Produced;

    /// <summary>The DPRF input m.</summary>
    public ReadOnlySpan<byte> Message => _message;

    /// <summary>Servers named in an alert of this instance, ascending.</summary>
    public IReadOnlyList<int> Culprits => [.. _culprits.Order()];

    /// <summary>The output once produced.</summary>
    public DprfOutput? Output { get; private set; }

    /// <summary>
    /// The canonical input for the randomness of period <paramref name="period"/>:
    /// "proactive-randomness-period-v1" || u64 big-endian period.
    /// </summary>
    public static byte[] PeriodMessage(ulong period)
    {
        var message = new byte[PeriodLabel.Length + 8];
        PeriodLabel.CopyTo(message, 0);
        BinaryPrimitives.WriteUInt64BigEndian(message.AsSpan(PeriodLabel.Length), period);
        return message;
    }

    /// <summary>Created -> Collecting: evaluate and broadcast the own partial (when holding a share).</summary>
    public void Start(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (Status == RandomnessStatus.Produced)
        {
            return; // t+1 partials arrived before Start: nothing left to contribute
        }

        if (Status != RandomnessStatus.Created)
        {
            throw new InvalidOperationException($"Start in {Status}.");
        }

        if (_share is not null)
        {
            var partial = _prf.Evaluate(_share, _message, context.Random);
            _share = null; // borrowed: not kept past its use
            outbox.Broadcast(0, RandomnessWire.PartialRound, RandomnessWire.PartialType, partial.Encode());
        }

        Move(RandomnessStatus.Collecting);
    }

    /// <summary>A partial arrived: verify it now, combine once t+1 are valid.</summary>
    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(outbox);
        if (IsFinished || _culprits.Contains(message.Sender) || _valid.ContainsKey(message.Sender))
        {
            return;
        }

        if ((message.Round, message.Type) != (RandomnessWire.PartialRound, RandomnessWire.PartialType))
        {
            Blame(outbox, AlertType.MalformedMessage, message, $"unknown round {message.Round} type {message.Type}");
            return;
        }

        if (!DprfPartialEvaluation.TryDecode(_prf.Group, message.Payload.Span, out var partial, out var failure))
        {
            Blame(outbox, AlertType.MalformedMessage, message, $"a partial evaluation that does not decode: {failure}");
            return;
        }

        if (partial.ServerIndex != message.Sender)
        {
            Blame(outbox, AlertType.MalformedMessage, message, $"a partial for server {partial.ServerIndex} sent by server {message.Sender}");
            return;
        }

        if (!_publicShares.TryGet(partial.ServerIndex, out var publicShare) || !_prf.VerifyPartial(publicShare, _message, partial))
        {
            Blame(outbox, AlertType.InvalidProof, message, "the DLEQ proof of the partial evaluation does not verify against the server's public share");
            return;
        }

        _valid[partial.ServerIndex] = partial;
        if (_valid.Count >= _parameters.ReconstructionThreshold)
        {
            Produce(outbox);
        }
    }

    /// <summary>No timers: nothing to do.</summary>
    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
    }

    private void Produce(Outbox outbox)
    {
        // The t+1 lowest valid partials; any t+1 interpolate to the same Y.
        var chosen = _valid.Values.Take(_parameters.ReconstructionThreshold).ToArray();
        var result = _prf.Combine(_publicShares, _message, chosen);
        if (result.Output is not { } output)
        {
            // Every partial here was verified on arrival, so this cannot happen with a correct DPRF;
            // the inputs are still peers' data, so it is reported and the instance keeps waiting
            // instead of taking the server down.
            outbox.Emit(new Alert(AlertType.MalformedMessage, 0, Instance.Period, Instance, $"combining {chosen.Length} verified partials failed: {result.Error}", []));
            return;
        }

        Output = output;
        Move(RandomnessStatus.Produced);
        outbox.Emit(new RandomnessProduced(Instance, (byte[])_message.Clone(), output.Encode(), output.Value.ToArray()));
    }

    private void Blame(Outbox outbox, AlertType type, InboundMessage message, string detail)
    {
        if (message.Sender >= 1 && message.Sender <= _parameters.ServerCount)
        {
            _culprits.Add(message.Sender);
        }

        outbox.Emit(new Alert(type, message.Sender, Instance.Period, Instance, detail, message.Signed.ToArray()));
    }

    private void Move(RandomnessStatus next)
    {
        if (!ValidTransitions[Status].Contains(next))
        {
            throw new InvalidOperationException($"Randomness transition {Status} -> {next} is not valid.");
        }

        Status = next;
    }
}
