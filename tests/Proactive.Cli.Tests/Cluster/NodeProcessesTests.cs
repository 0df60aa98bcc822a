using Proactive.Cli.Commands.Cluster;

namespace Proactive.Cli.Tests.Cluster;

/// <summary>
/// Starting, recognizing and stopping a detached process, with a shell loop standing in for the node:
/// its command line holds "node run --dir DIR" like the real one, and it exits on SIGTERM.
/// </summary>
public sealed class NodeProcessesTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "proactive-node-processes-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private IReadOnlyList<string> FakeNode(string serverRoot) =>
        ["/bin/sh", "-c", "echo started; trap 'echo stopping; exit 0' TERM; while :; do sleep 0.1; done", "fake", "node", "run", "--dir", serverRoot, "--config", Path.Combine(_root, "cluster.json")];

    [Fact]
    public void A_detached_node_is_recognized_by_its_pid_logs_to_its_file_and_stops_on_sigterm()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var server = Path.Combine(_root, "server-1");
        Directory.CreateDirectory(server);
        var log = Path.Combine(server, "node.log");
        var pid = NodeProcesses.StartDetached(FakeNode(server), log, _root);
        try
        {
            Assert.True(SpinUntil(() => File.Exists(log) && File.ReadAllText(log).Contains("started", StringComparison.Ordinal)), "no output in node.log");
            Assert.True(NodeProcesses.IsNodeProcess(pid, server));

            // server-1 is a prefix of server-10: never the same server.
            Assert.False(NodeProcesses.IsNodeProcess(pid, server + "0"));
            Assert.False(NodeProcesses.IsNodeProcess(pid, Path.Combine(_root, "server-2")));

            Assert.True(NodeProcesses.Stop(pid, server, TimeSpan.FromSeconds(10)));
            Assert.False(NodeProcesses.IsNodeProcess(pid, server));
            Assert.Contains("stopping", File.ReadAllText(log), StringComparison.Ordinal);
            Assert.False(NodeProcesses.Stop(pid, server, TimeSpan.FromSeconds(1)));
        }
        finally
        {
            NodeProcesses.KillNow(pid, server);
        }
    }

    [Fact]
    public void Kill_now_ends_a_node_that_ignores_sigterm()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var server = Path.Combine(_root, "server-3");
        Directory.CreateDirectory(server);
        var log = Path.Combine(server, "node.log");
        string[] stubborn = ["/bin/sh", "-c", "trap '' TERM; echo started; while :; do sleep 0.1; done", "fake", "node", "run", "--dir", server];
        var pid = NodeProcesses.StartDetached(stubborn, log, _root);
        Assert.True(SpinUntil(() => File.Exists(log) && File.ReadAllText(log).Contains("started", StringComparison.Ordinal)), "no output in node.log");
        Assert.True(NodeProcesses.KillNow(pid, server));
        Assert.False(NodeProcesses.IsNodeProcess(pid, server));
    }

    [Fact]
    public void A_pid_that_is_not_a_node_is_never_signalled()
    {
        // This test process is alive, but it is not a node of that directory.
        Assert.False(NodeProcesses.IsNodeProcess(Environment.ProcessId, _root));
        Assert.False(NodeProcesses.Stop(Environment.ProcessId, _root, TimeSpan.Zero));
        Assert.False(NodeProcesses.IsNodeProcess(null, _root));
    }

    private static bool SpinUntil(Func<bool> condition) => SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(10));
}
