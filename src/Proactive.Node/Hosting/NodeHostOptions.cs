// References: docs/NODE.md "The node".
using Proactive.Crypto.Random;
using Proactive.Node.Configuration;
using Proactive.Node.Storage;
using Proactive.Node.Transport;
using Proactive.Protocols.Controller;

namespace Proactive.Node.Hosting;

/// <summary>What one server process needs to run.</summary>
public sealed class NodeHostOptions
{
    /// <param name="directory">The server's files (ROM, store, keys).</param>
    /// <param name="config">The cluster constants C.</param>
    public NodeHostOptions(ServerDirectory directory, ClusterConfig config)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(config);
        Directory = directory;
        Config = config;
        ServerId = RomRecord.Read(directory.RomPath).ServerId;
    }

    /// <summary>The server's files.</summary>
    public ServerDirectory Directory { get; }

    /// <summary>C.</summary>
    public ClusterConfig Config { get; }

    /// <summary>This server's id, from its ROM.</summary>
    public int ServerId { get; }

    /// <summary>Protocol timeouts; <see cref="NodeTimeouts.ForPeriod"/> of the period length when null.</summary>
    public ControllerTimeouts? Timeouts { get; init; }

    /// <summary>Transport limits and retries; its listen endpoint is always the one C names.</summary>
    public PeerTransportOptions? Transport { get; init; }

    /// <summary>How often the loop looks at the clock (period starts, initialization steps).</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How long the previous period's TLS certificate stays usable after the switch.</summary>
    public TimeSpan TlsGracePeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often initialization's exchanges re-send to servers that lack an item.</summary>
    public TimeSpan ExchangeRetryInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Where alerts are also posted (JSON), if anywhere.</summary>
    public Uri? Webhook { get; init; }

    /// <summary>The address the application API binds, when not the server's host in C (the API is meant for loopback or a private network).</summary>
    public string? ApiHost { get; init; }

    /// <summary>The randomness of keys and protocols; the OS CSPRNG when null.</summary>
    public IRandomSource? Random { get; init; }
}
