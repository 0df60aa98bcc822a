// References: Komlo and Goldberg, FROST (SAC 2020) section 5.2 "Preprocess" (publish a batch of nonce
// commitments ahead of signing); RFC 9591 section 5.1; docs/PROTOCOLS.md "Threshold signing".
using Proactive.Crypto.Frost;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Signing;

/// <summary>Where a nonce channel is. Transitions: <see cref="NonceChannelMachine.ValidTransitions"/>.</summary>
public enum NonceChannelStatus
{
    /// <summary>Constructed, not started.</summary>
    Created,

    /// <summary>Published this server's first batch; collecting the others' and answering restarts. Lasts the period.</summary>
    Open,
}

/// <summary>
/// The nonce channel of one server for one key and period (instance <see cref="SigningSessionIds.NonceChannel"/>):
/// at <see cref="Start"/> it draws <see cref="BatchSize"/> nonces reserved for every coordinator (itself
/// included) and broadcasts their commitments in one <see cref="NonceCommitmentBatch"/>; it files the
/// entries other servers reserved for this server in the <see cref="CommitmentBook"/>. When a batch says
/// its sender restarted, this server wipes the nonces it had reserved for that sender (whose book is gone)
/// and sends it a fresh batch. Sessions keep the queues full afterwards: every share carries its replacement.
/// </summary>
public sealed class NonceChannelMachine : IProtocolMachine
{
    /// <summary>The transitions this machine makes.</summary>
    public static readonly IReadOnlyDictionary<NonceChannelStatus, NonceChannelStatus[]> ValidTransitions = new Dictionary<NonceChannelStatus, NonceChannelStatus[]>
    {
        [NonceChannelStatus.Created] = [NonceChannelStatus.Open],
        [NonceChannelStatus.Open] = [],
    };

    private readonly NoncePool _pool;
    private readonly CommitmentBook _book;
    private readonly Ciphersuite _suite;
    private readonly int _n;
    private readonly int _self;

    /// <summary>
    /// The channel of server <paramref name="self"/>. <paramref name="pool"/> and <paramref name="book"/> are
    /// shared with this server's signing sessions of the same key and period.
    /// </summary>
    public NonceChannelMachine(ClusterParameters parameters, int self, NoncePool pool, CommitmentBook book, int batchSize = 8)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(book);
        ArgumentOutOfRangeException.ThrowIfLessThan(self, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(self, parameters.ServerCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (book.Self != self || book.Suite != pool.KeyPackage.Suite)
        {
            throw new ArgumentException("The commitment book must be this server's, for the pool's suite.", nameof(book));
        }

        if (pool.KeyPackage.Identifier != Identifier.FromInt(pool.KeyPackage.Suite, self))
        {
            throw new ArgumentException("The pool's key package is not this server's.", nameof(pool));
        }

        Instance = SigningSessionIds.NonceChannel(pool.Period);
        _pool = pool;
        _book = book;
        _suite = pool.KeyPackage.Suite;
        _n = parameters.ServerCount;
        _self = self;
        BatchSize = batchSize;
    }

    /// <inheritdoc />
    public InstanceId Instance { get; }

    /// <summary>Nonces reserved per coordinator in a batch.</summary>
    public int BatchSize { get; }

    /// <summary>Where the channel is.</summary>
    public NonceChannelStatus Status { get; private set; } = NonceChannelStatus.Created;

    /// <summary>Never: the channel lives for the period; the embedder drops it with the period's key.</summary>
    public bool IsFinished => false;

    /// <summary>Created -> Open: publish one batch for every coordinator.</summary>
    public void Start(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (Status != NonceChannelStatus.Created)
        {
            throw new InvalidOperationException($"Start in {Status}.");
        }

        var entries = new List<PublishedNonce>();
        for (var coordinator = 1; coordinator <= _n; coordinator++)
        {
            entries.AddRange(_pool.Publish(coordinator, BatchSize, context.Random, outbox));
        }

        outbox.Broadcast(0, SigningWire.NonceRound, SigningWire.NonceBatchType, new NonceCommitmentBatch(_pool.Generation, _pool.IsRestored, entries).Encode(_suite));
        Move(NonceChannelStatus.Open);
    }

    /// <inheritdoc />
    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(outbox);
        var sender = message.Sender;
        if (Status != NonceChannelStatus.Open || sender < 1 || sender > _n)
        {
            return;
        }

        if (message.Round != SigningWire.NonceRound || message.Type != SigningWire.NonceBatchType)
        {
            Alert(outbox, AlertType.MalformedMessage, sender, $"unexpected round {message.Round} type {message.Type} on the nonce channel", message.Signed);
            return;
        }

        if (!NonceCommitmentBatch.TryDecode(_suite, message.Payload.Span, out var batch, out var failure))
        {
            Alert(outbox, AlertType.MalformedMessage, sender, $"nonce batch does not decode: {failure}", message.Signed);
            return;
        }

        var identifier = Identifier.FromInt(_suite, sender);
        if (batch.Entries.Any(e => e.Commitments.Identifier != identifier || e.Coordinator > _n))
        {
            Alert(outbox, AlertType.MalformedMessage, sender, "nonce batch holds commitments of another identifier or for a coordinator outside 1..n", message.Signed);
            return;
        }

        var known = _book.GenerationOf(sender);
        if (batch.Generation < known)
        {
            return; // an older incarnation's batch, overtaken by a newer one
        }

        _book.DropGenerationsBelow(sender, batch.Generation);
        _book.Accept(sender, batch.Entries);
        if (batch.Restarted && sender != _self && batch.Generation > known)
        {
            AnswerRestart(context, sender, outbox);
        }
    }

    /// <summary>The channel sets no timers.</summary>
    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
    }

    /// <summary>Open -> Open: <paramref name="restarted"/> lost its book; wipe what was reserved for it and publish anew.</summary>
    private void AnswerRestart(ProtocolContext context, int restarted, Outbox outbox)
    {
        _pool.DiscardReservedFor(restarted);
        var entries = _pool.Publish(restarted, BatchSize, context.Random, outbox);
        var batch = new NonceCommitmentBatch(_pool.Generation, Restarted: false, entries);
        outbox.Send(restarted, 0, SigningWire.NonceRound, SigningWire.NonceBatchType, batch.Encode(_suite), confidential: false);
    }

    private void Alert(Outbox outbox, AlertType type, int culprit, string detail, ReadOnlyMemory<byte> evidence) =>
        outbox.Emit(new Alert(type, culprit, Instance.Period, Instance, detail, evidence.ToArray()));

    private void Move(NonceChannelStatus next)
    {
        if (!ValidTransitions[Status].Contains(next))
        {
            throw new InvalidOperationException($"The nonce channel cannot go from {Status} to {next}.");
        }

        Status = next;
    }
}
