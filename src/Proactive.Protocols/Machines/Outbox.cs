using System.Collections.ObjectModel;

namespace Proactive.Protocols.Machines;

/// <summary>
/// What one step of a protocol instance produced: state to make durable, messages to send, timers to
/// set and events to report. The driver (simulator or node) applies them in that order: everything in
/// <see cref="Persisted"/> is durable before any message leaves, because a message may depend on it
/// (a nonce marked used, a share accepted, a vote cast).
/// </summary>
public sealed class Outbox
{
    private readonly List<OutboundMessage> _messages = [];
    private readonly List<ProtocolEvent> _events = [];
    private readonly List<TimerRequest> _timers = [];
    private readonly List<PersistRequest> _persisted = [];

    public ReadOnlyCollection<OutboundMessage> Messages => _messages.AsReadOnly();

    public ReadOnlyCollection<ProtocolEvent> Events => _events.AsReadOnly();

    public ReadOnlyCollection<TimerRequest> Timers => _timers.AsReadOnly();

    public ReadOnlyCollection<PersistRequest> Persisted => _persisted.AsReadOnly();

    /// <summary>Sends to every server, this one included.</summary>
    public void Broadcast(uint attempt, byte round, byte type, byte[] payload) =>
        _messages.Add(new OutboundMessage(null, attempt, round, type, payload, Confidential: false));

    /// <summary>Sends to one server; <paramref name="confidential"/> payloads are encrypted to it.</summary>
    public void Send(int recipient, uint attempt, byte round, byte type, byte[] payload, bool confidential)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(recipient, 1);
        _messages.Add(new OutboundMessage(recipient, attempt, round, type, payload, confidential));
    }

    /// <summary>Reports a decision, a result or an alert.</summary>
    public void Emit(ProtocolEvent protocolEvent) => _events.Add(protocolEvent);

    /// <summary>Asks to be called back (<see cref="IProtocolMachine.Timeout"/>) at <paramref name="at"/> with <paramref name="timerId"/>.</summary>
    public void SetTimer(int timerId, TimeSpan at) => _timers.Add(new TimerRequest(timerId, at));

    /// <summary>Asks for <paramref name="value"/> to be durable under <paramref name="key"/> before any message of this step leaves.</summary>
    public void Persist(string key, byte[] value) => _persisted.Add(new PersistRequest(key, value));

    /// <summary>Empties the outbox for the next step.</summary>
    public void Clear()
    {
        _messages.Clear();
        _events.Clear();
        _timers.Clear();
        _persisted.Clear();
    }
}

/// <summary>A callback a protocol instance asked for, at a time on the driver's clock.</summary>
public readonly record struct TimerRequest(int TimerId, TimeSpan At);

/// <summary>State that must be durable before the step's messages leave.</summary>
public sealed record PersistRequest(string Key, byte[] Value);
