// References: Herzberg, Jarecki, Krawczyk, Yung, "Proactive Secret Sharing Or: How to Cope With
// Perpetual Leakage", CRYPTO 1995, section 3.2 (share renewal: zero-constant dealings, Feldman
// verification, accusations answered in the clear - here only accusations of an INVALID dealing; a
// missing one is answered by a confidential re-send, as in the DKG's fix); seed 002 (Numao, IBM RT0280) section 2
// "Share Update" and section 4.4; docs/BRIEF.md section 3 "Refresh", "Refresh at scale: design notes"
// and "Broadcast and agreement"; docs/PROTOCOLS.md "Refresh" (the soundness argument of the batched check).
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Refresh;

/// <summary>Where a refresh instance is. Transitions: see <see cref="RefreshMachine.ValidTransitions"/>.</summary>
public enum RefreshStatus
{
    /// <summary>Constructed; <see cref="RefreshMachine.Start"/> not yet called (messages are already accepted).</summary>
    Created,

    /// <summary>Dealt; collecting the other dealers' sub-shares and commitments until the dealing deadline.</summary>
    Dealing,

    /// <summary>Complaints sent for missing or bad dealings; waiting for confidential re-sends (Missing) and public reveals (Invalid).</summary>
    ResolvingComplaints,

    /// <summary>Proposed a qualified set; waiting for agreement to decide one.</summary>
    AwaitingDecision,

    /// <summary>A set was decided but a dealing (or a re-send or reveal) it needs has not arrived here yet.</summary>
    AwaitingDecidedDealings,

    /// <summary>Final: new shares persisted, <see cref="RefreshCompleted"/> emitted.</summary>
    Completed,

    /// <summary>Final: the network refreshed but this server could not; <see cref="RefreshSharesLost"/> emitted (run share recovery).</summary>
    SharesLost,
}

/// <summary>Progress deadlines (never safety: a late message only delays or excludes its sender).</summary>
/// <param name="DealingWindow">From Start until missing dealings are complained about.</param>
/// <param name="ComplaintWindow">From then until unanswered complaints disqualify and the qualified set is proposed.</param>
/// <param name="DecidedDealingWindow">After a decision, how long to wait for a decided dealing that has not arrived.</param>
public sealed record RefreshTimeouts(TimeSpan DealingWindow, TimeSpan ComplaintWindow, TimeSpan DecidedDealingWindow)
{
    /// <summary>Defaults for the local cluster (periods of 30 s).</summary>
    public static RefreshTimeouts Default { get; } = new(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10));
}

/// <summary>
/// Proactive refresh of every long-lived secret of the network in one run (HJKY95 share renewal,
/// batched as in BRIEF "Refresh at scale"). Each server deals, for every secret k, a degree-t
/// polynomial delta_k with delta_k(0) = 0 and sends server j all its sub-shares delta_k(j) in ONE
/// confidential message; it broadcasts Feldman commitments for the signing-key dealings, a hash of
/// each confidential message, and the commitment to the combined data-key polynomial
/// sum_k rho^k delta_k with rho derived from those hashes. Each server checks every dealer with one
/// batched Feldman check (signing keys) and one combined check (all data keys), and complains about
/// bad or missing dealings with a reason (<see cref="RefreshComplaintReason"/>): for Invalid the
/// accused dealer reveals the complainer's message in the clear (HJKY95; the dealer is faulty, so
/// nothing new leaks), for Missing it re-sends the same committed message CONFIDENTIALLY to the
/// complainer, who checks it like the original (a bad one becomes an Invalid complaint). A missing
/// message is a timing event: revealing it would give the adversary delta_i(j) of honest dealers and,
/// with j's share of the period before, j's new share; timing must never matter for safety. A dealer
/// whose message is missing here is not qualified in this server's view until it arrives, never
/// disqualified for cause. Complaints are signed with the complainer's period key
/// (<see cref="RefreshComplaint"/>), and every server that learns a valid Invalid complaint, directly
/// or relayed, echoes it once (<see cref="RefreshWire.ComplaintEchoType"/>): a complaint shown to some
/// servers only still reaches every honest server and the dealer, so honest views cannot be split
/// (docs/PROTOCOLS.md "Refresh", echo and timeline). An unanswered Invalid complaint at the reveal
/// deadline excludes the dealer for now; a late good reveal re-qualifies it and the proposal is
/// emitted again. The
/// qualified set is decided by agreement (driven outside: <see cref="RefreshQualifiedSetProposal"/>,
/// <see cref="IsAcceptableQualifiedSet"/>, <see cref="OnQualifiedSetDecided"/>). Then
/// s'_k = s_k + sum_{i in QUAL} delta_ik(j), the signing-key commitments become old + sum of the
/// qualified dealings (C_0, the public keys, unchanged), and the new vector is persisted first.
/// </summary>
/// <remarks>
/// The machine does not own the old <see cref="ShareVector"/> (the driver erases it after the commit);
/// it owns the new one until <see cref="TakeNewShares"/>. Dispose wipes everything secret it holds.
/// </remarks>
public sealed class RefreshMachine : IProtocolMachine, IDisposable
{
    /// <summary>Timer: the dealing window is over.</summary>
    public const int DealingDeadlineTimer = 1;

    /// <summary>Timer: the complaint window is over (the first proposal).</summary>
    public const int RevealDeadlineTimer = 2;

    /// <summary>Timer: a decided dealing did not arrive in time.</summary>
    public const int DecidedDealingDeadlineTimer = 3;

    /// <summary>The transitions this machine makes; anything else is a bug.</summary>
    public static readonly IReadOnlyDictionary<RefreshStatus, RefreshStatus[]> ValidTransitions = new Dictionary<RefreshStatus, RefreshStatus[]>
    {
        [RefreshStatus.Created] = [RefreshStatus.Dealing, RefreshStatus.AwaitingDecision],
        [RefreshStatus.Dealing] = [RefreshStatus.ResolvingComplaints, RefreshStatus.AwaitingDecidedDealings, RefreshStatus.Completed, RefreshStatus.SharesLost],
        [RefreshStatus.ResolvingComplaints] = [RefreshStatus.AwaitingDecision, RefreshStatus.AwaitingDecidedDealings, RefreshStatus.Completed, RefreshStatus.SharesLost],
        [RefreshStatus.AwaitingDecision] = [RefreshStatus.AwaitingDecidedDealings, RefreshStatus.Completed, RefreshStatus.SharesLost],
        [RefreshStatus.AwaitingDecidedDealings] = [RefreshStatus.Completed, RefreshStatus.SharesLost],
        [RefreshStatus.Completed] = [],
        [RefreshStatus.SharesLost] = [],
    };

    private readonly RefreshPublicState _publicState;
    private readonly ShareVector _oldShares;
    private readonly ShareVectorDigest? _recordedDigest;
    private readonly RefreshTimeouts _timeouts;
    private readonly RefreshDealerFaults? _faults;
    private readonly PrimeOrderGroup _group;
    private readonly int _self;
    private readonly int _n;
    private readonly int _t;
    private readonly DealerView[] _dealers;
    private byte[][]? _sentSubShares;
    private bool _ownSharesCorrupt;
    private SortedDictionary<int, byte[]>? _decided;
    private ShareVector? _newShares;
    private readonly HashSet<(int Requester, int Dealer)> _answered = [];
    private readonly HashSet<int> _requested = [];
    private readonly bool _late;
    private readonly Ed25519PrivateKey? _signingKey;
    private readonly Func<int, Ed25519PublicKey?>? _publicKeys;
    private readonly byte[] _instanceContext;
    private byte[]? _lastProposal;

    /// <summary>
    /// A refresh at server <paramref name="self"/> of the secrets in <paramref name="publicState"/>,
    /// starting from <paramref name="oldShares"/> (checked against the signing-key commitments and
    /// against <paramref name="recordedDigest"/>, this server's digest from the signed period root,
    /// when given).
    /// </summary>
    /// <param name="instance">The refresh run (protocol <see cref="ProtocolKind.Refresh"/>).</param>
    /// <param name="parameters">n, t and f.</param>
    /// <param name="self">This server's id.</param>
    /// <param name="publicState">The group, the number of secrets and the signing-key commitments before this refresh.</param>
    /// <param name="oldShares">This server's shares before this refresh (not owned: the driver erases them after the commit).</param>
    /// <param name="signingKey">This server's period Ed25519 key (the caller keeps ownership): it signs this server's complaints, which others echo.</param>
    /// <param name="publicKeys">Every server's period Ed25519 public key by id (null when unknown): checks signed complaints, direct or echoed.</param>
    /// <param name="instanceContext">Bytes that name this instance network-wide (the controller passes
    /// <c>AgreementWiring.InstanceContext</c>, which holds the network id); every complaint signature binds them.</param>
    /// <param name="recordedDigest">This server's digest from the signed period root, when known.</param>
    /// <param name="timeouts">Deadlines; <see cref="RefreshTimeouts.Default"/> when null.</param>
    public RefreshMachine(
        InstanceId instance, ClusterParameters parameters, int self, RefreshPublicState publicState, ShareVector oldShares,
        Ed25519PrivateKey signingKey, Func<int, Ed25519PublicKey?> publicKeys, ReadOnlySpan<byte> instanceContext,
        ShareVectorDigest? recordedDigest = null, RefreshTimeouts? timeouts = null)
        : this(instance, parameters, self, publicState, oldShares, signingKey, publicKeys, instanceContext, recordedDigest, timeouts, faults: null)
    {
    }

    internal RefreshMachine(
        InstanceId instance, ClusterParameters parameters, int self, RefreshPublicState publicState, ShareVector oldShares,
        Ed25519PrivateKey signingKey, Func<int, Ed25519PublicKey?> publicKeys, ReadOnlySpan<byte> instanceContext,
        ShareVectorDigest? recordedDigest, RefreshTimeouts? timeouts, RefreshDealerFaults? faults)
        : this(instance, parameters, self, publicState, oldShares, recordedDigest, timeouts, faults, late: false, instanceContext)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        ArgumentNullException.ThrowIfNull(publicKeys);
        if (!signingKey.PublicKey.Equals(publicKeys(self)))
        {
            throw new ArgumentException("The signing key is not the one publicKeys lists for this server.", nameof(signingKey));
        }

        _signingKey = signingKey;
        _publicKeys = publicKeys;
    }

    private RefreshMachine(
        InstanceId instance, ClusterParameters parameters, int self, RefreshPublicState publicState, ShareVector oldShares,
        ShareVectorDigest? recordedDigest, RefreshTimeouts? timeouts, RefreshDealerFaults? faults, bool late, ReadOnlySpan<byte> instanceContext)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(publicState);
        ArgumentNullException.ThrowIfNull(oldShares);
        if (instance.Protocol != ProtocolKind.Refresh)
        {
            throw new ArgumentException("A refresh machine runs a Refresh instance.", nameof(instance));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(self, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(self, parameters.ServerCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(instanceContext.Length, RefreshComplaint.MaxInstanceContextLength, nameof(instanceContext));
        if (oldShares.Index != self || oldShares.Count != publicState.SecretCount || oldShares.Group.Id != publicState.Group.Id)
        {
            throw new ArgumentException("The share vector must be this server's, in the state's group, one share per secret.", nameof(oldShares));
        }

        if (publicState.SigningKeyCount > 0 && publicState.SigningKeyCommitments[0].Degree != parameters.Threshold)
        {
            throw new ArgumentException("The signing-key commitments must have degree t.", nameof(publicState));
        }

        Instance = instance;
        _publicState = publicState;
        _oldShares = oldShares;
        _recordedDigest = recordedDigest;
        _timeouts = timeouts ?? RefreshTimeouts.Default;
        _faults = faults;
        _late = late;
        _instanceContext = instanceContext.ToArray();
        _group = publicState.Group;
        _self = self;
        _n = parameters.ServerCount;
        _t = parameters.Threshold;
        _dealers = new DealerView[_n];
        for (var i = 0; i < _n; i++)
        {
            _dealers[i] = new DealerView();
        }
    }

    /// <inheritdoc />
    public InstanceId Instance { get; }

    /// <summary>Where the instance is.</summary>
    public RefreshStatus Status { get; private set; } = RefreshStatus.Created;

    /// <summary>
    /// This server could not build the vector's layout for this refresh (its application state is behind,
    /// or it lacks a key that joins now): a dealing with another number of parts is then its own
    /// uncertainty, not evidence against the dealer, so it is left out without an alert (the servers that
    /// know the layout judge it; this server's shares are recovered after the refresh).
    /// </summary>
    public bool LayoutMayBeStale { get; init; }

    /// <inheritdoc />
    public bool IsFinished => Status is RefreshStatus.Completed or RefreshStatus.SharesLost;

    /// <summary>The durable key of the new share vector (<see cref="ShareVector.Encode"/>), persisted before anything else.</summary>
    public string SharesPersistKey => $"refresh/{Instance.Period}/{Instance.Sequence}/shares";

    /// <summary>The durable key of the new public state (<see cref="RefreshPublicState.Encode"/>).</summary>
    public string PublicStatePersistKey => $"refresh/{Instance.Period}/{Instance.Sequence}/public-state";

    /// <summary>The durable key of this server's new digest (<see cref="ShareVectorDigest.Encode"/>).</summary>
    public string DigestPersistKey => $"refresh/{Instance.Period}/{Instance.Sequence}/digest";

    /// <summary>Dealers disqualified in this server's view (public faults, bad reveals); a dealer whose reveal is merely missing is excluded for now, not listed.</summary>
    public IReadOnlyList<int> DisqualifiedDealers =>
        Enumerable.Range(1, _n).Where(i => _dealers[i - 1].Disqualified).ToArray();

    /// <summary>
    /// Hands over the new share vector after <see cref="RefreshCompleted"/> (once; the caller owns and
    /// disposes it). Null before the commit or after it was taken.
    /// </summary>
    public ShareVector? TakeNewShares()
    {
        var shares = _newShares;
        _newShares = null;
        return shares;
    }

    /// <summary>
    /// A server that was down for the whole refresh <paramref name="instance"/> (it holds the shares of
    /// the period before, disk intact) applies it afterwards: it does not deal or judge; it joins the
    /// refresh's agreement only to obtain its certificate (a peer that decided answers any vote with
    /// it), then catches up on every decided dealing exactly as a server that missed one does
    /// (relayed commitments checked against the decided hash, the dealer's re-sent sub-shares checked
    /// against them) and commits. Dealers retain their dealings until the next refresh commits, so
    /// this works while the network is in the following period, before its refresh commits.
    /// Transitions: Created -> AwaitingDecision -> AwaitingDecidedDealings -> Completed | SharesLost
    /// (no certificate or dealing within <see cref="RefreshTimeouts.DecidedDealingWindow"/> each).
    /// docs/PROTOCOLS.md "Refresh", "Catching up a missed refresh".
    /// </summary>
    /// <remarks><paramref name="ownSubShares"/>: what this server persisted under <see cref="OwnSubSharesPersistKeyOf"/>
    /// if it dealt before it went down (needed when its own dealing was decided); checked like any dealing.</remarks>
    public static RefreshMachine ForMissedRefresh(
        InstanceId instance, ClusterParameters parameters, int self, RefreshPublicState publicState, ShareVector oldShares,
        ShareVectorDigest? recordedDigest = null, RefreshTimeouts? timeouts = null, byte[]? ownSubShares = null)
    {
        // No key: a late machine neither complains nor judges complaints (it ignores them), so it signs nothing.
        var machine = new RefreshMachine(instance, parameters, self, publicState, oldShares, recordedDigest, timeouts, faults: null, late: true, instanceContext: []);
        machine._dealers[self - 1].SubSharesMessage = ownSubShares?.ToArray();
        return machine;
    }

    /// <summary>The durable key of this server's sub-share message to itself in <paramref name="instance"/> (SECRET).</summary>
    public static string OwnSubSharesPersistKeyOf(InstanceId instance) => $"refresh/{instance.Period}/{instance.Sequence}/own-sub-shares";

    /// <summary>True for a machine built by <see cref="ForMissedRefresh"/>.</summary>
    public bool IsMissedRefresh => _late;

    /// <summary>Created -> Dealing: check the old shares, deal, broadcast the commitments, set the dealing deadline (missed refresh: Created -> AwaitingDecision).</summary>
    public void Start(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (Status != RefreshStatus.Created)
        {
            throw new InvalidOperationException($"Start in {Status}.");
        }

        CheckOwnShares(outbox);
        if (_late)
        {
            // No dealing, no judging: an empty proposal starts this server's agreement instance, whose
            // votes draw the decided certificate from the peers; it accepts no value itself.
            Move(RefreshStatus.AwaitingDecision);
            outbox.SetTimer(DecidedDealingDeadlineTimer, context.Now + _timeouts.DecidedDealingWindow);
            outbox.Emit(new RefreshQualifiedSetProposal(Instance, QualifiedSetCodec.Encode(_group, [])));
            return;
        }

        Deal(context, outbox);
        Move(RefreshStatus.Dealing);
        outbox.SetTimer(DealingDeadlineTimer, context.Now + _timeouts.DealingWindow);
    }

    /// <inheritdoc />
    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(outbox);
        if (message.Sender < 1 || message.Sender > _n)
        {
            Alert(outbox, AlertType.MalformedMessage, 0, $"sender {message.Sender} is not a server", message.Signed);
            return;
        }

        if ((message.Round, message.Type) == (RefreshWire.CatchUpRound, RefreshWire.DealingRequestType))
        {
            OnDealingRequest(message, outbox); // answered in every state, finished included: that is what catch-up needs
            return;
        }

        if (IsFinished)
        {
            return;
        }

        switch ((message.Round, message.Type))
        {
            case (RefreshWire.DealingRound, RefreshWire.SubSharesType):
                OnSubShares(context, message, outbox);
                break;
            case (RefreshWire.DealingRound, RefreshWire.DealingCommitmentsType):
                OnDealingCommitments(context, message, outbox);
                break;
            case (RefreshWire.ComplaintRound, RefreshWire.ComplaintType):
                OnComplaint(message, outbox);
                break;
            case (RefreshWire.ComplaintRound, RefreshWire.ComplaintEchoType):
                OnComplaintEcho(message, outbox);
                break;
            case (RefreshWire.RevealRound, RefreshWire.RevealType):
                OnReveal(context, message, outbox);
                break;
            case (RefreshWire.CatchUpRound, RefreshWire.RelayedCommitmentsType):
                OnRelayedCommitments(context, message, outbox);
                break;
            default:
                Alert(outbox, AlertType.MalformedMessage, message.Sender, $"unknown round {message.Round} type {message.Type}", message.Signed);
                break;
        }

        if (Status == RefreshStatus.AwaitingDecidedDealings)
        {
            TryCommit(context, outbox);
        }
        else if (Status == RefreshStatus.AwaitingDecision)
        {
            ProposeIfChanged(outbox); // a late reveal, re-send or dealing can make a dealer acceptable here again
        }
    }

    /// <inheritdoc />
    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        switch (timerId)
        {
            case DealingDeadlineTimer when Status == RefreshStatus.Dealing:
                OnDealingDeadline(context, outbox);
                break;
            case RevealDeadlineTimer when Status == RefreshStatus.ResolvingComplaints:
                OnRevealDeadline(outbox);
                break;
            case DecidedDealingDeadlineTimer when Status == RefreshStatus.AwaitingDecision && _late:
                LoseShares(outbox, null, "no certificate of the missed refresh's qualified set arrived in time");
                break;
            case DecidedDealingDeadlineTimer when Status == RefreshStatus.AwaitingDecidedDealings:
                var missing = _decided!.Keys.Where(i => _dealers[i - 1].MyValues is null).ToArray();
                LoseShares(outbox, ComputeNewStateIfPossible(), $"decided dealings never verified here, from dealers {string.Join(", ", missing)}");
                break;
            default:
                break; // a stale timer of an earlier state
        }
    }

    /// <summary>
    /// Agreement's validity predicate: true when this server would commit with <paramref name="encodedSet"/>:
    /// at least t+1 dealers (so at least one whose polynomials the adversary never read), each with the
    /// same dealing commitments as seen here, not disqualified here, every Invalid complaint against it answered
    /// with a good reveal, and a verified sub-share vector for this server. Never throws.
    /// </summary>
    public bool IsAcceptableQualifiedSet(byte[] encodedSet)
    {
        ArgumentNullException.ThrowIfNull(encodedSet);
        if (_late || !QualifiedSetCodec.TryDecode(encodedSet, _group, _n, out var set) || set.Count < _t + 1)
        {
            return false;
        }

        foreach (var (dealer, hash) in set)
        {
            var view = _dealers[dealer - 1];
            if (!IsAcceptable(view) || !CryptographicOperations.FixedTimeEquals(view.DealingHash!, hash))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Agreement decided <paramref name="encodedSet"/> (certified by n-f servers): commit now, or as
    /// soon as the decided dealings this server still lacks arrive.
    /// </summary>
    public void OnQualifiedSetDecided(ProtocolContext context, byte[] encodedSet, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(encodedSet);
        ArgumentNullException.ThrowIfNull(outbox);
        if (IsFinished || _decided is not null)
        {
            return;
        }

        if (!QualifiedSetCodec.TryDecode(encodedSet, _group, _n, out var set) || set.Count == 0)
        {
            Alert(outbox, AlertType.MalformedMessage, 0, "the decided qualified set does not decode", encodedSet);
            return;
        }

        _decided = set;
        Move(RefreshStatus.AwaitingDecidedDealings);
        outbox.SetTimer(DecidedDealingDeadlineTimer, context.Now + _timeouts.DecidedDealingWindow);
        TryCommit(context, outbox);
    }

    public void Dispose()
    {
        foreach (var d in _dealers)
        {
            d.Wipe();
        }

        WipeSent();
        _newShares?.Dispose();
        _newShares = null;
    }

    // ---- Start -------------------------------------------------------------------------------

    private void CheckOwnShares(Outbox outbox)
    {
        var shares = _oldShares.Values;
        for (var k = 0; k < _publicState.SigningKeyCount; k++)
        {
            if (!_publicState.SigningKeyCommitments[k].VerifyShare(_self, shares[k]))
            {
                _ownSharesCorrupt = true;
            }
        }

        if (_recordedDigest is not null && !_recordedDigest.Matches(_oldShares))
        {
            _ownSharesCorrupt = true;
        }

        if (_ownSharesCorrupt)
        {
            Alert(outbox, AlertType.CorruptedShares, _self, "the stored shares do not match the public commitments or the recorded digest; dealing only, recovery needed", ReadOnlyMemory<byte>.Empty);
        }
    }

    /// <summary>The dealer's side (seed 002 "Share Update": f_i(0) = 0; HJKY95 3.2).</summary>
    private void Deal(ProtocolContext context, Outbox outbox)
    {
        var m = _publicState.SecretCount;
        var a = _publicState.SigningKeyCount;
        var width = _t + 1;

        // delta_k(x) = sum_l coefficients[k*width + l] x^l, with coefficient 0 = 0 (HJKY95).
        var coefficients = GC.AllocateArray<Scalar>(m * width, pinned: true);
        var values = GC.AllocateArray<Scalar>(m, pinned: true);
        try
        {
            for (var k = 0; k < m; k++)
            {
                coefficients[k * width] = _faults?.NonZeroConstant == true ? _group.RandomNonzeroScalar(context.Random) : _group.Zero;
                for (var l = 1; l < width; l++)
                {
                    coefficients[(k * width) + l] = _group.RandomScalar(context.Random);
                }
            }

            var signing = new FeldmanCommitment[a];
            for (var k = 0; k < a; k++)
            {
                using var p = Polynomial.FromCoefficients(_group, coefficients.AsSpan(k * width, width));
                signing[k] = p.CommitFeldman();
            }

            _sentSubShares = new byte[_n][];
            var sentMessages = new byte[_n][];
            var hashes = new byte[_n][];
            for (var j = 1; j <= _n; j++)
            {
                var x = _group.FromUInt64((ulong)j);
                for (var k = 0; k < m; k++)
                {
                    values[k] = Horner(coefficients.AsSpan(k * width, width), x);
                }

                var correct = SubShareVectorCodec.Encode(_group, j, values);
                var wrong = Tampered(values, j);
                _sentSubShares[j - 1] = _faults?.CommitToWrongSubSharesFor == j ? wrong : correct;
                sentMessages[j - 1] = _faults?.SendWrongSubSharesTo == j || _faults?.CommitToWrongSubSharesFor == j ? wrong : correct;
                hashes[j - 1] = RefreshTranscript.SubSharesHash(Instance, _self, _sentSubShares[j - 1]);
            }

            // rho is fixed by the hashes of every sub-share message: the dealer is bound first.
            var binding = RefreshDealingCommitments.EncodeBinding(_group, signing, hashes);
            var rho = RefreshTranscript.Challenge(_group, Instance, _self, binding);
            FeldmanCommitment? combined = null;
            if (m > a)
            {
                combined = CombinedCommitment(coefficients, a, m, width, rho, context);
            }

            // Its own sub-shares, durable before anything leaves: after a crash through this refresh
            // the server can still apply it (ForMissedRefresh) if its dealing was decided. SECRET; the
            // controller erases it when the next refresh commits, like the retained dealing.
            outbox.Persist(OwnSubSharesPersistKeyOf(Instance), _sentSubShares[_self - 1]);
            for (var j = 1; j <= _n; j++)
            {
                outbox.Send(j, 0, RefreshWire.DealingRound, RefreshWire.SubSharesType, sentMessages[j - 1], confidential: true);
            }

            outbox.Broadcast(0, RefreshWire.DealingRound, RefreshWire.DealingCommitmentsType,
                RefreshDealingCommitments.Encode(_group, signing, hashes, combined));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(coefficients.AsSpan()));
            SubShareVectorCodec.Wipe(values);
        }
    }

    private byte[] Tampered(Scalar[] values, int recipient)
    {
        if (_faults is null || (_faults.SendWrongSubSharesTo != recipient && _faults.CommitToWrongSubSharesFor != recipient))
        {
            return [];
        }

        var copy = values.ToArray();
        copy[0] = _group.Add(copy[0], _group.One);
        return SubShareVectorCodec.Encode(_group, recipient, copy);
    }

    /// <summary>Feldman commitment to sum_{k data} rho^(k-a) delta_k (BRIEF "Refresh at scale").</summary>
    private FeldmanCommitment CombinedCommitment(Scalar[] coefficients, int a, int m, int width, Scalar rho, ProtocolContext context)
    {
        var combined = GC.AllocateArray<Scalar>(width, pinned: true);
        var column = GC.AllocateArray<Scalar>(m - a, pinned: true);
        try
        {
            for (var l = 0; l < width; l++)
            {
                for (var k = a; k < m; k++)
                {
                    column[k - a] = coefficients[(k * width) + l];
                }

                combined[l] = CombinedShareCheck.Combine(_group, rho, column);
                if (l > 0 && _faults?.CorruptCombinedCommitment == true)
                {
                    combined[l] = _group.Add(combined[l], _group.RandomNonzeroScalar(context.Random));
                }
            }

            using var polynomial = Polynomial.FromCoefficients(_group, combined);
            return polynomial.CommitFeldman();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(combined.AsSpan()));
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(column.AsSpan()));
        }
    }

    private Scalar Horner(ReadOnlySpan<Scalar> coefficients, Scalar x)
    {
        var value = coefficients[^1];
        for (var l = coefficients.Length - 2; l >= 0; l--)
        {
            value = _group.Add(_group.Multiply(value, x), coefficients[l]);
        }

        return value;
    }

    // ---- Receive -----------------------------------------------------------------------------

    private void OnSubShares(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        var view = _dealers[message.Sender - 1];
        if (!message.Confidential)
        {
            // Sub-shares in the clear are a protocol violation; they are not used.
            Alert(outbox, AlertType.MalformedMessage, message.Sender, "sub-shares sent in the clear", message.Signed);
            return;
        }

        if (view.SubSharesMessage is not null)
        {
            if (!view.SubSharesMessage.AsSpan().SequenceEqual(message.Payload.Span))
            {
                Alert(outbox, AlertType.Equivocation, message.Sender, "two different sub-share messages", Evidence(view.SubSharesEnvelope, message.Signed));
                TryResentSubShares(context, message, view);
            }

            return;
        }

        view.SubSharesMessage = message.Payload.ToArray();
        view.SubSharesEnvelope = message.Signed.ToArray();
        VerifyOwnDealing(context, message.Sender, outbox);
    }

    private void OnDealingCommitments(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        var dealer = message.Sender;
        var view = _dealers[dealer - 1];
        if (view.CommitmentsMessage is not null)
        {
            if (!view.CommitmentsMessage.AsSpan().SequenceEqual(message.Payload.Span))
            {
                Alert(outbox, AlertType.Equivocation, dealer, "two different dealing commitments", Evidence(view.CommitmentsEnvelope, message.Signed));
            }

            return;
        }

        view.CommitmentsMessage = message.Payload.ToArray();
        view.CommitmentsEnvelope = message.Signed.ToArray();
        if (!RefreshDealingCommitments.TryDecode(message.Payload.Span, _group, out var commitments))
        {
            Disqualify(view, outbox, AlertType.MalformedMessage, dealer, "dealing commitments do not decode", message.Signed);
            return;
        }

        if (StructuralFault(commitments) is { } fault)
        {
            if (LayoutMayBeStale && HasOtherLayout(commitments))
            {
                view.Disqualified = true;
                return;
            }

            Disqualify(view, outbox, fault.Type, dealer, fault.Detail, message.Signed);
            return;
        }

        view.Commitments = commitments;
        view.DealingHash = RefreshTranscript.DealingHash(Instance, dealer, message.Payload.Span);
        view.Challenge = RefreshTranscript.Challenge(_group, Instance, dealer, message.Payload.Span[..commitments.BindingLength]);
        VerifyOwnDealing(context, dealer, outbox);
        if (Status is RefreshStatus.ResolvingComplaints or RefreshStatus.AwaitingDecision)
        {
            ComplainIfMissing(dealer, outbox); // a dealing broadcast seen after the dealing deadline
        }

        foreach (var (complainer, reveal) in view.PendingReveals.ToArray())
        {
            view.PendingReveals.Remove(complainer);
            JudgeReveal(context, dealer, complainer, reveal.Message, reveal.Envelope, outbox);
        }
    }

    /// <summary>Whether the dealing is for a vector of another shape (signing keys, data keys) than this server's.</summary>
    private bool HasOtherLayout(RefreshDealingCommitments commitments) =>
        commitments.SigningKeyCommitments.Count != _publicState.SigningKeyCount
        || (commitments.CombinedCommitment is null) != (_publicState.DataKeyCount == 0);

    /// <summary>Public faults: every server sees the same broadcast, so every server disqualifies the same way.</summary>
    private (AlertType Type, string Detail)? StructuralFault(RefreshDealingCommitments commitments)
    {
        var a = _publicState.SigningKeyCount;
        if (HasOtherLayout(commitments) || commitments.RecipientHashes.Count != _n)
        {
            return (AlertType.InvalidCommitment, "dealing commitments have the wrong number of parts");
        }

        for (var k = 0; k < a; k++)
        {
            var c = commitments.SigningKeyCommitments[k];
            if (!c.HasZeroConstantTerm)
            {
                return (AlertType.NonZeroRefreshConstant, $"signing-key dealing {k} has C_0 != identity: it would change the key");
            }

            if (c.Degree != _t)
            {
                return (AlertType.InvalidCommitment, $"signing-key dealing {k} has degree {c.Degree}, not t = {_t}");
            }
        }

        if (commitments.CombinedCommitment is { } combined)
        {
            if (!combined.HasZeroConstantTerm)
            {
                return (AlertType.NonZeroRefreshConstant, "the combined data-key dealing has C_0 != identity: it would change the stored keys");
            }

            if (combined.Degree != _t)
            {
                return (AlertType.InvalidCommitment, $"the combined dealing has degree {combined.Degree}, not t = {_t}");
            }
        }

        return null;
    }

    private void VerifyOwnDealing(ProtocolContext context, int dealer, Outbox outbox)
    {
        var view = _dealers[dealer - 1];
        if (view.Commitments is null || view.SubSharesMessage is null || view.MyValues is not null
            || view.ComplainedFor.Contains(RefreshComplaintReason.Invalid) || view.Disqualified)
        {
            return;
        }

        if (Check(context, dealer, view, _self, view.SubSharesMessage, out var values, out var failure))
        {
            view.MyValues = values;
            return;
        }

        // The envelope authenticated this message as the dealer's (original or re-send): evidence.
        Alert(outbox, failure.Type, dealer, failure.Detail, view.SubSharesEnvelope);
        Complain(dealer, RefreshComplaintReason.Invalid, outbox);
    }

    /// <summary>
    /// Checks the sub-share message dealer <paramref name="dealer"/> sent server <paramref name="recipient"/>:
    /// it is the message the dealer committed to (hash), its signing-key sub-shares match the Feldman
    /// commitments (one batched check), and its data-key sub-shares pass the combined check
    /// sum_k rho^k s_kj against the combined commitment (one Feldman check, whatever m).
    /// </summary>
    private bool Check(ProtocolContext context, int dealer, DealerView view, int recipient, byte[] message, out Scalar[]? values, out (AlertType Type, string Detail) failure)
    {
        values = null;
        var commitments = view.Commitments!;
        if (!SubShareVectorCodec.TryDecode(message, _group, out var to, out var decoded))
        {
            failure = (AlertType.InvalidShare, $"sub-shares for server {recipient} do not decode");
            return false;
        }

        var a = _publicState.SigningKeyCount;
        var ok = true;
        failure = default;
        if (to != recipient || decoded.Length != _publicState.SecretCount)
        {
            failure = (AlertType.InvalidShare, $"sub-shares addressed to {to} with {decoded.Length} values, expected server {recipient} with {_publicState.SecretCount}");
            ok = false;
        }
        else if (!CryptographicOperations.FixedTimeEquals(RefreshTranscript.SubSharesHash(Instance, dealer, message), commitments.RecipientHashes[recipient - 1]))
        {
            failure = (AlertType.InvalidShare, $"sub-shares for server {recipient} differ from the ones the dealer committed to");
            ok = false;
        }
        else if (a > 0 && !FeldmanBatchVerifier.VerifyAll(recipient, decoded.AsSpan(0, a), commitments.SigningKeyCommitments, context.Random))
        {
            failure = (AlertType.InvalidShare, $"signing-key sub-shares for server {recipient} fail the Feldman check");
            ok = false;
        }
        else if (decoded.Length > a && !CombinedShareCheck.Verify(commitments.CombinedCommitment!, recipient, view.Challenge, decoded.AsSpan(a)))
        {
            failure = (AlertType.InvalidCommitment, $"data-key sub-shares for server {recipient} fail the combined check (wrong sub-shares or wrong combined commitment)");
            ok = false;
        }

        if (!ok)
        {
            SubShareVectorCodec.Wipe(decoded);
            return false;
        }

        values = decoded;
        return true;
    }

    /// <summary>At most one complaint per reason per dealer: Missing (answered confidentially) and Invalid (answered in public).</summary>
    private void Complain(int dealer, RefreshComplaintReason reason, Outbox outbox)
    {
        // A late machine complains about nothing: the refresh is over for everyone else, and it holds no key.
        if (_late || !_dealers[dealer - 1].ComplainedFor.Add(reason))
        {
            return;
        }

        var complaint = RefreshComplaint.Sign(_group, _signingKey!, Instance, _instanceContext, _self, dealer, reason);
        outbox.Broadcast(0, RefreshWire.ComplaintRound, RefreshWire.ComplaintType, complaint.Encode());
    }

    /// <summary>A Missing complaint about a committed dealing whose sub-shares have not reached this server (once per dealer).</summary>
    private void ComplainIfMissing(int dealer, Outbox outbox)
    {
        var view = _dealers[dealer - 1];
        if (!_late && view.Commitments is not null && !view.Disqualified && view.MyValues is null && view.ComplainedFor.Count == 0)
        {
            Complain(dealer, RefreshComplaintReason.Missing, outbox);
        }
    }

    /// <summary>A complaint from its complainer: signed by it (so that it can be echoed), sent by it.</summary>
    private void OnComplaint(InboundMessage message, Outbox outbox)
    {
        if (_late)
        {
            return; // a late machine neither judges dealers nor answers (docs: ForMissedRefresh)
        }

        if (!RefreshComplaint.TryDecode(message.Payload.Span, _group, out var complaint) || complaint.Dealer > _n || complaint.Complainer > _n)
        {
            Alert(outbox, AlertType.MalformedMessage, message.Sender, "complaint does not decode (or has an unknown reason)", message.Signed);
            return;
        }

        if (complaint.Complainer != message.Sender)
        {
            Alert(outbox, AlertType.MalformedMessage, message.Sender, $"complaint of server {complaint.Complainer} sent as its own (an echo has its own type)", message.Signed);
            return;
        }

        if (IsKnownInvalidComplaint(complaint, message.Payload.Span))
        {
            return;
        }

        if (!VerifyComplaint(complaint))
        {
            Alert(outbox, AlertType.MalformedMessage, message.Sender, "complaint signature does not verify", message.Signed);
            return;
        }

        if (complaint.Reason == RefreshComplaintReason.Missing)
        {
            // A timing event, not evidence: only the complainer's view waits for the answer (nobody
            // else can see a confidential re-send), and it is never echoed. The answer is the exact
            // committed message, again confidential to the complainer - never in the clear, whoever
            // complains: a false Missing complaint only gets the Byzantine complainer its own sub-shares.
            if (_dealers[complaint.Dealer - 1].MissingComplainers.Add(complaint.Complainer) && Answers(complaint.Dealer))
            {
                ResendSubShares(complaint.Complainer, outbox);
            }

            return;
        }

        LearnInvalidComplaint(complaint, message.Payload.ToArray(), outbox);
    }

    /// <summary>
    /// Another server's echo of a signed Invalid complaint. Whatever is wrong with it is the relay's
    /// fault (the link-level sender), never the claimed complainer's: anyone can put any bytes in an
    /// echo, only the complainer can sign them. A repeated echo is ignored silently.
    /// </summary>
    private void OnComplaintEcho(InboundMessage message, Outbox outbox)
    {
        if (_late)
        {
            return;
        }

        if (!RefreshComplaint.TryDecode(message.Payload.Span, _group, out var complaint) || complaint.Dealer > _n || complaint.Complainer > _n)
        {
            Alert(outbox, AlertType.MalformedMessage, message.Sender, "echoed complaint does not decode", message.Signed);
            return;
        }

        if (complaint.Reason != RefreshComplaintReason.Invalid)
        {
            Alert(outbox, AlertType.MalformedMessage, message.Sender, "echo of a Missing complaint (only Invalid complaints are echoed)", message.Signed);
            return;
        }

        if (IsKnownInvalidComplaint(complaint, message.Payload.Span))
        {
            return;
        }

        if (!VerifyComplaint(complaint))
        {
            Alert(outbox, AlertType.MalformedMessage, message.Sender, $"echoed complaint (claimed by server {complaint.Complainer}) has a bad signature", message.Signed);
            return;
        }

        LearnInvalidComplaint(complaint, message.Payload.ToArray(), outbox);
    }

    /// <summary>True for an Invalid complaint already learned (these exact bytes, or another valid signature of it: ignored).</summary>
    private bool IsKnownInvalidComplaint(RefreshComplaint complaint, ReadOnlySpan<byte> encoded) =>
        complaint.Reason == RefreshComplaintReason.Invalid
        && _dealers[complaint.Dealer - 1].Complainers.TryGetValue(complaint.Complainer, out var known)
        && known.AsSpan().SequenceEqual(encoded);

    private bool VerifyComplaint(RefreshComplaint complaint) =>
        _publicKeys!(complaint.Complainer) is { } key && complaint.Verify(key, Instance, _instanceContext);

    /// <summary>
    /// The first time this server learns a valid signed Invalid complaint (complainer c, dealer d),
    /// directly or by echo: it echoes it to everyone (unless it is c, who broadcast it), once per
    /// (c, d), so that if any honest server knows it, every honest server and the dealer know it one
    /// message delay later; and if it is d, it reveals c's message (HJKY95). An honest server says
    /// Invalid only about a message the envelope authenticated as the dealer's that fails the checks,
    /// i.e. never about an honest dealer; a Byzantine complainer learns only its own sub-shares, and
    /// only the complainer can sign its complaint, so nobody can make an honest dealer reveal the
    /// sub-shares of an honest server.
    /// </summary>
    private void LearnInvalidComplaint(RefreshComplaint complaint, byte[] encoded, Outbox outbox)
    {
        var view = _dealers[complaint.Dealer - 1];
        if (!view.Complainers.TryAdd(complaint.Complainer, encoded))
        {
            return; // another valid signature of a complaint already learned
        }

        if (complaint.Complainer != _self)
        {
            outbox.Broadcast(0, RefreshWire.ComplaintRound, RefreshWire.ComplaintEchoType, encoded);
        }

        if (Answers(complaint.Dealer))
        {
            outbox.Broadcast(0, RefreshWire.RevealRound, RefreshWire.RevealType,
                RefreshReveal.Encode(_group, complaint.Complainer, _sentSubShares![complaint.Complainer - 1]));
        }
    }

    /// <summary>True when this server is <paramref name="dealer"/> and holds what it dealt (and the test fault does not make it ignore complaints).</summary>
    private bool Answers(int dealer) => dealer == _self && _sentSubShares is not null && _faults?.IgnoreComplaints != true;

    /// <summary>
    /// The dealer's confidential re-send of the exact sub-share message it committed to for
    /// <paramref name="recipient"/> (byte-identical, so a late original is a duplicate, not
    /// equivocation). Answers Missing complaints and dealing requests alike.
    /// </summary>
    private void ResendSubShares(int recipient, Outbox outbox) =>
        outbox.Send(recipient, 0, RefreshWire.DealingRound, RefreshWire.SubSharesType, _sentSubShares![recipient - 1], confidential: true);

    private void OnReveal(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        var dealer = message.Sender;
        if (!RefreshReveal.TryDecode(message.Payload.Span, _group, out var complainer, out var revealed) || complainer < 1 || complainer > _n)
        {
            Alert(outbox, AlertType.MalformedMessage, dealer, "reveal does not decode", message.Signed);
            return;
        }

        var view = _dealers[dealer - 1];
        if (view.RevealVerdicts.ContainsKey(complainer) || view.Disqualified)
        {
            return;
        }

        if (view.Commitments is null)
        {
            view.PendingReveals[complainer] = (revealed, message.Signed.ToArray());
            return;
        }

        JudgeReveal(context, dealer, complainer, revealed, message.Signed.ToArray(), outbox);
    }

    private void JudgeReveal(ProtocolContext context, int dealer, int complainer, byte[] revealed, byte[] envelope, Outbox outbox)
    {
        var view = _dealers[dealer - 1];
        if (view.Disqualified)
        {
            return;
        }

        if (!Check(context, dealer, view, complainer, revealed, out var values, out var failure))
        {
            view.RevealVerdicts[complainer] = false;
            Disqualify(view, outbox, failure.Type, dealer, $"revealed {failure.Detail}", envelope);
            return;
        }

        view.RevealVerdicts[complainer] = true;
        if (complainer == _self && view.MyValues is null)
        {
            view.MyValues = values; // the revealed vector replaces the bad or missing one
        }
        else
        {
            SubShareVectorCodec.Wipe(values);
        }
    }

    // ---- Timers ------------------------------------------------------------------------------

    /// <summary>Dealing -> ResolvingComplaints: a Missing complaint about every committed dealing whose sub-shares did not reach us.</summary>
    private void OnDealingDeadline(ProtocolContext context, Outbox outbox)
    {
        for (var i = 1; i <= _n; i++)
        {
            var view = _dealers[i - 1];
            ComplainIfMissing(i, outbox);
        }

        Move(RefreshStatus.ResolvingComplaints);
        outbox.SetTimer(RevealDeadlineTimer, context.Now + _timeouts.ComplaintWindow);
    }

    /// <summary>
    /// ResolvingComplaints -> AwaitingDecision: propose the acceptable dealers. A dealer with an
    /// unanswered Invalid complaint is excluded for now (alert Unresponsive), not disqualified: a
    /// complaint may have reached this server (by echo) just before the deadline, and the dealer's
    /// reveal one or two message delays after it; a late good reveal makes it acceptable again and
    /// the proposal is emitted again (<see cref="ProposeIfChanged"/>). Timing decides progress, never
    /// the verdict; only a bad reveal (evidence) disqualifies.
    /// </summary>
    private void OnRevealDeadline(Outbox outbox)
    {
        for (var i = 1; i <= _n; i++)
        {
            var view = _dealers[i - 1];
            if (!view.Disqualified && view.Complainers.Keys.Where(c => !view.RevealVerdicts.ContainsKey(c)).Order().ToArray() is { Length: > 0 } unanswered)
            {
                Alert(outbox, AlertType.Unresponsive, i, $"no reveal by the reveal deadline for the Invalid complaints of {string.Join(", ", unanswered)}; excluded here until one arrives", view.CommitmentsEnvelope);
            }
            else if (!view.Disqualified && view.MyValues is null && view.ComplainedFor.Contains(RefreshComplaintReason.Missing))
            {
                // Not disqualified: only this server's view misses it (the message may still be late).
                Alert(outbox, AlertType.Unresponsive, i, "no sub-shares (nor a re-send) by the reveal deadline; not qualified here", view.CommitmentsEnvelope);
            }
        }

        Move(RefreshStatus.AwaitingDecision);

        // Proposed even with fewer than t+1 (no server accepts that set, this one included): the
        // proposal starts this server's agreement instance, which it needs to vote (n - f votes decide)
        // and to learn the decision, after which it catches up on the decided dealings.
        _lastProposal = AcceptableSet();
        outbox.Emit(new RefreshQualifiedSetProposal(Instance, _lastProposal));
    }

    /// <summary>
    /// AwaitingDecision: when this server's acceptable set changed since its last proposal (a late
    /// reveal, re-send or dealing), propose again; the controller hands the newest proposal to
    /// agreement for the rounds this server leads (as the DKG does).
    /// </summary>
    private void ProposeIfChanged(Outbox outbox)
    {
        if (_late)
        {
            return;
        }

        var current = AcceptableSet();
        if (_lastProposal is null || !_lastProposal.AsSpan().SequenceEqual(current))
        {
            _lastProposal = current;
            outbox.Emit(new RefreshQualifiedSetProposal(Instance, current));
        }
    }

    private byte[] AcceptableSet() =>
        QualifiedSetCodec.Encode(_group, Enumerable.Range(1, _n)
            .Where(i => IsAcceptable(_dealers[i - 1]))
            .Select(i => KeyValuePair.Create(i, _dealers[i - 1].DealingHash!)));

    private static bool IsAcceptable(DealerView view) =>
        view.Commitments is not null && !view.Disqualified && view.MyValues is not null
        && view.Complainers.Keys.All(c => view.RevealVerdicts.TryGetValue(c, out var good) && good);

    // ---- Commit ------------------------------------------------------------------------------

    /// <summary>AwaitingDecidedDealings -> Completed (or SharesLost): s'_k = s_k + sum_{i in QUAL} delta_ik(j).</summary>
    private void TryCommit(ProtocolContext context, Outbox outbox)
    {
        var decided = _decided!;
        var waiting = false;
        foreach (var (dealer, hash) in decided)
        {
            var view = _dealers[dealer - 1];
            if (view.DealingHash is not null && !CryptographicOperations.FixedTimeEquals(view.DealingHash, hash))
            {
                // The dealer showed this server another broadcast than the decided one: catch up on the decided one.
                Alert(outbox, AlertType.InvalidCommitment, dealer, "the dealing commitments seen here differ from the decided ones", view.CommitmentsEnvelope);
                ForgetDealing(view);
            }

            if (view.Commitments is null || view.MyValues is null)
            {
                RequestDealing(dealer, outbox);
                waiting = true; // wait for the dealing, a relay or the reveal; the decided-dealing timer bounds the wait
            }
        }

        if (waiting)
        {
            return;
        }

        var newState = ComputeNewState(decided.Keys);
        if (_ownSharesCorrupt)
        {
            LoseShares(outbox, newState, "the old shares were corrupt");
            return;
        }

        var m = _publicState.SecretCount;
        var updated = GC.AllocateArray<Scalar>(m, pinned: true);
        _oldShares.Values.CopyTo(updated);
        foreach (var dealer in decided.Keys)
        {
            var delta = _dealers[dealer - 1].MyValues!;
            for (var k = 0; k < m; k++)
            {
                updated[k] = _group.Add(updated[k], delta[k]);
            }
        }

        var newShares = ShareVector.Own(_group, _self, updated);
        var digest = ShareVectorDigest.Compute(newShares, context.Random);

        // Atomic commit: the new shares are durable before anything else leaves this server.
        outbox.Persist(SharesPersistKey, newShares.Encode());
        outbox.Persist(PublicStatePersistKey, newState.Encode());
        outbox.Persist(DigestPersistKey, digest.Encode());
        _newShares = newShares;
        Move(RefreshStatus.Completed);
        outbox.Emit(new RefreshCompleted(Instance, newState, digest, decided.Keys.ToArray()));
        WipeWorkingState();
    }

    private RefreshPublicState? ComputeNewStateIfPossible() =>
        _decided!.Keys.All(i => _dealers[i - 1].Commitments is not null) ? ComputeNewState(_decided.Keys) : null;

    /// <summary>New commitments = old + sum of the qualified dealings; C_0 (the public key) never moves.</summary>
    private RefreshPublicState ComputeNewState(IEnumerable<int> qualified)
    {
        var dealers = qualified.ToArray();
        var updated = new FeldmanCommitment[_publicState.SigningKeyCount];
        for (var k = 0; k < updated.Length; k++)
        {
            var old = _publicState.SigningKeyCommitments[k];
            var dealings = dealers.Select(i => _dealers[i - 1].Commitments!.SigningKeyCommitments[k]).ToArray();
            updated[k] = old.Add(FeldmanCommitment.Sum(dealings));
            if (updated[k].ConstantTerm != old.ConstantTerm)
            {
                // Every qualified dealing passed HasZeroConstantTerm: a moved key is a bug, never data.
                throw new InvalidOperationException($"Refresh moved the public key of secret {k}.");
            }
        }

        return new RefreshPublicState(_group, _publicState.SecretCount, updated);
    }

    private void LoseShares(Outbox outbox, RefreshPublicState? newState, string reason)
    {
        Move(RefreshStatus.SharesLost);
        outbox.Emit(new RefreshSharesLost(Instance, newState, _decided?.Keys.ToArray() ?? [], reason));
        WipeWorkingState();
    }

    // ---- Helpers -----------------------------------------------------------------------------

    private void Disqualify(DealerView view, Outbox outbox, AlertType type, int dealer, string detail, ReadOnlyMemory<byte> evidence)
    {
        if (view.Disqualified)
        {
            return;
        }

        view.Disqualified = true;
        Alert(outbox, type, dealer, detail, evidence);
    }

    private void Alert(Outbox outbox, AlertType type, int culprit, string detail, ReadOnlyMemory<byte> evidence) =>
        outbox.Emit(new Alert(type, culprit, Instance.Period, Instance, detail, evidence.ToArray()));

    /// <summary>Two signed envelopes as one piece of evidence: u32 length, bytes, u32 length, bytes.</summary>
    private static byte[] Evidence(byte[]? first, ReadOnlyMemory<byte> second)
    {
        first ??= [];
        var bytes = new byte[8 + first.Length + second.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)first.Length);
        first.CopyTo(bytes, 4);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + first.Length), (uint)second.Length);
        second.Span.CopyTo(bytes.AsSpan(8 + first.Length));
        return bytes;
    }

    private void Move(RefreshStatus next)
    {
        if (!ValidTransitions[Status].Contains(next))
        {
            throw new InvalidOperationException($"Refresh cannot go from {Status} to {next}.");
        }

        Status = next;
    }

    /// <summary>
    /// Wipes what this server received. What it dealt (<see cref="EraseRetainedDealing"/>) and the
    /// public dealing commitments stay, so that lagging servers can catch up.
    /// </summary>
    private void WipeWorkingState()
    {
        foreach (var d in _dealers)
        {
            d.Wipe();
        }
    }

    private void WipeSent()
    {
        if (_sentSubShares is not null)
        {
            foreach (var message in _sentSubShares)
            {
                CryptographicOperations.ZeroMemory(message);
            }

            _sentSubShares = null;
        }
    }

    // ---- Catch-up ----------------------------------------------------------------------------

    /// <summary>
    /// Erases the sub-share messages this server dealt, kept after the commit so that a server that
    /// missed this refresh can catch up (docs/PROTOCOLS.md "Catching up"). The controller calls it
    /// when the next refresh commits here: a server read while it still holds them is then read
    /// during that refresh, which the model counts in both periods.
    /// </summary>
    public void EraseRetainedDealing() => WipeSent();

    /// <summary>True while this server still holds what it dealt (until <see cref="EraseRetainedDealing"/>).</summary>
    public bool RetainsDealing => _sentSubShares is not null;

    /// <summary>
    /// A server asks for dealer d's decided dealing: relay d's broadcast as held here (the requester
    /// checks it against the decided hash), and if d is this server, re-send the exact committed
    /// sub-share message for the requester. Each (requester, dealer) is answered once.
    /// </summary>
    private void OnDealingRequest(InboundMessage message, Outbox outbox)
    {
        if (!RefreshDealingRequest.TryDecode(message.Payload.Span, _group, out var dealer) || dealer < 1 || dealer > _n)
        {
            Alert(outbox, AlertType.MalformedMessage, message.Sender, "dealing request does not decode", message.Signed);
            return;
        }

        if (message.Sender == _self || !_answered.Add((message.Sender, dealer)))
        {
            return;
        }

        if (_dealers[dealer - 1].CommitmentsMessage is { } commitments)
        {
            outbox.Send(message.Sender, 0, RefreshWire.CatchUpRound, RefreshWire.RelayedCommitmentsType,
                RefreshRelayedCommitments.Encode(_group, dealer, commitments), confidential: false);
        }

        if (dealer == _self && _sentSubShares is not null && _faults?.IgnoreComplaints != true)
        {
            ResendSubShares(message.Sender, outbox);
        }
    }

    /// <summary>A relayed broadcast is adopted only after the decision, and only if it hashes to the decided hash.</summary>
    private void OnRelayedCommitments(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        if (!RefreshRelayedCommitments.TryDecode(message.Payload.Span, _group, out var dealer, out var payload) || dealer < 1 || dealer > _n)
        {
            Alert(outbox, AlertType.MalformedMessage, message.Sender, "relayed commitments do not decode", message.Signed);
            return;
        }

        if (_decided is null || !_decided.TryGetValue(dealer, out var decidedHash))
        {
            return;
        }

        var view = _dealers[dealer - 1];
        var hash = RefreshTranscript.DealingHash(Instance, dealer, payload);
        if (!CryptographicOperations.FixedTimeEquals(hash, decidedHash)
            || (view.DealingHash is not null && CryptographicOperations.FixedTimeEquals(view.DealingHash, decidedHash))
            || !RefreshDealingCommitments.TryDecode(payload, _group, out var commitments)
            || StructuralFault(commitments) is not null)
        {
            return; // not the decided broadcast (or already held); honest relays of an equivocator's other version are no fault
        }

        ForgetDealing(view);
        view.CommitmentsMessage = payload;
        view.CommitmentsEnvelope = message.Signed.ToArray();
        view.Commitments = commitments;
        view.DealingHash = hash;
        view.Challenge = RefreshTranscript.Challenge(_group, Instance, dealer, payload.AsSpan(0, commitments.BindingLength));
        VerifyOwnDealing(context, dealer, outbox);
    }

    /// <summary>After the decision, a sub-share message that verifies against the decided commitments replaces one that did not.</summary>
    private void TryResentSubShares(ProtocolContext context, InboundMessage message, DealerView view)
    {
        if (_decided is null || view.Commitments is null || view.MyValues is not null)
        {
            return;
        }

        var resent = message.Payload.ToArray();
        if (Check(context, message.Sender, view, _self, resent, out var values, out _))
        {
            CryptographicOperations.ZeroMemory(view.SubSharesMessage);
            view.SubSharesMessage = resent;
            view.SubSharesEnvelope = message.Signed.ToArray();
            view.MyValues = values;
        }
        else
        {
            CryptographicOperations.ZeroMemory(resent);
        }
    }

    /// <summary>Drops a dealer's broadcast seen here (not the decided one) and what was derived from it.</summary>
    private void ForgetDealing(DealerView view)
    {
        SubShareVectorCodec.Wipe(view.MyValues);
        view.MyValues = null;
        view.Commitments = null;
        view.DealingHash = null;
        view.CommitmentsMessage = null;
        view.ComplainedFor.Clear();
        view.Disqualified = false;
    }

    private void RequestDealing(int dealer, Outbox outbox)
    {
        if (_requested.Add(dealer))
        {
            outbox.Broadcast(0, RefreshWire.CatchUpRound, RefreshWire.DealingRequestType, RefreshDealingRequest.Encode(_group, dealer));
        }
    }

    /// <summary>What this server knows about one dealer.</summary>
    private sealed class DealerView
    {
        public byte[]? CommitmentsMessage { get; set; }

        public byte[]? CommitmentsEnvelope { get; set; }

        public RefreshDealingCommitments? Commitments { get; set; }

        public byte[]? DealingHash { get; set; }

        public Scalar Challenge { get; set; }

        public byte[]? SubSharesMessage { get; set; }

        public byte[]? SubSharesEnvelope { get; set; }

        /// <summary>This server's verified sub-shares delta_ik(self) for every k (secret).</summary>
        public Scalar[]? MyValues { get; set; }

        /// <summary>The reasons this server has complained about this dealer for.</summary>
        public HashSet<RefreshComplaintReason> ComplainedFor { get; } = [];

        public bool Disqualified { get; set; }

        /// <summary>
        /// Servers with an Invalid complaint, each with its signed complaint as learned (directly or by
        /// echo): each needs a valid public reveal before this server qualifies the dealer.
        /// </summary>
        public Dictionary<int, byte[]> Complainers { get; } = [];

        /// <summary>Servers with a Missing complaint: answered confidentially; they block nobody's view but their own.</summary>
        public HashSet<int> MissingComplainers { get; } = [];

        public Dictionary<int, bool> RevealVerdicts { get; } = [];

        public Dictionary<int, (byte[] Message, byte[] Envelope)> PendingReveals { get; } = [];

        public void Wipe()
        {
            SubShareVectorCodec.Wipe(MyValues);
            if (SubSharesMessage is not null)
            {
                CryptographicOperations.ZeroMemory(SubSharesMessage);
            }
        }
    }
}
