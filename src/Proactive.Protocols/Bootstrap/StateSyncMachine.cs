// References: toolkit (seed 001) Table 2 ("other public state ... is restored from any peer and verified
// against a root the network threshold-signs every period"); docs/BRIEF.md section 3 "Recover";
// docs/PROTOCOLS.md "Bootstrap" (public state sync).
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Frost;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Bootstrap;

/// <summary>A seeker adopted a peer's public state: the certificate of its period verifies with V_cert and names its hash.</summary>
/// <param name="Instance">The sync instance.</param>
/// <param name="Certificate">The period certificate (its table is the KeyTable of that period: every server's keys and TLS pins).</param>
/// <param name="State">The committed public state of that period.</param>
/// <param name="From">The peer that sent it (unauthenticated; the certificate is what counts).</param>
public sealed record PublicStateRestored(InstanceId Instance, PeriodCertificate Certificate, RefreshPublicState State, int From) : ProtocolEvent;

/// <summary>Message kinds of the public-state sync (round, type on the open frame).</summary>
public static class StateSyncWire
{
    /// <summary>The only round.</summary>
    public const byte Round = 0;

    /// <summary>A seeker asks for the latest certified public state (payload: u64, the oldest period it takes).</summary>
    public const byte RequestType = 1;

    /// <summary>A provider's answer: the period certificate and the public state it certifies.</summary>
    public const byte AnswerType = 2;
}

/// <summary>
/// Restores the public state of a server that lost it (its store was wiped or corrupted) from any
/// peer: a provider answers with its latest period certificate and the public state it committed in
/// that period; the seeker keeps an answer only if the certificate verifies with the network key
/// V_cert (taken from the verified [S_cert(M), M]), is of a period it asked for, holds a KeyTable,
/// and its public-state hash is the hash of the state sent. A peer can therefore only hand over what
/// the network signed.
/// </summary>
/// <remarks>
/// <para>One machine plays one role. A provider (<see cref="ForProvider"/>) answers each requester at
/// most <see cref="MaxAnswersPerRequester"/> times per material and updates its material every period
/// (<see cref="Provide"/>). A seeker (<see cref="ForSeeker"/>) broadcasts a request at start and every
/// retry interval until an answer verifies, then emits <see cref="PublicStateRestored"/> once and is
/// finished. Answers and requests travel in open frames: the seeker knows no period keys yet, and
/// the answer authenticates itself.</para>
/// </remarks>
public sealed class StateSyncMachine : IProtocolMachine
{
    /// <summary>The sequence number of sync instances (0, 2: initialization; 1: Vcert-recover).</summary>
    public const ulong InstanceSequence = 3;

    /// <summary>How many times a provider answers one requester in one instance.</summary>
    public const int MaxAnswersPerRequester = 8;

    /// <summary>The seeker's retry timer.</summary>
    public const int RetryTimer = 1;

    /// <summary>Upper bound of an answer's certificate and state (a KeyTable of 1024 servers, a state of 1024 signing keys).</summary>
    public const int MaxPartLength = 2 * 1024 * 1024;

    private readonly int _self;
    private readonly GroupPublicKey? _networkKey;
    private readonly ulong _oldestPeriod;
    private readonly TimeSpan _retryInterval;
    private readonly Dictionary<int, int> _answers = [];
    private byte[]? _answer;

    private StateSyncMachine(InstanceId instance, int self, GroupPublicKey? networkKey, ulong oldestPeriod, TimeSpan retryInterval)
    {
        if (instance.Protocol != ProtocolKind.Bootstrap || instance.Sequence != InstanceSequence)
        {
            throw new ArgumentException("The public-state sync runs the Bootstrap instance of sequence 3.", nameof(instance));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(self, 1);
        Instance = instance;
        _self = self;
        _networkKey = networkKey;
        _oldestPeriod = oldestPeriod;
        _retryInterval = retryInterval;
    }

    /// <summary>The sync instance of <paramref name="period"/>.</summary>
    public static InstanceId InstanceOf(ulong period) => new(ProtocolKind.Bootstrap, period, InstanceSequence);

    /// <summary>A provider; it answers once it has material (<see cref="Provide"/>).</summary>
    public static StateSyncMachine ForProvider(InstanceId instance, int self) => new(instance, self, null, 0, TimeSpan.MaxValue);

    /// <summary>A seeker that takes a certified state of <paramref name="oldestPeriod"/> or later, asking every <paramref name="retryInterval"/>.</summary>
    public static StateSyncMachine ForSeeker(InstanceId instance, int self, GroupPublicKey networkKey, ulong oldestPeriod, TimeSpan retryInterval)
    {
        ArgumentNullException.ThrowIfNull(networkKey);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(retryInterval, TimeSpan.Zero);
        return new StateSyncMachine(instance, self, networkKey, oldestPeriod, retryInterval);
    }

    /// <inheritdoc />
    public InstanceId Instance { get; }

    /// <summary>Whether this machine seeks (else it provides).</summary>
    public bool IsSeeker => _networkKey is not null;

    /// <summary>What the seeker adopted.</summary>
    public PublicStateRestored? Restored { get; private set; }

    /// <inheritdoc />
    public bool IsFinished => Restored is not null;

    /// <summary>The provider's material: the latest certificate this server holds and the state it committed in that period.</summary>
    public void Provide(PeriodCertificate certificate, RefreshPublicState state)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(state);
        if (IsSeeker)
        {
            throw new InvalidOperationException("A seeker does not provide.");
        }

        _answer = EncodeAnswer(certificate.Encode(), state.Encode());
        // New material: requesters that asked for the old one get answers again.
        _answers.Clear();
    }

    /// <inheritdoc />
    public void Start(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (IsSeeker)
        {
            Ask(context, outbox);
        }
    }

    /// <inheritdoc />
    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(outbox);
        if (message.Sender == _self || message.Round != StateSyncWire.Round)
        {
            return;
        }

        if (message.Type == StateSyncWire.RequestType && !IsSeeker && _answer is not null)
        {
            var count = _answers.GetValueOrDefault(message.Sender);
            if (count < MaxAnswersPerRequester)
            {
                _answers[message.Sender] = count + 1;
                outbox.Send(message.Sender, (uint)count, StateSyncWire.Round, StateSyncWire.AnswerType, _answer, confidential: false);
            }
        }
        else if (message.Type == StateSyncWire.AnswerType && IsSeeker && Restored is null
            && TryAdopt(message.Payload.Span, out var certificate, out var state))
        {
            Restored = new PublicStateRestored(Instance, certificate, state, message.Sender);
            outbox.Emit(Restored);
        }
    }

    /// <inheritdoc />
    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (timerId == RetryTimer && IsSeeker && Restored is null)
        {
            Ask(context, outbox);
        }
    }

    private void Ask(ProtocolContext context, Outbox outbox)
    {
        var payload = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(payload, _oldestPeriod);
        outbox.Broadcast(0, StateSyncWire.Round, StateSyncWire.RequestType, payload);
        outbox.SetTimer(RetryTimer, context.Now + _retryInterval);
    }

    /// <summary>The checks of the class remarks; never throws for bad input.</summary>
    private bool TryAdopt(ReadOnlySpan<byte> payload, [NotNullWhen(true)] out PeriodCertificate? certificate, [NotNullWhen(true)] out RefreshPublicState? state)
    {
        certificate = null;
        state = null;
        var reader = new CanonicalReader(payload);
        if (!reader.TryReadBytes(MaxPartLength, out var certificateBytes, "certificate")
            || !reader.TryReadBytes(MaxPartLength, out var stateBytes, "state")
            || !reader.TryReadEnd())
        {
            return false;
        }

        var suite = _networkKey!.Suite;
        if (!PeriodCertificate.TryDecode(certificateBytes, suite, out var candidate)
            || candidate.Period < _oldestPeriod
            || !candidate.TryGetTable(out var table) || table.Period != candidate.Period
            || !candidate.Verify(_networkKey)
            || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(stateBytes), candidate.PublicStateHash)
            || !RefreshPublicState.TryDecode(stateBytes, suite.Group, out var decoded))
        {
            return false;
        }

        certificate = candidate;
        state = decoded;
        return true;
    }

    private static byte[] EncodeAnswer(byte[] certificate, byte[] state)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(buffer);
        writer.WriteBytes(certificate, MaxPartLength);
        writer.WriteBytes(state, MaxPartLength);
        return buffer.WrittenSpan.ToArray();
    }
}
