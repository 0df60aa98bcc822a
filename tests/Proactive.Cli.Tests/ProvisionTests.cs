using System.Text.Json;
using Proactive.Node.Storage;

namespace Proactive.Cli.Tests;

/// <summary>End to end: <c>proactive provision</c> run as the real program, its output, its files and its refusals.</summary>
public sealed class ProvisionTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "proactive-cli-provision-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void Provision_prints_v_start_alone_on_standard_output_and_writes_the_server_directory()
    {
        var dir = Path.Combine(_root, "s3");
        var run = ProactiveProcess.Run("provision", "--id", "3", "--dir", dir);
        Assert.True(run.ExitCode == 0, run.StandardError);

        var printed = run.StandardOutput.Trim();
        Assert.Equal(printed + "\n", run.StandardOutput.ReplaceLineEndings("\n"));
        Assert.Matches("^[0-9a-f]{64}$", printed);
        Assert.Contains("Provisioned server 3", run.StandardError, StringComparison.Ordinal);
        Assert.Contains($"--server 3=HOST:PORT:{printed}", run.StandardError, StringComparison.Ordinal);

        var directory = new ServerDirectory(dir);
        using var store = NodeStore.Open(directory);
        Assert.Equal(3, store.Rom.ServerId);
        Assert.Equal(printed, StartKeyText.Format(store.Rom.StartPublicKey));
        using var startKey = store.LoadStartKey();
        Assert.NotNull(startKey);
        Assert.Equal(store.Rom.StartPublicKey, startKey.PublicKey);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(directory.RomPath));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(directory.StartKeyPath));
        }
    }

    [Fact]
    public void Json_output_names_the_files_and_the_rom_protection()
    {
        var dir = Path.Combine(_root, "s1");
        var run = ProactiveProcess.Run("provision", "--id", "1", "--dir", dir, "--json");
        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.StandardOutput);
        var root = json.RootElement;
        Assert.Equal(1, root.GetProperty("serverId").GetInt32());
        Assert.Matches("^[0-9a-f]{64}$", root.GetProperty("startPublicKey").GetString()!);
        Assert.Equal(Path.Combine(dir, "rom.json"), root.GetProperty("rom").GetString());
        Assert.Contains(root.GetProperty("romProtection").GetString(), new[] { "ReadOnlyMount", "FileModeOnly", "Writable" });
    }

    [Fact]
    public void A_provisioned_directory_is_refused_with_exit_1_and_left_unchanged()
    {
        var dir = Path.Combine(_root, "s2");
        var first = ProactiveProcess.Run("provision", "--id", "2", "--dir", dir);
        Assert.Equal(0, first.ExitCode);
        var rom = File.ReadAllBytes(Path.Combine(dir, "rom.json"));

        var again = ProactiveProcess.Run("provision", "--id", "2", "--dir", dir);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already provisioned", again.StandardError, StringComparison.Ordinal);
        Assert.Equal(string.Empty, again.StandardOutput);
        Assert.Equal(rom, File.ReadAllBytes(Path.Combine(dir, "rom.json")));
    }

    [Theory]
    [InlineData("0", "--id must be between 1 and 255")]
    [InlineData("256", "--id must be between 1 and 255")]
    [InlineData("x", "--id")]
    public void A_bad_id_is_a_usage_error(string id, string message)
    {
        var dir = Path.Combine(_root, "bad");
        var run = ProactiveProcess.Run("provision", "--id", id, "--dir", dir);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void Without_a_directory_it_is_a_usage_error()
    {
        var run = ProactiveProcess.Run("provision", "--id", "1");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--dir", run.StandardError, StringComparison.Ordinal);
    }
}
