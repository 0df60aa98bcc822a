using Xunit.Abstractions;

namespace Proactive.Cli.Tests.Deploy;

/// <summary>
/// deploy/systemd/proactive-node.service: systemd's own checker accepts it (where systemd-analyze is
/// installed), it keeps its hardening, and its ExecStart is a command line <c>proactive</c> accepts.
/// </summary>
public sealed class SystemdUnitTests(ITestOutputHelper output) : IDisposable
{
    private const string InstalledProgram = "/opt/proactive/proactive";
    private readonly string _temp = Directory.CreateTempSubdirectory("proactive-systemd-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string Unit => Path.Combine(HostTools.RepositoryRoot(), "deploy", "systemd", "proactive-node.service");

    [FactWhenProgram("systemd-analyze")]
    public void Systemd_analyze_verify_accepts_the_unit()
    {
        // verify checks that ExecStart's program exists and is executable: the one built beside the tests
        // stands in for the installed one.
        var copy = Path.Combine(_temp, "proactive-node.service");
        File.WriteAllText(copy, File.ReadAllText(Unit).Replace(InstalledProgram, HostTools.ProactiveProgram(), StringComparison.Ordinal));
        var verify = HostTools.Run("systemd-analyze", "verify", copy);
        output.WriteLine($"systemd-analyze verify: exit {verify.ExitCode} {verify.Both}");
        Assert.True(verify.ExitCode == 0 && verify.Both.Length == 0, verify.Both);
    }

    [Fact]
    public void Unit_is_hardened_writes_only_the_server_directory_and_runs_a_valid_node_command()
    {
        var settings = File.ReadAllLines(Unit)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith('[') && l.Contains('=', StringComparison.Ordinal))
            .Select(l => (Key: l[..l.IndexOf('=', StringComparison.Ordinal)], Value: l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]))
            .ToList();
        string Value(string key) => Assert.Single(settings, s => s.Key == key).Value;

        Assert.Equal("strict", Value("ProtectSystem"));
        Assert.Equal("yes", Value("NoNewPrivileges"));
        Assert.Equal("yes", Value("PrivateTmp"));
        Assert.Equal("on-failure", Value("Restart"));
        Assert.Equal("proactive", Value("User"));
        Assert.True(int.Parse(Value("LimitNOFILE"), System.Globalization.CultureInfo.InvariantCulture) >= 4096);
        Assert.Equal("0", Value("LimitCORE"));

        // The one writable path is the server's directory, the one ExecStart names.
        var exec = Value("ExecStart").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(InstalledProgram, exec[0]);
        var directory = exec[Array.IndexOf(exec, "--dir") + 1];
        Assert.Equal(directory, Value("ReadWritePaths"));

        // Past the parser (2 would be a usage error), stopped at the first missing file.
        var mapped = exec.Skip(1).Select(a => a.StartsWith('/') ? Path.Combine(_temp, "absent", a.TrimStart('/')) : a);
        var run = HostTools.Run(HostTools.ProactiveProgram(), mapped);
        Assert.True(run.ExitCode == 1 && run.StandardError.Contains("proactive node run:", StringComparison.Ordinal), $"exit {run.ExitCode}: {run.Both}");
    }
}
