// References: RFC 9591 (FROST) sections 5.1 (round one, which may run ahead of time), 5.2-5.3 (signature
// shares, aggregation), 5.4 (identifiable abort: shares checked when the aggregate fails) and 7.3 (nonces
// used once); toolkit (seed 001) section 5.3 (GenerateDSASignature); docs/PROTOCOLS.md "Application keys
// and signing".
using System.Buffers;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Application;

/// <summary>
/// The signatures of one request with an application's key (one per message, in the request's order),
/// produced by the coordinator of a session; each verified under the key before it is emitted.
/// </summary>
public sealed record AppSignatureProduced(InstanceId Instance, byte[] RequestId, IReadOnlyList<byte[]> Signatures, byte[] PublicKey, IReadOnlyList<int> Signers) : ProtocolEvent
{
    /// <summary>The first (for a single-message request, the only) signature.</summary>
    public byte[] Signature => Signatures[0];
}

/// <summary>A session gave up; <paramref name="Reason"/> says why (no t + 1 signers agreed to sign, shares did not verify).</summary>
public sealed record AppSigningFailed(InstanceId Instance, byte[] RequestId, string Reason) : ProtocolEvent;

/// <summary>What a signer needs to sign with an application's key: its share and the commitments of that sharing.</summary>
public sealed record AppKeyMaterial(ulong Ordinal, string Sharing, Scalar Share, FeldmanCommitment Commitment);

/// <summary>What a coordinator's session takes from its server: commitments made in advance, and the keys' public shares.</summary>
public interface IAppSigningSupport
{
    /// <summary><paramref name="perSigner"/> commitments from each of <paramref name="count"/> signers among <paramref name="candidates"/> (with their generation), or null when too few have that many in stock.</summary>
    IReadOnlyList<(int Signer, IReadOnlyList<SigningCommitments> Commitments, uint Generation)>? TryDraw(IEnumerable<int> candidates, int count, int perSigner);

    /// <summary>The signer of commitments of <paramref name="generation"/> refused, cheated or stayed silent at <paramref name="now"/>: its stock is no good.</summary>
    void Forget(int signer, uint generation, TimeSpan now);

    /// <summary>The group key and every server's verifying share of <paramref name="key"/>'s sharing (computed once per sharing).</summary>
    PublicKeyPackage PublicKeysOf(AppKeyMaterial key);
}

/// <summary>
/// The signatures of one client request with an application's key (one message, or a batch of up to
/// <see cref="KeyRecord.MaxBatchMessages"/>), FROST in one round. Every signer made nonce pairs for this
/// coordinator in advance and sent it their commitments (<see cref="AppSigningNonces"/>,
/// <see cref="AppCommitmentStock"/>); the coordinator draws one commitment per message from each of t
/// signers, adds fresh pairs of its own, and sends each the client's signed request with the signing
/// packages. A signer judges the request itself, takes the pairs out of its pool (so each signs once) and
/// answers with its shares; the coordinator aggregates and checks each signature under the key, checks the
/// shares only when that fails (naming the culprit), and retries without anyone who refused, stayed silent
/// or cheated.
/// </summary>
/// <remarks>
/// Instance (AppSigning, p, coordinator &lt;&lt; 32 | counter). Coordinator to each chosen signer: round 2, type
/// 1 = (u64 key ordinal, string sharing, bytes signed request, count k of messages, k x (count + the
/// package's commitments in ascending identifier order)); the answer: type 2 = count k + k signature shares,
/// or type 3 = refusal (string reason). The message's attempt names the coordinator's attempt. Signers keep
/// no session: the packages are all they need (<see cref="SignAsSigner"/>).
/// </remarks>
public sealed class AppSigningMachine : IProtocolMachine
{
    public const byte SignRound = 2;
    public const byte RequestType = 1;
    public const byte ReplyType = 2;
    public const byte RefusalType = 3;

    /// <summary>A refusal with this prefix: the signer holds no pair behind the commitment it was shown.</summary>
    public const string UnknownNoncePrefix = "unknown nonce";

    /// <summary>How many attempts a coordinator makes (each without the signers that failed before).</summary>
    public const int MaxAttempts = 3;

    /// <summary>The attempt deadline timer's id base (+ attempt).</summary>
    public const int AttemptTimerBase = 100;

    /// <summary>The server pokes a waiting session with this timer id when commitments arrived.</summary>
    public const int StockArrivedTimer = 1;

    private const int MaxReasonLength = 200;

    private readonly ClusterParameters _parameters;
    private readonly int _self;
    private readonly Ciphersuite _suite;
    private readonly TimeSpan _window;
    private readonly SignedRequest _request;
    private readonly AppKeyMaterial _key;
    private readonly IReadOnlyList<byte[]> _messages;
    private readonly IAppSigningSupport _support;
    private readonly Dictionary<int, SignatureShare[]> _shares = [];
    private readonly Dictionary<int, byte[]> _shareMessages = [];
    private readonly HashSet<int> _excluded = [];
    private readonly List<int> _chosen = [];
    private readonly Dictionary<int, uint> _generations = [];
    private List<SigningPackage>? _packages;
    private uint _attempt;

    private AppSigningMachine(InstanceId instance, ClusterParameters parameters, int self, Ciphersuite suite, TimeSpan window,
        SignedRequest request, AppKeyMaterial key, IReadOnlyList<byte[]> messages, IAppSigningSupport support)
    {
        Instance = instance;
        _parameters = parameters;
        _self = self;
        _suite = suite;
        _window = window;
        _request = request;
        _key = key;
        _messages = messages;
        _support = support;
    }

    public InstanceId Instance { get; }

    public bool IsFinished { get; private set; }

    /// <summary>True while the session waits for signers' commitments (none of t peers had one in stock).</summary>
    public bool IsWaitingForCommitments { get; private set; }

    /// <summary>The session id of <paramref name="coordinator"/>'s session <paramref name="counter"/> in <paramref name="period"/>.</summary>
    public static InstanceId SessionOf(ulong period, int coordinator, uint counter) => new(ProtocolKind.AppSigning, period, ((ulong)coordinator << 32) | counter);

    /// <summary>The coordinator a session id names.</summary>
    public static int CoordinatorOf(InstanceId instance) => (int)Math.Min(instance.Sequence >> 32, int.MaxValue);

    /// <summary>The coordinator's machine for a request it authorized, with its own key material.</summary>
    public static AppSigningMachine ForCoordinator(InstanceId instance, ClusterParameters parameters, int self, Ciphersuite suite, TimeSpan window,
        SignedRequest request, AppKeyMaterial key, IReadOnlyList<byte[]> messages, IAppSigningSupport support)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(support);
        if (messages.Count is < 1 or > KeyRecord.MaxBatchMessages)
        {
            throw new ArgumentException($"A session signs 1 to {KeyRecord.MaxBatchMessages} messages.", nameof(messages));
        }

        return new(instance, parameters, self, suite, window, request, key, messages, support);
    }

    public void Start(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        _attempt = 1;
        outbox.SetTimer(AttemptTimerBase + (int)_attempt, context.Now + _window);
        TrySend(context, outbox);
    }

    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(outbox);
        if (IsFinished || _packages is null || message.Round != SignRound || message.Attempt != _attempt
            || !_chosen.Contains(message.Sender) || _shares.ContainsKey(message.Sender))
        {
            return;
        }

        if (message.Type == ReplyType && TryReadShares(message, out var shares))
        {
            _shares[message.Sender] = shares;
            _shareMessages[message.Sender] = message.Signed.ToArray();
            AggregateIfReady(context, outbox);
            return;
        }

        // A refusal (it restarted and lost its pairs, its state is behind, it holds another sharing) or
        // garbage: its commitments are dropped, and it is asked to start over a little later.
        _support.Forget(message.Sender, _generations.GetValueOrDefault(message.Sender), context.Now);
        _excluded.Add(message.Sender);
        NextAttempt(context, outbox, message.Type == RefusalType ? $"server {message.Sender} refused to sign" : $"server {message.Sender} sent an undecodable answer");
    }

    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (IsFinished)
        {
            return;
        }

        if (timerId == StockArrivedTimer)
        {
            if (IsWaitingForCommitments)
            {
                TrySend(context, outbox);
            }

            return;
        }

        if (timerId != AttemptTimerBase + (int)_attempt)
        {
            return;
        }

        // Whoever was chosen and did not answer in time is left out of the next attempt, and its commitments with it.
        foreach (var silent in _chosen.Where(s => s != _self && !_shares.ContainsKey(s)))
        {
            _excluded.Add(silent);
            _support.Forget(silent, _generations.GetValueOrDefault(silent), context.Now);
        }

        NextAttempt(context, outbox, IsWaitingForCommitments ? "too few signers sent commitments in time" : "signers did not answer in time");
    }

    /// <summary>
    /// A signer's side, with no session kept: checks the coordinator's package and the client's request, takes
    /// the named nonce pair out of <paramref name="pool"/> and answers with a signature share, or refuses.
    /// </summary>
    public static void SignAsSigner(InstanceId instance, InboundMessage message, ClusterParameters parameters, int self, Ciphersuite suite,
        Func<SignedRequest, (AppKeyMaterial? Key, IReadOnlyList<byte[]> Messages, string Problem)> authorize, AppSigningNonces pool, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(authorize);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(outbox);
        var coordinator = CoordinatorOf(instance);
        if (message.Round != SignRound || message.Type != RequestType || message.Sender != coordinator)
        {
            return;
        }

        if (!TryReadPackages(message.Payload.Span, parameters, suite, self, coordinator, out var ordinal, out var sharing, out var request, out var packages, out var problem))
        {
            Refuse(outbox, message, problem);
            return;
        }

        var (key, signed, refusal) = authorize(request!);
        if (key is null || key.Ordinal != ordinal)
        {
            Refuse(outbox, message, key is null ? refusal : "the key is not the one the request names");
            return;
        }

        if (key.Sharing != sharing)
        {
            Refuse(outbox, message, $"this server holds sharing {key.Sharing}, not {sharing}");
            return;
        }

        if (signed.Count != packages.Count)
        {
            Refuse(outbox, message, $"the request holds {signed.Count} messages, the package {packages.Count}");
            return;
        }

        // The pairs leave the pool here, whatever happens next: each signs at most once.
        var own = Identifier.FromInt(suite, self);
        var nonces = new List<SigningNonces>(packages.Count);
        try
        {
            foreach (var commitments in packages)
            {
                if (!pool.TryTake(coordinator, commitments.Find(c => c.Identifier == own)!, out var pair) || pair is null)
                {
                    Refuse(outbox, message, UnknownNoncePrefix + ": no unused nonce of this server behind a commitment");
                    return;
                }

                nonces.Add(pair);
            }

            using var keyPackage = KeyPackageOf(suite, parameters, self, key);
            var output = new ArrayBufferWriter<byte>();
            var writer = new CanonicalWriter(output);
            writer.WriteCount(packages.Count, KeyRecord.MaxBatchMessages);
            for (var i = 0; i < packages.Count; i++)
            {
                var share = Round2.Sign(new SigningPackage(suite, packages[i], signed[i]), nonces[i], keyPackage);
                if (!share.IsSuccess)
                {
                    Refuse(outbox, message, $"signing failed: {share.Error}");
                    return;
                }

                share.Value.WriteTo(ref writer);
            }

            outbox.Send(message.Sender, message.Attempt, SignRound, ReplyType, output.WrittenSpan.ToArray(), confidential: false);
        }
        finally
        {
            foreach (var pair in nonces)
            {
                pair.Dispose();
            }
        }
    }

    /// <summary>
    /// The coordinator's package as a signer reads it: the key, the client's request and, per message, t + 1
    /// commitments naming this server, the coordinator and servers only. False, with the reason, otherwise.
    /// </summary>
    private static bool TryReadPackages(ReadOnlySpan<byte> payload, ClusterParameters parameters, Ciphersuite suite, int self, int coordinator,
        out ulong ordinal, out string sharing, out SignedRequest? request, out List<List<SigningCommitments>> packages, out string problem)
    {
        packages = [];
        request = null;
        sharing = string.Empty;
        problem = "undecodable package";
        var reader = new CanonicalReader(payload);
        if (!reader.TryReadU64(out ordinal) || !reader.TryReadString(32, out var sharingRead)
            || !reader.TryReadBytes(SignedRequest.MaxBodyLength + 4096, out var encodedRequest)
            || !SignedRequest.TryDecode(encodedRequest, out request)
            || !reader.TryReadCount(KeyRecord.MaxBatchMessages, 1, out var items) || items < 1)
        {
            return false;
        }

        sharing = sharingRead;

        var own = Identifier.FromInt(suite, self);
        var lead = Identifier.FromInt(suite, coordinator);
        var servers = parameters.Servers.Select(s => Identifier.FromInt(suite, s)).ToHashSet();
        for (var item = 0; item < items; item++)
        {
            if (!reader.TryReadCount(ClusterParameters.MaxServers, 1, out var count) || count != parameters.ReconstructionThreshold)
            {
                return false;
            }

            var commitments = new List<SigningCommitments>(count);
            for (var i = 0; i < count; i++)
            {
                if (!SigningCommitments.TryRead(ref reader, suite.Group, out var c))
                {
                    return false;
                }

                commitments.Add(c);
            }

            if (!commitments.Exists(c => c.Identifier == own) || !commitments.Exists(c => c.Identifier == lead) || !commitments.TrueForAll(c => servers.Contains(c.Identifier)))
            {
                problem = "the package does not name this server, the coordinator and servers only";
                return false;
            }

            packages.Add(commitments);
        }

        return reader.TryReadEnd();
    }

    private bool TryReadShares(InboundMessage message, out SignatureShare[] shares)
    {
        shares = [];
        var reader = new CanonicalReader(message.Payload.Span);
        if (!reader.TryReadCount(KeyRecord.MaxBatchMessages, 1, out var count) || count != _messages.Count)
        {
            return false;
        }

        var read = new SignatureShare[count];
        var sender = Identifier.FromInt(_suite, message.Sender);
        for (var i = 0; i < count; i++)
        {
            if (!SignatureShare.TryRead(ref reader, _suite.Group, out var share) || share.Identifier != sender)
            {
                return false;
            }

            read[i] = share;
        }

        if (!reader.TryReadEnd())
        {
            return false;
        }

        shares = read;
        return true;
    }

    /// <summary>A fresh nonce pair of <paramref name="self"/>, hedged with <paramref name="hedge"/> (RFC 9591 nonce_generate).</summary>
    public static SigningNonces NewNonces(Ciphersuite suite, int self, Scalar hedge, Crypto.Random.IRandomSource random) =>
        Round1.Commit(new SigningShare(suite, Identifier.FromInt(suite, self), hedge), random);

    private void TrySend(ProtocolContext context, Outbox outbox)
    {
        var peers = _parameters.Servers.Where(s => s != _self && !_excluded.Contains(s)).ToList();
        if (peers.Count < _parameters.Threshold)
        {
            Fail(outbox, "fewer than t signers are left to ask");
            return;
        }

        // Spread the sessions over the signers: each starts the candidate list at another peer.
        var offset = (int)(Instance.Sequence % (uint)peers.Count);
        var drawn = _support.TryDraw(peers.Skip(offset).Concat(peers.Take(offset)), _parameters.Threshold, _messages.Count);
        if (drawn is null)
        {
            IsWaitingForCommitments = true;
            return;
        }

        IsWaitingForCommitments = false;
        _chosen.Clear();
        _chosen.AddRange(drawn.Select(d => d.Signer));
        _chosen.Add(_self);
        _generations.Clear();
        foreach (var (signer, _, generation) in drawn)
        {
            _generations[signer] = generation;
        }

        _shares.Clear();
        _shareMessages.Clear();
        _packages = new List<SigningPackage>(_messages.Count);
        var ownShares = new SignatureShare[_messages.Count];
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteU64(_key.Ordinal);
        writer.WriteString(_key.Sharing, 32);
        writer.WriteBytes(_request.Encode(), SignedRequest.MaxBodyLength + 4096);
        writer.WriteCount(_messages.Count, KeyRecord.MaxBatchMessages);
        using var keyPackage = KeyPackageOf(_suite, _parameters, _self, _key);
        for (var i = 0; i < _messages.Count; i++)
        {
            using var nonces = NewNonces(_suite, _self, _key.Share, context.Random);
            var commitments = drawn.Select(d => (d.Signer, Commitments: d.Commitments[i])).Append((Signer: _self, nonces.Commitments))
                .OrderBy(d => d.Signer).Select(d => d.Commitments).ToList();
            writer.WriteCount(commitments.Count, ClusterParameters.MaxServers);
            foreach (var commitment in commitments)
            {
                commitment.WriteTo(ref writer);
            }

            var package = new SigningPackage(_suite, commitments, _messages[i]);
            _packages.Add(package);
            var own = Round2.Sign(package, nonces, keyPackage);
            if (!own.IsSuccess)
            {
                Fail(outbox, $"this server could not sign its own share ({own.Error})");
                return;
            }

            ownShares[i] = own.Value;
        }

        _shares[_self] = ownShares;
        var payload = output.WrittenSpan.ToArray();
        foreach (var (signer, _, _) in drawn)
        {
            outbox.Send(signer, _attempt, SignRound, RequestType, payload, confidential: false);
        }
    }

    private void NextAttempt(ProtocolContext context, Outbox outbox, string reason)
    {
        if (_attempt >= MaxAttempts)
        {
            Fail(outbox, reason);
            return;
        }

        _attempt++;
        _packages = null;
        _chosen.Clear();
        _shares.Clear();
        _shareMessages.Clear();
        outbox.SetTimer(AttemptTimerBase + (int)_attempt, context.Now + _window);
        TrySend(context, outbox);
    }

    private void AggregateIfReady(ProtocolContext context, Outbox outbox)
    {
        if (_packages is null || _shares.Count < _chosen.Count)
        {
            return;
        }

        var publicKeys = _support.PublicKeysOf(_key);
        var signatures = new List<byte[]>(_packages.Count);
        var culprits = new HashSet<Identifier>();
        var error = FrostError.None;
        for (var i = 0; i < _packages.Count; i++)
        {
            var signature = Aggregation.Aggregate(_packages[i], [.. _chosen.Select(s => _shares[s][i])], publicKeys);
            if (signature.IsSuccess)
            {
                signatures.Add(signature.Value.Encode());
                continue;
            }

            // This aggregate did not verify: every share of it was checked, and the culprits are named.
            error = signature.Error;
            culprits.UnionWith(signature.Culprits);
        }

        if (error == FrostError.None)
        {
            outbox.Emit(new AppSignatureProduced(Instance, _request.Id, signatures, publicKeys.GroupPublicKey.Encode(), [.. _chosen.Order()]));
            Finish();
            return;
        }

        foreach (var culprit in _chosen.Where(s => s != _self && culprits.Contains(Identifier.FromInt(_suite, s))))
        {
            _excluded.Add(culprit);
            _support.Forget(culprit, _generations.GetValueOrDefault(culprit), context.Now);
            outbox.Emit(new Alert(AlertType.InvalidSignatureShare, culprit, Instance.Period, Instance,
                "a signature share for an application key does not verify", _shareMessages.GetValueOrDefault(culprit, [])));
        }

        NextAttempt(context, outbox, $"an aggregate did not verify ({error})");
    }

    private void Fail(Outbox outbox, string reason)
    {
        outbox.Emit(new AppSigningFailed(Instance, _request.Id, reason));
        Finish();
    }

    private static void Refuse(Outbox outbox, InboundMessage message, string reason)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteString(reason.Length > MaxReasonLength ? reason[..MaxReasonLength] : reason, MaxReasonLength * 4);
        outbox.Send(message.Sender, message.Attempt, SignRound, RefusalType, output.WrittenSpan.ToArray(), confidential: false);
    }

    private static KeyPackage KeyPackageOf(Ciphersuite suite, ClusterParameters parameters, int self, AppKeyMaterial key) =>
        new(new SigningShare(suite, Identifier.FromInt(suite, self), key.Share), new GroupPublicKey(suite, key.Commitment.ConstantTerm),
            parameters.ReconstructionThreshold, parameters.ServerCount);

    private void Finish()
    {
        IsFinished = true;
        IsWaitingForCommitments = false;
    }
}
