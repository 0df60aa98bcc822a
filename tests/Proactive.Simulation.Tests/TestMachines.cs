using System.Buffers.Binary;
using Proactive.Protocols.Machines;

namespace Proactive.Simulation.Tests;

/// <summary>Small machines that exercise the simulator; no protocol logic worth the name.</summary>
internal static class TestInstances
{
    public static readonly InstanceId Main = new(ProtocolKind.Agreement, 0, 1);
}

internal sealed record ValueReceived(int Sender, byte[] Value) : ProtocolEvent;

internal sealed record AckReceived(int From) : ProtocolEvent;

internal sealed record QuorumReached(int Acks) : ProtocolEvent;

internal sealed record Ticked(int Ticks) : ProtocolEvent;

internal sealed record TimerFired(int TimerId) : ProtocolEvent;

/// <summary>
/// The origin broadcasts a value; everyone reports the first value it gets and, when relaying, floods
/// it on. With randomValue the origin draws its value from the server's random source.
/// </summary>
internal sealed class FloodMachine(bool origin, byte[] value, bool relay = true, bool randomValue = false, InstanceId? instance = null) : IProtocolMachine
{
    public InstanceId Instance { get; } = instance ?? TestInstances.Main;

    public bool IsFinished => false;

    public byte[]? Received { get; private set; }

    public void Start(ProtocolContext context, Outbox outbox)
    {
        if (origin)
        {
            var payload = value;
            if (randomValue)
            {
                payload = new byte[16];
                context.Random.Fill(payload);
            }

            outbox.Broadcast(0, 0, 1, payload);
        }
    }

    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        if (Received is not null)
        {
            return;
        }

        Received = message.Payload.ToArray();
        outbox.Emit(new ValueReceived(message.Sender, Received));
        if (relay)
        {
            outbox.Broadcast(0, 0, 1, Received);
        }
    }

    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
    }
}

/// <summary>
/// The leader asks everyone for an ack and repeats the request every <paramref name="retry"/> until all
/// n answered; it reports each ack and the moment it holds n - f. The others answer every request.
/// </summary>
internal sealed class AckCollectorMachine(int self, int leader, TimeSpan retry) : IProtocolMachine
{
    public const byte RequestType = 1;
    public const byte AckType = 2;
    private readonly SortedSet<int> _acks = [];
    private int _serverCount = int.MaxValue;

    public InstanceId Instance => TestInstances.Main;

    public bool IsFinished => self == leader && _acks.Count == _serverCount;

    public void Start(ProtocolContext context, Outbox outbox)
    {
        _serverCount = context.Parameters.ServerCount;
        if (self == leader)
        {
            outbox.Broadcast(0, 0, RequestType, []);
            outbox.SetTimer(0, context.Now + retry);
        }
    }

    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        if (message.Type == RequestType && message.Sender == leader)
        {
            outbox.Send(leader, 0, 0, AckType, [], confidential: false);
        }
        else if (message.Type == AckType && self == leader && _acks.Add(message.Sender))
        {
            outbox.Emit(new AckReceived(message.Sender));
            if (_acks.Count == context.Parameters.Quorum)
            {
                outbox.Emit(new QuorumReached(_acks.Count));
            }
        }
    }

    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        if (_acks.Count < context.Parameters.ServerCount)
        {
            outbox.Broadcast(0, 0, RequestType, []);
            outbox.SetTimer(0, context.Now + retry);
        }
    }
}

/// <summary>
/// Ticks every second up to <see cref="MaxTicks"/>; the count is volatile and checkpointed to disk
/// every third tick, so a crash loses the ticks since the last checkpoint.
/// </summary>
internal sealed class TickMachine(int ticks) : IProtocolMachine
{
    public const string StoreKey = "tick/Agreement/p0/#1";
    public const int MaxTicks = 20;

    public InstanceId Instance => TestInstances.Main;

    public bool IsFinished => Ticks >= MaxTicks;

    public int Ticks { get; private set; } = ticks;

    public static TickMachine FromStore(RestartContext restart)
    {
        var ticks = restart.Store.TryGetValue(StoreKey, out var bytes) ? BinaryPrimitives.ReadInt32BigEndian(bytes) : 0;
        return new TickMachine(ticks);
    }

    public void Start(ProtocolContext context, Outbox outbox) => outbox.SetTimer(0, context.Now + TimeSpan.FromSeconds(1));

    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
    }

    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        Ticks++;
        if (Ticks % 3 == 0)
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(bytes, Ticks);
            outbox.Persist(StoreKey, bytes);
        }

        outbox.Emit(new Ticked(Ticks));
        outbox.SetTimer(0, context.Now + TimeSpan.FromSeconds(1));
    }
}

/// <summary>Sets the timers it is given at start and reports each firing.</summary>
internal sealed class TimerMachine(params (int TimerId, TimeSpan At)[] timers) : IProtocolMachine
{
    public InstanceId Instance => TestInstances.Main;

    public bool IsFinished => false;

    public void Start(ProtocolContext context, Outbox outbox)
    {
        foreach (var (timerId, at) in timers)
        {
            outbox.SetTimer(timerId, at);
        }
    }

    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
    }

    public void Timeout(ProtocolContext context, int timerId, Outbox outbox) => outbox.Emit(new TimerFired(timerId));
}

/// <summary>A bug: re-arms its timer for the same instant forever.</summary>
internal sealed class RunawayMachine : IProtocolMachine
{
    public InstanceId Instance => TestInstances.Main;

    public bool IsFinished => false;

    public void Start(ProtocolContext context, Outbox outbox) => outbox.SetTimer(0, context.Now);

    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
    }

    public void Timeout(ProtocolContext context, int timerId, Outbox outbox) => outbox.SetTimer(0, context.Now);
}

/// <summary>Sends <paramref name="count"/> numbered messages to <paramref name="target"/>, each carrying its send time.</summary>
internal sealed class SprayMachine(int target, int count) : IProtocolMachine
{
    public InstanceId Instance => TestInstances.Main;

    public bool IsFinished => false;

    public void Start(ProtocolContext context, Outbox outbox)
    {
        for (var i = 0; i < count; i++)
        {
            var payload = new byte[12];
            BinaryPrimitives.WriteInt32BigEndian(payload, i);
            BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(4), context.Now.Ticks);
            outbox.Send(target, 0, 0, 1, payload, confidential: false);
        }
    }

    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
    }

    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
    }
}

/// <summary>Records every numbered message it gets and how long it travelled.</summary>
internal sealed class SinkMachine : IProtocolMachine
{
    public InstanceId Instance => TestInstances.Main;

    public bool IsFinished => false;

    public List<(int Index, TimeSpan Delay)> Received { get; } = [];

    public void Start(ProtocolContext context, Outbox outbox)
    {
    }

    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
        var payload = message.Payload.Span;
        var sentAt = TimeSpan.FromTicks(BinaryPrimitives.ReadInt64BigEndian(payload[4..]));
        Received.Add((BinaryPrimitives.ReadInt32BigEndian(payload), context.Now - sentAt));
    }

    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
    }
}

/// <summary>Writes a marker to disk and sends in the same step: tests "durable before sent".</summary>
internal sealed class PersistAndSendMachine : IProtocolMachine
{
    public InstanceId Instance => TestInstances.Main;

    public bool IsFinished => false;

    public void Start(ProtocolContext context, Outbox outbox) => outbox.SetTimer(0, context.Now + TimeSpan.FromSeconds(1));

    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox)
    {
    }

    public void Timeout(ProtocolContext context, int timerId, Outbox outbox)
    {
        outbox.Persist("vote", [1]);
        outbox.Broadcast(0, 0, 1, [1]);
    }
}
