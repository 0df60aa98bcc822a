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
    /// <param name="serverCount">n.</param>
    /// <param name="threshold">t.</param>
    /// <param name="faults">f.</param>
    /// <param name="period">The period length (default 10 minutes: no refresh during a test).</param>
    /// <param name="windowsOf">The protocol windows are those of a period this long (<see cref="NodeTimeouts.ForPeriod"/>; default 10 s:
    /// 250 ms windows, initialization in seconds). Longer windows tolerate a busy machine: a server that
    /// reaches a period later than its KeyTable's judging window sits the period out.</param>
    /// <param name="timeout">How long to wait for every server to be operational.</param>
    public static async Task<InProcessCluster> StartAsync(int serverCount = 2, int threshold = 1, int faults = 0, TimeSpan? period = null, TimeSpan? windowsOf = null, TimeSpan? timeout = null)
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

        // Protocol windows of their own: a long period's windows would make initialization take a minute.
        var timeouts = NodeTimeouts.ForPeriod(windowsOf ?? TimeSpan.FromSeconds(10));
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

    /// <summary>Waits until every server is operational in period <paramref name="period"/> or later.</summary>
    public async Task WaitForPeriodAsync(ulong period, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!Nodes.Values.All(n => n.Snapshot.State == "operational" && n.Snapshot.Period >= period))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Period {period} did not start everywhere: {string.Join(", ", Nodes.Select(n => $"{n.Key}: {n.Value.Snapshot.State} p{n.Value.Snapshot.Period}"))}.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The current period (the lowest of the servers').</summary>
    public ulong Period => Nodes.Values.Min(n => n.Snapshot.Period);

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
