using Proactive.Crypto.Random;
using Proactive.Node.Configuration;
using Proactive.Node.Hosting;
using Proactive.Node.Storage;

namespace Proactive.Node.Tests.Support;

/// <summary>
/// A real network in this process: n provisioned servers, each a <see cref="NodeHost"/> with its peer
/// transport (mTLS on loopback), its store and its application API, initialized by the real protocols
/// (DKGs, KeyTable, certificate). The application routes then run on the node's own gateway: the ledger
/// agreed by every server, dealt shares, share reads, key generation and signing. Two servers (t = 1,
/// f = 0) by default: the smallest network FROST can sign with, and quick to initialize.
/// </summary>
internal sealed class InProcessCluster : IAsyncDisposable
{
    private readonly TempDirectory _temp;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _runs = [];

    private InProcessCluster(TempDirectory temp, ClusterConfig config, Dictionary<int, NodeHost> nodes)
    {
        _temp = temp;
        Config = config;
        Nodes = nodes;
    }

    public ClusterConfig Config { get; }

    public Dictionary<int, NodeHost> Nodes { get; }

    /// <summary>Server <paramref name="id"/>'s API base address.</summary>
    public Uri Api(int id) => new($"http://{Config.Server(id).ApiEndpoint}/");

    /// <summary>Provisions and starts the servers, and waits until every one is operational.</summary>
    public static async Task<InProcessCluster> StartAsync(int serverCount = 2, int threshold = 1, int faults = 0, TimeSpan? period = null, TimeSpan? timeout = null)
    {
        var temp = new TempDirectory();
        var ports = DealtNetwork.FreePorts(2 * serverCount);
        var directories = new Dictionary<int, ServerDirectory>();
        var servers = new List<ClusterServer>();
        for (var id = 1; id <= serverCount; id++)
        {
            var directory = new ServerDirectory(temp.Combine($"server-{id}"));
            var rom = Proactive.Node.Provisioning.Provisioner.Provision(directory, id, SystemRandomSource.Instance);
            directories[id] = directory;
            servers.Add(new ClusterServer(id, "127.0.0.1", ports[id], ports[serverCount + id], rom.StartPublicKey));
        }

        if (!ClusterConfig.TryCreate(servers, threshold, faults, period ?? TimeSpan.FromMinutes(10), "ed25519", null, out var config, out var errors))
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }

        // Long periods (no refresh during a test), short protocol windows (initialization in seconds, not the minute a long period's windows take).
        var timeouts = NodeTimeouts.ForPeriod(TimeSpan.FromSeconds(10));
        var nodes = directories.ToDictionary(d => d.Key, d => new NodeHost(new NodeHostOptions(d.Value, config) { Timeouts = timeouts }));
        var cluster = new InProcessCluster(temp, config, nodes);
        foreach (var node in nodes.Values)
        {
            cluster._runs.Add(Task.Run(() => node.RunAsync(cluster._stop.Token)));
        }

        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!nodes.Values.All(n => n.Snapshot.State == "operational"))
        {
            if (DateTime.UtcNow > deadline || cluster._runs.Any(r => r.IsCompleted))
            {
                var states = string.Join(", ", nodes.Select(n => $"{n.Key}: {n.Value.Snapshot.State}"));
                var failure = cluster._runs.FirstOrDefault(r => r.IsFaulted)?.Exception?.GetBaseException().Message;
                await cluster.DisposeAsync();
                throw new TimeoutException($"The in-process cluster did not become operational ({states}){(failure is null ? string.Empty : ": " + failure)}.");
            }

            await Task.Delay(100);
        }

        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var run in _runs)
        {
            try
            {
                await run;
            }
            catch (OperationCanceledException)
            {
            }
        }

        foreach (var node in Nodes.Values)
        {
            await node.DisposeAsync();
        }

        _stop.Dispose();
        _temp.Dispose();
    }
}
