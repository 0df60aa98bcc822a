using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Proactive.Cli.Commands;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Node.Tests;
using Proactive.Node.Tests.Support;

namespace Proactive.Cli.Tests;

/// <summary>
/// <c>proactive app | store | store-until | retrieve | write | release | key | sign | verify | period-key</c>:
/// their options and usage errors, the offline verify, and the real program against a real network in
/// this process (two servers in period 0: public data, keys and signatures; secrets wait for the first
/// refresh's certified KeyTable, which the end-to-end tests reach).
/// </summary>
public sealed class ApplicationCommandsTests : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _temp = new();
    private InProcessCluster? _cluster;

    public async Task InitializeAsync() => _cluster = await InProcessCluster.StartAsync(windowsOf: TimeSpan.FromSeconds(20));

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    public void Dispose() => _temp.Dispose();

    private string Server => _cluster!.Api(1).ToString();

    [Theory]
    [InlineData("store", "x")]
    [InlineData("store", "x", "--value", "a", "--file", "f")]
    [InlineData("store", "x", "--type", "secret-forever", "--value", "a")]
    [InlineData("store", "x", "--value", "a", "--until", "next tuesday")]
    [InlineData("store-until", "x", "--value", "a")]
    [InlineData("write", "x", "--value", "a")]
    [InlineData("release", "x")]
    [InlineData("sign", "--message", "m")]
    [InlineData("sign", "--key", "k")]
    [InlineData("verify", "--public-key", "00", "--signature", "00")]
    [InlineData("verify", "--public-key", "XYZ", "--signature", "00", "--message", "m")]
    [InlineData("app", "register", "--name", "n")]
    [InlineData("app", "register", "--name", "n", "--unique-id", "u", "--password", "p", "--instance", "1")]
    [InlineData("app", "register", "--name", "n", "--password", "p")]
    public void Usage_errors_exit_2_with_a_message(params string[] arguments)
    {
        var run = ProactiveProcess.Run([.. arguments, "--server", "http://127.0.0.1:1/"]);

        Assert.True(run.ExitCode == 2, $"{string.Join(' ', arguments)}: exit {run.ExitCode}, {run.StandardOutput}{run.StandardError}");
        Assert.False(string.IsNullOrWhiteSpace(run.StandardError));
    }

    [Theory]
    [InlineData("+30s", 30)]
    [InlineData("+10m", 600)]
    [InlineData("+2h", 7200)]
    [InlineData("+1d", 86400)]
    public void Relative_dates_count_from_now(string text, int seconds)
    {
        var now = new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
        Assert.True(CommandDates.TryParse(text, now, out var date));
        Assert.Equal(now.AddSeconds(seconds), date);
    }

    [Fact]
    public void Absolute_dates_are_utc_unless_they_say_otherwise_and_nonsense_is_refused()
    {
        var now = DateTimeOffset.UtcNow;
        Assert.True(CommandDates.TryParse("2026-12-24T18:00:00", now, out var date));
        Assert.Equal(new DateTimeOffset(2026, 12, 24, 18, 0, 0, TimeSpan.Zero), date);
        Assert.True(CommandDates.TryParse("2026-12-24T18:00:00+02:00", now, out date));
        Assert.Equal(new DateTimeOffset(2026, 12, 24, 16, 0, 0, TimeSpan.Zero), date);
        Assert.False(CommandDates.TryParse("+3w", now, out _));
        Assert.False(CommandDates.TryParse("+99999999999999d", now, out _));
        Assert.False(CommandDates.TryParse("soon", now, out _));
    }

    [Fact]
    public void Verify_checks_an_ed25519_signature_offline_exit_0_valid_1_not()
    {
        using var key = Ed25519PrivateKey.Generate(SystemRandomSource.Instance);
        var message = Encoding.UTF8.GetBytes("the message");
        var signature = Convert.ToHexStringLower(key.Sign(message));
        var publicKey = Convert.ToHexStringLower(key.PublicKey.Bytes);
        var file = _temp.Combine("message.bin");
        File.WriteAllBytes(file, message);

        var valid = ProactiveProcess.Run("verify", "--public-key", publicKey, "--message", "the message", "--signature", signature);
        Assert.True(valid.ExitCode == 0, valid.StandardOutput + valid.StandardError);
        Assert.Equal(0, ProactiveProcess.Run("verify", "--public-key", publicKey, "--message-hex", Convert.ToHexStringLower(message), "--signature", signature).ExitCode);
        var json = ProactiveProcess.Run("verify", "--public-key", publicKey, "--file", file, "--signature", signature, "--json");
        Assert.Equal(0, json.ExitCode);
        using (var result = JsonDocument.Parse(json.StandardOutput))
        {
            Assert.True(result.RootElement.GetProperty("valid").GetBoolean());
        }

        var wrong = ProactiveProcess.Run("verify", "--public-key", publicKey, "--message", "another message", "--signature", signature);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("NOT", wrong.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void The_programs_commands_run_against_a_real_network()
    {
        var credentials = _temp.Combine("app", "credentials.json");
        string[] Connection(string? path = null) => ["--server", Server, "--credentials", path ?? credentials];

        var registered = ProactiveProcess.Run(["app", "register", "--name", "cli", "--unique-id", Guid.NewGuid().ToString("N"), "--max-entries", "2", "--json", .. Connection()]);
        Assert.True(registered.ExitCode == 0, registered.StandardError);
        using (var json = JsonDocument.Parse(registered.StandardOutput))
        {
            Assert.StartsWith("app_", json.RootElement.GetProperty("handle").GetString(), StringComparison.Ordinal);
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(credentials));
        }
        var again = ProactiveProcess.Run(["app", "register", "--name", "cli", "--unique-id", "other", .. Connection()]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--force", again.StandardError, StringComparison.Ordinal);

        var shown = ProactiveProcess.Run(["app", "show", .. Connection()]);
        Assert.True(shown.ExitCode == 0, shown.StandardError);
        Assert.Contains("0 of 2 entries", shown.StandardOutput, StringComparison.Ordinal);

        // Public data: stored, written at its version, read back as f+1 servers agree on it.
        Assert.Equal(0, ProactiveProcess.Run(["store", "greeting", "--type", "public-read-write", "--value", "hello", .. Connection()]).ExitCode);
        var stale = ProactiveProcess.Run(["write", "greeting", "--version", "7", "--value", "bye", .. Connection()]);
        Assert.Equal(1, stale.ExitCode);
        Assert.Contains("version-mismatch", stale.StandardError, StringComparison.Ordinal);
        var written = ProactiveProcess.Run(["write", "greeting", "--version", "1", "--value", "bye", "--json", .. Connection()]);
        Assert.True(written.ExitCode == 0, written.StandardError);
        using (var json = JsonDocument.Parse(written.StandardOutput))
        {
            Assert.Equal(2UL, json.RootElement.GetProperty("entry").GetProperty("version").GetUInt64());
        }

        var retrieved = ProactiveProcess.Run(["retrieve", "greeting", .. Connection()]);
        Assert.Equal(0, retrieved.ExitCode);
        Assert.Equal("bye", retrieved.StandardOutput);
        var file = _temp.Combine("greeting.txt");
        Assert.Equal(0, ProactiveProcess.Run(["retrieve", "greeting", "--out", file, .. Connection()]).ExitCode);
        Assert.Equal("bye", File.ReadAllText(file));

        // In period 0 no certified KeyTable lists the servers' dealing keys: a secret waits for the first refresh.
        var secret = ProactiveProcess.Run(["store", "early", "--value", "s", .. Connection()]);
        Assert.Equal(1, secret.ExitCode);
        Assert.Contains("KeyTable", secret.StandardError, StringComparison.Ordinal);

        // A key, a signature checked by the program, then by verify.
        var key = ProactiveProcess.Run(["key", "generate", "k1", "--json", .. Connection()]);
        Assert.True(key.ExitCode == 0, key.StandardError);
        var signed = ProactiveProcess.Run(["sign", "--key", "k1", "--message", "ship it", "--json", .. Connection()]);
        Assert.True(signed.ExitCode == 0, signed.StandardError);
        using (var json = JsonDocument.Parse(signed.StandardOutput))
        {
            var publicKey = json.RootElement.GetProperty("publicKey").GetString()!;
            Assert.Equal(Convert.ToHexStringLower("ship it"u8), json.RootElement.GetProperty("message").GetString());
            var signature = json.RootElement.GetProperty("signature").GetString()!;
            Assert.Equal(0, ProactiveProcess.Run("verify", "--public-key", publicKey, "--message", "ship it", "--signature", signature).ExitCode);
        }

        // The quota of 2 entries (one data, one key) is used up.
        var full = ProactiveProcess.Run(["store", "more", "--type", "public-write-once", "--value", "x", .. Connection()]);
        Assert.Equal(1, full.ExitCode);
        Assert.Contains("quota-exceeded", full.StandardError, StringComparison.Ordinal);

        // Credentials nobody registered.
        var stranger = _temp.Combine("stranger.json");
        using (var unregistered = Proactive.Client.ApplicationCredentials.Create(new byte[16], 0, "stranger"))
        {
            unregistered.Save(stranger);
        }

        var refused = ProactiveProcess.Run(["app", "show", .. Connection(stranger)]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("unknown-handle", refused.StandardError, StringComparison.Ordinal);

        var periodKey = ProactiveProcess.Run(["period-key", "--server", Server]);
        Assert.Equal(1, periodKey.ExitCode);
        Assert.Contains("period 0", periodKey.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Store_reads_the_value_from_stdin_with_a_dash()
    {
        var credentials = _temp.Combine("stdin", "credentials.json");
        var registered = ProactiveProcess.Run("app", "register", "--name", "stdin", "--unique-id", Guid.NewGuid().ToString("N"), "--server", Server, "--credentials", credentials);
        Assert.True(registered.ExitCode == 0, registered.StandardError);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "proactive.dll"), "store", "piped", "-", "--type", "public-write-once", "--server", Server, "--credentials", credentials })
        {
            start.ArgumentList.Add(argument);
        }

        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using (var process = Process.Start(start)!)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardInput.Write("from a pipe\n");
            process.StandardInput.Close();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)));
            Assert.True(process.ExitCode == 0, await stderr + await stdout);
        }

        var retrieved = ProactiveProcess.Run("retrieve", "piped", "--server", Server, "--credentials", credentials);
        Assert.Equal("from a pipe\n", retrieved.StandardOutput);
    }
}
