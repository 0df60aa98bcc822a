using Proactive.Crypto.Random;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Simulation.Servers;

namespace Proactive.Simulation.Byzantine;

/// <summary>
/// What a server controlled by the adversary does instead of following the protocol. The server's
/// honest machines still run; every message they would send passes through <see cref="OnSend"/>,
/// which forwards it, drops it, alters it, duplicates it, equivocates (different payloads to
/// different recipients) or adds others. After each step <see cref="OnStepEnd"/> may inject more
/// or corrupt the server's disk. The default forwards everything: an honest server.
/// </summary>
/// <remarks>
/// Messages sent through <see cref="ByzantineContext.Send"/> still go through the wire codec: the
/// adversary holds the server's own keys, so whatever it sends is properly framed (and, with the
/// envelope codec, signed by it). <see cref="ByzantineContext.SendRaw"/> puts arbitrary bytes on the
/// wire (garbage, replays).
/// </remarks>
public abstract class ByzantineStrategy
{
    /// <summary>Called for each message the server's machines produced in a step.</summary>
    public virtual void OnSend(ByzantineContext context, OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Send(message);
    }

    /// <summary>Called once after each step of the server (its messages are sent, its writes durable).</summary>
    public virtual void OnStepEnd(ByzantineContext context)
    {
    }
}

/// <summary>A message a machine produced, with the instance it belongs to.</summary>
public sealed record OutgoingMessage(InstanceId Instance, OutboundMessage Message)
{
    /// <summary>The same message to one recipient with another payload: the building block of equivocation.</summary>
    public OutgoingMessage To(int recipient, byte[] payload) =>
        this with { Message = Message with { Recipient = recipient, Payload = payload } };
}

/// <summary>What a Byzantine strategy may see and do during one step of its server.</summary>
public sealed class ByzantineContext
{
    private readonly Action<OutgoingMessage> _send;
    private readonly Action<int, byte[]> _sendRaw;

    internal ByzantineContext(SimulatedServer server, ClusterParameters parameters, TimeSpan now, IRandomSource random, Action<OutgoingMessage> send, Action<int, byte[]> sendRaw)
    {
        Server = server.Id;
        Store = server.Store;
        Parameters = parameters;
        Now = now;
        Random = random;
        _send = send;
        _sendRaw = sendRaw;
    }

    /// <summary>The server the adversary controls.</summary>
    public int Server { get; }

    /// <summary>Its disk, writable: corrupting stored shares is part of the adversary's power.</summary>
    public PersistentStore Store { get; }

    public ClusterParameters Parameters { get; }

    public TimeSpan Now { get; }

    /// <summary>The adversary's own stream, independent of the protocol's and the network's.</summary>
    public IRandomSource Random { get; }

    /// <summary>Sends a message through the wire codec, as the server would.</summary>
    public void Send(OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        _send(message);
    }

    /// <summary>Puts raw bytes on the wire to <paramref name="recipient"/>, bypassing the codec.</summary>
    public void SendRaw(int recipient, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        _sendRaw(recipient, bytes);
    }
}
