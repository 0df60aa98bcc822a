// References: RFC 9591 (FROST) sections 5.1-5.3 (round one commitments, round two signature shares,
// aggregation with share verification) and 7.1 (nonces used once); toolkit (seed 001) section 5.3
// (GenerateDSASignature); docs/PROTOCOLS.md "Application signing".
using System.Buffers;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Application;

/// <summary>A signature with an application's key, produced by the coordinator of a session (verified under the key before it is emitted).</summary>
public sealed record AppSignatureProduced(InstanceId Instance, byte[] RequestId, byte[] Signature, byte[] PublicKey, IReadOnlyList<int> Signers) : ProtocolEvent;

/// <summary>A session gave up; <paramref name="Reason"/> says why (no t + 1 signers agreed to sign, shares did not verify).</summary>
public sealed record AppSigningFailed(InstanceId Instance, byte[] RequestId, string Reason) : ProtocolEvent;

/// <summary>What a signer needs to sign with an application's key: its share and the commitments of that sharing.</summary>
public sealed record AppKeyMaterial(ulong Ordinal, string Sharing, Scalar Share, FeldmanCommitment Commitment);

/// <summary>
/// One signature with an application's key, FROST in two rounds on demand. The coordinator (the server
/// the client asked) sends every peer the client's signed request; a peer that finds it authentic and
/// holds a share of the key's current sharing answers with fresh nonce commitments; the coordinator takes
/// the first t of them, sends the signing package, checks each signature share and the aggregate, and
/// retries without anyone who failed. Nonces live in memory only and are used once: a restart loses them,
/// so none is ever used twice. Every signer judges the request itself, so a faulty coordinator gets
/// nothing signed that the application did not ask for.
/// </summary>
/// <remarks>
/// Instance (AppSigning, p, coordinator &lt;&lt; 32 | counter). Round 1: coordinator to all, type 1 = the
/// request (u64 key ordinal, string sharing, bytes signed request); replies type 2 = (string sharing,
/// commitments) or type 3 = refusal (string reason). Round 2: coordinator to the chosen, type 1 = the
/// commitments of every chosen signer (list of commitments); replies type 2 = signature share, type 3 =
/// refusal. The message's attempt names the coordinator's attempt.
/// </remarks>
public sealed class AppSigningMachine : IProtocolMachine
{
    public const byte CommitRound = 1;
    public const byte SignRound = 2;
    public const byte RequestType = 1;
    public const byte ReplyType = 2;
    public const byte RefusalType = 3;

    /// <summary>How many attempts a coordinator makes (each without the signers that failed before).</summary>
    public const int MaxAttempts = 3;

    /// <summary>The attempt deadline timer's id base (+ attempt).</summary>
    public const int AttemptTimerBase = 100;

    /// <summary>A signer's session ends after this timer (its nonce is wiped).</summary>
    public const int LifetimeTimer = 1;

    private readonly ClusterParameters _parameters;
    private readonly int _self;
    private readonly int _coordinator;
    private readonly Ciphersuite _suite;
    private readonly Func<SignedRequest, (AppKeyMaterial? Key, byte[] Message, string Problem)> _authorize;
    private readonly TimeSpan _window;
    private readonly SignedRequest? _request;
    private readonly AppKeyMaterial? _key;
    private readonly byte[] _message = [];
    private readonly Dictionary<int, SigningCommitments> _offers = [];
    private readonly Dictionary<int, SignatureShare> _shares = [];
    private readonly HashSet<int> _excluded = [];
    private readonly List<int> _chosen = [];
    private SigningPackage? _package;
    private uint _attempt;
    private SigningNonces? _nonces;
    private uint _nonceAttempt;
    private AppKeyMaterial? _signerKey;
    private byte[] _signerMessage = [];

    private AppSigningMachine(InstanceId instance, ClusterParameters parameters, int self, Ciphersuite suite,
        Func<SignedRequest, (AppKeyMaterial? Key, byte[] Message, string Problem)> authorize, TimeSpan window, SignedRequest? request, AppKeyMaterial? key, byte[]? message)
    {
        Instance = instance;
        _parameters = parameters;
        _self = self;
        _coordinator = (int)(instance.Sequence >> 32);
        _suite = suite;
        _authorize = authorize;
        _window = window;
        _request = request;
        _key = key;
        _message = message ?? [];
    }

    public InstanceId Instance { get; }

    public bool IsFinished { get; private set; }

    /// <summary>The session id of <paramref name="coordinator"/>'s session <paramref name="counter"/> in <paramref name="period"/>.</summary>
    public static InstanceId SessionOf(ulong period, int coordinator, uint counter) => new(ProtocolKind.AppSigning, period, ((ulong)coordinator << 32) | counter);

    /// <summary>The coordinator a session id names.</summary>
    public static int CoordinatorOf(InstanceId instance) => (int)Math.Min(instance.Sequence >> 32, int.MaxValue);

    /// <summary>The coordinator's machine for a request it authorized, with its own key material.</summary>
    public static AppSigningMachine ForCoordinator(InstanceId instance, ClusterParameters parameters, int self, Ciphersuite suite,
        Func<SignedRequest, (AppKeyMaterial? Key, byte[] Message, string Problem)> authorize, TimeSpan window, SignedRequest request, AppKeyMaterial key, byte[] message) =>
        new(instance, parameters, self, suite, authorize, window, request, key, message);

    /// <summary>A signer's machine, made when the coordinator's request arrives.</summary>
    public static AppSigningMachine ForSigner(InstanceId instance, ClusterParameters parameters, int self, Ciphersuite suite,
        Func<SignedRequest, (AppKeyMaterial? Key, byte[] Message, string Problem)> authorize, TimeSpan window) =>
        new(instance, parameters, self, suite, authorize, window, null, null, null);

    private bool IsCoordinator => _request is not null;

    public void Start(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (!IsCoordinator)
        {
            outbox.SetTimer(LifetimeTimer, context.Now + (_window * (MaxAttempts + 1)));
            return;
        }

        Attempt(context, outbox);
    }

    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(outbox);
        if (IsFinished)
        {
            return;
        }

        if (IsCoordinator)
        {
            ReceiveAsCoordinator(context, message, outbox);
        }
        else if (message.Sender == _coordinator)
        {
            ReceiveAsSigner(context, message, outbox);
        }
    }

    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(outbox);
        if (IsFinished)
        {
            return;
        }

        if (!IsCoordinator)
        {
            Finish();
            return;
        }

        if (timerId == AttemptTimerBase + (int)_attempt)
        {
            // Whoever was chosen and did not answer in time is left out of the next attempt.
            foreach (var silent in _chosen.Where(s => s != _self && !_shares.ContainsKey(s)))
            {
                _excluded.Add(silent);
            }

            if (_package is null)
            {
                foreach (var silent in _parameters.Servers.Where(s => s != _self && !_offers.ContainsKey(s)))
                {
                    _excluded.Add(silent);
                }
            }

            NextAttempt(context!, outbox, "signers did not answer in time");
        }
    }

    private void Attempt(ProtocolContext context, Outbox outbox)
    {
        _attempt++;
        _offers.Clear();
        _shares.Clear();
        _chosen.Clear();
        _package = null;
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteU64(_key!.Ordinal);
        writer.WriteString(_key.Sharing, 32);
        writer.WriteBytes(_request!.Encode(), SignedRequest.MaxBodyLength + 4096);
        var payload = output.WrittenSpan.ToArray();
        foreach (var peer in _parameters.Servers.Where(s => s != _self && !_excluded.Contains(s)))
        {
            outbox.Send(peer, _attempt, CommitRound, RequestType, payload, confidential: false);
        }

        // The coordinator is a signer too.
        _nonces?.Dispose();
        _nonces = Round1.Commit(SigningShareOf(_key), context.Random);
        _nonceAttempt = _attempt;
        _offers[_self] = _nonces.Commitments;
        outbox.SetTimer(AttemptTimerBase + (int)_attempt, context.Now + _window);
        ChooseIfReady(outbox);
    }

    private void NextAttempt(ProtocolContext context, Outbox outbox, string reason)
    {
        if (_attempt >= MaxAttempts || _parameters.ServerCount - 1 - _excluded.Count < _parameters.Threshold)
        {
            outbox.Emit(new AppSigningFailed(Instance, _request!.Id, reason));
            Finish();
            return;
        }

        Attempt(context, outbox);
    }

    private void ReceiveAsCoordinator(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        if (message.Attempt != _attempt || _excluded.Contains(message.Sender))
        {
            return;
        }

        var reader = new CanonicalReader(message.Payload.Span);
        switch ((message.Round, message.Type))
        {
            case (CommitRound, ReplyType) when _package is null:
                if (reader.TryReadString(32, out var sharing) && sharing == _key!.Sharing
                    && SigningCommitments.TryRead(ref reader, _suite.Group, out var commitments) && reader.TryReadEnd()
                    && commitments.Identifier == Identifier.FromInt(_suite, message.Sender))
                {
                    _offers.TryAdd(message.Sender, commitments);
                    ChooseIfReady(outbox);
                }

                break;
            case (SignRound, ReplyType) when _package is not null && _chosen.Contains(message.Sender):
                if (SignatureShare.TryRead(ref reader, _suite.Group, out var share) && reader.TryReadEnd()
                    && share.Identifier == Identifier.FromInt(_suite, message.Sender) && Round2.VerifySignatureShare(_package, share, PublicKeys()))
                {
                    _shares.TryAdd(message.Sender, share);
                    AggregateIfReady(context, outbox);
                }
                else
                {
                    _excluded.Add(message.Sender);
                    outbox.Emit(new Alert(AlertType.InvalidSignatureShare, message.Sender, Instance.Period, Instance, "a signature share for an application key does not verify", message.Signed.ToArray()));
                    NextAttempt(context, outbox, "a signature share did not verify");
                }

                break;
            case (SignRound, RefusalType) when _package is not null && _chosen.Contains(message.Sender):
                _excluded.Add(message.Sender);
                NextAttempt(context, outbox, "a chosen signer refused");
                break;
        }
    }

    private void ChooseIfReady(Outbox outbox)
    {
        if (_package is not null || _offers.Count < _parameters.ReconstructionThreshold)
        {
            return;
        }

        _chosen.AddRange(_offers.Keys.Where(s => s == _self).Concat(_offers.Keys.Where(s => s != _self).Order()).Take(_parameters.ReconstructionThreshold));
        var chosenCommitments = _chosen.Select(s => _offers[s]).ToList();
        _package = SigningPackage.Create(_suite, chosenCommitments, _message);
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteCount(chosenCommitments.Count, ClusterParameters.MaxServers);
        foreach (var commitment in chosenCommitments)
        {
            commitment.WriteTo(ref writer);
        }

        var payload = output.WrittenSpan.ToArray();
        foreach (var signer in _chosen.Where(s => s != _self))
        {
            outbox.Send(signer, _attempt, SignRound, RequestType, payload, confidential: false);
        }

        using var keyPackage = KeyPackageOf(_key!);
        var own = Round2.Sign(_package, _nonces!, keyPackage);
        _nonces!.Dispose();
        _nonces = null;
        if (own.IsSuccess)
        {
            _shares[_self] = own.Value;
        }
    }

    private void AggregateIfReady(ProtocolContext context, Outbox outbox)
    {
        if (_package is null || _shares.Count < _chosen.Count)
        {
            return;
        }

        var publicKeys = PublicKeys();
        var signature = Aggregation.Aggregate(_package, _chosen.Select(s => _shares[s]).ToList(), publicKeys);
        if (!signature.IsSuccess || !publicKeys.GroupPublicKey.Verify(_message, signature.Value))
        {
            NextAttempt(context, outbox, $"the aggregate did not verify ({signature.Error})");
            return;
        }

        outbox.Emit(new AppSignatureProduced(Instance, _request!.Id, signature.Value.Encode(), publicKeys.GroupPublicKey.Encode(), [.. _chosen]));
        Finish();
    }

    private void ReceiveAsSigner(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        var reader = new CanonicalReader(message.Payload.Span);
        switch ((message.Round, message.Type))
        {
            case (CommitRound, RequestType):
                if (!reader.TryReadU64(out var ordinal) || !reader.TryReadString(32, out var sharing)
                    || !reader.TryReadBytes(SignedRequest.MaxBodyLength + 4096, out var encodedRequest) || !reader.TryReadEnd()
                    || !SignedRequest.TryDecode(encodedRequest, out var request))
                {
                    Refuse(outbox, message, CommitRound, "undecodable request");
                    return;
                }

                var (key, signed, problem) = _authorize(request);
                if (key is null || key.Ordinal != ordinal)
                {
                    Refuse(outbox, message, CommitRound, key is null ? problem : "the key is not the one the request names");
                    return;
                }

                if (key.Sharing != sharing)
                {
                    Refuse(outbox, message, CommitRound, $"this server holds sharing {key.Sharing}, not {sharing}");
                    return;
                }

                _nonces?.Dispose();
                _nonces = Round1.Commit(SigningShareOf(key), context.Random);
                _nonceAttempt = message.Attempt;
                _signerKey = key;
                _signerMessage = signed;
                var output = new ArrayBufferWriter<byte>();
                var writer = new CanonicalWriter(output);
                writer.WriteString(key.Sharing, 32);
                _nonces.Commitments.WriteTo(ref writer);
                outbox.Send(message.Sender, message.Attempt, CommitRound, ReplyType, output.WrittenSpan.ToArray(), confidential: false);
                break;
            case (SignRound, RequestType):
                if (_nonces is null || _signerKey is null || message.Attempt != _nonceAttempt
                    || !reader.TryReadCount(ClusterParameters.MaxServers, 1, out var count))
                {
                    Refuse(outbox, message, SignRound, "no nonce of this attempt here");
                    return;
                }

                var commitments = new List<SigningCommitments>(count);
                for (var i = 0; i < count; i++)
                {
                    if (!SigningCommitments.TryRead(ref reader, _suite.Group, out var c))
                    {
                        Refuse(outbox, message, SignRound, "undecodable package");
                        return;
                    }

                    commitments.Add(c);
                }

                // Only the commitments this server issued, once: the nonce is gone after this.
                if (!reader.TryReadEnd() || !commitments.Any(c => c.Identifier == _nonces.Identifier && c.Hiding == _nonces.Commitments.Hiding && c.Binding == _nonces.Commitments.Binding)
                    || commitments.Count != _parameters.ReconstructionThreshold)
                {
                    Refuse(outbox, message, SignRound, "the package does not hold this server's commitments");
                    return;
                }

                var package = SigningPackage.Create(_suite, commitments, _signerMessage);
                using (var keyPackage = KeyPackageOf(_signerKey))
                {
                    var share = Round2.Sign(package, _nonces, keyPackage);
                    _nonces.Dispose();
                    _nonces = null;
                    if (!share.IsSuccess)
                    {
                        Refuse(outbox, message, SignRound, $"signing failed: {share.Error}");
                        return;
                    }

                    var output2 = new ArrayBufferWriter<byte>();
                    var writer2 = new CanonicalWriter(output2);
                    share.Value.WriteTo(ref writer2);
                    outbox.Send(message.Sender, message.Attempt, SignRound, ReplyType, output2.WrittenSpan.ToArray(), confidential: false);
                }

                Finish();
                break;
        }
    }

    private static void Refuse(Outbox outbox, InboundMessage message, byte round, string reason)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteString(reason.Length > 200 ? reason[..200] : reason, 800);
        outbox.Send(message.Sender, message.Attempt, round, RefusalType, output.WrittenSpan.ToArray(), confidential: false);
    }

    private SigningShare SigningShareOf(AppKeyMaterial key) => new(_suite, Identifier.FromInt(_suite, _self), key.Share);

    private KeyPackage KeyPackageOf(AppKeyMaterial key) =>
        new(SigningShareOf(key), new GroupPublicKey(_suite, key.Commitment.ConstantTerm), _parameters.ReconstructionThreshold, _parameters.ServerCount);

    private PublicKeyPackage PublicKeys() => new(
        new GroupPublicKey(_suite, _key!.Commitment.ConstantTerm),
        _parameters.Servers.Select(j => new VerifyingShare(_suite, Identifier.FromInt(_suite, j), _key.Commitment.PublicShare(j))),
        _parameters.ReconstructionThreshold);

    private void Finish()
    {
        IsFinished = true;
        _nonces?.Dispose();
        _nonces = null;
    }
}
