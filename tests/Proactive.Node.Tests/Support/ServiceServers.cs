using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Node.Api;
using Proactive.Node.Hosting;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Services;

namespace Proactive.Node.Tests.Support;

/// <summary>The registered instances, held in memory: what the lead's ledger-backed directory will be, for tests.</summary>
internal sealed class InMemoryApplicationDirectory : IApplicationDirectory
{
    private readonly ConcurrentDictionary<string, ApplicationInstance> _instances = new(StringComparer.Ordinal);

    public bool TryGetInstance(string handle, [NotNullWhen(true)] out ApplicationInstance? instance) => _instances.TryGetValue(handle, out instance);

    /// <summary>Registers a centralized application (instance 0) with a new key; the caller keeps the private half.</summary>
    public (ApplicationInstance Instance, Ed25519PrivateKey Key) Register(string name)
    {
        var applicationId = new byte[ApplicationRandomness.ApplicationIdLength];
        SystemRandomSource.Instance.Fill(applicationId);
        var key = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
        var handle = $"app_{Convert.ToHexStringLower(applicationId)}_0";
        var instance = new ApplicationInstance(handle, applicationId, 0, key.PublicKey.ToArray(), name);
        _instances[handle] = instance;
        return (instance, key);
    }
}

/// <summary>Runs work inline under one lock: the node's serial loop, for tests without a node.</summary>
internal sealed class InlineLoop : INodeLoop
{
    private readonly Lock _gate = new();

    public Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(work());
        }
    }
}

/// <summary>
/// Every server of a <see cref="DealtNetwork"/> with its real application API on a loopback port: a
/// restored controller, <see cref="ControllerApplicationServices"/> over it, a shared directory.
/// </summary>
internal sealed class ServiceServers : IAsyncDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly List<AlertLog> _logs = [];
    private readonly Dictionary<int, ServerController> _controllers = [];

    private ServiceServers(DealtNetwork network) => Network = network;

    public DealtNetwork Network { get; }

    public InMemoryApplicationDirectory Directory { get; } = new();

    public Dictionary<int, NodeApi> Apis { get; } = [];

    /// <summary>Servers that answer as if not operational (their controller is withheld).</summary>
    public HashSet<int> Down { get; } = [];

    /// <summary>Starts every server of a network dealt with its API ports in the configuration.</summary>
    public static async Task<ServiceServers> StartAsync(int serverCount = 4, int threshold = 1, int faults = 1, TimeProvider? time = null)
    {
        var ports = DealtNetwork.FreePorts(serverCount);
        var servers = new ServiceServers(new DealtNetwork(serverCount, threshold, faults, apiPorts: ports));
        foreach (var id in servers.Network.Config.Parameters.Servers)
        {
            await servers.StartServerAsync(id, ports[id], time ?? TimeProvider.System);
        }

        return servers;
    }

    public Uri BaseAddress(int id) => Apis[id].BaseAddress;

    private async Task StartServerAsync(int id, int port, TimeProvider time)
    {
        var controller = Network.Restore(id);
        _controllers[id] = controller;
        var log = AlertLog.Open(_temp.Combine($"alerts-{id}.db"));
        _logs.Add(log);
        var snapshot = NodeSnapshot.Starting(id, DateTimeOffset.UtcNow) with
        {
            State = "operational",
            Period = Network.Period,
            CommittedPeriod = Network.Period,
            NetworkKey = Network.NetworkKeyHex,
        };
        var services = new ControllerApplicationServices(
            Network.Config, id, new InlineLoop(), () => Down.Contains(id) ? null : controller, () => snapshot, SystemRandomSource.Instance, time);
        var api = new NodeApi(new IPEndPoint(IPAddress.Loopback, port), () => throw new InvalidOperationException("no status here"), log, directory: Directory, services: services, time: time);
        await api.StartAsync();
        Apis[id] = api;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var api in Apis.Values)
        {
            await api.DisposeAsync();
        }

        foreach (var log in _logs)
        {
            log.Dispose();
        }

        foreach (var controller in _controllers.Values)
        {
            controller.Dispose();
        }

        Network.Dispose();
        _temp.Dispose();
    }
}
