using System.Diagnostics;
using System.Text.Json;
using Proactive.Cli.Commands;
using Proactive.Client;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Node.Configuration;
using Proactive.Node.Tests;
using Proactive.Node.Tests.Support;

namespace Proactive.Cli.Tests;

/// <summary>
/// <c>proactive time</c>, <c>proactive random</c> and <c>proactive random verify</c>: their options, their
/// defaults, and the real program against real in-process node APIs (n = 4, t = 1).
/// </summary>
public sealed class ServiceCommandsTests : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _temp = new();
    private ServiceServers _servers = null!;
    private string _credentials = null!;

    public async Task InitializeAsync()
    {
        _servers = await ServiceServers.StartAsync();
        var (instance, key) = _servers.Directory.Register("cli tests");
        using var credentials = new ApplicationCredentials(instance.Handle, instance.ApplicationId, instance.Instance, instance.Name, key);
        _credentials = _temp.Combine(".proactive", "credentials.json");
        credentials.Save(_credentials);
    }

    public async Task DisposeAsync() => await _servers.DisposeAsync();

    public void Dispose() => _temp.Dispose();

    private string Server => _servers.BaseAddress(2).ToString();

    [Fact]
    public void The_server_is_the_given_url_or_server_1_of_the_local_cluster()
    {
        Assert.True(ClientConnection.TryResolveServer("http://127.0.0.1:7101/", _temp.Combine("none"), out var given, out _, out _));
        Assert.Equal(new Uri("http://127.0.0.1:7101/"), given);

        Assert.False(ClientConnection.TryResolveServer("ftp://x", _temp.Combine("none"), out _, out var bad, out var usage));
        Assert.True(usage);
        Assert.Contains("--server", bad, StringComparison.Ordinal);

        Assert.False(ClientConnection.TryResolveServer(null, _temp.Combine("none"), out _, out var none, out usage));
        Assert.False(usage);
        Assert.Contains("proactive cluster up", none, StringComparison.Ordinal);

        var folder = _temp.Combine("cluster");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "cluster.json"), _servers.Network.Config.ToJson());
        Assert.True(ClientConnection.TryResolveServer(null, folder, out var local, out _, out _));
        Assert.Equal(_servers.BaseAddress(1), local);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("00ff", true)]
    [InlineData("0", false)]
    [InlineData("00FF", false)]
    [InlineData("0x00", false)]
    public void Hex_options_are_lowercase_hex(string text, bool valid)
    {
        Assert.Equal(valid, ClientConnection.TryParseHex(text, "--input", 4, out _, out var error));
        Assert.Equal(valid, error.Length == 0);
    }

    [Theory]
    [InlineData("random", "verify")]
    [InlineData("time", "--bogus")]
    [InlineData("random", "--input")]
    public void Usage_errors_are_parse_errors(string command, string argument)
    {
        var root = new System.CommandLine.RootCommand { TimeCommand.Create(), RandomCommand.Create() };

        Assert.NotEmpty(root.Parse([command, argument]).Errors);
    }

    [Fact]
    public void Time_prints_every_servers_verified_time()
    {
        var json = ProactiveProcess.Run("time", "--server", Server, "--credentials", _credentials, "--json");
        Assert.True(json.ExitCode == 0, json.StandardError);
        using var vector = JsonDocument.Parse(json.StandardOutput);
        Assert.Equal(4, vector.RootElement.GetProperty("verifiedCount").GetInt32());
        Assert.Equal(_servers.Network.NetworkKeyHex, vector.RootElement.GetProperty("networkKey").GetString());

        var text = ProactiveProcess.Run("time", "--server", Server, "--credentials", _credentials, "--network-key", _servers.Network.NetworkKeyHex);
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("4 of 4 servers' times verified", text.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_prints_a_proof_that_random_verify_accepts_from_a_file_or_stdin_and_a_tampered_one_it_refuses()
    {
        var run = ProactiveProcess.Run("random", "--input", "00ff", "--server", Server, "--credentials", _credentials, "--json");
        Assert.True(run.ExitCode == 0, run.StandardError);
        var proof = RandomProof.FromJson(run.StandardOutput);
        Assert.Equal("00ff", proof.Input);
        var file = _temp.Combine("proof.json");
        File.WriteAllText(file, run.StandardOutput);

        var verified = ProactiveProcess.Run("random", "verify", file, "--network-key", _servers.Network.NetworkKeyHex);
        Assert.Equal(0, verified.ExitCode);
        Assert.StartsWith("Valid", verified.StandardOutput, StringComparison.Ordinal);

        var piped = RunWithStdin(run.StandardOutput, "random", "verify", "-", "--json");
        Assert.Equal(0, piped.ExitCode);
        using (var result = JsonDocument.Parse(piped.StandardOutput))
        {
            Assert.True(result.RootElement.GetProperty("valid").GetBoolean());
            Assert.Equal("proof", result.RootElement.GetProperty("networkKeySource").GetString());
        }

        File.WriteAllText(file, (proof with { Value = new string('0', 128) }).ToJson());
        var tampered = ProactiveProcess.Run("random", "verify", file, "--network-key", _servers.Network.NetworkKeyHex);
        Assert.Equal(1, tampered.ExitCode);
        Assert.StartsWith("NOT valid", tampered.StandardOutput, StringComparison.Ordinal);

        using var other = new DealtNetwork();
        var foreign = ProactiveProcess.Run("random", "verify", file, "--network-key", other.NetworkKeyHex);
        Assert.Equal(1, foreign.ExitCode);
    }

    [Fact]
    public void Random_without_input_draws_a_fresh_one_and_names_its_servers()
    {
        var first = ProactiveProcess.Run("random", "--server", Server, "--credentials", _credentials);
        var second = ProactiveProcess.Run("random", "--server", Server, "--credentials", _credentials);

        Assert.True(first.ExitCode == 0, first.StandardError);
        Assert.Contains("partials of servers", first.StandardOutput, StringComparison.Ordinal);
        Assert.NotEqual(ValueLine(first.StandardOutput), ValueLine(second.StandardOutput));
    }

    [Fact]
    public void Unusable_credentials_or_servers_fail_with_a_message()
    {
        var missing = ProactiveProcess.Run("random", "--server", Server, "--credentials", _temp.Combine("nope.json"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("proactive app register", missing.StandardError, StringComparison.Ordinal);

        var stranger = _temp.Combine("stranger.json");
        using (var credentials = ApplicationCredentials.Create(new byte[16], 0, "stranger"))
        {
            credentials.Save(stranger);
        }

        var refused = ProactiveProcess.Run("random", "--server", Server, "--credentials", stranger);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("unknown-handle", refused.StandardError, StringComparison.Ordinal);

        var badKey = ProactiveProcess.Run("time", "--server", Server, "--credentials", _credentials, "--network-key", "XYZ");
        Assert.Equal(2, badKey.ExitCode);
    }

    private static string ValueLine(string output) => output.Split('\n').Single(l => l.StartsWith("Value", StringComparison.Ordinal));

    private static ProactiveProcess.Result RunWithStdin(string input, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "proactive.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "proactive did not finish");
        return new ProactiveProcess.Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
