// References:
// - E. Buchman, J. Kwon, Z. Milosevic, "The latest gossip on BFT consensus", arXiv:1807.04938,
//   Algorithm 1 ("Tendermint consensus algorithm"), for one height h_p: the line numbers in the
//   comments below are that listing's. 2f+1 there is n - f here (ClusterParameters.Quorum; equal
//   when n = 3f + 1, and still two quorums intersect in an honest server when n > 3f + 1); f+1 is
//   kept for the round-skip rule (line 55).
// - docs/BRIEF.md section 3 ("Broadcast and agreement"): certificates of n-f signatures, next leader
//   on timeout, equivocation is proof, the culprit is excluded and reported.

using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Agreement;

/// <summary>
/// Where one agreement instance is (step_p of Algorithm 1, plus the states before and after it).
/// </summary>
/// <remarks>
/// Valid transitions (everything else is a bug and throws):
/// <code>
/// NotStarted -> Propose                       Start: StartRound(0)                    (line 10)
/// NotStarted -> Propose | Prevote | Precommit | Decided   Restore: the persisted step_p (crash recovery)
/// Propose    -> Prevote                       proposal or timeoutPropose              (lines 22-33, 57-60)
/// Prevote    -> Precommit                     polka for v, polka for nil, timeout     (lines 36-46, 61-64)
/// Propose | Prevote | Precommit -> Propose    StartRound(r') with r' > round_p        (lines 55-56, 65-67)
/// Propose | Prevote | Precommit -> Decided    n-f PRECOMMITs + proposal, or a valid certificate (lines 49-54)
/// </code>
/// </remarks>
public enum AgreementStep : byte
{
    /// <summary>Constructed; <see cref="TendermintAgreement.Start"/> not yet called.</summary>
    NotStarted = 0,

    /// <summary>step_p = propose: waiting for the round's proposal.</summary>
    Propose = 1,

    /// <summary>step_p = prevote: this server prevoted in the current round.</summary>
    Prevote = 2,

    /// <summary>step_p = precommit: this server precommitted in the current round.</summary>
    Precommit = 3,

    /// <summary>decision_p is set; final (the machine still answers laggards with the certificate).</summary>
    Decided = 4,
}

/// <summary>
/// timeoutPropose/Prevote/Precommit(r) = base + r * increment (Algorithm 1 assumes they grow with r,
/// so that after the global stabilization time they eventually exceed the message delay).
/// </summary>
public sealed record AgreementTimeouts(TimeSpan Propose, TimeSpan Prevote, TimeSpan Precommit, TimeSpan IncrementPerRound)
{
    /// <summary>Tendermint's usual defaults: 3 s to propose, 1 s to prevote and precommit, plus 0.5 s per round.</summary>
    public static AgreementTimeouts Default { get; } = new(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));

    internal TimeSpan For(VoteStep step, int round) =>
        (step switch
        {
            VoteStep.Proposal => Propose,
            VoteStep.Prevote => Prevote,
            _ => Precommit,
        }) + (IncrementPerRound * round);
}

/// <summary>
/// One single-decision Byzantine agreement: Tendermint (Algorithm 1 of arXiv:1807.04938) for one
/// height. Rounds 0, 1, 2, ... each have a proposer; servers PREVOTE and PRECOMMIT on the value's
/// id, lock on a value once n - f servers prevoted it, and decide on n - f PRECOMMITs for one value
/// in one round. The decision carries a <see cref="Certificate"/>, so it can be proved to anyone.
/// </summary>
/// <remarks>
/// <para><b>Proposer.</b> proposer(r) = ((instanceSeed + r) mod n) + 1: the embedder picks the seed
/// (for example the instance's sequence number, or a value all servers derive the same way), so
/// consecutive instances do not always start with server 1, and every round after a timeout moves
/// to the next server.</para>
/// <para><b>Wire.</b> Messages use <see cref="InboundMessage.Attempt"/> = the round,
/// <see cref="InboundMessage.Round"/> = 0, and <see cref="InboundMessage.Type"/> =
/// <see cref="AgreementMessageType"/>. Every statement is signed with the server's Ed25519 key over
/// an encoding that binds the embedder's instance context, independently of the envelope, so the
/// votes themselves are transferable evidence and form certificates.</para>
/// <para><b>Gossip.</b> Algorithm 1 assumes that what one correct process receives, all eventually do.
/// Two relays provide the parts that matter when a Byzantine server sends different things to
/// different servers: a proposal with validRound carries the n - f signed prevotes that justify it,
/// and every vote carries the proposal header its sender saw (which exposes an equivocating
/// proposer). After deciding, the machine broadcasts its certificate once and sends it again to any
/// server that still sends it votes. The driver must still deliver every message eventually
/// (retransmit across drops), as partial synchrony assumes.</para>
/// <para><b>Byzantine input.</b> Malformed payloads and bad signatures are dropped with an
/// <see cref="Alert"/> naming the sender. Two conflicting signed statements of one server for one
/// (round, step) give a <see cref="VoteEquivocationProof"/>, emitted as the alert's evidence (the
/// node broadcasts alerts); the culprit's later messages in this instance are ignored. Its statements
/// accepted before the proof still count once each, as any single vote of a Byzantine server may.</para>
/// <para><b>Validity.</b> valid(v) is the embedder's predicate (lines 23, 29, 36, 50). A certificate
/// from a peer is adopted without it: n - f signers include at least f + 1 honest servers that
/// checked it, and refusing would split the decision.</para>
/// <para><b>Crash recovery.</b> Every step that signs a statement, moves round_p or step_p, changes
/// the lock or validValue, or decides, persists an <see cref="AgreementPersistedState"/> under
/// <see cref="StateKey"/> (the driver makes it durable before the step's messages leave). The state
/// holds every statement this server signed in the instance, exactly as sent. The controller, when it
/// restarts a server:
/// <list type="bullet">
/// <item>finds no state under the key: the server signed nothing in this instance (Start persists
/// before anything leaves), so it may construct the machine afresh;</item>
/// <item>finds a state: it must build the machine with <see cref="Restore"/> (or
/// <see cref="TryRestore"/>) and call <see cref="Start"/>, which re-sends the signed statements of
/// the current round byte for byte, re-arms the round's timers and carries on; the machine never
/// signs a second statement for a (round, step) it already signed, whatever getValue returns now;</item>
/// <item>finds a state that does not restore (<see cref="AgreementRestoreError"/>): it must refuse to
/// participate in this instance (never start it afresh, which could equivocate) and report it; the
/// other n - 1 servers decide without it, and it can still adopt a peer's verified certificate.</item>
/// </list>
/// A restored decided instance is finished at once; its <see cref="Start"/> emits
/// <see cref="AgreementDecided"/> again (with the same certificate) and re-broadcasts the certificate,
/// so the controller's handling of the decision must be idempotent. The state must never be rolled
/// back to an older copy (a backup restored over it defeats the guarantee). It is rewritten whole at
/// each such step and grows with the rounds (about 110 bytes per signed vote, plus the value of each
/// own proposal, the locked and valid values and the decision). A decided server answers a sender
/// with its certificate once per round that sender speaks in, so a server restarted after its peers
/// decided learns the decision as soon as its re-armed timers move it to a new round.</para>
/// </remarks>
public sealed class TendermintAgreement : IProtocolMachine
{
    /// <summary>Messages for rounds further ahead than this are dropped: they cost memory and no honest server is that far ahead.</summary>
    public const int MaxRoundsAhead = 1000;

    private const int TimerKinds = 4;

    /// <summary>The timer slot a signer waits for the decision in (slots 1-3 are the steps' timeouts).</summary>
    private const int DecisionWaitSlot = 0;

    /// <summary>
    /// The message round of a certificate sent on deciding; answers to a laggard's votes go in round 0, answers
    /// to a <see cref="AgreementMessageType.DecisionRequest"/> in round 2: no two are the same signed bytes.
    /// </summary>
    private const byte DecidedCertificateRound = 1;

    private const byte RequestAnswerRound = 2;

    private static readonly HashSet<(AgreementStep From, AgreementStep To)> ValidTransitions =
    [
        (AgreementStep.NotStarted, AgreementStep.Propose),
        (AgreementStep.Propose, AgreementStep.Prevote),
        (AgreementStep.Prevote, AgreementStep.Precommit),
        (AgreementStep.Propose, AgreementStep.Propose),
        (AgreementStep.Prevote, AgreementStep.Propose),
        (AgreementStep.Precommit, AgreementStep.Propose),
        (AgreementStep.Propose, AgreementStep.Decided),
        (AgreementStep.Prevote, AgreementStep.Decided),
        (AgreementStep.Precommit, AgreementStep.Decided),
    ];

    private readonly ClusterParameters _parameters;
    private readonly int _self;
    private readonly Ed25519PrivateKey _signingKey;
    private readonly Func<int, Ed25519PublicKey?> _publicKeys;
    private readonly byte[] _instanceContext;
    private readonly Func<byte[]> _getValue;
    private readonly Func<byte[], bool> _isValid;
    private readonly ulong _instanceSeed;
    private readonly AgreementTimeouts _timeouts;

    // Algorithm 1, lines 2-8 (one height, so h_p is implicit).
    private int _round;
    private AgreementStep _step = AgreementStep.NotStarted;
    private byte[]? _lockedValue;
    private int _lockedRound = -1;
    private byte[]? _validValue;
    private int _validRound = -1;
    private Certificate? _decision;
    private readonly List<SignedVote> _validJustification = [];

    // Crash recovery: every statement this server signed, as sent; whether the state changed in this step.
    private readonly Dictionary<int, ProposalMessage> _ownProposals = [];
    private readonly Dictionary<(int Round, VoteStep Step), VoteMessage> _ownVotes = [];
    private bool _started;
    private bool _restored;
    private bool _dirty;
    private bool _certifiesNonSignersOnly;

    // The message log.
    private readonly Dictionary<int, ProposalMessage> _proposals = [];
    private readonly Dictionary<int, SignedVote> _proposalHeaders = [];
    private readonly Dictionary<(int Round, VoteStep Step), Dictionary<int, SignedVote>> _votes = [];
    private readonly Dictionary<int, HashSet<int>> _roundSenders = [];
    private readonly HashSet<string> _acceptedValues = [];
    private readonly HashSet<int> _excluded = [];

    // "for the first time" guards of lines 34, 36 and 47, per round.
    private readonly HashSet<int> _prevoteTimerSet = [];
    private readonly HashSet<int> _polkaHandled = [];
    private readonly HashSet<int> _precommitTimerSet = [];
    private readonly Dictionary<int, uint> _certificateAnsweredRound = [];
    private readonly Dictionary<int, uint> _requestAnsweredRound = [];

    /// <summary>Creates the instance for server <paramref name="self"/>.</summary>
    /// <param name="instance">The run this is.</param>
    /// <param name="parameters">n and f.</param>
    /// <param name="self">This server's id; <see cref="ProtocolContext.Self"/> must match it.</param>
    /// <param name="signingKey">This server's Ed25519 key; the caller keeps ownership.</param>
    /// <param name="publicKeys">Every server's public key by id (null for unknown ids).</param>
    /// <param name="instanceContext">Bytes that identify this instance network-wide (network id, period,
    /// instance, purpose); every signature binds them, so votes of two instances never mix.</param>
    /// <param name="getValue">getValue() of line 16: the value to propose when this server leads and holds no validValue.</param>
    /// <param name="isValid">valid(v): the embedder's validity predicate.</param>
    /// <param name="instanceSeed">Rotates the proposer order: proposer(r) = ((seed + r) mod n) + 1.</param>
    /// <param name="timeouts">Timeouts; <see cref="AgreementTimeouts.Default"/> when null.</param>
    public TendermintAgreement(
        InstanceId instance,
        ClusterParameters parameters,
        int self,
        Ed25519PrivateKey signingKey,
        Func<int, Ed25519PublicKey?> publicKeys,
        ReadOnlySpan<byte> instanceContext,
        Func<byte[]> getValue,
        Func<byte[], bool> isValid,
        ulong instanceSeed,
        AgreementTimeouts? timeouts = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(signingKey);
        ArgumentNullException.ThrowIfNull(publicKeys);
        ArgumentNullException.ThrowIfNull(getValue);
        ArgumentNullException.ThrowIfNull(isValid);
        ArgumentOutOfRangeException.ThrowIfLessThan(self, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(self, parameters.ServerCount);
        if (instanceContext.Length > AgreementDomain.MaxInstanceContextLength)
        {
            throw new ArgumentException($"The instance context is at most {AgreementDomain.MaxInstanceContextLength} bytes.", nameof(instanceContext));
        }

        if (!signingKey.PublicKey.Equals(publicKeys(self)))
        {
            throw new ArgumentException("The signing key is not the one publicKeys lists for this server.", nameof(signingKey));
        }

        Instance = instance;
        _parameters = parameters;
        _self = self;
        _signingKey = signingKey;
        _publicKeys = publicKeys;
        _instanceContext = instanceContext.ToArray();
        _getValue = getValue;
        _isValid = isValid;
        _instanceSeed = instanceSeed;
        _timeouts = timeouts ?? AgreementTimeouts.Default;
    }

    /// <inheritdoc/>
    public InstanceId Instance { get; }

    /// <inheritdoc/>
    public bool IsFinished => _step == AgreementStep.Decided;

    /// <summary>step_p, or the state before and after the rounds.</summary>
    public AgreementStep Step => _step;

    /// <summary>round_p.</summary>
    public int Round => _round;

    /// <summary>lockedRound_p (-1 when not locked).</summary>
    public int LockedRound => _lockedRound;

    /// <summary>id(lockedValue_p), or null.</summary>
    public byte[]? LockedValueId => _lockedValue is null ? null : AgreementDomain.ValueId(_lockedValue);

    /// <summary>validRound_p (-1 when none).</summary>
    public int ValidRound => _validRound;

    /// <summary>The decision's certificate, once decided.</summary>
    public Certificate? Decision => _decision;

    /// <summary>Servers caught equivocating in this instance, whose messages are now ignored.</summary>
    public IReadOnlyCollection<int> Excluded => _excluded;

    /// <summary>
    /// Whether a deciding server sends its certificate only to the servers whose precommit is not in it
    /// (instead of to every server). Set it before <see cref="Start"/>. A signer that still misses the
    /// decision asks for it (<see cref="AgreementMessageType.DecisionRequest"/>) when its precommit has
    /// waited a precommit timeout, and moves to the next round. Saves n - 1 messages per server and
    /// decision where decisions are frequent (the ledger); see docs/PROTOCOLS.md "Catch-up".
    /// </summary>
    public bool CertifiesNonSignersOnly
    {
        get => _certifiesNonSignersOnly;
        set
        {
            if (_started)
            {
                throw new InvalidOperationException("Choose how certificates are sent before starting the instance.");
            }

            _certifiesNonSignersOnly = value;
        }
    }

    /// <summary>proposer(r) = ((instanceSeed + r) mod n) + 1.</summary>
    public static int Proposer(ulong instanceSeed, int round, int serverCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(round);
        ArgumentOutOfRangeException.ThrowIfLessThan(serverCount, 1);
        var n = (ulong)serverCount;
        return (int)(((instanceSeed % n) + ((ulong)round % n)) % n) + 1;
    }

    /// <summary>Timer ids: round * 4 + step, so a timer names the (round, step) it was set for.</summary>
    public static int TimerId(int round, VoteStep step) => (round * TimerKinds) + (int)step;

    /// <summary>
    /// Every agreement state is stored under this prefix. What is there is not secret: the statements this
    /// server signed and sent, and values every server is shown (qualified sets, KeyTables, ledger batches).
    /// </summary>
    public const string StatePrefix = "agreement/";

    /// <summary>The key the machine persists its <see cref="AgreementPersistedState"/> under: "agreement/{period}/{protocol}/{sequence}/state".</summary>
    public static string StateKey(InstanceId instance) =>
        $"{StatePrefix}{instance.Period}/{instance.Protocol.ToString().ToLowerInvariant()}/{instance.Sequence}/state";

    /// <summary>
    /// Rebuilds the machine of server <paramref name="self"/> from what it persisted under
    /// <see cref="StateKey"/> before a crash; then call <see cref="Start"/>, which resumes. The other
    /// arguments are the constructor's and must be the ones the instance was created with.
    /// </summary>
    /// <exception cref="AgreementStateCorruptedException">The state is corrupted or not this instance's:
    /// the controller must refuse to participate in this instance (never run it afresh).</exception>
    public static TendermintAgreement Restore(
        InstanceId instance,
        ClusterParameters parameters,
        int self,
        Ed25519PrivateKey signingKey,
        Func<int, Ed25519PublicKey?> publicKeys,
        ReadOnlySpan<byte> instanceContext,
        Func<byte[]> getValue,
        Func<byte[], bool> isValid,
        ulong instanceSeed,
        ReadOnlySpan<byte> persistedState,
        AgreementTimeouts? timeouts = null) =>
        TryRestore(instance, parameters, self, signingKey, publicKeys, instanceContext, getValue, isValid, instanceSeed, persistedState, out var machine, out var failure, timeouts)
            ? machine
            : throw new AgreementStateCorruptedException(failure);

    /// <summary>
    /// As <see cref="Restore"/>, without throwing on a bad state: false and a named
    /// <see cref="AgreementRestoreError"/> when the bytes do not decode, belong to another instance,
    /// server or configuration, hold a statement whose signature does not verify, contradict
    /// themselves, or hold a decision whose certificate does not verify. Never falls back to a fresh
    /// machine. Arguments that are wrong whatever the state (null key, self out of range) still throw.
    /// </summary>
    public static bool TryRestore(
        InstanceId instance,
        ClusterParameters parameters,
        int self,
        Ed25519PrivateKey signingKey,
        Func<int, Ed25519PublicKey?> publicKeys,
        ReadOnlySpan<byte> instanceContext,
        Func<byte[]> getValue,
        Func<byte[], bool> isValid,
        ulong instanceSeed,
        ReadOnlySpan<byte> persistedState,
        [NotNullWhen(true)] out TendermintAgreement? machine,
        out AgreementRestoreFailure failure,
        AgreementTimeouts? timeouts = null)
    {
        machine = null;
        var candidate = new TendermintAgreement(instance, parameters, self, signingKey, publicKeys, instanceContext, getValue, isValid, instanceSeed, timeouts);
        if (!AgreementPersistedState.TryDecode(persistedState, out var state, out var codecFailure))
        {
            failure = new AgreementRestoreFailure(AgreementRestoreError.Undecodable, $"the persisted state does not decode: {codecFailure}");
            return false;
        }

        failure = candidate.CheckPersisted(state);
        if (!failure.IsNone)
        {
            return false;
        }

        candidate.Apply(state);
        machine = candidate;
        return true;
    }

    /// <summary>"upon start do StartRound(0)" (line 10); on a restored machine, resumes where the persisted state left off.</summary>
    public void Start(ProtocolContext context, Outbox outbox)
    {
        CheckContext(context, outbox);
        if (_started)
        {
            throw new InvalidOperationException("The agreement instance was already started.");
        }

        _started = true;
        if (_restored)
        {
            Resume(context, outbox);
        }
        else
        {
            StartRound(context, outbox, 0);
        }

        ApplyRules(context, outbox);
        PersistIfChanged(outbox);
    }

    /// <inheritdoc/>
    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(message);
        CheckContext(context, outbox);
        if (!_started)
        {
            throw new InvalidOperationException("Start the agreement instance before delivering messages to it.");
        }

        ReceiveCore(context, message, outbox);
        PersistIfChanged(outbox);
    }

    private void ReceiveCore(ProtocolContext context, InboundMessage message, Outbox outbox)
    {

        if (message.Sender < 1 || message.Sender > _parameters.ServerCount)
        {
            return;
        }

        if (_decision is not null)
        {
            CheckLateVote(message, outbox);
            AnswerLaggard(message, outbox);
            return;
        }

        // A proven equivocator no longer leads (its proposals are ignored), but its votes still count,
        // one per (round, step), the first one received: honest servers learn of an equivocation at
        // different times (the second version may reach only some of them), and dropping the
        // culprit's later votes at some honest servers but not at others splits their views of a
        // polka: at n = 3f + 1 servers locked on a value with the culprit's prevote in it could then
        // never gather n - f matching votes again at the servers that dropped it (n=7, t=4, f=2, seed
        // 29). Counting a Byzantine server's votes is what Tendermint assumes anyway (safety holds with
        // f arbitrary voters).
        if (_excluded.Contains(message.Sender) && (AgreementMessageType)message.Type == AgreementMessageType.Proposal)
        {
            return;
        }

        if ((AgreementMessageType)message.Type == AgreementMessageType.DecisionRequest)
        {
            return; // only a decided server has something to answer
        }

        switch ((AgreementMessageType)message.Type)
        {
            case AgreementMessageType.Proposal:
                ReceiveProposal(message, outbox);
                break;
            case AgreementMessageType.Prevote:
            case AgreementMessageType.Precommit:
                ReceiveVote(message, outbox);
                break;
            case AgreementMessageType.Decision:
                ReceiveCertificate(message, outbox);
                break;
            default:
                Blame(outbox, AlertType.MalformedMessage, message.Sender, $"unknown agreement message type {message.Type}", message.Signed);
                return;
        }

        ApplyRules(context, outbox);
    }

    /// <summary>OnTimeoutPropose, OnTimeoutPrevote, OnTimeoutPrecommit (lines 57-67).</summary>
    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        CheckContext(context, outbox);
        if (!_started || _step == AgreementStep.Decided || timerId < 0)
        {
            return;
        }

        TimeoutCore(context, timerId, outbox);
        PersistIfChanged(outbox);
    }

    private void TimeoutCore(ProtocolContext context, int timerId, Outbox outbox)
    {

        var round = timerId / TimerKinds;
        if (timerId % TimerKinds == DecisionWaitSlot)
        {
            if (round != _round)
            {
                return;
            }

            // This server's precommit has waited a precommit timeout and it has not decided: its peers may have
            // (on their precommits, which do not all reach it), and they send certificates only to non-signers.
            // Ask, and carry on as after a precommit timeout: a new round's messages draw the answer too.
            outbox.Broadcast((uint)round, 0, (byte)AgreementMessageType.DecisionRequest, []);
            StartRound(context, outbox, _round + 1);
            ApplyRules(context, outbox);
            return;
        }

        switch ((VoteStep)(timerId % TimerKinds))
        {
            case VoteStep.Proposal when round == _round && _step == AgreementStep.Propose:
                // Lines 57-60.
                CastVote(context, outbox, VoteStep.Prevote, null);
                MoveTo(AgreementStep.Prevote);
                break;
            case VoteStep.Prevote when round == _round && _step == AgreementStep.Prevote:
                // Lines 61-64.
                CastVote(context, outbox, VoteStep.Precommit, null);
                MoveTo(AgreementStep.Precommit);
                break;
            case VoteStep.Precommit when round == _round:
                // Lines 65-67.
                StartRound(context, outbox, _round + 1);
                break;
            default:
                return;
        }

        ApplyRules(context, outbox);
    }

    private void CheckContext(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (context.Self != _self || context.Parameters != _parameters)
        {
            throw new InvalidOperationException($"This instance belongs to server {_self} with {_parameters}, not server {context.Self} with {context.Parameters}.");
        }
    }

    private int ProposerOf(int round) => Proposer(_instanceSeed, round, _parameters.ServerCount);

    /// <summary>Checks a decoded state against this machine's configuration and keys; None when it may be applied.</summary>
    private AgreementRestoreFailure CheckPersisted(AgreementPersistedState state)
    {
        static AgreementRestoreFailure Fail(AgreementRestoreError error, string detail) => new(error, detail);

        if (state.Instance != Instance || state.Self != _self || state.ServerCount != _parameters.ServerCount
            || !state.InstanceContext.SequenceEqual(_instanceContext) || state.InstanceSeed != _instanceSeed)
        {
            return Fail(AgreementRestoreError.WrongInstance, $"the state is of {state.Instance}, server {state.Self}, n = {state.ServerCount}, seed {state.InstanceSeed}, not of {Instance}, server {_self}, n = {_parameters.ServerCount}, seed {_instanceSeed} with this instance context");
        }

        var ownKey = _signingKey.PublicKey;
        foreach (var proposal in state.OwnProposals)
        {
            if (ProposerOf(proposal.Header.Round) != _self)
            {
                return Fail(AgreementRestoreError.Inconsistent, $"own proposal for round {proposal.Header.Round}, whose proposer is server {ProposerOf(proposal.Header.Round)}");
            }

            if (!proposal.Header.Verify(ownKey, _instanceContext) || !proposal.Justification.All(VerifyRelayed))
            {
                return Fail(AgreementRestoreError.InvalidSignature, $"own proposal for round {proposal.Header.Round} does not verify");
            }
        }

        foreach (var message in state.OwnVotes)
        {
            if (!message.Vote.Verify(ownKey, _instanceContext))
            {
                return Fail(AgreementRestoreError.InvalidSignature, $"own {message.Vote} does not verify");
            }

            var header = message.ProposalHeader;
            if (header is not null && (header.Signer != ProposerOf(header.Round) || !VerifyRelayed(header)))
            {
                return Fail(AgreementRestoreError.InvalidSignature, $"the proposal header relayed with own {message.Vote} does not verify");
            }
        }

        if (state.ValidValueArray is not null)
        {
            if (!state.ValidJustification.All(VerifyRelayed))
            {
                return Fail(AgreementRestoreError.InvalidSignature, $"a prevote justifying validRound {state.ValidRound} does not verify");
            }

            if (state.ValidJustification.Count < _parameters.Quorum)
            {
                return Fail(AgreementRestoreError.Inconsistent, $"validRound {state.ValidRound} is justified by {state.ValidJustification.Count} prevotes, fewer than n - f = {_parameters.Quorum}");
            }
        }

        if (state.LockedValueArray is not null)
        {
            // Line 40: the lock is set with this server's PRECOMMIT for the locked value in the locked round.
            var lockId = AgreementDomain.ValueId(state.LockedValueArray);
            var precommit = state.OwnVotes.FirstOrDefault(m => m.Vote.Round == state.LockedRound && m.Vote.Step == VoteStep.Precommit)?.Vote;
            if (precommit is null || !precommit.HasValue || !precommit.ValueId.SequenceEqual(lockId))
            {
                return Fail(AgreementRestoreError.Inconsistent, $"locked in round {state.LockedRound} without an own PRECOMMIT for the locked value");
            }
        }

        if (state.Decision is not null)
        {
            var verification = state.Decision.Verify(_parameters, _publicKeys, _instanceContext);
            if (!verification.IsValid)
            {
                return Fail(AgreementRestoreError.InvalidCertificate, $"the persisted certificate does not verify: {verification.Error} (signer {verification.Culprit})");
            }
        }

        return default;
    }

    /// <summary>Loads a checked state (transition NotStarted -> the persisted step).</summary>
    private void Apply(AgreementPersistedState state)
    {
        _round = state.Round;
        _step = state.Step;
        _lockedValue = state.LockedValueArray;
        _lockedRound = state.LockedRound;
        _validValue = state.ValidValueArray;
        _validRound = state.ValidRound;
        _validJustification.AddRange(state.ValidJustification);
        _decision = state.Decision;
        foreach (var vote in state.ValidJustification)
        {
            LogIfAbsent(vote);
        }

        if (_validRound == _round)
        {
            _polkaHandled.Add(_round);
        }

        foreach (var proposal in state.OwnProposals)
        {
            var round = proposal.Header.Round;
            _ownProposals[round] = proposal;
            _proposals[round] = proposal;
            _proposalHeaders[round] = proposal.Header;
            Senders(round).Add(_self);
            foreach (var vote in proposal.Justification)
            {
                LogIfAbsent(vote);
            }
        }

        foreach (var message in state.OwnVotes)
        {
            _ownVotes[(message.Vote.Round, message.Vote.Step)] = message;
            Log(message.Vote);
            if (message.ProposalHeader is not null)
            {
                _proposalHeaders.TryAdd(message.ProposalHeader.Round, message.ProposalHeader);
            }
        }

        _restored = true;
    }

    /// <summary>
    /// Start of a restored machine: a decided one reports its decision again and re-broadcasts the
    /// certificate; otherwise it re-sends exactly the statements it signed in round_p and re-arms the
    /// round's timers (timers never affect safety, and the precommit timeout guarantees it moves on
    /// even though the votes it received before the crash are gone).
    /// </summary>
    private void Resume(ProtocolContext context, Outbox outbox)
    {
        if (_decision is not null)
        {
            outbox.Emit(new AgreementDecided(Instance, _decision.Value.ToArray(), _decision));
            outbox.Broadcast((uint)_decision.Round, 0, (byte)AgreementMessageType.Decision, _decision.Encode());
            return;
        }

        if (_ownProposals.TryGetValue(_round, out var proposal))
        {
            outbox.Broadcast((uint)_round, 0, (byte)AgreementMessageType.Proposal, proposal.Encode());
        }

        foreach (var step in new[] { VoteStep.Prevote, VoteStep.Precommit })
        {
            if (_ownVotes.TryGetValue((_round, step), out var vote))
            {
                SendOwnVote(outbox, vote);
            }
        }

        if (_step == AgreementStep.Propose)
        {
            outbox.SetTimer(TimerId(_round, VoteStep.Proposal), context.Now + _timeouts.For(VoteStep.Proposal, _round));
        }
        else if (_step == AgreementStep.Prevote)
        {
            outbox.SetTimer(TimerId(_round, VoteStep.Prevote), context.Now + _timeouts.For(VoteStep.Prevote, _round));
        }

        var wholeRound = _timeouts.For(VoteStep.Proposal, _round) + _timeouts.For(VoteStep.Prevote, _round) + _timeouts.For(VoteStep.Precommit, _round);
        outbox.SetTimer(TimerId(_round, VoteStep.Precommit), context.Now + wholeRound);
        if (_certifiesNonSignersOnly && _step == AgreementStep.Precommit)
        {
            // The precommits received before the restart are gone, and nobody sends this signer the certificate.
            outbox.SetTimer((_round * TimerKinds) + DecisionWaitSlot, context.Now + _timeouts.For(VoteStep.Precommit, _round));
        }
    }

    /// <summary>Persists the state when this step changed it: before any message of the step leaves.</summary>
    private void PersistIfChanged(Outbox outbox)
    {
        // Until this server signs something (or learns a decision) there is nothing a restart could make it
        // contradict, and "no state under the key" means exactly that it signed nothing: no write yet (a
        // server that only started the instance, waiting for the proposal, spends no commit on it).
        if (!_dirty || (_ownProposals.Count == 0 && _ownVotes.Count == 0 && _decision is null))
        {
            return;
        }

        _dirty = false;
        outbox.Persist(StateKey(Instance), CaptureState().Encode());
    }

    private AgreementPersistedState CaptureState() => new(
        Instance,
        _self,
        _parameters.ServerCount,
        _instanceContext,
        _instanceSeed,
        _round,
        _step,
        _lockedRound,
        _lockedValue,
        _validRound,
        _validValue,
        _validJustification,
        _ownProposals.Values,
        _ownVotes.Values,
        _decision);

    private void LogIfAbsent(SignedVote vote)
    {
        if (StoredVote(vote) is null)
        {
            Log(vote);
        }
    }

    /// <summary>Function StartRound(round), lines 11-21.</summary>
    private void StartRound(ProtocolContext context, Outbox outbox, int round)
    {
        _round = round;
        MoveTo(AgreementStep.Propose);
        _dirty = true;
        if (_ownProposals.TryGetValue(round, out var signed))
        {
            // Already proposed in this round (before a crash): the same proposal again, never another.
            outbox.Broadcast((uint)round, 0, (byte)AgreementMessageType.Proposal, signed.Encode());
        }
        else if (ProposerOf(round) == _self)
        {
            // Lines 14-17: re-propose validValue (with its polka as justification) or a fresh value.
            var value = _validValue ?? _getValue() ?? throw new InvalidOperationException("getValue returned null.");
            var id = AgreementDomain.ValueId(value);
            var validRound = _validValue is null ? -1 : _validRound;
            var header = SignedVote.Create(_signingKey, _self, _instanceContext, VoteStep.Proposal, round, id, isNil: false, validRound);
            IEnumerable<SignedVote> justification = validRound < 0 ? [] : VotesFor(validRound, VoteStep.Prevote, id).UnionBy(_validJustification, v => v.Signer).OrderBy(v => v.Signer);
            var proposal = new ProposalMessage(header, value, justification);
            _ownProposals[round] = proposal;
            _proposalHeaders[round] = header;
            _proposals[round] = proposal;
            Senders(round).Add(_self);
            outbox.Broadcast((uint)round, 0, (byte)AgreementMessageType.Proposal, proposal.Encode());
        }
        else
        {
            // Line 19.
            outbox.SetTimer(TimerId(round, VoteStep.Proposal), context.Now + _timeouts.For(VoteStep.Proposal, round));
        }
    }

    /// <summary>Evaluates every "upon" rule of Algorithm 1 until none fires (each one that fires changes state).</summary>
    private void ApplyRules(ProtocolContext context, Outbox outbox)
    {
        while (_decision is null && ApplyOneRule(context, outbox))
        {
        }
    }

    private bool ApplyOneRule(ProtocolContext context, Outbox outbox)
    {
        var quorum = _parameters.Quorum;

        // Lines 49-54: a proposal of any round r and n-f PRECOMMITs for its id in r.
        foreach (var (r, proposal) in _proposals)
        {
            var id = proposal.Header.ValueIdOrNull!;
            if (CountVotes(r, VoteStep.Precommit, id) >= quorum)
            {
                Decide(outbox, new Certificate(r, id, proposal.Value, VotesFor(r, VoteStep.Precommit, id).Select(v => new PrecommitSignature(v.Signer, v.Signature.ToArray()))));
                return false;
            }
        }

        // Lines 55-56: f+1 servers sent messages of a higher round: join the highest such round.
        var skipTo = _roundSenders.Where(kv => kv.Key > _round && kv.Value.Count >= _parameters.Faults + 1).Select(kv => kv.Key).DefaultIfEmpty(-1).Max();
        if (skipTo > _round)
        {
            StartRound(context, outbox, skipTo);
            return true;
        }

        _proposals.TryGetValue(_round, out var current);
        var currentId = current?.Header.ValueIdOrNull;

        if (_step == AgreementStep.Propose && current is not null)
        {
            var vr = current.Header.ValidRound;
            if (vr == -1)
            {
                // Lines 22-27.
                var accept = IsValid(current.ValueArray, currentId!) && (_lockedRound == -1 || LockedOn(currentId!));
                CastVote(context, outbox, VoteStep.Prevote, accept ? currentId : null);
                MoveTo(AgreementStep.Prevote);
                return true;
            }

            if (vr < _round && PolkaSigners(vr, currentId!, current.Justification) >= quorum)
            {
                // Lines 28-33. The polka in vr stands for valid(v): see PolkaImpliesValidity. It may
                // come from the proposal's justification alone: see JustifiedPolka.
                // The paper's lockedRound <= vr, except that a polka for another value in this
                // server's own lock round proves more than f equivocators: the lock holds then.
                var accept = _lockedRound < vr || LockedOn(currentId!);
                CastVote(context, outbox, VoteStep.Prevote, accept ? currentId : null);
                MoveTo(AgreementStep.Prevote);
                return true;
            }
        }

        if (_step == AgreementStep.Prevote && CountVotes(_round, VoteStep.Prevote) >= quorum && _prevoteTimerSet.Add(_round))
        {
            // Lines 34-35.
            outbox.SetTimer(TimerId(_round, VoteStep.Prevote), context.Now + _timeouts.For(VoteStep.Prevote, _round));
            return true;
        }

        if (_step is AgreementStep.Prevote or AgreementStep.Precommit
            && current is not null
            && !_polkaHandled.Contains(_round)
            && CountVotes(_round, VoteStep.Prevote, currentId!) >= quorum)
        {
            // Lines 36-43, without valid(v): see PolkaImpliesValidity.
            _polkaHandled.Add(_round);
            if (_step == AgreementStep.Prevote)
            {
                _lockedValue = current.ValueArray;
                _lockedRound = _round;
                CastVote(context, outbox, VoteStep.Precommit, currentId);
                MoveTo(AgreementStep.Precommit);
            }

            _validValue = current.ValueArray;
            _validRound = _round;
            _validJustification.Clear();
            _validJustification.AddRange(VotesFor(_round, VoteStep.Prevote, currentId));
            _dirty = true;
            return true;
        }

        if (_step == AgreementStep.Prevote && CountVotes(_round, VoteStep.Prevote, null) >= quorum)
        {
            // Lines 44-46.
            CastVote(context, outbox, VoteStep.Precommit, null);
            MoveTo(AgreementStep.Precommit);
            return true;
        }

        if (CountVotes(_round, VoteStep.Precommit) >= quorum && _precommitTimerSet.Add(_round))
        {
            // Lines 47-48.
            outbox.SetTimer(TimerId(_round, VoteStep.Precommit), context.Now + _timeouts.For(VoteStep.Precommit, _round));
            return true;
        }

        return false;
    }

    // PolkaImpliesValidity - why lines 28-33, 36-43 and 49 do not re-check valid(v) here: the embedders' predicates are
    // subjective (a refresh dealer that equivocated is disqualified only where the proof arrived), so
    // honest servers can disagree on v, and a server that rejects a value others locked on would
    // otherwise never let them decide (at n = t + f + 1 every honest vote is needed: n=7, t=4, f=2,
    // seed 32). Nothing is lost: an honest server prevotes only a value valid to it (lines 22-27) or
    // one with an earlier polka (lines 28-33), so the earliest polka for v holds n - 2f >= f + 1
    // honest prevotes that each checked valid(v), which is exactly what a decision guaranteed before
    // (n - f PRECOMMITs, n - 2f of them honest), and what an adopted certificate already guarantees.
    private bool LockedOn(byte[] id) => _lockedValue is not null && AgreementDomain.ValueId(_lockedValue).AsSpan().SequenceEqual(id);

    /// <summary>
    /// valid(v), remembered once true. A refusal is asked again in a later round: the embedders' predicates
    /// can turn true with time (a ledger batch that seals period L is valid only once this server is in
    /// L + 1, and a proposer already there may propose it a moment earlier). A remembered refusal made such a
    /// server prevote nil on that same value in every round, and at n = 4 two of them stalled the ledger.
    /// </summary>
    private bool IsValid(byte[] value, byte[] id)
    {
        var key = Convert.ToHexString(id);
        if (_acceptedValues.Contains(key))
        {
            return true;
        }

        var valid = _isValid(value);
        if (valid)
        {
            _acceptedValues.Add(key);
        }

        return valid;
    }

    /// <summary>Signs and broadcasts a PREVOTE or PRECOMMIT for id (null: nil), and logs it as received.</summary>
    /// <remarks>
    /// If this server already signed a statement for (round_p, step) (possible only after a restore),
    /// that statement is sent again and nothing new is signed: a conflicting vote is never produced.
    /// </remarks>
    private void CastVote(ProtocolContext context, Outbox outbox, VoteStep step, byte[]? id)
    {
        if (_certifiesNonSignersOnly && step == VoteStep.Precommit && id is not null)
        {
            // A certificate with this precommit in it is not sent here: wait for the others' precommits a while, then ask.
            outbox.SetTimer((_round * TimerKinds) + DecisionWaitSlot, context.Now + _timeouts.For(VoteStep.Precommit, _round));
        }

        if (!_ownVotes.TryGetValue((_round, step), out var message))
        {
            var vote = SignedVote.Create(_signingKey, _self, _instanceContext, step, _round, id ?? [], isNil: id is null);
            Log(vote);
            message = new VoteMessage(vote, _proposalHeaders.GetValueOrDefault(_round));
            _ownVotes[(_round, step)] = message;
            _dirty = true;
        }

        SendOwnVote(outbox, message);
    }

    private static void SendOwnVote(Outbox outbox, VoteMessage message)
    {
        var type = message.Vote.Step == VoteStep.Prevote ? AgreementMessageType.Prevote : AgreementMessageType.Precommit;
        outbox.Broadcast((uint)message.Vote.Round, 0, (byte)type, message.Encode());
    }

    /// <summary>Line 51: decision_p = v; emits the decision and broadcasts its certificate once.</summary>
    private void Decide(Outbox outbox, Certificate certificate)
    {
        MoveTo(AgreementStep.Decided);
        _decision = certificate;
        _dirty = true;
        outbox.Emit(new AgreementDecided(Instance, certificate.Value.ToArray(), certificate));
        if (!_certifiesNonSignersOnly)
        {
            outbox.Broadcast((uint)certificate.Round, 0, (byte)AgreementMessageType.Decision, certificate.Encode());
            return;
        }

        // A signer broadcast that precommit and receives the others' as this server did; one that still misses
        // some asks after its decision wait (DecisionRequest), answered by AnswerLaggard.
        var encoded = certificate.Encode();
        var signers = certificate.Signatures.Select(s => s.Signer).ToHashSet();
        for (var server = 1; server <= _parameters.ServerCount; server++)
        {
            if (server != _self && !signers.Contains(server))
            {
                // Message round 1 (a laggard's answer is round 0): never the same signed bytes as a later answer to it.
                outbox.Send(server, (uint)certificate.Round, DecidedCertificateRound, (byte)AgreementMessageType.Decision, encoded, confidential: false);
            }
        }
    }

    /// <summary>
    /// After the decision a vote changes nothing, but one that conflicts with a vote logged here is
    /// still equivocation: detect it, so that a voter whose conflicting votes arrive late (this server
    /// decided on the others' votes) is named all the same. Late votes are logged (signature checked) for that only.
    /// </summary>
    private void CheckLateVote(InboundMessage message, Outbox outbox)
    {
        if (((AgreementMessageType)message.Type is not (AgreementMessageType.Prevote or AgreementMessageType.Precommit))
            || _excluded.Contains(message.Sender)
            || !VoteMessage.TryDecode(message.Payload.Span, out var voteMessage, out _))
        {
            return;
        }

        var vote = voteMessage.Vote;
        if (vote.Signer != message.Sender || vote.Round != message.Attempt
            || (StoredVote(vote) is { } existing && existing.SameStatement(vote)) || !VerifyRelayed(vote))
        {
            return;
        }

        LogChecked(vote, outbox);
    }

    private void AnswerLaggard(InboundMessage message, Outbox outbox)
    {
        // Once per sender and round: a server restarted after it was answered gets the certificate
        // again as soon as it speaks in a later round (its timers move it on), yet a sender cannot
        // draw more than one certificate per round it claims. Each answer carries the round it
        // answers as its attempt, so no two answers are the same signed bytes: the envelope layer
        // accepts identical bytes once and reports a second copy as a replay by whoever delivered it.
        if (message.Sender == _self || (AgreementMessageType)message.Type == AgreementMessageType.Decision)
        {
            return;
        }

        if ((AgreementMessageType)message.Type == AgreementMessageType.DecisionRequest)
        {
            // Once per request round, rising: an honest signer asks once per round it precommitted in.
            if (!_requestAnsweredRound.TryGetValue(message.Sender, out var asked) || message.Attempt > asked)
            {
                _requestAnsweredRound[message.Sender] = message.Attempt;
                outbox.Send(message.Sender, message.Attempt, RequestAnswerRound, (byte)AgreementMessageType.Decision, _decision!.Encode(), confidential: false);
            }

            return;
        }

        if (_certifiesNonSignersOnly && WillAsk(message))
        {
            return;
        }

        if (!_certificateAnsweredRound.TryGetValue(message.Sender, out var answered) || message.Attempt > answered)
        {
            _certificateAnsweredRound[message.Sender] = message.Attempt;
            outbox.Send(message.Sender, message.Attempt, 0, (byte)AgreementMessageType.Decision, _decision!.Encode(), confidential: false);
        }
    }

    /// <summary>
    /// Whether a late message's sender asks for the certificate itself if it needs it, so that answering it
    /// would only duplicate: a precommit for a value (a server that precommits a value waits, then sends a
    /// DecisionRequest). Anything else (a nil vote, a proposal, a prevote) is answered.
    /// </summary>
    private static bool WillAsk(InboundMessage message) =>
        (AgreementMessageType)message.Type == AgreementMessageType.Precommit
        && VoteMessage.TryDecode(message.Payload.Span, out var precommit, out _)
        && precommit.Vote.HasValue && precommit.Vote.Signer == message.Sender && precommit.Vote.Round == message.Attempt;

    private void ReceiveProposal(InboundMessage message, Outbox outbox)
    {
        if (!ProposalMessage.TryDecode(message.Payload.Span, out var proposal, out var failure))
        {
            Blame(outbox, AlertType.MalformedMessage, message.Sender, $"undecodable proposal: {failure}", message.Signed);
            return;
        }

        var header = proposal.Header;
        if (header.Signer != message.Sender || header.Round != message.Attempt || ProposerOf(header.Round) != message.Sender)
        {
            Blame(outbox, AlertType.MalformedMessage, message.Sender, $"proposal for round {header.Round} signed by {header.Signer} is not from that round's proposer", message.Signed);
            return;
        }

        if (TooFarAhead(header.Round) || (_proposals.TryGetValue(header.Round, out var known) && known.Header.SameStatement(header)))
        {
            return;
        }

        if (!VerifyRelayed(header))
        {
            Blame(outbox, AlertType.InvalidSignature, message.Sender, $"proposal for round {header.Round} has an invalid signature", message.Signed);
            return;
        }

        foreach (var vote in proposal.Justification)
        {
            if (!VerifyRelayed(vote))
            {
                Blame(outbox, AlertType.InvalidSignature, message.Sender, $"proposal for round {header.Round} is justified by a prevote of server {vote.Signer} that does not verify", message.Signed);
                return;
            }
        }

        if (!AcceptProposalHeader(header, outbox))
        {
            return;
        }

        foreach (var vote in proposal.Justification)
        {
            LogChecked(vote, outbox);
        }

        _proposals.TryAdd(header.Round, proposal);
    }

    private void ReceiveVote(InboundMessage message, Outbox outbox)
    {
        if (!VoteMessage.TryDecode(message.Payload.Span, out var voteMessage, out var failure))
        {
            Blame(outbox, AlertType.MalformedMessage, message.Sender, $"undecodable vote: {failure}", message.Signed);
            return;
        }

        var vote = voteMessage.Vote;
        var expectedType = vote.Step == VoteStep.Prevote ? AgreementMessageType.Prevote : AgreementMessageType.Precommit;
        if (vote.Signer != message.Sender || vote.Round != message.Attempt || (byte)expectedType != message.Type)
        {
            Blame(outbox, AlertType.MalformedMessage, message.Sender, $"{vote} does not match its envelope (sender {message.Sender}, attempt {message.Attempt}, type {message.Type})", message.Signed);
            return;
        }

        if (TooFarAhead(vote.Round))
        {
            return;
        }

        var header = voteMessage.ProposalHeader;
        if (header is not null && !_excluded.Contains(header.Signer))
        {
            if (header.Signer != ProposerOf(header.Round))
            {
                Blame(outbox, AlertType.MalformedMessage, message.Sender, $"relayed proposal header for round {header.Round} is signed by {header.Signer}, not the proposer", message.Signed);
                return;
            }

            var known = _proposalHeaders.GetValueOrDefault(header.Round);
            if (known is null || !known.SameStatement(header))
            {
                if (!VerifyRelayed(header))
                {
                    Blame(outbox, AlertType.InvalidSignature, message.Sender, $"relayed proposal header for round {header.Round} does not verify", message.Signed);
                    return;
                }

                AcceptProposalHeader(header, outbox);
            }
        }

        var existing = StoredVote(vote);
        if (existing is not null && existing.SameStatement(vote))
        {
            return;
        }

        if (!VerifyRelayed(vote))
        {
            Blame(outbox, AlertType.InvalidSignature, message.Sender, $"{vote} has an invalid signature", message.Signed);
            return;
        }

        LogChecked(vote, outbox);
    }

    private void ReceiveCertificate(InboundMessage message, Outbox outbox)
    {
        if (!Certificate.TryDecode(message.Payload.Span, out var certificate, out var failure))
        {
            Blame(outbox, AlertType.MalformedMessage, message.Sender, $"undecodable certificate: {failure}", message.Signed);
            return;
        }

        var verification = certificate.Verify(_parameters, _publicKeys, _instanceContext);
        if (verification.Error == CertificateError.UnknownSigner && verification.Culprit >= 1 && verification.Culprit <= _parameters.ServerCount)
        {
            // This server does not know a signer's key of the period yet (it is recovering, or the
            // signer's KeyTable entry is still on its way): nothing is proven against the relay.
            return;
        }

        if (!verification.IsValid)
        {
            var type = verification.Error == CertificateError.InvalidSignature ? AlertType.InvalidSignature : AlertType.MalformedMessage;
            Blame(outbox, type, message.Sender, $"certificate does not verify: {verification.Error} (signer {verification.Culprit})", message.Signed);
            return;
        }

        Decide(outbox, certificate);
    }

    private bool TooFarAhead(int round) => round > _round + MaxRoundsAhead;

    private bool VerifyRelayed(SignedVote vote) =>
        vote.Signer <= _parameters.ServerCount && vote.Verify(_parameters, _publicKeys, _instanceContext);

    /// <summary>Keeps the first signed proposal header per round; a different one is equivocation. False when it conflicts or is ignored.</summary>
    private bool AcceptProposalHeader(SignedVote header, Outbox outbox)
    {
        if (_excluded.Contains(header.Signer))
        {
            return false;
        }

        if (_proposalHeaders.TryGetValue(header.Round, out var known))
        {
            if (known.SameStatement(header))
            {
                return true;
            }

            ReportEquivocation(outbox, known, header);
            return false;
        }

        _proposalHeaders[header.Round] = header;
        Senders(header.Round).Add(header.Signer);
        return true;
    }

    /// <summary>Logs a vote whose signature was checked; a conflicting stored vote makes it equivocation.</summary>
    private void LogChecked(SignedVote vote, Outbox outbox)
    {
        if (TooFarAhead(vote.Round))
        {
            return;
        }

        var existing = StoredVote(vote);
        if (existing is null)
        {
            Log(vote);
        }
        else if (!existing.SameStatement(vote) && !_excluded.Contains(vote.Signer))
        {
            ReportEquivocation(outbox, existing, vote);
        }
    }

    private void ReportEquivocation(Outbox outbox, SignedVote first, SignedVote second)
    {
        var proof = new VoteEquivocationProof(first, second);
        _excluded.Add(proof.Culprit);
        outbox.Emit(new Alert(AlertType.Equivocation, proof.Culprit, Instance.Period, Instance, $"server {proof.Culprit} signed both {first} and {second}", proof.Encode()));
    }

    private void Blame(Outbox outbox, AlertType type, int culprit, string detail, ReadOnlyMemory<byte> evidence) =>
        outbox.Emit(new Alert(type, culprit, Instance.Period, Instance, detail, evidence.ToArray()));

    private SignedVote? StoredVote(SignedVote vote) =>
        _votes.TryGetValue((vote.Round, vote.Step), out var bySigner) ? bySigner.GetValueOrDefault(vote.Signer) : null;

    private void Log(SignedVote vote)
    {
        if (!_votes.TryGetValue((vote.Round, vote.Step), out var bySigner))
        {
            bySigner = [];
            _votes[(vote.Round, vote.Step)] = bySigner;
        }

        bySigner[vote.Signer] = vote;
        Senders(vote.Round).Add(vote.Signer);
    }

    private HashSet<int> Senders(int round)
    {
        if (!_roundSenders.TryGetValue(round, out var senders))
        {
            senders = [];
            _roundSenders[round] = senders;
        }

        return senders;
    }

    // JustifiedPolka - why the PREVOTEs of a proposal's justification count for lines 28-33 even where
    // this server logged another prevote of the same signer first: a server that equivocated (prevote
    // for v to some, nil to others: n=7, t=4, f=2, seed 5) leaves the servers that got its nil first
    // one prevote short of the polka the others locked on, and keeping only the first vote per signer
    // cannot repair that view, so the locked servers re-propose v with its polka and the others never
    // prevote it (no decision at n = t + f + 1, where every honest vote is needed). A polka is a set of
    // n - f distinct signers of PREVOTE(vr, id(v)), whatever else they signed: n - f signers hold at
    // least n - 2f >= f + 1 honest ones, so two polkas for different values in one round still cannot
    // exist (honest servers prevote once per round), which is all lines 28-33 rely on. The
    // justification's signatures were checked when the proposal was received (or are this server's own).

    /// <summary>Distinct signers of PREVOTE(round, id) logged here or carried by a proposal's justification.</summary>
    private int PolkaSigners(int round, byte[] id, IEnumerable<SignedVote> justification) =>
        VotesFor(round, VoteStep.Prevote, id)
            .Concat(justification.Where(v => v.Step == VoteStep.Prevote && v.Round == round && v.HasValue && v.ValueId.SequenceEqual(id)))
            .Select(v => v.Signer)
            .Distinct()
            .Count();

    /// <summary>Votes of (round, step) in any direction ("∗").</summary>
    private int CountVotes(int round, VoteStep step) =>
        _votes.TryGetValue((round, step), out var bySigner) ? bySigner.Count : 0;

    /// <summary>Votes of (round, step) for id, or for nil when id is null.</summary>
    private int CountVotes(int round, VoteStep step, byte[]? id) => VotesFor(round, step, id).Count();

    private IEnumerable<SignedVote> VotesFor(int round, VoteStep step, byte[]? id) =>
        _votes.TryGetValue((round, step), out var bySigner)
            ? bySigner.Values.Where(v => id is null ? !v.HasValue : v.HasValue && v.ValueId.SequenceEqual(id)).OrderBy(v => v.Signer)
            : [];

    private void MoveTo(AgreementStep next)
    {
        if (!ValidTransitions.Contains((_step, next)))
        {
            throw new InvalidOperationException($"Agreement bug: no transition from {_step} to {next}.");
        }

        _step = next;
    }
}
