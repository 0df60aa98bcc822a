// References: RFC 9591 (FROST) section 5.2 (Round Two: the coordinator sends the signing package, signers
// answer with shares), section 5.3 (aggregate), section 5.4 (identifiable abort: verify_signature_share),
// section 7.3 (nonce reuse), Appendix B (the final signature check); Komlo and Goldberg, FROST (SAC 2020)
// section 5.2 (preprocessed commitments make signing one round); docs/BRIEF.md section 3 "Threshold
// signing"; docs/PROTOCOLS.md "Threshold signing" (one round trip, the nonce rule, crash safety).
using System.Security.Cryptography;
using Proactive.Crypto.Frost;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Signing;

/// <summary>Where a signing session is. Transitions: <see cref="SigningSessionMachine.ValidTransitions"/>.</summary>
public enum SigningStatus
{
    /// <summary>Constructed, not started.</summary>
    Created,

    /// <summary>Signer (not the coordinator): answers the coordinator's packages until its lifetime ends.</summary>
    Signing,

    /// <summary>Coordinator: sent the package of the current attempt; collecting and verifying shares.</summary>
    AwaitingShares,

    /// <summary>Coordinator, final: the signature verified and was emitted (<see cref="SignatureProduced"/>).</summary>
    Produced,

    /// <summary>Coordinator, final: fewer than t+1 usable signers remained (<see cref="SigningFailed"/>).</summary>
    Failed,

    /// <summary>Signer, final: its lifetime ended; a later package for this session opens a new instance, and the pool still refuses used nonces.</summary>
    Closed,
}

/// <summary>The embedder's rule for what this server signs: false refuses the package (no share, no nonce used).</summary>
public delegate bool SigningMessagePolicy(InstanceId session, int coordinator, ReadOnlySpan<byte> message);

/// <summary>Progress deadlines of a signing session.</summary>
/// <param name="ShareWindow">Coordinator: how long an attempt waits for its signers before it retries without the silent ones.</param>
/// <param name="SignerLifetime">Signer: how long its instance of the session stays open for (retried) packages.</param>
public sealed record SigningTimeouts(TimeSpan ShareWindow, TimeSpan SignerLifetime)
{
    /// <summary>Defaults for the local cluster.</summary>
    public static SigningTimeouts Default { get; } = new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));
}

/// <summary>
/// One FROST signing session (RFC 9591 section 5) over preprocessed nonce commitments, seen from one
/// server. The coordinator (named by the session id, <see cref="SigningSessionIds"/>) takes one unused
/// published commitment from each of t+1 signers (itself first), sends them the package, and verifies each
/// share on arrival (section 5.4). A wrong share raises <see cref="AlertType.InvalidSignatureShare"/> naming
/// its signer, who is excluded; a silent signer is excluded after the share window
/// (<see cref="AlertType.Unresponsive"/>); a refusing one is excluded without an alert. Every failed attempt
/// excludes at least one server, and the next attempt uses fresh commitments, until the aggregate verifies
/// against the group key (<see cref="SignatureProduced"/>) or fewer than t+1 usable servers remain
/// (<see cref="SigningFailed"/>). A signer checks that its entry is a nonce it published for this
/// coordinator and never used, and that the message is acceptable, then marks the nonce used and persists
/// that in the same step, before the share leaves.
/// </summary>
public sealed class SigningSessionMachine : IProtocolMachine
{
    /// <summary>Timer: the signer's lifetime is over.</summary>
    public const int SignerLifetimeTimer = 1;

    /// <summary>Timer id of attempt a's share deadline is this plus a.</summary>
    public const int ShareDeadlineTimerBase = 1000;

    /// <summary>The transitions this machine makes.</summary>
    public static readonly IReadOnlyDictionary<SigningStatus, SigningStatus[]> ValidTransitions = new Dictionary<SigningStatus, SigningStatus[]>
    {
        [SigningStatus.Created] = [SigningStatus.Signing, SigningStatus.AwaitingShares, SigningStatus.Failed],
        [SigningStatus.Signing] = [SigningStatus.Closed],
        [SigningStatus.AwaitingShares] = [SigningStatus.AwaitingShares, SigningStatus.Produced, SigningStatus.Failed],
        [SigningStatus.Produced] = [],
        [SigningStatus.Failed] = [],
        [SigningStatus.Closed] = [],
    };

    private readonly NoncePool _pool;
    private readonly CommitmentBook? _book;
    private readonly PublicKeyPackage _publicKeyPackage;
    private readonly SigningMessagePolicy _policy;
    private readonly SigningTimeouts _timeouts;
    private readonly Ciphersuite _suite;
    private readonly byte[]? _message;
    private readonly int _n;
    private readonly int _t;
    private readonly int _self;
    private readonly int _coordinator;
    private readonly int _replacementsPerShare;
    private readonly SortedDictionary<int, string> _excluded = [];
    private Attempt? _current;
    private uint _attempt;

    private SigningSessionMachine(
        InstanceId instance, ClusterParameters parameters, int self, NoncePool pool, CommitmentBook? book, PublicKeyPackage publicKeyPackage,
        SigningMessagePolicy policy, byte[]? message, SigningTimeouts? timeouts, int replacementsPerShare)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(publicKeyPackage);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentOutOfRangeException.ThrowIfLessThan(self, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(self, parameters.ServerCount);
        ArgumentOutOfRangeException.ThrowIfNegative(replacementsPerShare);
        if (!SigningSessionIds.TryGetCoordinator(instance, out var coordinator) || coordinator > parameters.ServerCount || instance.Period != pool.Period)
        {
            throw new ArgumentException("Not a signing session id of this period with a coordinator in 1..n.", nameof(instance));
        }

        var suite = pool.KeyPackage.Suite;
        if (publicKeyPackage.Suite != suite || pool.KeyPackage.Identifier != Identifier.FromInt(suite, self))
        {
            throw new ArgumentException("The key packages must be this server's, of one suite.", nameof(publicKeyPackage));
        }

        if (publicKeyPackage.MinSigners != parameters.ReconstructionThreshold)
        {
            throw new ArgumentException($"The key needs {publicKeyPackage.MinSigners} signers; the cluster signs with t + 1 = {parameters.ReconstructionThreshold}.", nameof(publicKeyPackage));
        }

        Instance = instance;
        _pool = pool;
        _book = book;
        _publicKeyPackage = publicKeyPackage;
        _policy = policy;
        _message = message;
        _timeouts = timeouts ?? SigningTimeouts.Default;
        _suite = suite;
        _n = parameters.ServerCount;
        _t = parameters.Threshold;
        _self = self;
        _coordinator = coordinator;
        _replacementsPerShare = replacementsPerShare;
    }

    /// <inheritdoc />
    public InstanceId Instance { get; }

    /// <summary>Where the session is.</summary>
    public SigningStatus Status { get; private set; } = SigningStatus.Created;

    /// <inheritdoc />
    public bool IsFinished => Status is SigningStatus.Produced or SigningStatus.Failed or SigningStatus.Closed;

    /// <summary>True on the session's coordinator.</summary>
    public bool IsCoordinator => _self == _coordinator;

    /// <summary>The current attempt (coordinator); 0 before the first.</summary>
    public uint CurrentAttempt => _attempt;

    /// <summary>Servers excluded from this session so far, with why (coordinator).</summary>
    public IReadOnlyDictionary<int, string> Excluded => _excluded;

    /// <summary>
    /// The coordinator's instance: it signs <paramref name="message"/> with the key whose public half is
    /// <paramref name="publicKeyPackage"/>, taking commitments from <paramref name="book"/>; it is also one of
    /// the signers, with <paramref name="pool"/>. <paramref name="session"/> must name <paramref name="self"/>.
    /// </summary>
    public static SigningSessionMachine ForCoordinator(
        InstanceId session, ClusterParameters parameters, int self, NoncePool pool, CommitmentBook book, PublicKeyPackage publicKeyPackage,
        SigningMessagePolicy policy, ReadOnlySpan<byte> message, SigningTimeouts? timeouts = null, int replacementsPerShare = 1)
    {
        ArgumentNullException.ThrowIfNull(book);
        if (!SigningSessionIds.TryGetCoordinator(session, out var coordinator) || coordinator != self || book.Self != self)
        {
            throw new ArgumentException("The coordinator's session id and commitment book must name it.", nameof(session));
        }

        if (message.Length > SigningWire.MaxMessageLength)
        {
            throw new ArgumentException($"Messages are at most {SigningWire.MaxMessageLength} bytes.", nameof(message));
        }

        return new SigningSessionMachine(session, parameters, self, pool, book, publicKeyPackage, policy, message.ToArray(), timeouts, replacementsPerShare);
    }

    /// <summary>A signer's instance of a session another server coordinates (made when its first package arrives).</summary>
    public static SigningSessionMachine ForSigner(
        InstanceId session, ClusterParameters parameters, int self, NoncePool pool, PublicKeyPackage publicKeyPackage,
        SigningMessagePolicy policy, SigningTimeouts? timeouts = null, int replacementsPerShare = 1)
    {
        if (SigningSessionIds.TryGetCoordinator(session, out var coordinator) && coordinator == self)
        {
            throw new ArgumentException("This server coordinates the session: use ForCoordinator.", nameof(session));
        }

        return new SigningSessionMachine(session, parameters, self, pool, null, publicKeyPackage, policy, null, timeouts, replacementsPerShare);
    }

    /// <summary>Created -> AwaitingShares (coordinator: first package) or Failed; Created -> Signing (signer).</summary>
    public void Start(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (Status != SigningStatus.Created)
        {
            throw new InvalidOperationException($"Start in {Status}.");
        }

        if (IsCoordinator)
        {
            BeginAttempt(context, outbox);
            return;
        }

        Move(SigningStatus.Signing);
        outbox.SetTimer(SignerLifetimeTimer, context.Now + _timeouts.SignerLifetime);
    }

    /// <inheritdoc />
    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(outbox);
        if (message.Sender < 1 || message.Sender > _n)
        {
            return;
        }

        switch (message.Round, message.Type)
        {
            case (SigningWire.PackageRound, SigningWire.SigningRequestType):
                if (Status is SigningStatus.Signing or SigningStatus.AwaitingShares)
                {
                    OnPackage(context, message, outbox);
                }

                break;
            case (SigningWire.ShareRound, SigningWire.SignatureShareType) when IsCoordinator:
                OnShare(context, message, outbox);
                break;
            case (SigningWire.ShareRound, SigningWire.RefusalType) when IsCoordinator:
                OnRefusal(context, message, outbox);
                break;
            default:
                Alert(outbox, AlertType.MalformedMessage, message.Sender, $"unexpected round {message.Round} type {message.Type} for a {(IsCoordinator ? "coordinator" : "signer")}", message.Signed);
                break;
        }
    }

    /// <summary>Share deadline: AwaitingShares -> AwaitingShares/Failed without the silent signers; lifetime: Signing -> Closed.</summary>
    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (timerId == SignerLifetimeTimer && Status == SigningStatus.Signing)
        {
            Move(SigningStatus.Closed);
            return;
        }

        if (Status != SigningStatus.AwaitingShares || _current is null || timerId != ShareDeadlineTimerBase + (long)_attempt)
        {
            return;
        }

        foreach (var silent in _current.Signers.Where(s => !_current.Shares.ContainsKey(s)))
        {
            Alert(outbox, AlertType.Unresponsive, silent, $"no signature share for attempt {_attempt} within {_timeouts.ShareWindow}", ReadOnlyMemory<byte>.Empty);
            _excluded[silent] = "unresponsive";
        }

        BeginAttempt(context, outbox);
    }

    // ---- Coordinator -------------------------------------------------------------------------

    /// <summary>
    /// -> AwaitingShares with a new package, or -> Failed. Picks t+1 servers not excluded that have an
    /// unused commitment in the book, this server first (its share needs no network), then by id.
    /// </summary>
    private void BeginAttempt(ProtocolContext context, Outbox outbox)
    {
        var book = _book!;
        var candidates = new[] { _self }.Concat(Enumerable.Range(1, _n).Where(j => j != _self))
            .Where(j => !_excluded.ContainsKey(j) && book.Available(j) > 0)
            .Take(_t + 1)
            .ToList();
        if (candidates.Count < _t + 1)
        {
            var usable = _n - _excluded.Count;
            Move(SigningStatus.Failed);
            _current = null;
            outbox.Emit(new SigningFailed(
                Instance,
                $"{usable} servers are not excluded and {candidates.Count} of them have commitments for this coordinator; a signature needs t + 1 = {_t + 1}",
                [.. _excluded.Keys]));
            return;
        }

        var entries = new List<PackageEntry>(candidates.Count);
        foreach (var j in candidates)
        {
            book.TryTake(j, out var published);
            entries.Add(new PackageEntry(j, published!.Index, published.Commitments));
        }

        _attempt++;
        var request = new SigningRequest(_suite, _message!, entries);
        var encoded = request.Encode();
        _current = new Attempt(request, request.ToSigningPackage(), encoded, SigningWire.PackageDigest(Instance, _attempt, encoded), [.. request.Entries.Select(e => e.Server)]);
        Move(SigningStatus.AwaitingShares);
        foreach (var j in _current.Signers)
        {
            outbox.Send(j, _attempt, SigningWire.PackageRound, SigningWire.SigningRequestType, encoded, confidential: false);
        }

        outbox.SetTimer(ShareDeadlineTimerBase + (int)_attempt, context.Now + _timeouts.ShareWindow);
    }

    /// <summary>A signer's share: file its replacement commitments, verify the share (RFC 9591 section 5.4), aggregate when complete.</summary>
    private void OnShare(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        var sender = message.Sender;
        if (!SigningResponse.TryDecode(_suite, message.Payload.Span, out var response, out var failure))
        {
            Alert(outbox, AlertType.MalformedMessage, sender, $"signature share does not decode: {failure}", message.Signed);
            ExcludeFromCurrent(context, sender, message.Attempt, "malformed share", outbox);
            return;
        }

        var identifier = Identifier.FromInt(_suite, sender);
        if (response.Replacements.Any(e => e.Commitments.Identifier != identifier || e.Coordinator != _self))
        {
            Alert(outbox, AlertType.MalformedMessage, sender, "replacement commitments of another identifier or coordinator", message.Signed);
        }
        else
        {
            _book!.Accept(sender, response.Replacements);
        }

        var current = _current;
        if (Status != SigningStatus.AwaitingShares || current is null || message.Attempt != _attempt
            || !current.Signers.Contains(sender) || current.Shares.ContainsKey(sender))
        {
            return; // a late answer to an earlier attempt, or a duplicate
        }

        if (!CryptographicOperations.FixedTimeEquals(response.PackageDigest, current.Digest) || response.Share.Identifier != identifier)
        {
            Alert(outbox, AlertType.MalformedMessage, sender, "the share answers another package or carries another identifier", message.Signed);
            ExcludeFromCurrent(context, sender, message.Attempt, "share for another package", outbox);
            return;
        }

        if (!Round2.VerifySignatureShare(current.Package, response.Share, _publicKeyPackage))
        {
            Alert(outbox, AlertType.InvalidSignatureShare, sender, $"signature share of attempt {_attempt} fails RFC 9591 section 5.4 verification",
                InvalidSignatureShareEvidence.Encode(_attempt, current.Encoded, message.Signed.Span));
            ExcludeFromCurrent(context, sender, message.Attempt, "invalid signature share", outbox);
            return;
        }

        current.Shares[sender] = response.Share;
        if (current.Shares.Count == current.Signers.Count)
        {
            Complete(context, current, outbox);
        }
    }

    /// <summary>A signer declined: exclude it (no alert: declining proves nothing) and retry.</summary>
    private void OnRefusal(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        var sender = message.Sender;
        if (!SigningRefusal.TryDecode(_suite, message.Payload.Span, out var refusal))
        {
            Alert(outbox, AlertType.MalformedMessage, sender, "refusal does not decode", message.Signed);
            ExcludeFromCurrent(context, sender, message.Attempt, "malformed refusal", outbox);
            return;
        }

        var current = _current;
        if (Status != SigningStatus.AwaitingShares || current is null || message.Attempt != _attempt
            || !current.Signers.Contains(sender) || current.Shares.ContainsKey(sender)
            || !CryptographicOperations.FixedTimeEquals(refusal.PackageDigest, current.Digest))
        {
            return;
        }

        if (refusal.Reason == SigningRefusalReason.UnknownNonce)
        {
            // It restarted and discarded that generation: its older commitments are all dead.
            var entry = current.Request.Entries.First(e => e.Server == sender);
            _book!.DropGenerationsBelow(sender, (uint)(entry.Index >> 32) + 1);
        }

        ExcludeFromCurrent(context, sender, message.Attempt, $"refused: {refusal.Reason}", outbox);
    }

    private void ExcludeFromCurrent(ProtocolContext context, int server, uint attempt, string why, Outbox outbox)
    {
        if (Status != SigningStatus.AwaitingShares || _current is null || attempt != _attempt || !_current.Signers.Contains(server))
        {
            return;
        }

        _excluded[server] = why;
        BeginAttempt(context, outbox);
    }

    /// <summary>AwaitingShares -> Produced: aggregate (RFC 9591 section 5.3) and check against the group key (Appendix B) before emitting.</summary>
    private void Complete(ProtocolContext context, Attempt current, Outbox outbox)
    {
        var result = Aggregation.Aggregate(current.Package, [.. current.Shares.Values], _publicKeyPackage);
        if (!result.TryGetValue(out var signature) || !_publicKeyPackage.GroupPublicKey.Verify(_message, signature!))
        {
            // Every share verified on its own, so only inconsistent key material gets here: retrying cannot help.
            Move(SigningStatus.Failed);
            _current = null;
            outbox.Emit(new SigningFailed(Instance, $"the aggregate does not verify against the group key ({result.Error}): the public key package is inconsistent", [.. _excluded.Keys]));
            return;
        }

        Move(SigningStatus.Produced);
        _current = null;
        outbox.Emit(new SignatureProduced(Instance, (byte[])_message!.Clone(), signature!.Encode(), [.. current.Signers]));
    }

    // ---- Signer ------------------------------------------------------------------------------

    /// <summary>
    /// A package from the coordinator: check it, then mark the nonce used and persist that (same step, so
    /// durable before the share leaves), sign (RFC 9591 section 5.2) and answer with the share and a
    /// replacement commitment. Refusals never touch the pool.
    /// </summary>
    private void OnPackage(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        var coordinator = message.Sender;
        if (coordinator != _coordinator)
        {
            Alert(outbox, AlertType.MalformedMessage, coordinator, $"a package for a session coordinated by {_coordinator}", message.Signed);
            return;
        }

        if (!SigningRequest.TryDecode(_suite, _n, message.Payload.Span, out var request, out var failure))
        {
            Alert(outbox, AlertType.MalformedMessage, coordinator, $"signing package does not decode: {failure}", message.Signed);
            return;
        }

        var digest = SigningWire.PackageDigest(Instance, message.Attempt, message.Payload.Span);
        var own = request.Entries.FirstOrDefault(e => e.Server == _self);
        if (own is null || request.Entries.Count < _t + 1)
        {
            Alert(outbox, AlertType.MalformedMessage, coordinator, own is null ? "a package without this signer" : $"a package with {request.Entries.Count} signers; t + 1 = {_t + 1} are needed", message.Signed);
            return;
        }

        if (!_policy(Instance, coordinator, request.Message.Span))
        {
            Refuse(coordinator, message.Attempt, digest, SigningRefusalReason.MessageNotAcceptable, outbox);
            return;
        }

        switch (_pool.Lookup(coordinator, own.Index, own.Commitments))
        {
            case NonceLookup.Available:
                break;
            case NonceLookup.AlreadyUsed:
                // RFC 9591 section 7.3: a second share with one nonce reveals the signing share. Only this
                // coordinator could use a nonce reserved for it, and it already has the first share.
                Alert(outbox, AlertType.Replay, coordinator, $"package reuses nonce {own.Index:x16}, which this signer already used", message.Signed);
                Refuse(coordinator, message.Attempt, digest, SigningRefusalReason.NonceAlreadyUsed, outbox);
                return;
            case NonceLookup.Unknown:
                Refuse(coordinator, message.Attempt, digest, SigningRefusalReason.UnknownNonce, outbox);
                return;
            default:
                Alert(outbox, AlertType.MalformedMessage, coordinator, $"package names nonce {own.Index:x16} with commitments or a reservation this signer never published", message.Signed);
                Refuse(coordinator, message.Attempt, digest, SigningRefusalReason.InvalidPackage, outbox);
                return;
        }

        var nonces = _pool.TakeForSigning(own.Index, new NonceUseRecord(own.Index, coordinator, Instance, message.Attempt), outbox);
        var result = Round2.Sign(request.ToSigningPackage(), nonces, _pool.KeyPackage);
        if (!result.TryGetValue(out var share))
        {
            // The nonce is burnt (marked used), never reused: the safe side of a failure.
            Alert(outbox, AlertType.MalformedMessage, coordinator, $"signing package refused by FROST: {result.Error}", message.Signed);
            Refuse(coordinator, message.Attempt, digest, SigningRefusalReason.InvalidPackage, outbox);
            return;
        }

        var replacements = _pool.Publish(coordinator, _replacementsPerShare, context.Random, outbox);
        var response = new SigningResponse(digest, share!, replacements);
        outbox.Send(coordinator, message.Attempt, SigningWire.ShareRound, SigningWire.SignatureShareType, response.Encode(), confidential: false);
    }

    private void Refuse(int coordinator, uint attempt, byte[] digest, SigningRefusalReason reason, Outbox outbox) =>
        outbox.Send(coordinator, attempt, SigningWire.ShareRound, SigningWire.RefusalType, new SigningRefusal(digest, reason).Encode(_suite), confidential: false);

    private void Alert(Outbox outbox, AlertType type, int culprit, string detail, ReadOnlyMemory<byte> evidence) =>
        outbox.Emit(new Alert(type, culprit, Instance.Period, Instance, detail, evidence.ToArray()));

    private void Move(SigningStatus next)
    {
        if (!ValidTransitions[Status].Contains(next))
        {
            throw new InvalidOperationException($"A signing session cannot go from {Status} to {next}.");
        }

        Status = next;
    }

    /// <summary>One attempt's package and the shares verified so far.</summary>
    private sealed record Attempt(SigningRequest Request, SigningPackage Package, byte[] Encoded, byte[] Digest, IReadOnlyList<int> Signers)
    {
        public Dictionary<int, SignatureShare> Shares { get; } = [];
    }
}
