// References: toolkit paper (seed 001) Table 1 steps 4-5 (S_cert(KeyTable), every server verifies it) and
// remark 2 (recovering servers do not sign); RFC 9591 (FROST) Appendix B (the signature check);
// docs/BRIEF.md section 3 "Refresh for period p"; docs/PROTOCOLS.md "KeyTable" ("Certificate") and
// "Controller and simulator" ("Period certificate every period").
using Proactive.Crypto.Frost;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Signing;

namespace Proactive.Protocols.KeyTable;

/// <summary>Where a period certificate instance is. Transitions: <see cref="PeriodCertificateMachine.ValidTransitions"/>.</summary>
public enum PeriodCertificateStatus
{
    /// <summary>Constructed, not started.</summary>
    Created,

    /// <summary>The period root is not known yet (no decided table or no commit): certificates that arrive are kept, unjudged.</summary>
    Waiting,

    /// <summary>The root is known and no certificate is held: the coordinator schedule runs (deadlines, requests, fallback).</summary>
    Ready,

    /// <summary>A verified certificate is held (and persisted by the driver); requests are answered with it.</summary>
    Certified,
}

/// <summary>Deadlines of the period certificate.</summary>
/// <param name="Deadline">After the root is known here: how long each coordinator of the schedule gets before the next one steps in.</param>
/// <param name="RequestWindow">How long a fallback coordinator waits for the answers to its certificate request before it signs anew.</param>
/// <param name="Signing">The FROST session's share window and signer lifetime.</param>
public sealed record PeriodCertificateTimeouts(TimeSpan Deadline, TimeSpan RequestWindow, SigningTimeouts Signing)
{
    /// <summary>Defaults for the local cluster: a deadline that outlasts a session excluding two silent signers.</summary>
    public static PeriodCertificateTimeouts Default { get; } = new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1), SigningTimeouts.Default);
}

/// <summary>Message kinds of the period certificate (round, type on the envelope of <see cref="PeriodCertificateMachine.InstanceOf"/>).</summary>
public static class PeriodCertificateWire
{
    /// <summary>The only round.</summary>
    public const byte Round = 0;

    /// <summary>A <see cref="PeriodCertificate"/>; the attempt field is the sender's certificate version (0, then 1 after it adopted a smaller one, ...).</summary>
    public const byte CertificateType = 1;

    /// <summary>"Send me the certificate if you hold one": empty payload; the attempt field is the requester's schedule step.</summary>
    public const byte RequestType = 2;
}

/// <summary>
/// The certificate of one period at one server: it learns the period root (the decided KeyTable and the
/// hash of the committed public state), tells the driver when this server must coordinate the FROST
/// session that signs it, and verifies, keeps and hands out the certificate.
/// </summary>
/// <remarks>
/// <para><b>Schedule.</b> Session counter c = 1, 2, ... is coordinated by server ((p + c - 1) mod n) + 1
/// (<see cref="CoordinatorOf"/>), at most <see cref="MaxSessions"/> of them. When the root is known
/// here (time T) the coordinator of counter 1 signs at once. At T + k * Deadline (k = 1, 2, ...) a server
/// still without a certificate broadcasts a request (holders answer with theirs), and the coordinator of
/// counter k + 1 signs if it still has none after the request window: a faulty or crashed coordinator
/// costs one deadline, and a certificate that exists but did not reach the next coordinator is fetched,
/// not signed again.</para>
/// <para><b>Judging.</b> A certificate is kept only if it decodes in the network key's suite, verifies
/// with the network key (<see cref="PeriodCertificate.Verify"/>), and certifies this server's own root:
/// the period, the decided table byte for byte (unless this server caught up on the period and decided
/// no table: then the signature is what matters) and the hash of its committed public state. Anything
/// else raises <see cref="AlertType.InvalidSignature"/> naming the sender (<see cref="AlertType.MalformedMessage"/>
/// if it does not even decode). Before the root is known, certificates wait (the first per sender).</para>
/// <para><b>One certificate.</b> FROST signatures are randomized, so a late fallback can make a second valid
/// certificate of the same root. Every server keeps the smallest encoding it has seen: a server holding
/// A that receives a valid larger B sends A back to B's sender; a server that adopts a smaller one after
/// it broadcast its own broadcasts the smaller one. Every honest server thus converges on one
/// certificate, and the common case (one session, one signature) sends nothing extra.</para>
/// </remarks>
public sealed class PeriodCertificateMachine : IProtocolMachine
{
    /// <summary>The KeyTable sequence of the certificate instance (the decided table itself is sequence 0).</summary>
    public const ulong CertificateSequence = ulong.MaxValue;

    /// <summary>Timer id of schedule step k (k &gt;= 1) is this plus k.</summary>
    public const int StepTimerBase = 1000;

    /// <summary>Timer id of the fallback coordination of step k is this plus k.</summary>
    public const int CoordinationTimerBase = 2000;

    /// <summary>The transitions this machine makes; anything else is a bug.</summary>
    public static readonly IReadOnlyDictionary<PeriodCertificateStatus, PeriodCertificateStatus[]> ValidTransitions = new Dictionary<PeriodCertificateStatus, PeriodCertificateStatus[]>
    {
        [PeriodCertificateStatus.Created] = [PeriodCertificateStatus.Waiting, PeriodCertificateStatus.Certified],
        [PeriodCertificateStatus.Waiting] = [PeriodCertificateStatus.Ready],
        [PeriodCertificateStatus.Ready] = [PeriodCertificateStatus.Certified],
        [PeriodCertificateStatus.Certified] = [],
    };

    private readonly int _n;
    private readonly int _self;
    private readonly Ciphersuite _suite;
    private readonly GroupPublicKey _networkKey;
    private readonly PeriodCertificateTimeouts _timeouts;
    private readonly SortedDictionary<int, InboundMessage> _pending = [];
    private readonly HashSet<(int Requester, uint Attempt)> _answered = [];
    private readonly HashSet<(int Server, uint Version)> _sentBack = [];
    private byte[]? _table;
    private bool _tableKnown;
    private byte[]? _publicStateHash;
    private byte[]? _encoded;
    private bool _broadcast;

    /// <summary>How many times the held certificate was replaced by a smaller one (the attempt field of what this server sends).</summary>
    private uint _version;

    /// <summary>
    /// The certificate instance of <paramref name="period"/> at server <paramref name="self"/>.
    /// <paramref name="catchingUp"/>: this server runs no KeyTable of the period (it caught up on the
    /// refresh later, or restarted): its root has no table, it asks for the certificate as soon as it
    /// committed, and it never coordinates. <paramref name="held"/>: a certificate this server verified
    /// before a restart (read back from its disk).
    /// </summary>
    public PeriodCertificateMachine(
        ulong period, ClusterParameters parameters, int self, GroupPublicKey networkKey, bool catchingUp,
        PeriodCertificate? held = null, PeriodCertificateTimeouts? timeouts = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(networkKey);
        ArgumentOutOfRangeException.ThrowIfLessThan(self, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(self, parameters.ServerCount);
        if (held is not null && (held.Period != period || held.Suite != networkKey.Suite))
        {
            throw new ArgumentException("The held certificate is of another period or suite.", nameof(held));
        }

        Instance = InstanceOf(period);
        _n = parameters.ServerCount;
        _self = self;
        _suite = networkKey.Suite;
        _networkKey = networkKey;
        CatchingUp = catchingUp;
        _timeouts = timeouts ?? PeriodCertificateTimeouts.Default;
        Certificate = held;
        if (held is not null)
        {
            _encoded = held.Encode();
            _table = held.EncodedTable.ToArray();
            _tableKnown = true;
            _publicStateHash = held.PublicStateHash.ToArray();
        }
    }

    /// <inheritdoc />
    public InstanceId Instance { get; }

    /// <summary>The period certified.</summary>
    public ulong Period => Instance.Period;

    /// <summary>Where the instance is.</summary>
    public PeriodCertificateStatus Status { get; private set; } = PeriodCertificateStatus.Created;

    /// <summary>Never: the instance answers requests for as long as the driver keeps it (the current and the previous period).</summary>
    public bool IsFinished => false;

    /// <summary>True when this server ran no KeyTable of the period (see the constructor).</summary>
    public bool CatchingUp { get; }

    /// <summary>The verified certificate held here, if any.</summary>
    public PeriodCertificate? Certificate { get; private set; }

    /// <summary>The message S_cert signs for this server's root, once the root is known.</summary>
    public byte[]? RootMessage { get; private set; }

    /// <summary>Sessions per period at most: every server gets two turns.</summary>
    public int MaxSessions => 2 * _n;

    /// <summary>The certificate instance of <paramref name="period"/>.</summary>
    public static InstanceId InstanceOf(ulong period) => new(ProtocolKind.KeyTable, period, CertificateSequence);

    /// <summary>The coordinator of session <paramref name="counter"/> (1, 2, ...) of <paramref name="period"/>: ((p + counter - 1) mod n) + 1.</summary>
    public static int CoordinatorOf(ulong period, uint counter, int serverCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(counter, 1u);
        ArgumentOutOfRangeException.ThrowIfLessThan(serverCount, 1);
        return (int)(((period % (ulong)serverCount) + ((counter - 1) % (ulong)serverCount)) % (ulong)serverCount) + 1;
    }

    /// <summary>Created -> Waiting, or Certified with a certificate held from before a restart.</summary>
    public void Start(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (Status != PeriodCertificateStatus.Created)
        {
            throw new InvalidOperationException($"Start in {Status}.");
        }

        Move(Certificate is null ? PeriodCertificateStatus.Waiting : PeriodCertificateStatus.Certified);
    }

    /// <summary>Waiting -> Waiting/Ready: agreement decided the KeyTable of the period.</summary>
    public void OnTableDecided(ProtocolContext context, ReadOnlySpan<byte> encodedTable, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (Status != PeriodCertificateStatus.Waiting || _tableKnown || CatchingUp)
        {
            return;
        }

        _table = encodedTable.ToArray();
        _tableKnown = true;
        BecomeReadyIfRootKnown(context, outbox);
    }

    /// <summary>Waiting -> Waiting/Ready: the refresh of the period committed here with public state hash <paramref name="publicStateHash"/>.</summary>
    public void OnCommitted(ProtocolContext context, ReadOnlySpan<byte> publicStateHash, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (publicStateHash.Length != PeriodCertificate.PublicStateHashLength)
        {
            throw new ArgumentException("A SHA-256 hash is 32 bytes.", nameof(publicStateHash));
        }

        if (Status != PeriodCertificateStatus.Waiting || _publicStateHash is not null)
        {
            return;
        }

        _publicStateHash = publicStateHash.ToArray();
        BecomeReadyIfRootKnown(context, outbox);
    }

    /// <summary>
    /// The signing policy for this period's sessions (<see cref="SigningMessagePolicy"/>): sign only the own
    /// root, only for the scheduled coordinator of the session's counter, and only while no certificate
    /// is held here (a holder answers the coordinator's request instead of making a second signature).
    /// </summary>
    public bool AcceptsForSigning(InstanceId session, int coordinator, ReadOnlySpan<byte> message) =>
        Status == PeriodCertificateStatus.Ready && !CatchingUp && RootMessage is not null && session.Period == Period
        && SigningSessionIds.TryGetCoordinator(session, out var named) && named == coordinator
        && (uint)session.Sequence is var counter && counter <= MaxSessions && CoordinatorOf(Period, counter, _n) == coordinator
        && message.SequenceEqual(RootMessage);

    /// <summary>
    /// Ready -> Certified: this server's coordinator session produced (and verified) the signature on the
    /// root; keep the certificate and broadcast it. Ignored when a certificate is already held or the
    /// message is not this server's root.
    /// </summary>
    public void OnSignatureProduced(ProtocolContext context, SignatureProduced produced, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(produced);
        ArgumentNullException.ThrowIfNull(outbox);
        if (Status != PeriodCertificateStatus.Ready || RootMessage is null || !produced.Message.AsSpan().SequenceEqual(RootMessage)
            || !Signature.TryDecode(_suite, produced.Signature, out var signature) || signature is null)
        {
            return;
        }

        var certificate = new PeriodCertificate(Period, _table ?? [], _publicStateHash, signature);
        if (!certificate.Verify(_networkKey))
        {
            return; // the session verified it against the group key: only a key mismatch gets here
        }

        Keep(certificate, outbox);
        Broadcast(outbox);
    }

    /// <inheritdoc />
    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(outbox);
        if (message.Sender < 1 || message.Sender > _n || Status == PeriodCertificateStatus.Created)
        {
            return;
        }

        switch (message.Round, message.Type)
        {
            case (PeriodCertificateWire.Round, PeriodCertificateWire.CertificateType):
                OnCertificate(context, message, outbox);
                break;
            case (PeriodCertificateWire.Round, PeriodCertificateWire.RequestType):
                OnRequest(message, outbox);
                break;
            default:
                Alert(outbox, AlertType.MalformedMessage, message.Sender, $"unexpected round {message.Round} type {message.Type} for a period certificate", message.Signed);
                break;
        }
    }

    /// <summary>Ready -> Ready: step k of the schedule (request, maybe coordinate after the request window) or a fallback coordination.</summary>
    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (Status != PeriodCertificateStatus.Ready)
        {
            return;
        }

        if (timerId > StepTimerBase && timerId < StepTimerBase + MaxSessions)
        {
            Step(context, (uint)(timerId - StepTimerBase), outbox);
        }
        else if (timerId > CoordinationTimerBase && timerId < CoordinationTimerBase + MaxSessions)
        {
            Coordinate((uint)(timerId - CoordinationTimerBase) + 1, outbox);
        }
    }

    /// <summary>Waiting -> Ready once the table (unless catching up) and the committed state are known; pending certificates are judged first.</summary>
    private void BecomeReadyIfRootKnown(ProtocolContext context, Outbox outbox)
    {
        if (_publicStateHash is null || (!_tableKnown && !CatchingUp))
        {
            return;
        }

        Move(PeriodCertificateStatus.Ready);
        if (!CatchingUp)
        {
            RootMessage = PeriodCertificate.SigningMessage(Period, _table, _publicStateHash);
            outbox.Emit(new PeriodRootReady(Instance, (byte[])RootMessage.Clone()));
        }

        foreach (var message in _pending.Values.ToList())
        {
            OnCertificate(context, message, outbox);
        }

        _pending.Clear();
        if (Status == PeriodCertificateStatus.Certified)
        {
            return;
        }

        if (CatchingUp)
        {
            outbox.Broadcast(0, PeriodCertificateWire.Round, PeriodCertificateWire.RequestType, []);
        }
        else
        {
            Coordinate(1, outbox);
        }

        outbox.SetTimer(StepTimerBase + 1, context.Now + _timeouts.Deadline);
    }

    /// <summary>Step k: still no certificate, so ask everyone, and if the next coordinator is this server, sign after the request window.</summary>
    private void Step(ProtocolContext context, uint k, Outbox outbox)
    {
        outbox.Broadcast(k, PeriodCertificateWire.Round, PeriodCertificateWire.RequestType, []);
        if (!CatchingUp && CoordinatorOf(Period, k + 1, _n) == _self)
        {
            outbox.SetTimer(CoordinationTimerBase + (int)k, context.Now + _timeouts.RequestWindow);
        }

        if (k + 1 < MaxSessions)
        {
            outbox.SetTimer(StepTimerBase + (int)k + 1, context.Now + _timeouts.Deadline);
        }
    }

    private void Coordinate(uint counter, Outbox outbox)
    {
        if (!CatchingUp && counter <= MaxSessions && CoordinatorOf(Period, counter, _n) == _self)
        {
            outbox.Emit(new PeriodCertificateCoordinationDue(Instance, SigningSessionIds.Session(Period, _self, counter)));
        }
    }

    private void OnCertificate(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        var sender = message.Sender;
        if (Status == PeriodCertificateStatus.Waiting)
        {
            _pending.TryAdd(sender, message);
            return;
        }

        if (_encoded is not null && message.Payload.Span.SequenceEqual(_encoded))
        {
            return;
        }

        if (!PeriodCertificate.TryDecode(message.Payload.Span, _suite, out var certificate, out var failure))
        {
            Alert(outbox, AlertType.MalformedMessage, sender, $"a period certificate that does not decode: {failure}", message.Signed);
            return;
        }

        if (!certificate.Verify(_networkKey))
        {
            Alert(outbox, AlertType.InvalidSignature, sender, "a period certificate whose signature does not verify with the network key", message.Signed);
            return;
        }

        if (!certificate.Certifies(Period, CatchingUp ? null : _table, _publicStateHash))
        {
            Alert(outbox, AlertType.InvalidSignature, sender, "a period certificate of another table or public state than this server's", message.Signed);
            return;
        }

        if (_encoded is null)
        {
            Keep(certificate, outbox);
            return;
        }

        var encoded = certificate.Encode();
        if (encoded.AsSpan().SequenceCompareTo(_encoded) < 0)
        {
            // A second valid signature of the same root (a late fallback): everyone keeps the smallest.
            var spread = _broadcast;
            Keep(certificate, outbox);
            if (spread)
            {
                Broadcast(outbox);
            }
        }
        else if (_sentBack.Add((sender, _version)))
        {
            outbox.Send(sender, _version, PeriodCertificateWire.Round, PeriodCertificateWire.CertificateType, (byte[])_encoded.Clone(), confidential: false);
        }
    }

    /// <summary>A request: a holder answers once per (requester, step); a server without a certificate has nothing to say.</summary>
    private void OnRequest(InboundMessage message, Outbox outbox)
    {
        if (!message.Payload.IsEmpty)
        {
            Alert(outbox, AlertType.MalformedMessage, message.Sender, "a certificate request with a payload", message.Signed);
            return;
        }

        if (_encoded is null || message.Sender == _self || message.Attempt >= MaxSessions || !_answered.Add((message.Sender, message.Attempt)))
        {
            return;
        }

        outbox.Send(message.Sender, _version, PeriodCertificateWire.Round, PeriodCertificateWire.CertificateType, (byte[])_encoded.Clone(), confidential: false);
    }

    /// <summary>-> Certified (or a smaller certificate of the same root replaces the held one).</summary>
    private void Keep(PeriodCertificate certificate, Outbox outbox)
    {
        if (_encoded is not null)
        {
            _version++;
        }

        Certificate = certificate;
        _encoded = certificate.Encode();
        if (Status != PeriodCertificateStatus.Certified)
        {
            Move(PeriodCertificateStatus.Certified);
        }

        outbox.Emit(new PeriodCertified(Instance, (byte[])_encoded.Clone()));
    }

    private void Broadcast(Outbox outbox)
    {
        _broadcast = true;
        outbox.Broadcast(_version, PeriodCertificateWire.Round, PeriodCertificateWire.CertificateType, (byte[])_encoded!.Clone());
    }

    private void Alert(Outbox outbox, AlertType type, int culprit, string detail, ReadOnlyMemory<byte> evidence) =>
        outbox.Emit(new Alert(type, culprit, Period, Instance, detail, evidence.ToArray()));

    private void Move(PeriodCertificateStatus next)
    {
        if (!ValidTransitions[Status].Contains(next))
        {
            throw new InvalidOperationException($"A period certificate cannot go from {Status} to {next}.");
        }

        Status = next;
    }
}
