// References: toolkit paper (seed 001) section 4.2 and Table 2 ("The Vcert-recover Protocol -
// periodical-recover module", the PushM algorithm); patent (seed 000) figure 4 and claims 21-22
// (restore: read V_start from ROM, extract M_i, recover V_cert and C, verify S_cert(M), else wait for
// a valid copy from peers); docs/BRIEF.md section 3; docs/PROTOCOLS.md "Vcert-recover".
using Proactive.Crypto.Frost;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Bootstrap;

/// <summary>Where a Vcert-recover instance is. Transitions: see <see cref="VcertRecoverMachine.ValidTransitions"/>.</summary>
public enum VcertRecoverStatus
{
    /// <summary>Constructed; <see cref="VcertRecoverMachine.Start"/> not yet called.</summary>
    Created,

    /// <summary>The stored [S_cert(M), M] verified (or a pushed copy was adopted): pushing it, answering requests.</summary>
    Operational,

    /// <summary>No valid copy here: waiting for one from a peer until the deadline.</summary>
    Recovering,

    /// <summary>Final: no valid copy arrived in time; alert <see cref="AlertType.RecoveryFailed"/> raised.</summary>
    Failed,
}

/// <summary>This server holds a verified [S_cert(M), M]; <paramref name="Recovered"/> when it came from a peer this period.</summary>
public sealed record InvariantVerified(InstanceId Instance, InvariantCertificate Certificate, bool Recovered) : ProtocolEvent;

/// <summary>Message kinds of Vcert-recover (round, type on the envelope).</summary>
public static class VcertRecoverWire
{
    /// <summary>The only round.</summary>
    public const byte Round = 0;

    /// <summary>[S_cert(M), M] (<see cref="InvariantCertificate"/> encoding), pushed or answering a request.</summary>
    public const byte PushType = 1;

    /// <summary>A recovering server asks for a copy (empty payload): it may have booted after the pushes.</summary>
    public const byte RequestType = 2;
}

/// <summary>
/// Table 2, run by every server at boot and at every period start: a server whose stored
/// [S_cert(M), M] verifies against the V_start in its ROM is operational and pushes M to all; a server
/// without one (lost, corrupted, or signed for somebody else's network) is recovering and adopts the
/// first pushed copy that verifies, or raises "recovery failed" at the deadline.
/// </summary>
/// <remarks>
/// <para>The copy authenticates itself: M_i verifies with this server's own V_start (made at
/// manufacturing, its private half erased at initialization) and S_cert(M) with the V_cert inside M, so
/// a recovering server, which may not know its peers' keys, can take it from anyone. For the same
/// reason an invalid copy sent to a recovering server proves nothing about who made it (the envelope
/// could not be authenticated) and is only counted; an operational server, whose envelope layer
/// authenticated the sender, raises <see cref="AlertType.InvalidSignature"/> naming it.</para>
/// <para>Besides the push at Start, a recovering server broadcasts a request, so a server that boots
/// in the middle of a period does not wait for the next one; an operational server answers each
/// requester at most <see cref="MaxAnswersPerRequester"/> times per instance (no amplification).</para>
/// <para>The adopted copy is persisted under <see cref="StorageKey"/> before anything else leaves.</para>
/// </remarks>
public sealed class VcertRecoverMachine : IProtocolMachine
{
    /// <summary>Where the verified [S_cert(M), M] is persisted.</summary>
    public const string StorageKey = "bootstrap/invariant";

    /// <summary>How many times an operational server answers one requester in one instance.</summary>
    public const int MaxAnswersPerRequester = 3;

    /// <summary>The deadline timer.</summary>
    public const int DeadlineTimer = 1;

    /// <summary>The transitions this machine makes; anything else is a bug.</summary>
    public static readonly IReadOnlyDictionary<VcertRecoverStatus, VcertRecoverStatus[]> ValidTransitions = new Dictionary<VcertRecoverStatus, VcertRecoverStatus[]>
    {
        [VcertRecoverStatus.Created] = [VcertRecoverStatus.Operational, VcertRecoverStatus.Recovering],
        [VcertRecoverStatus.Recovering] = [VcertRecoverStatus.Operational, VcertRecoverStatus.Failed],
        [VcertRecoverStatus.Operational] = [],
        [VcertRecoverStatus.Failed] = [],
    };

    private readonly ClusterParameters? _parameters;
    private readonly int _self;
    private readonly Ed25519PublicKey _startKey;
    private readonly Ciphersuite _suite;
    private readonly TimeSpan _wait;
    private readonly byte[]? _stored;
    private readonly Dictionary<int, int> _answers = [];
    private InvariantCertificate? _certificate;
    private byte[]? _encoded;
    private int _invalidCopies;

    /// <summary>A Vcert-recover run at server <paramref name="self"/>.</summary>
    /// <param name="instance">A <see cref="ProtocolKind.Bootstrap"/> instance (sequence <see cref="InstanceSequence"/>).</param>
    /// <param name="parameters">n, t, f when this server still knows them (from C); null when it lost C too.</param>
    /// <param name="self">This server's id, from its ROM.</param>
    /// <param name="startKey">V_start, from its ROM.</param>
    /// <param name="suite">The suite of the network key.</param>
    /// <param name="stored">The stored [S_cert(M), M] encoding, or null if there is none.</param>
    /// <param name="wait">How long a recovering server waits for a valid copy.</param>
    public VcertRecoverMachine(InstanceId instance, ClusterParameters? parameters, int self, Ed25519PublicKey startKey, Ciphersuite suite, byte[]? stored, TimeSpan wait)
    {
        ArgumentNullException.ThrowIfNull(startKey);
        ArgumentNullException.ThrowIfNull(suite);
        if (instance.Protocol != ProtocolKind.Bootstrap || instance.Sequence != InstanceSequence)
        {
            throw new ArgumentException("Vcert-recover runs the Bootstrap instance of sequence 1.", nameof(instance));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(self, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(wait, TimeSpan.Zero);
        Instance = instance;
        _parameters = parameters;
        _self = self;
        _startKey = startKey;
        _suite = suite;
        _stored = stored;
        _wait = wait;
    }

    /// <summary>The sequence number of Vcert-recover instances (0 is initialization).</summary>
    public const ulong InstanceSequence = 1;

    /// <summary>The Vcert-recover instance of <paramref name="period"/>.</summary>
    public static InstanceId InstanceOf(ulong period) => new(ProtocolKind.Bootstrap, period, InstanceSequence);

    /// <inheritdoc />
    public InstanceId Instance { get; }

    /// <summary>Where the instance is.</summary>
    public VcertRecoverStatus Status { get; private set; } = VcertRecoverStatus.Created;

    /// <summary>The verified copy, once held.</summary>
    public InvariantCertificate? Certificate => _certificate;

    /// <summary>
    /// An operational server stays reachable for requests until the driver disposes of the instance
    /// (at the next period); only a failed recovery is over.
    /// </summary>
    public bool IsFinished => Status == VcertRecoverStatus.Failed;

    /// <summary>Checks the stored copy (Table 2 (i)-(ii)); pushes it, or asks for one.</summary>
    public void Start(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (Status != VcertRecoverStatus.Created)
        {
            return;
        }

        if (_stored is not null && TryAccept(_stored, out var certificate))
        {
            MoveTo(VcertRecoverStatus.Operational);
            _certificate = certificate;
            _encoded = _stored;
            outbox.Broadcast(0, VcertRecoverWire.Round, VcertRecoverWire.PushType, _encoded);
            outbox.Emit(new InvariantVerified(Instance, certificate, Recovered: false));
            return;
        }

        MoveTo(VcertRecoverStatus.Recovering);
        outbox.Broadcast(0, VcertRecoverWire.Round, VcertRecoverWire.RequestType, []);
        outbox.SetTimer(DeadlineTimer, context.Now + _wait);
    }

    /// <summary>A pushed copy or a request.</summary>
    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(outbox);
        if (message.Sender == _self || message.Round != VcertRecoverWire.Round)
        {
            return;
        }

        switch (message.Type)
        {
            case VcertRecoverWire.PushType:
                OnPush(message, outbox);
                break;
            case VcertRecoverWire.RequestType:
                OnRequest(message, outbox);
                break;
        }
    }

    /// <summary>The deadline: still recovering means recovery failed.</summary>
    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(outbox);
        if (timerId != DeadlineTimer || Status != VcertRecoverStatus.Recovering)
        {
            return;
        }

        MoveTo(VcertRecoverStatus.Failed);
        outbox.Emit(new Alert(
            AlertType.RecoveryFailed, 0, Instance.Period, Instance,
            $"recovery failed: no valid [S_cert(M), M] for server {_self} arrived within {_wait.TotalSeconds:0.###} s ({_invalidCopies} invalid copies)",
            []));
    }

    private void OnPush(InboundMessage message, Outbox outbox)
    {
        var payload = message.Payload.Span;
        if (Status == VcertRecoverStatus.Operational)
        {
            if (_encoded is not null && payload.SequenceEqual(_encoded))
            {
                return;
            }

            // A different encoding can be just as valid (a FROST signature is randomized); only a copy
            // that does not verify is evidence against its authenticated sender.
            if (!TryAccept(payload, out _))
            {
                outbox.Emit(new Alert(
                    AlertType.InvalidSignature, message.Sender, Instance.Period, Instance,
                    $"server {message.Sender} pushed an [S_cert(M), M] that does not verify", message.Signed.ToArray()));
            }

            return;
        }

        if (Status != VcertRecoverStatus.Recovering)
        {
            return;
        }

        if (!TryAccept(payload, out var certificate))
        {
            _invalidCopies++;
            return;
        }

        MoveTo(VcertRecoverStatus.Operational);
        _certificate = certificate;
        _encoded = payload.ToArray();
        outbox.Persist(StorageKey, _encoded);
        outbox.Emit(new InvariantVerified(Instance, certificate, Recovered: true));
    }

    private void OnRequest(InboundMessage message, Outbox outbox)
    {
        if (Status != VcertRecoverStatus.Operational || _encoded is null ||
            (_parameters is not null && message.Sender > _parameters.ServerCount))
        {
            return;
        }

        var answered = _answers.GetValueOrDefault(message.Sender);
        if (answered >= MaxAnswersPerRequester)
        {
            return;
        }

        _answers[message.Sender] = answered + 1;
        outbox.Send(message.Sender, 0, VcertRecoverWire.Round, VcertRecoverWire.PushType, _encoded, confidential: false);
    }

    private bool TryAccept(ReadOnlySpan<byte> encoding, out InvariantCertificate certificate)
    {
        certificate = null!;
        if (!InvariantCertificate.TryDecode(encoding, _suite, out var decoded) || !decoded.VerifyFor(_self, _startKey))
        {
            return false;
        }

        if (_parameters is not null && decoded.Information.ServerCount != _parameters.ServerCount)
        {
            return false;
        }

        certificate = decoded;
        return true;
    }

    private void MoveTo(VcertRecoverStatus next)
    {
        if (!ValidTransitions[Status].Contains(next))
        {
            throw new InvalidOperationException($"Vcert-recover cannot go from {Status} to {next}.");
        }

        Status = next;
    }
}
