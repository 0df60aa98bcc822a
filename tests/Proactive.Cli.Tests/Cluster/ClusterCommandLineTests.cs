namespace Proactive.Cli.Tests.Cluster;

/// <summary>The cluster commands run as the real program: exit codes, refusals, and the offline attacks on a cluster folder.</summary>
public sealed class ClusterCommandLineTests : IDisposable
{
    private readonly OfflineCluster _cluster = new();
    private readonly string _missing = Path.Combine(Path.GetTempPath(), "proactive-no-cluster-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        _cluster.Dispose();
        if (Directory.Exists(_missing))
        {
            Directory.Delete(_missing, recursive: true);
        }
    }

    private string Dir => _cluster.Layout.Root;

    [Theory]
    [InlineData("--wipe", "--steal")]
    [InlineData("--corrupt-public", "--corrupt-shares")]
    public void Two_attacks_at_once_are_a_usage_error(string first, string second)
    {
        var run = ProactiveProcess.Run("cluster", "break-in", "--server", "1", first, second, "--dir", Dir);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("exactly one attack", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void No_attack_is_a_usage_error() =>
        Assert.Equal(2, ProactiveProcess.Run("cluster", "break-in", "--server", "1", "--dir", Dir).ExitCode);

    [Fact]
    public void An_unknown_server_is_a_usage_error()
    {
        var run = ProactiveProcess.Run("cluster", "break-in", "--server", "6", "--steal", "--dir", Dir);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("servers 1..5", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Break_in_without_a_cluster_is_a_usage_error()
    {
        var run = ProactiveProcess.Run("cluster", "break-in", "--server", "1", "--steal", "--dir", _missing);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("No cluster", run.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--nodes", "3", "--faults", "1", "n >= 3f + 1")]
    [InlineData("--nodes", "5", "--threshold", "0", "f <= t")]
    [InlineData("--nodes", "5", "--period", "0s", "--period")]
    public void Up_with_parameters_that_break_the_rules_is_a_usage_error_and_writes_nothing(string o1, string v1, string o2, string v2, string rule)
    {
        var run = ProactiveProcess.Run("cluster", "up", o1, v1, o2, v2, "--dir", _missing, "--detach");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(rule, run.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_missing));
    }

    [Fact]
    public void Up_on_an_existing_cluster_with_other_parameters_is_refused()
    {
        var run = ProactiveProcess.Run("cluster", "up", "--nodes", "7", "--dir", Dir, "--detach");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("n = 5 (not 7)", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Status_without_a_cluster_exits_1_and_down_is_idempotent()
    {
        Assert.Equal(1, ProactiveProcess.Run("cluster", "status", "--dir", _missing).ExitCode);
        var down = ProactiveProcess.Run("cluster", "down", "--dir", _missing);
        Assert.Equal(0, down.ExitCode);
        Assert.Contains("nothing to stop", down.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Status_of_a_stopped_cluster_reports_every_server_down_in_json()
    {
        var run = ProactiveProcess.Run("cluster", "status", "--json", "--dir", Dir);
        Assert.Equal(0, run.ExitCode);
        using var json = System.Text.Json.JsonDocument.Parse(run.StandardOutput);
        var servers = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(5, servers.Count);
        foreach (var (server, index) in servers.Select((s, i) => (s, i)))
        {
            Assert.Equal(index + 1, server.GetProperty("id").GetInt32());
            Assert.Equal("down", server.GetProperty("state").GetString());
            Assert.Equal(System.Text.Json.JsonValueKind.Null, server.GetProperty("pid").ValueKind);
            Assert.Equal(System.Text.Json.JsonValueKind.Null, server.GetProperty("networkKey").ValueKind);
            Assert.StartsWith("http://127.0.0.1:", server.GetProperty("apiUrl").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Stolen_shares_of_one_period_reconstruct_the_key_and_of_two_periods_do_not()
    {
        _cluster.CommitPeriod(7, 1, 2, 3, 4, 5);
        foreach (var id in new[] { "1", "2" })
        {
            var steal = ProactiveProcess.Run("cluster", "break-in", "--server", id, "--steal", "--dir", Dir);
            Assert.True(steal.ExitCode == 0, steal.StandardError);
            Assert.Contains($"server-{id}-period-7.bin", steal.StandardOutput, StringComparison.Ordinal);
        }

        var stolen = _cluster.Layout.StolenDirectory;
        var tooFew = ProactiveProcess.Run("cluster", "combine-stolen", "--dir", Dir, Path.Combine(stolen, "server-1-period-7.bin"), Path.Combine(stolen, "server-2-period-7.bin"));
        Assert.Equal(1, tooFew.ExitCode);
        Assert.Contains("t + 1 = 3", tooFew.StandardOutput, StringComparison.Ordinal);

        Assert.Equal(0, ProactiveProcess.Run("cluster", "break-in", "--server", "3", "--steal", "--dir", Dir).ExitCode);
        var combined = ProactiveProcess.Run("cluster", "combine-stolen", "--dir", Dir, Path.Combine(stolen, "server-1-period-7.bin"), Path.Combine(stolen, "server-2-period-7.bin"), Path.Combine(stolen, "server-3-period-7.json"));
        Assert.True(combined.ExitCode == 0, combined.StandardOutput + combined.StandardError);
        Assert.Contains("reconstructed the network key", combined.StandardOutput, StringComparison.Ordinal);

        _cluster.CommitPeriod(8, 1, 2, 3, 4, 5);
        Assert.Equal(0, ProactiveProcess.Run("cluster", "break-in", "--server", "4", "--steal", "--dir", Dir).ExitCode);
        var mixed = ProactiveProcess.Run("cluster", "combine-stolen", "--dir", Dir, Path.Combine(stolen, "server-1-period-7.bin"), Path.Combine(stolen, "server-2-period-7.bin"), Path.Combine(stolen, "server-4-period-8.bin"));
        Assert.Equal(1, mixed.ExitCode);
        Assert.Contains("the shares do not combine (stolen in periods 7, 8", mixed.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupting_a_stopped_server_changes_its_store_and_says_the_cluster_is_not_running()
    {
        var before = ProactiveProcess.Run("cluster", "break-in", "--server", "2", "--corrupt-shares", "--dir", Dir);
        Assert.Equal(1, before.ExitCode);
        Assert.Contains("no shares yet", before.StandardError, StringComparison.Ordinal);

        _cluster.CommitPeriod(3, 2);
        var run = ProactiveProcess.Run("cluster", "break-in", "--server", "2", "--corrupt-shares", "--dir", Dir);
        Assert.True(run.ExitCode == 0, run.StandardError);
        Assert.Contains("flipped the bytes of its shares", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("not running", run.StandardOutput, StringComparison.Ordinal);
    }
}
