using System.Text.Json;

namespace Proactive.Cli.Tests;

/// <summary>End to end: <c>proactive simulate</c> run as the real program, its JSON, text and exit codes.</summary>
public class SimulateTests
{
    private static readonly string[] SmallRun = ["simulate", "--nodes", "4", "--threshold", "1", "--faults", "1", "--periods", "3", "--secrets", "2", "--seed", "7"];

    [Fact]
    public void Json_output_is_one_object_with_the_parameters_traffic_alerts_and_no_violation()
    {
        var run = ProactiveProcess.Run([.. SmallRun, "--json"]);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.StandardOutput} {run.StandardError}");

        using var json = JsonDocument.Parse(run.StandardOutput); // throws if there is anything but one JSON value
        var root = json.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(7UL, root.GetProperty("seed").GetUInt64());
        Assert.Equal(4, root.GetProperty("nodes").GetInt32());
        Assert.Equal(1, root.GetProperty("threshold").GetInt32());
        Assert.Equal(1, root.GetProperty("faults").GetInt32());
        Assert.Equal(2, root.GetProperty("secrets").GetInt32());
        Assert.Equal(3, root.GetProperty("periods").GetInt32());
        Assert.Equal(3, root.GetProperty("periodsCommitted").GetInt32());
        Assert.True(root.GetProperty("mobileAdversary").GetBoolean());

        var violations = root.GetProperty("invariantViolations");
        Assert.Equal(JsonValueKind.Array, violations.ValueKind);
        Assert.Equal(0, violations.GetArrayLength());

        var alerts = root.GetProperty("alerts");
        Assert.Equal(JsonValueKind.Object, alerts.ValueKind);
        Assert.All(alerts.EnumerateObject(), a => Assert.True(a.Value.GetInt32() > 0, a.Name));
        var byCulprit = root.GetProperty("alertsByCulprit");
        Assert.Equal(JsonValueKind.Object, byCulprit.ValueKind);
        // Culprit 0 is an alert that blames nobody: a server whose K_i is missing from the decided KeyTable
        // (here the silent server itself, whose entry never left) raises ImpersonationDetected naming no one.
        Assert.All(byCulprit.EnumerateObject(), c => Assert.InRange(int.Parse(c.Name, System.Globalization.CultureInfo.InvariantCulture), 0, 4));
        Assert.Equal(alerts.EnumerateObject().Sum(a => a.Value.GetInt32()), byCulprit.EnumerateObject().Sum(c => c.Value.GetInt32()));

        // Period 0 (setup: DKG and dealing) and periods 1..3, each with traffic.
        var traffic = root.GetProperty("traffic").EnumerateArray().ToArray();
        Assert.Equal([0L, 1L, 2L, 3L], traffic.Select(x => x.GetProperty("period").GetInt64()).ToArray());
        Assert.All(traffic, x =>
        {
            Assert.True(x.GetProperty("messages").GetInt64() > 0);
            Assert.True(x.GetProperty("bytes").GetInt64() > x.GetProperty("messages").GetInt64());
        });
    }

    [Fact]
    public void The_same_seed_gives_the_same_json()
    {
        var first = ProactiveProcess.Run([.. SmallRun, "--json"]);
        var second = ProactiveProcess.Run([.. SmallRun, "--json"]);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(0, second.ExitCode);
        Assert.Equal(first.StandardOutput, second.StandardOutput);
    }

    [Fact]
    public void Without_the_adversary_no_alert_is_raised()
    {
        var run = ProactiveProcess.Run([.. SmallRun, "--no-adversary", "--json"]);
        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.StandardOutput);
        Assert.False(json.RootElement.GetProperty("mobileAdversary").GetBoolean());
        Assert.Empty(json.RootElement.GetProperty("alerts").EnumerateObject());
        Assert.Equal(3, json.RootElement.GetProperty("periodsCommitted").GetInt32());
    }

    [Fact]
    public void Text_output_shows_the_table_and_the_seed_that_reproduces_the_run()
    {
        var run = ProactiveProcess.Run(SmallRun);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("seed          7", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("--seed 7", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Periods committed: 3 of 3", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("setup: DKG and dealing", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Invariant violations: none", run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_seed_a_random_one_is_drawn_and_printed()
    {
        // Exit 0 or 1 (a random seed may, in principle, find a violation); never a usage error.
        var run = ProactiveProcess.Run("simulate", "--periods", "1", "--secrets", "0", "--no-adversary", "--json");
        Assert.InRange(run.ExitCode, 0, 1);
        using var json = JsonDocument.Parse(run.StandardOutput);
        var seed = json.RootElement.GetProperty("seed").GetUInt64();

        // The printed seed reproduces the run.
        var again = ProactiveProcess.Run("simulate", "--periods", "1", "--secrets", "0", "--no-adversary", "--json", "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(run.ExitCode, again.ExitCode);
        Assert.Equal(run.StandardOutput, again.StandardOutput);
    }

    [Fact]
    public void Parameters_that_break_n_at_least_3f_plus_1_exit_2_naming_the_rule()
    {
        var run = ProactiveProcess.Run("simulate", "--nodes", "3", "--threshold", "1", "--faults", "1", "--seed", "7");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("n >= 3f + 1", run.StandardError, StringComparison.Ordinal);
        Assert.Equal(string.Empty, run.StandardOutput);
    }

    [Theory]
    [InlineData("--threshold", "0", "f <= t")]
    [InlineData("--periods", "0", "--periods")]
    [InlineData("--secrets", "-1", "--secrets")]
    public void Other_usage_errors_exit_2_and_say_why(string option, string value, string expected)
    {
        var run = ProactiveProcess.Run("simulate", "--nodes", "4", "--faults", "1", "--seed", "7", option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--group", "secp256k1")]
    [InlineData("--nodes", "many")]
    [InlineData("--frobnicate", "1")]
    public void Unparsable_arguments_exit_2(string option, string value)
    {
        Assert.Equal(2, ProactiveProcess.Run("simulate", option, value).ExitCode);
    }
}
