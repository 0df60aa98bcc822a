using System.Text.Json;
using Proactive.Node.Configuration;
using Proactive.Node.Storage;

namespace Proactive.Cli.Tests;

/// <summary>End to end: servers provisioned by the real program, then <c>proactive config new</c> and <c>config check</c>.</summary>
public sealed class ConfigTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "proactive-cli-config-" + Guid.NewGuid().ToString("N"));
    private readonly Lazy<string[]> _keys;

    public ConfigTests() => _keys = new Lazy<string[]>(() => [.. Enumerable.Range(1, 5).Select(Provision)]);

    private string[] Keys => _keys.Value;

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void Config_new_builds_c_from_the_provisioned_keys_and_the_file_loads()
    {
        var output = Path.Combine(_root, "cluster.json");
        var run = ProactiveProcess.Run([.. ServerArguments(5), "--threshold", "2", "--faults", "1", "--period", "30s", "--out", output]);
        Assert.True(run.ExitCode == 0, run.StandardError);

        var config = ClusterConfig.Load(output);
        Assert.Equal((5, 2, 1), (config.Parameters.ServerCount, config.Parameters.Threshold, config.Parameters.Faults));
        Assert.Equal(TimeSpan.FromSeconds(30), config.Period);
        Assert.Equal("ed25519", config.SuiteName);
        Assert.Null(config.Genesis);
        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal(Keys[i - 1], StartKeyText.Format(config.Server(i).StartPublicKey));
            Assert.Equal(7000 + i, config.Server(i).PeerPort);
            Assert.Equal(8000 + i, config.Server(i).ApiPort);

            // The key in C is the one in that server's ROM.
            Assert.Equal(config.Server(i).StartPublicKey, RomRecord.Read(Path.Combine(_root, $"s{i}", "rom.json")).StartPublicKey);
        }

        Assert.Contains($"Network {config.NetworkId}", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("t = 2", run.StandardOutput, StringComparison.Ordinal);

        var check = ProactiveProcess.Run("config", "check", output);
        Assert.Equal(0, check.ExitCode);
        Assert.Contains($"Network {config.NetworkId}", check.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_are_the_briefs_thresholds_and_an_hour()
    {
        var output = Path.Combine(_root, "defaults.json");
        var run = ProactiveProcess.Run([.. ServerArguments(5, withApi: false), "--out", output, "--genesis", "2030-01-01T00:00:00Z", "--suite", "ristretto255"]);
        Assert.True(run.ExitCode == 0, run.StandardError);
        using var json = JsonDocument.Parse(File.ReadAllBytes(output));
        var root = json.RootElement;
        Assert.Equal(2, root.GetProperty("threshold").GetInt32());
        Assert.Equal(1, root.GetProperty("faults").GetInt32());
        Assert.Equal(3600, root.GetProperty("periodSeconds").GetInt32());
        Assert.Equal("ristretto255", root.GetProperty("suite").GetString());
        Assert.Equal("2030-01-01T00:00:00Z", root.GetProperty("genesis").GetString());
        Assert.All(root.GetProperty("servers").EnumerateArray(), s => Assert.False(s.TryGetProperty("apiPort", out _)));
    }

    [Theory]
    [InlineData(4, "0", "1", "f <= t")]
    [InlineData(4, "3", "1", "t + 1 <= n - f")]
    [InlineData(3, "1", "1", "n >= 3f + 1")]
    public void Each_broken_threshold_rule_exits_2_naming_it(int n, string t, string f, string rule)
    {
        var output = Path.Combine(_root, "rules.json");
        var run = ProactiveProcess.Run([.. ServerArguments(n), "--threshold", t, "--faults", f, "--out", output]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(rule, run.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Server_mistakes_are_each_named()
    {
        var output = Path.Combine(_root, "servers.json");
        string[] duplicateId = ["--server", $"1=127.0.0.1:7001:{Keys[0]}", "--server", $"1=127.0.0.1:7002:{Keys[1]}", "--server", $"3=127.0.0.1:7003:{Keys[2]}", "--server", $"4=127.0.0.1:7004:{Keys[3]}"];
        var run = ProactiveProcess.Run(["config", "new", .. duplicateId, "--out", output]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("id 1 appears more than once", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("missing 2", run.StandardError, StringComparison.Ordinal);

        string[] sharedKey = ["--server", $"1=127.0.0.1:7001:{Keys[0]}", "--server", $"2=127.0.0.1:7002:{Keys[0]}", "--server", $"3=127.0.0.1:7003:{Keys[2]}", "--server", $"4=127.0.0.1:7004:{Keys[3]}"];
        run = ProactiveProcess.Run(["config", "new", .. sharedKey, "--out", output]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("start keys are unique", run.StandardError, StringComparison.Ordinal);

        string[] sharedPort = ["--server", $"1=127.0.0.1:7001:{Keys[0]}", "--server", $"2=127.0.0.1:7001:{Keys[1]}", "--server", $"3=127.0.0.1:7003:{Keys[2]}", "--server", $"4=127.0.0.1:7004:{Keys[3]}"];
        run = ProactiveProcess.Run(["config", "new", .. sharedPort, "--out", output]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("endpoints are unique", run.StandardError, StringComparison.Ordinal);

        run = ProactiveProcess.Run("config", "new", "--server", "1=127.0.0.1:7001:not-a-key", "--server", "2=127.0.0.1", "--out", output);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("not a valid V_start", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("'2=127.0.0.1'", run.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData("--period", "90x", "unknown unit 'x'")]
    [InlineData("--period", "0s", "between 1s and 366d")]
    [InlineData("--genesis", "yesterday", "--genesis")]
    [InlineData("--suite", "rsa", "rsa")]
    public void Bad_parameters_exit_2(string option, string value, string message)
    {
        var output = Path.Combine(_root, "parameters.json");
        var run = ProactiveProcess.Run([.. ServerArguments(4), option, value, "--out", output]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void An_existing_output_is_kept_unless_forced()
    {
        var output = Path.Combine(_root, "kept.json");
        Directory.CreateDirectory(_root);
        File.WriteAllText(output, "mine");
        var run = ProactiveProcess.Run([.. ServerArguments(4), "--out", output]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--force", run.StandardError, StringComparison.Ordinal);
        Assert.Equal("mine", File.ReadAllText(output));

        run = ProactiveProcess.Run([.. ServerArguments(4), "--out", output, "--force"]);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(4, ClusterConfig.Load(output).Servers.Count);
    }

    [Fact]
    public void Config_check_exits_1_listing_the_problems_of_a_bad_file()
    {
        var path = Path.Combine(_root, "bad.json");
        Directory.CreateDirectory(_root);
        File.WriteAllText(path, "{\"format\":\"proactive-cluster-v1\",\"extra\":1}");
        var run = ProactiveProcess.Run("config", "check", path);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("unknown field 'extra'", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("missing field 'servers'", run.StandardError, StringComparison.Ordinal);

        var missing = ProactiveProcess.Run("config", "check", Path.Combine(_root, "absent.json"));
        Assert.Equal(1, missing.ExitCode);
    }

    private string Provision(int id)
    {
        var run = ProactiveProcess.Run("provision", "--id", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", Path.Combine(_root, $"s{id}"));
        Assert.True(run.ExitCode == 0, run.StandardError);
        return run.StandardOutput.Trim();
    }

    private string[] ServerArguments(int n, bool withApi = true) =>
        ["config", "new", .. Enumerable.Range(1, n).SelectMany(i => new[] { "--server", withApi ? $"{i}=127.0.0.1:{7000 + i}:{8000 + i}:{Keys[i - 1]}" : $"{i}=127.0.0.1:{7000 + i}:{Keys[i - 1]}" })];
}
