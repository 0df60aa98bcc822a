// References: toolkit paper (seed 001) Table 3 ("broadcast (V_i(0), S_i(0)(E_i(0))) to all servers";
// "broadcast M_i to all and receive M_j from all j"), section 4.3 (initialization assumes every server
// cooperative and every channel operational); patent (seed 000) figure 3.
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Bootstrap;

/// <summary>Where an exchange is. Transitions: see <see cref="ExchangeMachine.ValidTransitions"/>.</summary>
public enum ExchangeStatus
{
    /// <summary>Constructed; <see cref="ExchangeMachine.Start"/> not yet called (items are already checked and kept).</summary>
    Created,

    /// <summary>Own item broadcast; collecting one valid item from every server, re-broadcasting until then.</summary>
    Collecting,

    /// <summary>One valid item from every server: <see cref="ExchangeCompleted"/> emitted. Still answers latecomers.</summary>
    Complete,
}

/// <summary>Every server's item, index i-1 holding server i's (all checked by the exchange's validator).</summary>
public sealed record ExchangeCompleted(InstanceId Instance, IReadOnlyList<byte[]> Items) : ProtocolEvent;

/// <summary>Message kinds of an exchange (round, type on the envelope).</summary>
public static class ExchangeWire
{
    /// <summary>The only round.</summary>
    public const byte Round = 0;

    /// <summary>
    /// The sender's holdings, a bitmap of ceil(n/8) bytes (bit s-1, least significant first, set when it
    /// holds server s's item; padding bits zero), followed by the sender's item.
    /// </summary>
    public const byte ItemType = 1;

    /// <summary>Length of the holdings bitmap for <paramref name="serverCount"/> servers.</summary>
    public static int BitmapLength(int serverCount) => (serverCount + 7) / 8;
}

/// <summary>
/// Initialization's all-to-all step: every server broadcasts one self-authenticating item (its
/// period-0 keys signed with its start key, or its statement M_i) and collects one valid item from
/// every server. Table 3 requires every server to take part, so there is no quorum and no deadline:
/// the machine re-broadcasts every <see cref="ExchangeMachine.RetryInterval"/> until it has them all,
/// and answers, directly, every server whose holdings bitmap lacks this server's item (a server that
/// restarts during initialization asks again by broadcasting its empty bitmap).
/// </summary>
/// <remarks>
/// <para>Items carry their own authentication (the validator checks a start-key signature against the
/// V_start the constants C name), because at this point there may be no period keys to authenticate an
/// envelope with. An invalid item is dropped with an alert naming nobody (anyone could have sent it);
/// a second, different valid item for a server is impossible without its start key and is ignored (the
/// first valid one wins, as in Table 1 remark 1 [ii]); so is a duplicate.</para>
/// <para>The driver persists nothing for it: the items are in <see cref="ExchangeCompleted"/>, which
/// the driver stores as part of initialization; a server restarted mid-exchange starts a new one.</para>
/// </remarks>
public sealed class ExchangeMachine : IProtocolMachine
{
    /// <summary>Largest item exchanged.</summary>
    public const int MaxItemLength = 4096;

    /// <summary>The re-broadcast timer.</summary>
    public const int RetryTimer = 1;

    /// <summary>How many times a server answers one peer lacking its item, between re-broadcasts.</summary>
    public const int MaxAnswersPerPeer = 8;

    /// <summary>The transitions this machine makes; anything else is a bug.</summary>
    public static readonly IReadOnlyDictionary<ExchangeStatus, ExchangeStatus[]> ValidTransitions = new Dictionary<ExchangeStatus, ExchangeStatus[]>
    {
        [ExchangeStatus.Created] = [ExchangeStatus.Collecting],
        [ExchangeStatus.Collecting] = [ExchangeStatus.Complete],
        [ExchangeStatus.Complete] = [],
    };

    private readonly ClusterParameters _parameters;
    private readonly int _self;
    private readonly byte[] _ownItem;
    private readonly Func<int, ReadOnlyMemory<byte>, bool> _isValid;
    private readonly byte[]?[] _items;
    private readonly Dictionary<int, int> _answers = [];

    /// <summary>An exchange at server <paramref name="self"/>.</summary>
    /// <param name="instance">A <see cref="ProtocolKind.Bootstrap"/> instance of period 0.</param>
    /// <param name="parameters">n, t, f (all n must take part).</param>
    /// <param name="self">This server.</param>
    /// <param name="ownItem">This server's item (it must pass <paramref name="isValid"/> as its own).</param>
    /// <param name="isValid">Checks server s's item (untrusted bytes; must not throw).</param>
    /// <param name="retryInterval">Time between re-broadcasts while items are missing.</param>
    public ExchangeMachine(InstanceId instance, ClusterParameters parameters, int self, byte[] ownItem, Func<int, ReadOnlyMemory<byte>, bool> isValid, TimeSpan retryInterval)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(ownItem);
        ArgumentNullException.ThrowIfNull(isValid);
        if (instance.Protocol != ProtocolKind.Bootstrap)
        {
            throw new ArgumentException("An exchange runs a Bootstrap instance.", nameof(instance));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(self, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(self, parameters.ServerCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ownItem.Length, MaxItemLength);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(retryInterval, TimeSpan.Zero);
        if (!isValid(self, ownItem))
        {
            throw new ArgumentException("This server's own item does not pass the validator.", nameof(ownItem));
        }

        Instance = instance;
        _parameters = parameters;
        _self = self;
        _ownItem = (byte[])ownItem.Clone();
        _isValid = isValid;
        RetryInterval = retryInterval;
        _items = new byte[]?[parameters.ServerCount];
        _items[self - 1] = _ownItem;
    }

    /// <inheritdoc />
    public InstanceId Instance { get; }

    /// <summary>Time between re-broadcasts while items are missing.</summary>
    public TimeSpan RetryInterval { get; }

    /// <summary>Where the exchange is.</summary>
    public ExchangeStatus Status { get; private set; } = ExchangeStatus.Created;

    /// <summary>Servers whose item is still missing (for status and logs).</summary>
    public IReadOnlyList<int> Missing => [.. _parameters.Servers.Where(s => _items[s - 1] is null)];

    /// <summary>Never over by itself: latecomers are answered until the driver drops the instance.</summary>
    public bool IsFinished => false;

    /// <inheritdoc />
    public void Start(ProtocolContext context, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (Status != ExchangeStatus.Created)
        {
            return;
        }

        MoveTo(ExchangeStatus.Collecting);
        outbox.Broadcast(0, ExchangeWire.Round, ExchangeWire.ItemType, Frame());
        CompleteIfAll(outbox);
        if (Status == ExchangeStatus.Collecting)
        {
            outbox.SetTimer(RetryTimer, context.Now + RetryInterval);
        }
    }

    /// <inheritdoc />
    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(outbox);
        var sender = message.Sender;
        if (sender == _self || sender < 1 || sender > _parameters.ServerCount ||
            message.Round != ExchangeWire.Round || message.Type != ExchangeWire.ItemType)
        {
            return;
        }

        var payload = message.Payload;
        var bitmapLength = ExchangeWire.BitmapLength(_parameters.ServerCount);
        if (payload.Length < bitmapLength || payload.Length - bitmapLength > MaxItemLength || !PaddingIsZero(payload.Span[..bitmapLength]))
        {
            outbox.Emit(new Alert(AlertType.MalformedMessage, 0, Instance.Period, Instance, $"an initialization item claimed from server {sender} is malformed", []));
            return;
        }

        var item = payload[bitmapLength..];
        if (_items[sender - 1] is null)
        {
            if (!_isValid(sender, item))
            {
                outbox.Emit(new Alert(AlertType.InvalidSignature, 0, Instance.Period, Instance, $"an initialization item claimed from server {sender} does not verify with its start key", []));
                return;
            }

            _items[sender - 1] = item.ToArray();
        }

        var senderHasOurs = (payload.Span[(_self - 1) / 8] & (1 << ((_self - 1) % 8))) != 0;
        if (!senderHasOurs && Status != ExchangeStatus.Created)
        {
            var answered = _answers.GetValueOrDefault(sender);
            if (answered < MaxAnswersPerPeer)
            {
                _answers[sender] = answered + 1;
                outbox.Send(sender, 0, ExchangeWire.Round, ExchangeWire.ItemType, Frame(), confidential: false);
            }
        }

        if (Status == ExchangeStatus.Collecting)
        {
            CompleteIfAll(outbox);
        }
    }

    /// <inheritdoc />
    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outbox);
        if (timerId != RetryTimer || Status != ExchangeStatus.Collecting)
        {
            return;
        }

        _answers.Clear();
        outbox.Broadcast(0, ExchangeWire.Round, ExchangeWire.ItemType, Frame());
        outbox.SetTimer(RetryTimer, context.Now + RetryInterval);
    }

    private byte[] Frame()
    {
        var bitmapLength = ExchangeWire.BitmapLength(_parameters.ServerCount);
        var frame = new byte[bitmapLength + _ownItem.Length];
        for (var s = 1; s <= _items.Length; s++)
        {
            if (_items[s - 1] is not null)
            {
                frame[(s - 1) / 8] |= (byte)(1 << ((s - 1) % 8));
            }
        }

        _ownItem.CopyTo(frame, bitmapLength);
        return frame;
    }

    private bool PaddingIsZero(ReadOnlySpan<byte> bitmap)
    {
        var used = _parameters.ServerCount % 8;
        return used == 0 || (bitmap[^1] >> used) == 0;
    }

    private void CompleteIfAll(Outbox outbox)
    {
        if (Array.Exists(_items, item => item is null))
        {
            return;
        }

        MoveTo(ExchangeStatus.Complete);
        outbox.Emit(new ExchangeCompleted(Instance, [.. _items.Select(item => item!)]));

        // Peers learn from the full bitmap that this server needs no more answers.
        outbox.Broadcast(0, ExchangeWire.Round, ExchangeWire.ItemType, Frame());
    }

    private void MoveTo(ExchangeStatus next)
    {
        if (!ValidTransitions[Status].Contains(next))
        {
            throw new InvalidOperationException($"An exchange cannot go from {Status} to {next}.");
        }

        Status = next;
    }
}
