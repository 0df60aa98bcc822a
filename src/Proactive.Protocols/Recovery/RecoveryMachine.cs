// References: seed 002 (Numao, IBM RT0280) section 2 "Share Recovery" (helpers deal polynomials with
// f_i(r) = 0 and send r the blinded values s_j + sum_i f_i(j)); Herzberg, Jarecki, Krawczyk, Yung,
// "Proactive Secret Sharing", CRYPTO 1995, section 4; docs/BRIEF.md section 3 "Share recovery" and
// "Refresh at scale"; docs/PROTOCOLS.md "Share recovery" (choices and safety argument).
using System.Security.Cryptography;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Recovery;

/// <summary>Where a share-recovery instance is. Transitions: <see cref="RecoveryMachine.ValidTransitions"/>.</summary>
public enum RecoveryStatus
{
    /// <summary>Constructed, not started.</summary>
    Created,

    /// <summary>Helper: dealt its blinding polynomials; collecting the other helpers'.</summary>
    Blinding,

    /// <summary>Helper: proposed a blinding set B; waiting for agreement.</summary>
    AwaitingDecision,

    /// <summary>Helper: B decided; waiting for a decided blinding dealing that has not arrived here.</summary>
    AwaitingDecidedBlindings,

    /// <summary>Helper, final: sent its blinded shares to the recovering server.</summary>
    Answered,

    /// <summary>Recovering server: collecting blinded shares.</summary>
    Collecting,

    /// <summary>Recovering server, final: shares restored, checked and persisted.</summary>
    Recovered,

    /// <summary>Final: nothing verifiable arrived in time (alert RecoveryFailed), or this helper could not help.</summary>
    Failed,
}

/// <summary>Progress deadlines for share recovery.</summary>
/// <param name="BlindingWindow">Helper: from Start until it proposes B with what it has verified.</param>
/// <param name="AnswerWindow">Recovering server: from Start until it gives up (alert RecoveryFailed); helpers: how long to wait for decided blindings.</param>
public sealed record RecoveryTimeouts(TimeSpan BlindingWindow, TimeSpan AnswerWindow)
{
    /// <summary>Defaults for the local cluster.</summary>
    public static RecoveryTimeouts Default { get; } = new(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(20));
}

/// <summary>
/// Restores the shares of a server r that lost or corrupted them (seed 002 "Share Recovery"), for all
/// m secrets at once. Every other server is a helper: for each secret it deals a random degree-t
/// polynomial g_hk with g_hk(r) = 0 and sends each other helper its sub-shares (one confidential
/// message for all secrets), bound by hashes and a combined commitment exactly as in refresh (the
/// combined polynomial must vanish at r). Agreement fixes the blinding set B (at least t+1 helpers).
/// Each helper j then sends r the vector s_kj + sum_{h in B} g_hk(j). These points lie on
/// F_k = f_k + sum_h g_hk, a degree-t polynomial with F_k(r) = f_k(r) and F_k(0) masked, so r
/// interpolates F_k(r) from t+1 of them without learning anything else. r accepts a candidate only if
/// it matches the signing-key commitments (PublicShare(r)) and its recorded digest, and names the helpers
/// whose values are off the accepted polynomials.
/// </summary>
public sealed class RecoveryMachine : IProtocolMachine, IDisposable
{
    /// <summary>Timer: the blinding window is over (helpers).</summary>
    public const int BlindingDeadlineTimer = 1;

    /// <summary>Timer: the recovery gives up (recovering server) or stops waiting for decided blindings (helpers).</summary>
    public const int AnswerDeadlineTimer = 2;

    /// <summary>
    /// Timer, helpers: give up if no helper set was decided by BlindingWindow + AnswerWindow after Start
    /// (the recovering server has given up by then), so a stalled recovery never blocks the refresh.
    /// </summary>
    public const int GiveUpTimer = 3;

    /// <summary>Most (t+1)-subsets of the answers the recovering server tries before waiting for more answers.</summary>
    public const int MaxCandidateSubsets = 256;

    /// <summary>The transitions this machine makes.</summary>
    public static readonly IReadOnlyDictionary<RecoveryStatus, RecoveryStatus[]> ValidTransitions = new Dictionary<RecoveryStatus, RecoveryStatus[]>
    {
        [RecoveryStatus.Created] = [RecoveryStatus.Blinding, RecoveryStatus.Collecting],
        [RecoveryStatus.Blinding] = [RecoveryStatus.AwaitingDecision, RecoveryStatus.AwaitingDecidedBlindings, RecoveryStatus.Answered, RecoveryStatus.Failed],
        [RecoveryStatus.AwaitingDecision] = [RecoveryStatus.AwaitingDecidedBlindings, RecoveryStatus.Answered, RecoveryStatus.Failed],
        [RecoveryStatus.AwaitingDecidedBlindings] = [RecoveryStatus.Answered, RecoveryStatus.Failed],
        [RecoveryStatus.Collecting] = [RecoveryStatus.Recovered, RecoveryStatus.Failed],
        [RecoveryStatus.Answered] = [],
        [RecoveryStatus.Recovered] = [],
        [RecoveryStatus.Failed] = [],
    };

    private readonly RefreshPublicState _publicState;
    private readonly ShareVector? _ownShares;
    private readonly ShareVectorDigest? _recordedDigest;
    private readonly RecoveryTimeouts _timeouts;
    private readonly PrimeOrderGroup _group;
    private readonly int _self;
    private readonly int _recovering;
    private readonly int _n;
    private readonly int _t;
    private readonly HelperView[] _helpers;
    private SortedDictionary<int, byte[]>? _decided;
    private ShareVector? _recovered;
    private Scalar _answerWeight;
    private bool _proposed;
    private readonly int _f;

    /// <summary>
    /// Share recovery of server <paramref name="recovering"/>, seen from server <paramref name="self"/>.
    /// A helper passes its own <paramref name="ownShares"/>; the recovering server passes its
    /// <paramref name="recordedDigest"/> from the signed period root when it has one. Without it (a
    /// server that lost its store), data-key shares have nothing of their own to be checked against: the
    /// recovered vector is accepted only when t + 1 + f helpers' answers lie on one polynomial in every
    /// secret (the random combination checks them all at once), so t + 1 honest helpers fix it whatever
    /// f faulty ones answer.
    /// </summary>
    public RecoveryMachine(
        InstanceId instance, ClusterParameters parameters, int self, int recovering, RefreshPublicState publicState,
        ShareVector? ownShares, ShareVectorDigest? recordedDigest, RecoveryTimeouts? timeouts = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(publicState);
        if (instance.Protocol != ProtocolKind.ShareRecovery)
        {
            throw new ArgumentException("A recovery machine runs a ShareRecovery instance.", nameof(instance));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(self, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(self, parameters.ServerCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(recovering, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(recovering, parameters.ServerCount);
        if (self == recovering)
        {
            if (recordedDigest is not null && recordedDigest.Index != self)
            {
                throw new ArgumentException("The recorded digest is another server's.", nameof(recordedDigest));
            }
        }
        else if (ownShares is null || ownShares.Index != self || ownShares.Count != publicState.SecretCount || ownShares.Group.Id != publicState.Group.Id)
        {
            throw new ArgumentException("A helper needs its own share vector, one share per secret.", nameof(ownShares));
        }

        Instance = instance;
        _publicState = publicState;
        _ownShares = ownShares;
        _recordedDigest = recordedDigest;
        _timeouts = timeouts ?? RecoveryTimeouts.Default;
        _group = publicState.Group;
        _self = self;
        _recovering = recovering;
        _n = parameters.ServerCount;
        _t = parameters.Threshold;
        _f = parameters.Faults;
        _helpers = Enumerable.Range(0, _n).Select(_ => new HelperView()).ToArray();
    }

    /// <inheritdoc />
    public InstanceId Instance { get; }

    /// <summary>Where the instance is.</summary>
    public RecoveryStatus Status { get; private set; } = RecoveryStatus.Created;

    /// <inheritdoc />
    public bool IsFinished => Status is RecoveryStatus.Answered or RecoveryStatus.Recovered or RecoveryStatus.Failed;

    /// <summary>The durable key of the recovered share vector.</summary>
    public string SharesPersistKey => $"recovery/{Instance.Period}/{Instance.Sequence}/shares";

    private bool IsRecovering => _self == _recovering;

    /// <summary>Hands over the recovered vector (once; the caller owns it). Null before <see cref="ShareRecovered"/>.</summary>
    public ShareVector? TakeRecoveredShares()
    {
        var shares = _recovered;
        _recovered = null;
        return shares;
    }

    /// <summary>Created -> Blinding (helper: deal) or Collecting (recovering server).</summary>
    public void Start(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (Status != RecoveryStatus.Created)
        {
            throw new InvalidOperationException($"Start in {Status}.");
        }

        if (IsRecovering)
        {
            // Secret weights for the combined answers: the helpers' vectors are fixed before they could learn them.
            _answerWeight = _group.RandomNonzeroScalar(context.Random);
            Move(RecoveryStatus.Collecting);
            outbox.SetTimer(AnswerDeadlineTimer, context.Now + _timeouts.AnswerWindow);

            // r votes on B too (with n - f votes needed, the helpers alone stall when one is faulty).
            outbox.SetTimer(BlindingDeadlineTimer, context.Now + _timeouts.BlindingWindow);
            return;
        }

        DealBlinding(context, outbox);
        Move(RecoveryStatus.Blinding);
        outbox.SetTimer(BlindingDeadlineTimer, context.Now + _timeouts.BlindingWindow);
        outbox.SetTimer(GiveUpTimer, context.Now + _timeouts.BlindingWindow + _timeouts.AnswerWindow);
    }

    /// <inheritdoc />
    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(outbox);
        if (IsFinished)
        {
            return;
        }

        if (message.Sender < 1 || message.Sender > _n || message.Sender == _recovering)
        {
            Alert(outbox, AlertType.MalformedMessage, message.Sender == _recovering ? message.Sender : 0, "not a helper of this recovery", message.Signed);
            return;
        }

        switch ((message.Round, message.Type, IsRecovering))
        {
            case (RecoveryWire.BlindingRound, RecoveryWire.BlindingSubSharesType, false):
                OnBlindingSubShares(context, message, outbox);
                break;
            case (RecoveryWire.BlindingRound, RecoveryWire.BlindingCommitmentsType, _):
                OnBlindingCommitments(context, message, outbox); // r checks the public part: it votes on B
                break;
            case (RecoveryWire.AnswerRound, RecoveryWire.BlindedSharesType, true):
                OnAnswer(context, message, outbox);
                break;
            default:
                Alert(outbox, AlertType.MalformedMessage, message.Sender, $"unexpected round {message.Round} type {message.Type}", message.Signed);
                break;
        }

        if (Status == RecoveryStatus.AwaitingDecidedBlindings)
        {
            TryAnswer(outbox);
        }
    }

    /// <inheritdoc />
    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        switch (timerId)
        {
            case BlindingDeadlineTimer when Status == RecoveryStatus.Blinding:
                Propose(outbox);
                break;
            case BlindingDeadlineTimer when Status == RecoveryStatus.Collecting:
                ProposeAsRecovering(outbox);
                break;
            case GiveUpTimer when Status is RecoveryStatus.Blinding or RecoveryStatus.AwaitingDecision:
                Move(RecoveryStatus.Failed);
                Wipe();
                break;
            case AnswerDeadlineTimer when Status == RecoveryStatus.Collecting:
                Move(RecoveryStatus.Failed);
                Alert(outbox, AlertType.RecoveryFailed, 0, "no set of blinded shares matched the commitments and the recorded digest in time", ReadOnlyMemory<byte>.Empty);
                break;
            case AnswerDeadlineTimer when Status == RecoveryStatus.AwaitingDecidedBlindings:
                Move(RecoveryStatus.Failed);
                Wipe();
                break;
            default:
                break;
        }
    }

    /// <summary>
    /// Agreement's validity predicate for B: at least t+1 helpers (so at least one blinding the
    /// adversary never read, even if it reads r), none of them r, each with the blinding commitments
    /// seen here. A helper also needs a verified blinding vector from each (it must be able to
    /// answer); the recovering server, which receives no blinding vectors, needs each one's public
    /// commitments to have passed their checks here (degree t, vanishing at r), which is exactly
    /// what its privacy and correctness rest on (docs/PROTOCOLS.md "Share recovery"). Never throws.
    /// </summary>
    public bool IsAcceptableHelperSet(byte[] encodedSet)
    {
        ArgumentNullException.ThrowIfNull(encodedSet);
        if (!QualifiedSetCodec.TryDecode(encodedSet, _group, _n, out var set) || set.Count < _t + 1 || set.ContainsKey(_recovering))
        {
            return false;
        }

        return set.All(p => _helpers[p.Key - 1] is { Commitments: not null, Rejected: false, DealingHash: { } hash } view
            && (IsRecovering || view.MyValues is not null)
            && CryptographicOperations.FixedTimeEquals(hash, p.Value));
    }

    /// <summary>Agreement decided B: answer r now, or once the decided blindings arrive.</summary>
    public void OnHelperSetDecided(ProtocolContext context, byte[] encodedSet, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(encodedSet);
        ArgumentNullException.ThrowIfNull(outbox);
        if (IsRecovering || IsFinished || _decided is not null)
        {
            return;
        }

        if (!QualifiedSetCodec.TryDecode(encodedSet, _group, _n, out var set) || set.Count < _t + 1 || set.ContainsKey(_recovering))
        {
            Alert(outbox, AlertType.MalformedMessage, 0, "the decided helper set is not a valid blinding set", encodedSet);
            return;
        }

        _decided = set;
        Move(RecoveryStatus.AwaitingDecidedBlindings);
        outbox.SetTimer(AnswerDeadlineTimer, context.Now + _timeouts.AnswerWindow);
        TryAnswer(outbox);
    }

    public void Dispose()
    {
        Wipe();
        _recovered?.Dispose();
        _recovered = null;
    }

    // ---- Helper side -------------------------------------------------------------------------

    /// <summary>g_k(x) = p_k(x) - p_k(r) for random p_k of degree t: uniform among degree-t polynomials vanishing at r.</summary>
    private void DealBlinding(ProtocolContext context, Outbox outbox)
    {
        var m = _publicState.SecretCount;
        var width = _t + 1;
        var r = _group.FromUInt64((ulong)_recovering);
        var coefficients = GC.AllocateArray<Scalar>(m * width, pinned: true);
        var values = GC.AllocateArray<Scalar>(m, pinned: true);
        var messages = new byte[_n][];
        try
        {
            for (var k = 0; k < m; k++)
            {
                var row = coefficients.AsSpan(k * width, width);
                for (var l = 0; l < width; l++)
                {
                    row[l] = _group.RandomScalar(context.Random);
                }

                row[0] = _group.Subtract(row[0], Horner(row, r));
            }

            var hashes = new byte[_n][];
            for (var j = 1; j <= _n; j++)
            {
                if (j == _recovering)
                {
                    hashes[j - 1] = new byte[RefreshTranscript.HashLength];
                    continue;
                }

                var x = _group.FromUInt64((ulong)j);
                for (var k = 0; k < m; k++)
                {
                    values[k] = Horner(coefficients.AsSpan(k * width, width), x);
                }

                messages[j - 1] = SubShareVectorCodec.Encode(_group, j, values);
                hashes[j - 1] = RecoveryBlindingCommitments.SubSharesHash(Instance, _self, messages[j - 1]);
            }

            var binding = RecoveryBlindingCommitments.EncodeBinding(_group, _recovering, hashes);
            var rho = RecoveryBlindingCommitments.Challenge(_group, Instance, _self, binding);
            var combined = GC.AllocateArray<Scalar>(width, pinned: true);
            var column = GC.AllocateArray<Scalar>(m, pinned: true);
            FeldmanCommitment commitment;
            try
            {
                for (var l = 0; l < width; l++)
                {
                    for (var k = 0; k < m; k++)
                    {
                        column[k] = coefficients[(k * width) + l];
                    }

                    combined[l] = CombinedShareCheck.Combine(_group, rho, column);
                }

                using var polynomial = Polynomial.FromCoefficients(_group, combined);
                commitment = polynomial.CommitFeldman();
            }
            finally
            {
                SubShareVectorCodec.Wipe(combined);
                SubShareVectorCodec.Wipe(column);
            }

            for (var j = 1; j <= _n; j++)
            {
                if (j != _recovering)
                {
                    outbox.Send(j, 0, RecoveryWire.BlindingRound, RecoveryWire.BlindingSubSharesType, messages[j - 1], confidential: true);
                }
            }

            outbox.Broadcast(0, RecoveryWire.BlindingRound, RecoveryWire.BlindingCommitmentsType, RecoveryBlindingCommitments.Encode(binding, commitment));
        }
        finally
        {
            SubShareVectorCodec.Wipe(coefficients);
            SubShareVectorCodec.Wipe(values);
        }
    }

    private void OnBlindingSubShares(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        var view = _helpers[message.Sender - 1];
        if (!message.Confidential || view.SubSharesMessage is not null)
        {
            if (!message.Confidential)
            {
                Alert(outbox, AlertType.MalformedMessage, message.Sender, "blinding sub-shares sent in the clear", message.Signed);
            }

            return;
        }

        view.SubSharesMessage = message.Payload.ToArray();
        view.SubSharesEnvelope = message.Signed.ToArray();
        Verify(context, message.Sender, outbox);
    }

    private void OnBlindingCommitments(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        var view = _helpers[message.Sender - 1];
        if (view.CommitmentsMessage is not null)
        {
            if (!view.CommitmentsMessage.AsSpan().SequenceEqual(message.Payload.Span))
            {
                Alert(outbox, AlertType.Equivocation, message.Sender, "two different blinding commitments", message.Signed);
            }

            return;
        }

        view.CommitmentsMessage = message.Payload.ToArray();
        view.CommitmentsEnvelope = message.Signed.ToArray();
        if (!RecoveryBlindingCommitments.TryDecode(message.Payload.Span, _group, out var commitments))
        {
            view.Rejected = true;
            Alert(outbox, AlertType.MalformedMessage, message.Sender, "blinding commitments do not decode", message.Signed);
            return;
        }

        // The combined blinding polynomial must have degree t and vanish at r (else it would move r's share).
        if (commitments.Recovering != _recovering || commitments.RecipientHashes.Count != _n || commitments.CombinedCommitment.Degree != _t
            || !_group.IsIdentity(commitments.CombinedCommitment.EvaluateInExponent(_group.FromUInt64((ulong)_recovering))))
        {
            view.Rejected = true;
            Alert(outbox, AlertType.InvalidCommitment, message.Sender, "blinding commitments: wrong shape, or the combined polynomial does not vanish at r", message.Signed);
            return;
        }

        view.Commitments = commitments;
        view.DealingHash = RecoveryBlindingCommitments.DealingHash(Instance, message.Sender, message.Payload.Span);
        view.Challenge = RecoveryBlindingCommitments.Challenge(_group, Instance, message.Sender, message.Payload.Span[..commitments.BindingLength]);
        if (IsRecovering)
        {
            var seen = Enumerable.Range(1, _n).Count(h => h != _recovering && _helpers[h - 1].Commitments is not null);
            if (seen == _n - 1)
            {
                ProposeAsRecovering(outbox);
            }

            return;
        }

        Verify(context, message.Sender, outbox);
    }

    /// <summary>Recovering server: propose every helper whose blinding commitments passed their public checks here (a valid set has at least t+1).</summary>
    private void ProposeAsRecovering(Outbox outbox)
    {
        var good = Enumerable.Range(1, _n)
            .Where(h => h != _recovering && _helpers[h - 1] is { Commitments: not null, Rejected: false })
            .Select(h => KeyValuePair.Create(h, _helpers[h - 1].DealingHash!))
            .ToArray();
        if (!_proposed)
        {
            // Even with fewer than t+1 (nobody accepts that set): the proposal starts this server's agreement instance, so it votes.
            _proposed = true;
            outbox.Emit(new RecoveryHelperSetProposal(Instance, QualifiedSetCodec.Encode(_group, good)));
        }
    }

    /// <summary>The blinding vector matches its hash and the combined check sum_k rho^k g_k(self) against the combined commitment.</summary>
    private void Verify(ProtocolContext context, int helper, Outbox outbox)
    {
        var view = _helpers[helper - 1];
        if (view.Commitments is null || view.SubSharesMessage is null || view.MyValues is not null || view.Rejected)
        {
            return;
        }

        var ok = SubShareVectorCodec.TryDecode(view.SubSharesMessage, _group, out var to, out var values)
            && to == _self && values.Length == _publicState.SecretCount
            && CryptographicOperations.FixedTimeEquals(RecoveryBlindingCommitments.SubSharesHash(Instance, helper, view.SubSharesMessage), view.Commitments.RecipientHashes[_self - 1])
            && view.Commitments.CombinedCommitment.VerifyShare(_self, CombinedShareCheck.Combine(_group, view.Challenge, values));
        if (!ok)
        {
            SubShareVectorCodec.Wipe(values);
            view.Rejected = true;
            Alert(outbox, AlertType.InvalidShare, helper, "blinding sub-shares fail their hash or the combined check", view.SubSharesEnvelope);
            return;
        }

        view.MyValues = values;
        var verified = Enumerable.Range(1, _n).Count(h => h != _recovering && _helpers[h - 1].MyValues is not null);
        if (Status == RecoveryStatus.Blinding && verified == _n - 1)
        {
            Propose(outbox); // everyone's blinding is here: no need to wait for the deadline
        }
    }

    /// <summary>Blinding -> AwaitingDecision: propose every helper whose blinding verified here (a valid set has at least t+1).</summary>
    private void Propose(Outbox outbox)
    {
        Move(RecoveryStatus.AwaitingDecision);
        var good = Enumerable.Range(1, _n)
            .Where(h => h != _recovering && _helpers[h - 1].MyValues is not null)
            .Select(h => KeyValuePair.Create(h, _helpers[h - 1].DealingHash!))
            .ToArray();
        if (!_proposed)
        {
            // Even with fewer than t+1 (nobody accepts that set): the proposal starts this server's agreement instance, so it votes.
            _proposed = true;
            outbox.Emit(new RecoveryHelperSetProposal(Instance, QualifiedSetCodec.Encode(_group, good)));
        }
    }

    /// <summary>AwaitingDecidedBlindings -> Answered: send r the vector s_kj + sum_{h in B} g_hk(j).</summary>
    private void TryAnswer(Outbox outbox)
    {
        foreach (var (helper, hash) in _decided!)
        {
            var view = _helpers[helper - 1];
            if (view.DealingHash is not null && !CryptographicOperations.FixedTimeEquals(view.DealingHash, hash))
            {
                Alert(outbox, AlertType.InvalidCommitment, helper, "blinding commitments seen here differ from the decided ones", view.CommitmentsEnvelope);
                Move(RecoveryStatus.Failed);
                Wipe();
                return;
            }

            if (view.MyValues is null)
            {
                return;
            }
        }

        var m = _publicState.SecretCount;
        var blinded = GC.AllocateArray<Scalar>(m, pinned: true);
        try
        {
            _ownShares!.Values.CopyTo(blinded);
            foreach (var helper in _decided.Keys)
            {
                var g = _helpers[helper - 1].MyValues!;
                for (var k = 0; k < m; k++)
                {
                    blinded[k] = _group.Add(blinded[k], g[k]);
                }
            }

            outbox.Send(_recovering, 0, RecoveryWire.AnswerRound, RecoveryWire.BlindedSharesType, SubShareVectorCodec.Encode(_group, _recovering, blinded), confidential: true);
        }
        finally
        {
            SubShareVectorCodec.Wipe(blinded);
        }

        Move(RecoveryStatus.Answered);
        outbox.Emit(new RecoveryHelped(Instance, _recovering));
        Wipe();
    }

    // ---- Recovering side ---------------------------------------------------------------------

    private void OnAnswer(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        var view = _helpers[message.Sender - 1];
        if (view.Answer is not null)
        {
            return;
        }

        if (!message.Confidential
            || !SubShareVectorCodec.TryDecode(message.Payload.Span, _group, out var to, out var values)
            || to != _self || values.Length != _publicState.SecretCount)
        {
            Alert(outbox, AlertType.MalformedMessage, message.Sender, "blinded shares do not decode or are not for this server", message.Signed);
            return;
        }

        view.Answer = values;
        view.CombinedAnswer = CombinedShareCheck.Combine(_group, _answerWeight, values);
        TryRecover(outbox);
    }

    /// <summary>
    /// Tries (t+1)-subsets of the answers (at most <see cref="MaxCandidateSubsets"/>): interpolates every
    /// secret at r and accepts the first candidate that matches the commitments and the digest.
    /// </summary>
    private void TryRecover(Outbox outbox)
    {
        var answered = Enumerable.Range(1, _n).Where(h => _helpers[h - 1].Answer is not null).ToArray();
        if (answered.Length < _t + 1)
        {
            return;
        }

        var m = _publicState.SecretCount;
        var r = _group.FromUInt64((ulong)_recovering);
        var candidate = GC.AllocateArray<Scalar>(m, pinned: true);
        var tried = 0;
        foreach (var subset in Subsets(answered, _t + 1))
        {
            if (tried++ == MaxCandidateSubsets)
            {
                break;
            }

            var xs = subset.Select(h => _group.FromUInt64((ulong)h)).ToArray();
            var lambdas = Lagrange.Coefficients(_group, xs, r);
            for (var k = 0; k < m; k++)
            {
                var value = _group.Zero;
                for (var i = 0; i < subset.Length; i++)
                {
                    value = _group.Add(value, _group.Multiply(lambdas[i], _helpers[subset[i] - 1].Answer![k]));
                }

                candidate[k] = value;
            }

            if (!Matches(candidate))
            {
                continue;
            }

            // Data keys without a digest: the candidate must be the polynomial of t + 1 + f answers.
            if (_recordedDigest is null && _publicState.DataKeyCount > 0
                && answered.Count(h => subset.Contains(h) || OnPolynomial(subset, h)) < _t + 1 + _f)
            {
                continue;
            }

            // Name the helpers whose combined answer is off the accepted combined polynomial.
            var wrong = answered.Where(h => !subset.Contains(h) && !OnPolynomial(subset, h)).ToArray();
            foreach (var h in wrong)
            {
                Alert(outbox, AlertType.InvalidShare, h, "blinded shares off the polynomial the recovered shares were checked on", ReadOnlyMemory<byte>.Empty);
            }

            var recovered = ShareVector.Own(_group, _self, candidate);
            outbox.Persist(SharesPersistKey, recovered.Encode());
            _recovered = recovered;
            Move(RecoveryStatus.Recovered);
            outbox.Emit(new ShareRecovered(Instance, subset, wrong));
            Wipe();
            return;
        }

        SubShareVectorCodec.Wipe(candidate);
    }

    private bool Matches(Scalar[] candidate)
    {
        for (var k = 0; k < _publicState.SigningKeyCount; k++)
        {
            if (!_publicState.SigningKeyCommitments[k].VerifyShare(_self, candidate[k]))
            {
                return false;
            }
        }

        return _recordedDigest is null || _recordedDigest.Matches(_group, _self, candidate);
    }

    /// <summary>Is helper h's combined answer on the degree-t polynomial through the subset's combined answers?</summary>
    private bool OnPolynomial(int[] subset, int helper)
    {
        var xs = subset.Select(h => _group.FromUInt64((ulong)h)).ToArray();
        var lambdas = Lagrange.Coefficients(_group, xs, _group.FromUInt64((ulong)helper));
        var expected = _group.Zero;
        for (var i = 0; i < subset.Length; i++)
        {
            expected = _group.Add(expected, _group.Multiply(lambdas[i], _helpers[subset[i] - 1].CombinedAnswer));
        }

        return expected == _helpers[helper - 1].CombinedAnswer;
    }

    private static IEnumerable<int[]> Subsets(int[] items, int size)
    {
        var index = Enumerable.Range(0, size).ToArray();
        while (true)
        {
            yield return index.Select(i => items[i]).ToArray();
            var p = size - 1;
            while (p >= 0 && index[p] == items.Length - size + p)
            {
                p--;
            }

            if (p < 0)
            {
                yield break;
            }

            index[p]++;
            for (var q = p + 1; q < size; q++)
            {
                index[q] = index[q - 1] + 1;
            }
        }
    }

    // ---- Helpers -----------------------------------------------------------------------------

    private Scalar Horner(ReadOnlySpan<Scalar> coefficients, Scalar x)
    {
        var value = coefficients[^1];
        for (var l = coefficients.Length - 2; l >= 0; l--)
        {
            value = _group.Add(_group.Multiply(value, x), coefficients[l]);
        }

        return value;
    }

    private void Alert(Outbox outbox, AlertType type, int culprit, string detail, ReadOnlyMemory<byte> evidence) =>
        outbox.Emit(new Alert(type, culprit, Instance.Period, Instance, detail, evidence.ToArray()));

    private void Move(RecoveryStatus next)
    {
        if (!ValidTransitions[Status].Contains(next))
        {
            throw new InvalidOperationException($"Share recovery cannot go from {Status} to {next}.");
        }

        Status = next;
    }

    private void Wipe()
    {
        foreach (var h in _helpers)
        {
            SubShareVectorCodec.Wipe(h.MyValues);
            SubShareVectorCodec.Wipe(h.Answer);
            if (h.SubSharesMessage is not null)
            {
                CryptographicOperations.ZeroMemory(h.SubSharesMessage);
            }
        }
    }

    private sealed class HelperView
    {
        public byte[]? CommitmentsMessage { get; set; }

        public byte[]? CommitmentsEnvelope { get; set; }

        public RecoveryBlindingCommitments? Commitments { get; set; }

        public byte[]? DealingHash { get; set; }

        public Scalar Challenge { get; set; }

        public byte[]? SubSharesMessage { get; set; }

        public byte[]? SubSharesEnvelope { get; set; }

        public bool Rejected { get; set; }

        /// <summary>Helper side: g_hk(self), verified.</summary>
        public Scalar[]? MyValues { get; set; }

        /// <summary>Recovering side: helper h's blinded vector.</summary>
        public Scalar[]? Answer { get; set; }

        public Scalar CombinedAnswer { get; set; }
    }
}
