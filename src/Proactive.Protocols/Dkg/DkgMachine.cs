// References: Komlo and Goldberg, "FROST: Flexible Round-Optimized Schnorr Threshold Signatures"
// (SAC 2020), Figure 1 "KeyGen" (Pedersen DKG with a proof of knowledge of each a_i0); RFC 9591
// Appendix C (points to it); Gennaro, Jarecki, Krawczyk, Rabin, "Secure Distributed Key Generation
// for Discrete-Log Based Cryptosystems" (J. Cryptology 2007), Fig. 2 steps 1-3 (complaints, the
// accused dealer's public answer, disqualification, QUAL, x_j = sum_{i in QUAL} s_ij), the public
// answer kept for Invalid complaints only (Missing ones are answered confidentially, see the remarks);
// Feldman (FOCS 1987) for the share checks; docs/BRIEF.md section 3 "DKG" and "Broadcast and agreement".
using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Secrets;
using Proactive.Crypto.Sharing;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Dkg;

/// <summary>Where a DKG instance is. Every state but <see cref="Created"/> still answers complaints against this server.</summary>
public enum DkgState
{
    /// <summary>Built, not started: it sends nothing and drops what arrives.</summary>
    Created,

    /// <summary>Dealing sent; collecting dealings and shares until the dealing deadline.</summary>
    Dealing,

    /// <summary>Missing complaints sent; collecting complaints, re-sent shares and reveals until the reveal deadline.</summary>
    Complaining,

    /// <summary>QUAL proposed (and re-proposed when the view changes); waiting for the agreement's decision.</summary>
    AwaitingDecision,

    /// <summary>QUAL decided; some listed dealing or share is still missing here (a re-send, reveal or late dealing completes it).</summary>
    AwaitingShares,

    /// <summary>Final: share, group key and public shares computed (<see cref="DkgCompleted"/>).</summary>
    Completed,

    /// <summary>Final: the decided QUAL cannot be combined here (<see cref="DkgFailed"/>); share recovery takes over.</summary>
    Failed,
}

/// <summary>
/// How long to wait. Time only decides when to move on (progress), never what is accepted (safety):
/// anything that arrives late is still processed and changes the proposal.
/// </summary>
/// <param name="DealingTimeout">From start to the dealing deadline, when missing shares become complaints.</param>
/// <param name="ComplaintTimeout">From the dealing deadline to the reveal deadline, when QUAL is first proposed.</param>
public sealed record DkgOptions(TimeSpan DealingTimeout, TimeSpan ComplaintTimeout)
{
    /// <summary>Defaults. A timeout that fires early only costs confidential re-sends (a missing share is never revealed in public).</summary>
    public static DkgOptions Default { get; } = new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
}

/// <summary>
/// Distributed key generation without a dealer (Pedersen-style, as FROST KeyGen with GJKR complaints),
/// as a pure state machine. Every server deals a random degree-t polynomial; the key is the sum of
/// the constant terms of the qualified dealers, which nobody ever holds.
/// </summary>
/// <remarks>
/// <para><b>Round 1.</b> <see cref="Start"/> draws f_i (random a_i0 != 0), persists it with the proof
/// (<see cref="DealerStateKey"/>), broadcasts <see cref="DkgDealing"/> (C_i = Feldman commitments,
/// sigma_i = proof of knowledge of a_i0 bound to i and the instance) and sends each j its share
/// f_i(j) confidentially. A restarted machine given the persisted state re-sends the same bytes:
/// dealing twice with different polynomials would be equivocation.</para>
/// <para><b>Round 2.</b> Each dealing is checked (degree t, C_i0 not the identity, the proof); a
/// failure disqualifies the dealer for cause (InvalidCommitment / InvalidProof). Each share is
/// checked against its dealer's commitment. A complaint carries a reason
/// (<see cref="DkgComplaintReason"/>), because "missing" is a timing event and "invalid" is evidence:
/// <list type="bullet">
/// <item><b>Invalid</b>: a share the envelope authenticated as dealer i's fails the check, so i is
/// faulty; InvalidShare is raised and an Invalid <see cref="DkgComplaint"/> broadcast at once. The
/// accused answers with a public <see cref="DkgReveal"/> (GJKR); everybody checks it: a bad reveal
/// disqualifies the dealer for cause (InvalidShare), a good one answers the complaint and the
/// complainer takes the revealed share as its own. Revealing a faulty dealer's share exposes only a
/// polynomial the adversary knows; a false Invalid complaint reveals only the Byzantine
/// complainer's own share. Complaints are signed with the complainer's period key, and every
/// server that learns a valid Invalid complaint (directly or relayed) echoes it once
/// (<see cref="DkgMessageType.ComplaintEcho"/>), so a complaint shown to some servers only still
/// reaches every honest server and the accused one message delay later, and honest views cannot be
/// split (docs/PROTOCOLS.md "Refresh", echo and timeline). A relayed complaint that does not decode
/// or verify is blamed on the relay.</item>
/// <item><b>Missing</b>: no share by the dealing deadline (or from a dealing that arrives later).
/// The accused answers by re-sending the SAME share confidentially (<see cref="DkgMessageType.Resend"/>,
/// byte-identical to the round-1 payload, so a late original is a duplicate, not equivocation); the
/// complainer checks it like any share, and a bad one turns into an Invalid complaint. A missing
/// share is NEVER revealed in the clear: before the network stabilises honest servers complain about
/// honest dealers, and public reveals for t + 1 - f of them plus the f corrupted servers' own shares
/// would give the adversary t+1 points of every honest polynomial, i.e. the key. Timing must never
/// matter for safety.</item>
/// </list></para>
/// <para><b>QUAL.</b> Here, dealer i is qualified when its dealing is valid, it is not disqualified
/// for cause, this server holds a valid share from it (received, re-sent or revealed), and every
/// Invalid complaint seen against it has been answered with a valid reveal. Missing complaints of
/// others do not count (nobody can see a confidential answer); a dealer this server itself misses a
/// share from is simply not qualified here until the share arrives, never disqualified for cause. At
/// the reveal deadline the machine emits <see cref="DkgQualifiedSetProposal"/> (if at least t+1
/// dealers qualify), and alerts Unresponsive for silent dealers, for dealers with unanswered Invalid
/// complaints, and for dealers whose share is still missing here. Such a timeout exclusion is not
/// permanent: a late share, reveal or dealing re-qualifies the dealer and the proposal is emitted again.</para>
/// <para><b>Validity predicate</b> (<see cref="IsAcceptableQualifiedSet"/>): the set is well formed,
/// names this instance, has at least t+1 dealers (so at least one honest dealer, as t &gt;= f), and
/// every listed dealer is qualified here by the rule above with exactly the listed dealing digest.
/// Safety: a server accepts only a set it can combine itself, and the digests make every server
/// combine the same dealings, so no two honest servers compute different group keys. Liveness: an
/// honest proposer lists only dealers whose broadcasts it has checked; after the network stabilises
/// every honest server sees the same dealings, complaints and reveals from non-equivocating dealers
/// and accepts it. A dealer who sends different dealings to different servers can delay agreement
/// (proposals are refused) until it is excluded by a proposer's view; it cannot split the result.</para>
/// <para><b>Result.</b> <see cref="OnQualifiedSetDecided"/>: x_j = sum_{i in QUAL} f_i(j),
/// Y = sum C_i0, combined commitment = sum of the QUAL commitments (public shares Y_k = x_k * G).
/// A server that misses a decided dealer's share has complained Missing (complaints go out for
/// every missing share), so the dealer's confidential re-send completes it
/// (<see cref="DkgState.AwaitingShares"/>, <see cref="DkgSharesPending"/>); otherwise share recovery
/// takes over. Liveness: the other n - f servers qualify the dealer without waiting for that answer. The final share is persisted (<see cref="ShareKey"/>).</para>
/// <para><b>Security notes.</b> Persisted dealer state and the final share are SECRET: the node
/// encrypts private data at rest. Only an Invalid complaint makes a share public, and an honest
/// server makes one only against a faulty dealer, so every honest dealer's shares to honest servers
/// stay private whatever the timing. The machine keeps its
/// polynomial until <see cref="Dispose"/> to answer late complaints; the embedder disposes it when
/// the instance is closed.</para>
/// <para>Transitions (one method each):</para>
/// <code>
/// Created          --Start-------------------------&gt; Dealing
/// Dealing          --Timeout(DealingDeadline)------&gt; Complaining
/// Complaining      --Timeout(RevealDeadline)-------&gt; AwaitingDecision
/// Dealing | Complaining | AwaitingDecision
///                  --OnQualifiedSetDecided---------&gt; Completed | AwaitingShares | Failed
/// AwaitingShares   --Receive(dealing / re-send / reveal)-&gt; Completed | Failed
/// </code>
/// </remarks>
public sealed class DkgMachine : IProtocolMachine, IDisposable
{
    /// <summary>Timer: end of round 1.</summary>
    public const int DealingDeadlineTimer = 1;

    /// <summary>Timer: end of round 2, first proposal.</summary>
    public const int RevealDeadlineTimer = 2;

    private const byte DealerStateVersion = 1;
    private const byte ShareRecordVersion = 1;
    private const int MaxNetworkContextLength = 1024;

    private readonly PrimeOrderGroup _group;
    private readonly DkgOptions _options;
    private readonly byte[] _networkContext;
    private readonly Ed25519PrivateKey _signingKey;
    private readonly Func<int, Ed25519PublicKey?> _publicKeys;
    private readonly byte[]? _persistedDealerState;

    private int _self;
    private ClusterParameters? _parameters;
    private byte[] _proofContext = [];
    private Polynomial? _polynomial;
    private DealerView[] _dealers = [];
    private readonly HashSet<int> _revealedTo = [];
    private readonly HashSet<int> _resentTo = [];
    private byte[]? _lastProposal;
    private DkgQualifiedSet? _decided;
    private byte[]? _decidedEncoding;
    private bool _pendingReported;
    private bool _deadlineAlertsRaised;
    private SecretShare? _share;

    /// <param name="instance">The DKG run; its protocol must be <see cref="ProtocolKind.Dkg"/>.</param>
    /// <param name="group">The group of the key (the FROST suite's group for a signing key).</param>
    /// <param name="options">Timeouts.</param>
    /// <param name="signingKey">This server's period Ed25519 key (the caller keeps ownership): it signs this server's complaints, which others echo.</param>
    /// <param name="publicKeys">Every server's period Ed25519 public key by id (null when unknown): checks signed complaints, direct or echoed.</param>
    /// <param name="networkContext">Bytes that name the network (e.g. a digest of the cluster configuration), bound into every proof; at most 1024 bytes.</param>
    /// <param name="persistedDealerState">What this machine persisted under <see cref="DealerStateKey"/> before a crash, to deal the same polynomial again; null for a fresh run.</param>
    public DkgMachine(
        InstanceId instance, PrimeOrderGroup group, DkgOptions options, Ed25519PrivateKey signingKey, Func<int, Ed25519PublicKey?> publicKeys,
        ReadOnlySpan<byte> networkContext = default, byte[]? persistedDealerState = null)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(signingKey);
        ArgumentNullException.ThrowIfNull(publicKeys);
        if (instance.Protocol != ProtocolKind.Dkg)
        {
            throw new ArgumentException($"A DKG instance is of protocol {ProtocolKind.Dkg}, not {instance.Protocol}.", nameof(instance));
        }

        if (options.DealingTimeout <= TimeSpan.Zero || options.ComplaintTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("Timeouts must be positive.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(networkContext.Length, MaxNetworkContextLength, nameof(networkContext));
        Instance = instance;
        _group = group;
        _options = options;
        _networkContext = networkContext.ToArray();
        _signingKey = signingKey;
        _publicKeys = publicKeys;
        _persistedDealerState = persistedDealerState?.ToArray();
    }

    public InstanceId Instance { get; }

    public DkgState State { get; private set; } = DkgState.Created;

    public bool IsFinished => State is DkgState.Completed or DkgState.Failed;

    /// <summary>x_j once <see cref="DkgState.Completed"/>; owned by the machine (wiped on <see cref="Dispose"/>).</summary>
    public SecretShare? Share => _share;

    /// <summary>The persistence key of the dealer state (polynomial and proof). SECRET value.</summary>
    public static string DealerStateKey(InstanceId instance) => $"dkg/{instance.Period}/{instance.Sequence}/dealer";

    /// <summary>The persistence key of the final share. SECRET value: u8 version, u8 suite, u16 index, scalar.</summary>
    public static string ShareKey(InstanceId instance) => $"dkg/{instance.Period}/{instance.Sequence}/share";

    /// <summary>Round 1: deal (or re-deal the persisted polynomial), persist first, then send.</summary>
    public void Start(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (State != DkgState.Created)
        {
            throw new InvalidOperationException($"The DKG {Instance} has already started.");
        }

        var parameters = context.Parameters;
        if (context.Self < 1 || context.Self > parameters.ServerCount)
        {
            throw new ArgumentException($"Server {context.Self} is not one of 1..{parameters.ServerCount}.", nameof(context));
        }

        if (parameters.Threshold + 1 > FeldmanCommitment.MaxCount)
        {
            throw new ArgumentException("The threshold exceeds what a Feldman commitment holds.", nameof(context));
        }

        if (!_signingKey.PublicKey.Equals(_publicKeys(context.Self)))
        {
            throw new ArgumentException($"The signing key is not the one the public keys list for server {context.Self}.", nameof(context));
        }

        _self = context.Self;
        _parameters = parameters;
        _proofContext = ProofContext(Instance, parameters, _networkContext);
        _dealers = new DealerView[parameters.ServerCount + 1];
        for (var i = 1; i <= parameters.ServerCount; i++)
        {
            _dealers[i] = new DealerView();
        }

        DkgProofOfKnowledge proof;
        if (_persistedDealerState is null)
        {
            // FROST KeyGen round 1 steps 1-2: a_i0 != 0 so that C_i0 is never the identity.
            _polynomial = Polynomial.Random(_group, parameters.Threshold, _group.RandomNonzeroScalar(context.Random), context.Random);
            proof = DkgProofOfKnowledge.Create(_group, _self, _proofContext, _polynomial.ConstantTerm, context.Random);
        }
        else
        {
            (_polynomial, proof) = DecodeDealerState(_persistedDealerState, parameters.Threshold);
        }

        // Durable before any message leaves: a restart must deal the very same polynomial.
        outbox.Persist(DealerStateKey(Instance), EncodeDealerState(_polynomial, proof));

        var dealing = new DkgDealing(_self, _polynomial.CommitFeldman(), proof);
        outbox.Broadcast(0, DkgRounds.Dealing, (byte)DkgMessageType.Dealing, dealing.Encode());
        foreach (var j in parameters.Servers)
        {
            var value = _polynomial.Evaluate(_group.FromUInt64((ulong)j));
            if (j == _self)
            {
                // Checked like everybody's when the own dealing comes back through the broadcast.
                _dealers[j].ReceivedShare = new SecretScalar(_group, value);
                continue;
            }

            outbox.Send(j, 0, DkgRounds.Dealing, (byte)DkgMessageType.Share, new DkgShare(_group, _self, j, value).Encode(), confidential: true);
        }

        State = DkgState.Dealing;
        outbox.SetTimer(DealingDeadlineTimer, context.Now + _options.DealingTimeout);
    }

    /// <summary>Dispatches an authenticated message; bad payloads raise MalformedMessage and are dropped.</summary>
    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(outbox);
        if (State == DkgState.Created || message.Sender < 1 || message.Sender > _parameters!.ServerCount)
        {
            return;
        }

        var type = (DkgMessageType)message.Type;
        if (!Enum.IsDefined(type) || message.Round != DkgRounds.Of(type))
        {
            Malformed(message, outbox, $"unknown message type {message.Type} in round {message.Round}");
            return;
        }

        switch (type)
        {
            case DkgMessageType.Dealing:
                OnDealing(message, outbox);
                break;
            case DkgMessageType.Share:
            case DkgMessageType.Resend:
                OnShare(message, outbox);
                break;
            case DkgMessageType.Complaint:
                OnComplaint(message, outbox);
                break;
            case DkgMessageType.ComplaintEcho:
                OnComplaintEcho(message, outbox);
                break;
            default:
                OnReveal(message, outbox);
                break;
        }

        AfterViewChange(outbox);
    }

    /// <summary>The dealing and reveal deadlines; stale or unknown timers are ignored.</summary>
    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (timerId == DealingDeadlineTimer && State == DkgState.Dealing)
        {
            OnDealingDeadline(context, outbox);
        }
        else if (timerId == RevealDeadlineTimer && State == DkgState.Complaining)
        {
            OnRevealDeadline(outbox);
        }
    }

    /// <summary>
    /// The agreement's validity predicate for a proposed QUAL (see the class remarks): true only for a
    /// well-formed set of at least t+1 dealers of this instance, each qualified here with exactly the
    /// listed dealing. Never throws for bad data; false before <see cref="Start"/>.
    /// </summary>
    public bool IsAcceptableQualifiedSet(byte[] encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        return State != DkgState.Created
            && TryDecodeForThisInstance(encoded, out var set)
            && set.Dealers.All(d => IsQualifiedHere(d.Dealer) && _dealers[d.Dealer].DealingDigest.AsSpan().SequenceEqual(d.DealingDigest));
    }

    /// <summary>
    /// The agreement decided <paramref name="encodedQualifiedSet"/>: combine the listed dealings
    /// (FROST KeyGen round 2 steps 3-4). The embedder calls it once per instance, after
    /// <see cref="Start"/>; the same decision again is ignored, a different one is a bug and throws.
    /// </summary>
    public void OnQualifiedSetDecided(ProtocolContext context, byte[] encodedQualifiedSet, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(encodedQualifiedSet);
        ArgumentNullException.ThrowIfNull(outbox);
        if (State == DkgState.Created)
        {
            throw new InvalidOperationException($"The DKG {Instance} has not started.");
        }

        if (_decidedEncoding is not null)
        {
            if (!_decidedEncoding.AsSpan().SequenceEqual(encodedQualifiedSet))
            {
                throw new InvalidOperationException($"The DKG {Instance} already has a different decided QUAL: the agreement decided twice.");
            }

            return;
        }

        _decidedEncoding = encodedQualifiedSet.ToArray();
        if (!TryDecodeForThisInstance(encodedQualifiedSet, out var set))
        {
            State = DkgState.Failed;
            outbox.Emit(new Alert(AlertType.MalformedMessage, 0, Instance.Period, Instance, "the decided QUAL is malformed or not for this instance", _decidedEncoding));
            outbox.Emit(new DkgFailed(Instance, "the decided QUAL is malformed or not for this instance", []));
            return;
        }

        _decided = set;
        State = DkgState.AwaitingShares;
        TryComplete(outbox);
    }

    public void Dispose()
    {
        _polynomial?.Dispose();
        _share?.Dispose();
        foreach (var view in _dealers)
        {
            view?.ReceivedShare?.Dispose();
            if (view?.SharePayload is { } payload)
            {
                CryptographicOperations.ZeroMemory(payload);
            }
        }
    }

    public override string ToString() => $"DkgMachine({Instance}, server {_self}, {State})";

    private void OnDealing(InboundMessage message, Outbox outbox)
    {
        var sender = message.Sender;
        if (!DkgDealing.TryDecode(message.Payload.Span, _group, out var dealing, out var failure))
        {
            Malformed(message, outbox, $"dealing does not decode: {failure}");
            return;
        }

        if (dealing.Dealer != sender)
        {
            Malformed(message, outbox, $"dealing names dealer {dealing.Dealer}");
            return;
        }

        var view = _dealers[sender];
        if (view.DealingPayload is not null)
        {
            if (!view.DealingPayload.AsSpan().SequenceEqual(message.Payload.Span))
            {
                Disqualify(sender, AlertType.Equivocation, "two different dealings", [.. view.DealingEvidence, .. message.Signed.Span], outbox);
            }

            return;
        }

        view.DealingPayload = message.Payload.ToArray();
        view.DealingDigest = DkgQualifiedSet.DigestOf(view.DealingPayload);
        view.DealingEvidence = message.Signed.ToArray();

        var commitment = dealing.Commitment;
        if (commitment.HasZeroConstantTerm || commitment.Degree != _parameters!.Threshold)
        {
            Disqualify(sender, AlertType.InvalidCommitment, $"commitment of degree {commitment.Degree} (t = {_parameters!.Threshold}), zero constant term: {commitment.HasZeroConstantTerm}", view.DealingEvidence, outbox);
            return;
        }

        if (!dealing.Proof.Verify(sender, _proofContext, commitment.ConstantTerm))
        {
            Disqualify(sender, AlertType.InvalidProof, "proof of knowledge of the constant term does not verify", view.DealingEvidence, outbox);
            return;
        }

        view.Dealing = dealing;
        CheckReceivedShare(sender, outbox);
        foreach (var (complainer, reveal) in view.PendingReveals)
        {
            CheckReveal(sender, complainer, reveal.Value, reveal.Evidence, outbox);
        }

        view.PendingReveals.Clear();
        if (State != DkgState.Dealing)
        {
            // Past the dealing deadline, a late dealing without a share is complained about at once.
            ComplainIfShareMissing(sender, outbox);
        }
    }

    private void OnShare(InboundMessage message, Outbox outbox)
    {
        var sender = message.Sender;
        if (!DkgShare.TryDecode(message.Payload.Span, _group, out var share, out var failure))
        {
            Malformed(message, outbox, $"share does not decode: {failure}");
            return;
        }

        if (share.Dealer != sender || share.Recipient != _self || !message.Confidential)
        {
            Malformed(message, outbox, $"share ({(DkgMessageType)message.Type}) from {share.Dealer} to {share.Recipient}, confidential: {message.Confidential}");
            return;
        }

        var view = _dealers[sender];
        if (view.ReceivedShare is not null || view.ShareRejected)
        {
            // The first share counts (round 1 or re-sent); an identical copy is a retransmission, a
            // different one is equivocation (its evidence is the pair).
            if (view.SharePayload is not null && !view.SharePayload.AsSpan().SequenceEqual(message.Payload.Span))
            {
                Disqualify(sender, AlertType.Equivocation, "two different shares", [.. view.ShareEvidence!, .. message.Signed.Span], outbox);
            }

            return;
        }

        view.ReceivedShare = new SecretScalar(_group, share.Value);
        view.SharePayload = message.Payload.ToArray();
        view.ShareEvidence = message.Signed.ToArray();
        CheckReceivedShare(sender, outbox);
    }

    /// <summary>A complaint from its complainer: signed by it (so that it can be echoed), sent by it.</summary>
    private void OnComplaint(InboundMessage message, Outbox outbox)
    {
        var sender = message.Sender;
        if (!DkgComplaint.TryDecode(message.Payload.Span, _group, out var complaint, out var failure))
        {
            Malformed(message, outbox, $"complaint does not decode: {failure}");
            return;
        }

        var accused = complaint.Accused;
        if (complaint.Complainer != sender || accused < 1 || accused > _parameters!.ServerCount || accused == sender)
        {
            Malformed(message, outbox, $"complaint by {complaint.Complainer} against {accused}");
            return;
        }

        if (IsKnownInvalidComplaint(complaint, message.Payload.Span))
        {
            return;
        }

        if (!VerifyComplaint(complaint))
        {
            Malformed(message, outbox, "complaint signature does not verify");
            return;
        }

        if (complaint.Reason == DkgComplaintReason.Missing)
        {
            // Only the complainer's own view waits for the answer: nobody else can see a
            // confidential re-send, and a missing share is no evidence against the dealer (never echoed).
            if (_dealers[accused].MissingComplainers.Add(sender) && accused == _self && _polynomial is not null && _resentTo.Add(sender))
            {
                // Timing must never matter for safety: a share that is merely late goes again,
                // confidentially, byte-identical to the round-1 share (so never equivocation).
                var value = _polynomial.Evaluate(_group.FromUInt64((ulong)sender));
                outbox.Send(sender, 0, DkgRounds.Complaints, (byte)DkgMessageType.Resend, new DkgShare(_group, _self, sender, value).Encode(), confidential: true);
            }

            return;
        }

        LearnInvalidComplaint(complaint, message.Payload.ToArray(), outbox);
    }

    /// <summary>
    /// Another server's echo of a signed Invalid complaint. Whatever is wrong with it is the relay's
    /// fault (the link-level sender), never the claimed complainer's; a repeated echo is ignored silently.
    /// </summary>
    private void OnComplaintEcho(InboundMessage message, Outbox outbox)
    {
        if (!DkgComplaint.TryDecode(message.Payload.Span, _group, out var complaint, out var failure))
        {
            Malformed(message, outbox, $"echoed complaint does not decode: {failure}");
            return;
        }

        var accused = complaint.Accused;
        if (complaint.Reason != DkgComplaintReason.Invalid || complaint.Complainer < 1 || complaint.Complainer > _parameters!.ServerCount
            || accused < 1 || accused > _parameters.ServerCount || accused == complaint.Complainer)
        {
            Malformed(message, outbox, $"echo of a {complaint.Reason} complaint by {complaint.Complainer} against {accused} (only Invalid complaints are echoed)");
            return;
        }

        if (IsKnownInvalidComplaint(complaint, message.Payload.Span))
        {
            return;
        }

        if (!VerifyComplaint(complaint))
        {
            Malformed(message, outbox, $"echoed complaint (claimed by server {complaint.Complainer}) has a bad signature");
            return;
        }

        LearnInvalidComplaint(complaint, message.Payload.ToArray(), outbox);
    }

    private bool IsKnownInvalidComplaint(DkgComplaint complaint, ReadOnlySpan<byte> encoded) =>
        complaint.Reason == DkgComplaintReason.Invalid
        && _dealers[complaint.Accused].Complainers.TryGetValue(complaint.Complainer, out var known)
        && known.AsSpan().SequenceEqual(encoded);

    private bool VerifyComplaint(DkgComplaint complaint) =>
        _publicKeys(complaint.Complainer) is { } key && complaint.Verify(key, Instance, _networkContext);

    /// <summary>
    /// The first time this server learns a valid signed Invalid complaint (c, d), directly or by echo:
    /// it echoes it to everyone (unless it is c), once per (c, d), so that every honest server and the
    /// accused learn it one message delay after the first honest server did; and if it is d, it
    /// reveals c's share (GJKR Fig. 2 step 1(c)). An honest complainer says Invalid only about a share
    /// the envelope authenticated as d's that fails the check, i.e. never about an honest dealer; a
    /// Byzantine complainer learns only its own share, and only c can sign c's complaint.
    /// </summary>
    private void LearnInvalidComplaint(DkgComplaint complaint, byte[] encoded, Outbox outbox)
    {
        var (complainer, accused) = (complaint.Complainer, complaint.Accused);
        if (!_dealers[accused].Complainers.TryAdd(complainer, encoded))
        {
            return;
        }

        if (complainer != _self)
        {
            outbox.Broadcast(0, DkgRounds.Complaints, (byte)DkgMessageType.ComplaintEcho, encoded);
        }

        if (accused == _self && _polynomial is not null && _revealedTo.Add(complainer))
        {
            var value = _polynomial.Evaluate(_group.FromUInt64((ulong)complainer));
            outbox.Broadcast(0, DkgRounds.Complaints, (byte)DkgMessageType.Reveal, new DkgReveal(_group, _self, complainer, value).Encode());
        }
    }

    private void OnReveal(InboundMessage message, Outbox outbox)
    {
        var sender = message.Sender;
        if (!DkgReveal.TryDecode(message.Payload.Span, _group, out var reveal, out var failure))
        {
            Malformed(message, outbox, $"reveal does not decode: {failure}");
            return;
        }

        if (reveal.Dealer != sender || reveal.Complainer < 1 || reveal.Complainer > _parameters!.ServerCount || reveal.Complainer == sender)
        {
            Malformed(message, outbox, $"reveal by {reveal.Dealer} for {reveal.Complainer}");
            return;
        }

        var view = _dealers[sender];
        if (view.Dealing is null)
        {
            // Reordered ahead of the dealing: checked when (if) a valid dealing arrives.
            view.PendingReveals.TryAdd(reveal.Complainer, (reveal.Value, message.Signed.ToArray()));
            return;
        }

        CheckReveal(sender, reveal.Complainer, reveal.Value, message.Signed.ToArray(), outbox);
    }

    private void OnDealingDeadline(ProtocolContext context, Outbox outbox)
    {
        State = DkgState.Complaining;
        foreach (var i in _parameters!.Servers)
        {
            ComplainIfShareMissing(i, outbox);
        }

        outbox.SetTimer(RevealDeadlineTimer, context.Now + _options.ComplaintTimeout);
    }

    private void OnRevealDeadline(Outbox outbox)
    {
        State = DkgState.AwaitingDecision;
        if (!_deadlineAlertsRaised)
        {
            _deadlineAlertsRaised = true;
            foreach (var i in _parameters!.Servers)
            {
                var view = _dealers[i];
                if (view.DisqualifiedFor is not null)
                {
                    continue;
                }

                if (view.DealingPayload is null)
                {
                    RaiseAlert(AlertType.Unresponsive, i, "no dealing by the reveal deadline", [], outbox);
                }
                else if (UnansweredComplainers(i) is { Count: > 0 } unanswered)
                {
                    RaiseAlert(AlertType.Unresponsive, i, $"no valid reveal by the deadline for complaints of {string.Join(",", unanswered)}", view.DealingEvidence, outbox);
                }
                else if (view.Dealing is not null && !view.ShareVerified && view.ComplainedFor.Contains(DkgComplaintReason.Missing))
                {
                    RaiseAlert(AlertType.Unresponsive, i, "no share (nor a re-send) by the reveal deadline", [], outbox);
                }
            }
        }

        RefreshProposal(outbox);
    }

    private void AfterViewChange(Outbox outbox)
    {
        if (State == DkgState.AwaitingDecision)
        {
            RefreshProposal(outbox);
        }
        else if (State == DkgState.AwaitingShares)
        {
            TryComplete(outbox);
        }
    }

    private void CheckReceivedShare(int dealer, Outbox outbox)
    {
        var view = _dealers[dealer];
        if (view.Dealing is null || view.ReceivedShare is null || view.ShareVerified)
        {
            return;
        }

        if (view.Dealing.Commitment.VerifyShare(_self, view.ReceivedShare.Value))
        {
            view.ShareVerified = true;
            return;
        }

        // The share is useless; the evidence (the signed share) is transferable blame.
        view.ReceivedShare.Dispose();
        view.ReceivedShare = null;
        view.ShareRejected = true;
        RaiseAlert(AlertType.InvalidShare, dealer, "share does not match the dealer's commitment", view.ShareEvidence ?? [], outbox);
        Complain(dealer, DkgComplaintReason.Invalid, outbox);
    }

    private void CheckReveal(int dealer, int complainer, Scalar value, byte[] evidence, Outbox outbox)
    {
        var view = _dealers[dealer];
        if (view.DisqualifiedFor is not null || view.ValidReveals.Contains(complainer))
        {
            return;
        }

        if (!view.Dealing!.Commitment.VerifyShare(complainer, value))
        {
            Disqualify(dealer, AlertType.InvalidShare, $"revealed share for server {complainer} does not match the dealer's commitment", evidence, outbox);
            return;
        }

        view.ValidReveals.Add(complainer);
        if (complainer == _self && !view.ShareVerified)
        {
            // The refuted (or answered) complaint: the public share becomes ours.
            view.ReceivedShare?.Dispose();
            view.ReceivedShare = new SecretScalar(_group, value);
            view.ShareVerified = true;
        }
    }

    private void ComplainIfShareMissing(int dealer, Outbox outbox)
    {
        var view = _dealers[dealer];
        if (view.Dealing is not null && view.DisqualifiedFor is null && !view.ShareVerified && !view.ShareRejected && view.ReceivedShare is null)
        {
            Complain(dealer, DkgComplaintReason.Missing, outbox);
        }
    }

    /// <summary>At most one complaint per reason per dealer: Missing (answered confidentially) and Invalid (answered in public).</summary>
    private void Complain(int dealer, DkgComplaintReason reason, Outbox outbox)
    {
        var view = _dealers[dealer];
        if (dealer == _self || !view.ComplainedFor.Add(reason))
        {
            return;
        }

        outbox.Broadcast(0, DkgRounds.Complaints, (byte)DkgMessageType.Complaint, DkgComplaint.Sign(_group, _signingKey, Instance, _networkContext, _self, dealer, reason).Encode());
    }

    private void RefreshProposal(Outbox outbox)
    {
        var qualified = new List<DkgQualifiedDealer>();
        foreach (var i in _parameters!.Servers)
        {
            if (IsQualifiedHere(i))
            {
                qualified.Add(new DkgQualifiedDealer(i, _dealers[i].DealingDigest!));
            }
        }

        if (qualified.Count < _parameters.ReconstructionThreshold)
        {
            return;
        }

        var encoded = new DkgQualifiedSet(_group, Instance, qualified).Encode();
        if (_lastProposal is null || !_lastProposal.AsSpan().SequenceEqual(encoded))
        {
            _lastProposal = encoded;
            outbox.Emit(new DkgQualifiedSetProposal(Instance, encoded));
        }
    }

    private bool IsQualifiedHere(int dealer)
    {
        var view = _dealers[dealer];
        return view.Dealing is not null
            && view.DisqualifiedFor is null
            && view.ShareVerified
            && UnansweredComplainers(dealer).Count == 0;
    }

    private List<int> UnansweredComplainers(int dealer)
    {
        var view = _dealers[dealer];
        return [.. view.Complainers.Keys.Where(c => !view.ValidReveals.Contains(c)).Order()];
    }

    private bool TryDecodeForThisInstance(byte[] encoded, out DkgQualifiedSet set)
    {
        set = null!;
        if (!DkgQualifiedSet.TryDecode(encoded, _group, out var decoded, out _)
            || decoded.Instance != Instance
            || decoded.Dealers.Count < _parameters!.ReconstructionThreshold
            || decoded.Dealers[^1].Dealer > _parameters.ServerCount)
        {
            return false;
        }

        set = decoded;
        return true;
    }

    private void TryComplete(Outbox outbox)
    {
        var set = _decided!;
        var pending = new List<int>();
        foreach (var listed in set.Dealers)
        {
            var view = _dealers[listed.Dealer];
            if (view.DealingDigest is not null && !view.DealingDigest.AsSpan().SequenceEqual(listed.DealingDigest))
            {
                State = DkgState.Failed;
                outbox.Emit(new DkgFailed(Instance, $"dealer {listed.Dealer}'s decided dealing differs from the one received here", [listed.Dealer]));
                return;
            }

            if (view.Dealing is null || !view.ShareVerified)
            {
                // A decided dealing is valid (honest servers checked it); the share comes by reveal.
                ComplainIfShareMissing(listed.Dealer, outbox);
                pending.Add(listed.Dealer);
            }
        }

        if (pending.Count > 0)
        {
            if (!_pendingReported)
            {
                _pendingReported = true;
                outbox.Emit(new DkgSharesPending(Instance, pending));
            }

            return;
        }

        Complete(set, outbox);
    }

    private void Complete(DkgQualifiedSet set, Outbox outbox)
    {
        // FROST KeyGen round 2 steps 3-4 (GJKR step 3): x_j = sum_{i in QUAL} f_i(j), Y = sum C_i0.
        var x = _group.Zero;
        var commitments = new List<FeldmanCommitment>(set.Dealers.Count);
        foreach (var listed in set.Dealers)
        {
            var view = _dealers[listed.Dealer];
            x = _group.Add(x, view.ReceivedShare!.Value);
            commitments.Add(view.Dealing!.Commitment);
        }

        var combined = FeldmanCommitment.Sum(commitments);
        if (!combined.VerifyShare(_self, x))
        {
            throw new InvalidOperationException("Internal error: verified shares do not sum to a share of the combined commitment.");
        }

        _share = new SecretShare(_group, _self, x);
        outbox.Persist(ShareKey(Instance), EncodeShareRecord(_share));
        var publicShares = _parameters!.Servers.Select(combined.PublicShare).ToArray();
        State = DkgState.Completed;
        outbox.Emit(new DkgCompleted(Instance, combined.ConstantTerm, combined, [.. set.Dealers.Select(d => d.Dealer)], publicShares));
    }

    private void Disqualify(int dealer, AlertType type, string detail, byte[] evidence, Outbox outbox)
    {
        var view = _dealers[dealer];
        if (view.DisqualifiedFor is not null)
        {
            return;
        }

        view.DisqualifiedFor = type;
        RaiseAlert(type, dealer, detail, evidence, outbox);
    }

    private void Malformed(InboundMessage message, Outbox outbox, string detail) =>
        RaiseAlert(AlertType.MalformedMessage, message.Sender, detail, message.Signed.ToArray(), outbox);

    private void RaiseAlert(AlertType type, int culprit, string detail, byte[] evidence, Outbox outbox) =>
        outbox.Emit(new Alert(type, culprit, Instance.Period, Instance, $"DKG {Instance}, server {_self}: {detail}", evidence));

    /// <summary>
    /// The context every proof of knowledge is bound to: u8 protocol, u64 period, u64 sequence,
    /// u16 n, u16 t, u32 len(network context), network context.
    /// </summary>
    private static byte[] ProofContext(InstanceId instance, ClusterParameters parameters, byte[] networkContext)
    {
        var bytes = new byte[1 + 8 + 8 + 2 + 2 + 4 + networkContext.Length];
        bytes[0] = (byte)instance.Protocol;
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(1), instance.Period);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(9), instance.Sequence);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(17), (ushort)parameters.ServerCount);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(19), (ushort)parameters.Threshold);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(21), networkContext.Length);
        networkContext.CopyTo(bytes.AsSpan(25));
        return bytes;
    }

    /// <summary>
    /// SECRET. u8 version = 1, u8 suite, u8 protocol, u64 period, u64 sequence, u16 dealer,
    /// u32 count, count x scalar (a_0..a_t), element R, scalar mu.
    /// </summary>
    private byte[] EncodeDealerState(Polynomial polynomial, DkgProofOfKnowledge proof)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(buffer);
        writer.WriteHeader(DealerStateVersion, _group);
        WriteInstance(ref writer);
        writer.WriteU16((ushort)_self);
        writer.WriteCount(polynomial.Degree + 1, FeldmanCommitment.MaxCount);
        for (var k = 0; k <= polynomial.Degree; k++)
        {
            writer.WriteScalar(_group, polynomial.Coefficient(k));
        }

        writer.WriteElement(_group, proof.Commitment);
        writer.WriteScalar(_group, proof.Response);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The caller's own storage: anything but this instance's dealer state is a caller mistake.</summary>
    private (Polynomial Polynomial, DkgProofOfKnowledge Proof) DecodeDealerState(byte[] encoded, int threshold)
    {
        var reader = new CanonicalReader(encoded);
        var coefficients = new Scalar[threshold + 1];
        if (reader.TryReadHeader(DealerStateVersion, _group, out _)
            && reader.TryReadU8(out var protocol)
            && reader.TryReadU64(out var period)
            && reader.TryReadU64(out var sequence)
            && reader.TryReadU16(out var dealer)
            && reader.TryReadCount(FeldmanCommitment.MaxCount, _group.ScalarLength, out var count)
            && count == threshold + 1
            && new InstanceId((ProtocolKind)protocol, period, sequence) == Instance
            && dealer == _self)
        {
            for (var k = 0; k < count; k++)
            {
                reader.TryReadScalar(_group, out coefficients[k]);
            }

            if (reader.TryReadElement(_group, out var r) && reader.TryReadScalar(_group, out var mu) && reader.TryReadEnd() && !coefficients[0].IsZero)
            {
                var polynomial = Polynomial.FromCoefficients(_group, coefficients);
                Array.Clear(coefficients);
                return (polynomial, new DkgProofOfKnowledge(_group, r, mu));
            }
        }

        Array.Clear(coefficients);
        throw new ArgumentException($"The persisted dealer state is not this server's for {Instance} with t = {threshold}.", nameof(encoded));
    }

    private byte[] EncodeShareRecord(SecretShare share)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(buffer);
        writer.WriteHeader(ShareRecordVersion, _group);
        writer.WriteU16((ushort)share.Index);
        writer.WriteScalar(_group, share.Value);
        return buffer.WrittenSpan.ToArray();
    }

    private void WriteInstance(ref CanonicalWriter writer)
    {
        writer.WriteU8((byte)Instance.Protocol);
        writer.WriteU64(Instance.Period);
        writer.WriteU64(Instance.Sequence);
    }

    /// <summary>What this server knows of one dealer.</summary>
    private sealed class DealerView
    {
        public byte[]? DealingPayload { get; set; }

        public byte[]? DealingDigest { get; set; }

        public byte[] DealingEvidence { get; set; } = [];

        /// <summary>Set only once the dealing passed the commitment and proof checks.</summary>
        public DkgDealing? Dealing { get; set; }

        /// <summary>SECRET: f_i(self), received or revealed; verified when <see cref="ShareVerified"/>.</summary>
        public SecretScalar? ReceivedShare { get; set; }

        /// <summary>SECRET: the received share message, to tell a retransmission from equivocation.</summary>
        public byte[]? SharePayload { get; set; }

        public byte[]? ShareEvidence { get; set; }

        public bool ShareVerified { get; set; }

        public bool ShareRejected { get; set; }

        /// <summary>The reasons this server has complained about this dealer for.</summary>
        public HashSet<DkgComplaintReason> ComplainedFor { get; } = [];

        public AlertType? DisqualifiedFor { get; set; }

        /// <summary>Servers with an Invalid complaint: each needs a valid public reveal before anyone qualifies the dealer.</summary>
        public Dictionary<int, byte[]> Complainers { get; } = [];

        /// <summary>Servers with a Missing complaint: answered confidentially; they block nobody's view but their own.</summary>
        public HashSet<int> MissingComplainers { get; } = [];

        public HashSet<int> ValidReveals { get; } = [];

        public Dictionary<int, (Scalar Value, byte[] Evidence)> PendingReveals { get; } = [];
    }
}
