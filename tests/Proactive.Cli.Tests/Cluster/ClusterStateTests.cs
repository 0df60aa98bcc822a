using System.Text;
using Proactive.Cli.Commands.Cluster;

namespace Proactive.Cli.Tests.Cluster;

public sealed class ClusterStateTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "proactive-cluster-state-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static ClusterState Sample() => new()
    {
        State = ClusterRunState.Running,
        UpdatedAt = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero),
        Servers =
        [
            new ServerProcessState { Id = 1, Pid = 4242, PeerPort = 40001, ApiPort = 40002, Command = ["/usr/bin/proactive", "node", "run", "--dir", "/c/server-1", "--config", "/c/cluster.json"], StartedAt = new DateTimeOffset(2030, 1, 2, 3, 4, 0, TimeSpan.Zero) },
            new ServerProcessState { Id = 2, Pid = null, PeerPort = 40003, ApiPort = 40004, Command = ["dotnet", "proactive.dll", "node", "run"] },
        ],
    };

    [Fact]
    public void State_round_trips_through_its_file()
    {
        var path = Path.Combine(_root, "cluster-state.json");
        var state = Sample();
        state.Save(path);

        var loaded = ClusterState.Load(path);
        Assert.NotNull(loaded);
        Assert.Equal(ClusterRunState.Running, loaded.State);
        Assert.Equal(state.UpdatedAt, loaded.UpdatedAt);
        Assert.Equal(2, loaded.Servers.Count);
        Assert.Equal(state.Servers[0].Command, loaded.Servers[0].Command);
        Assert.Equal(4242, loaded.Server(1)!.Pid);
        Assert.Null(loaded.Server(2)!.Pid);
        Assert.Equal(40004, loaded.Server(2)!.ApiPort);
        Assert.Contains("\"state\": \"running\"", File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Fact]
    public void Saving_replaces_the_file_and_leaves_no_temporary_file()
    {
        var path = Path.Combine(_root, "cluster-state.json");
        Sample().Save(path);
        var stopped = Sample() with { State = ClusterRunState.Stopped };
        stopped.Save(path);

        Assert.Equal(ClusterRunState.Stopped, ClusterState.Load(path)!.State);
        Assert.Equal(["cluster-state.json"], Directory.GetFiles(_root).Select(Path.GetFileName));
    }

    [Fact]
    public void A_failed_write_keeps_the_previous_file_whole()
    {
        var path = Path.Combine(_root, "cluster-state.json");
        Sample().Save(path);
        var before = File.ReadAllBytes(path);

        // Without replace the rename fails after the new content was written beside the file: the
        // old file must be intact and the temporary file gone.
        Assert.ThrowsAny<IOException>(() => Commands.AtomicFile.Write(path, "{ half"u8, replace: false));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_root));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("{\"format\":\"something-else\",\"servers\":[]}")]
    [InlineData("{\"format\":\"proactive-local-cluster-v1\",\"servers\":[{\"id\":0,\"command\":[]}]}")]
    public void Anything_but_a_state_file_is_refused_without_throwing(string text) =>
        Assert.False(ClusterState.TryDecode(Encoding.UTF8.GetBytes(text), out _));

    [Fact]
    public void A_missing_file_is_no_state() =>
        Assert.Null(ClusterState.Load(Path.Combine(_root, "nothing", "cluster-state.json")));
}
