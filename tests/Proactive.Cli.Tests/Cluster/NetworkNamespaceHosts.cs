using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Proactive.Cli.Tests.Deploy;

namespace Proactive.Cli.Tests.Cluster;

/// <summary>
/// Several "machines" on this one: a Linux network namespace per host, each with its own address
/// (10.231.X.i/24) on a veth pair whose other end is in a bridge of the root namespace (which gets
/// 10.231.X.254, so the test reaches every host), and, when /etc/netns is writable, a hosts file per
/// namespace that names every host (<c>ip netns exec</c> mounts /etc/netns/NS/hosts over /etc/hosts), so
/// that C can name the servers by DNS names as a real deployment does.
/// </summary>
/// <remarks>
/// Every name carries the test process's id (<c>proactive-e2e-PID-i</c>, bridge <c>pactbrPID</c>, veth
/// <c>pactvPID-i</c>): concurrent runs do not collide, and what a dead run left behind is recognized and
/// removed first. <see cref="Dispose"/> kills the processes started in the namespaces and removes
/// everything, also after a failure.
/// </remarks>
internal sealed class NetworkNamespaceHosts : IDisposable
{
    internal const string Prefix = "proactive-e2e-";
    private static readonly string Pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    private static readonly Lazy<string?> Availability = new(Probe);
    private readonly List<(Process Process, StreamWriter Log)> _processes = [];
    private readonly Action<string> _log;
    private readonly int _subnet;
    private bool _hostsFiles;

    private NetworkNamespaceHosts(int count, int subnet, Action<string> log)
    {
        Count = count;
        _subnet = subnet;
        _log = log;
    }

    /// <summary>Null when namespaces, bridges and veth pairs can be made here; else why not.</summary>
    internal static string? Unavailable => Availability.Value;

    internal int Count { get; }

    internal static string Bridge => "pactbr" + Pid;

    /// <summary>Whether the hosts are named (server-i.proactive.test) or only addressed.</summary>
    internal bool NamedHosts => _hostsFiles;

    internal string Namespace(int host) => $"{Prefix}{Pid}-{host}";

    internal IPAddress Address(int host) => IPAddress.Parse($"10.231.{_subnet}.{host}");

    /// <summary>What C names host <paramref name="host"/> by: its DNS name when hosts files exist, else its address.</summary>
    internal string Host(int host) => _hostsFiles ? HostName(host) : Address(host).ToString();

    internal static string HostName(int host) => $"server-{host}.proactive.test";

    private static string Veth(int host) => $"pactv{Pid}-{host}";

    /// <summary>Makes <paramref name="count"/> hosts (after removing what dead runs left).</summary>
    internal static NetworkNamespaceHosts Create(int count, Action<string> log)
    {
        RemoveStale(log);
        var used = Ip("-o", "-4", "addr", "show").StandardOutput;
        var subnet = Enumerable.Range(0, 256).First(x => !used.Contains($" 10.231.{x}.", StringComparison.Ordinal));
        var hosts = new NetworkNamespaceHosts(count, subnet, log);
        try
        {
            hosts.Build();
            return hosts;
        }
        catch
        {
            hosts.Dispose();
            throw;
        }
    }

    private void Build()
    {
        Must("link", "add", Bridge, "type", "bridge");
        Must("addr", "add", $"10.231.{_subnet}.254/24", "dev", Bridge);
        Must("link", "set", Bridge, "up");
        for (var host = 1; host <= Count; host++)
        {
            var ns = Namespace(host);
            Must("netns", "add", ns);
            Must("link", "add", Veth(host), "type", "veth", "peer", "name", "eth0", "netns", ns);
            Must("link", "set", Veth(host), "master", Bridge, "up");
            Must("-n", ns, "addr", "add", $"{Address(host)}/24", "dev", "eth0");
            Must("-n", ns, "link", "set", "eth0", "up");
            Must("-n", ns, "link", "set", "lo", "up");
        }

        try
        {
            var lines = new[] { "127.0.0.1 localhost" }.Concat(Enumerable.Range(1, Count).Select(h => $"{Address(h)} {HostName(h)}"));
            for (var host = 1; host <= Count; host++)
            {
                var folder = Path.Combine("/etc/netns", Namespace(host));
                Directory.CreateDirectory(folder);
                File.WriteAllLines(Path.Combine(folder, "hosts"), lines);
            }

            _hostsFiles = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log($"/etc/netns is not writable ({e.Message}): C names the hosts by address only.");
        }

        _log($"{Count} hosts: namespaces {Namespace(1)}..{Namespace(Count)}, addresses {Address(1)}..{Address(Count)} on bridge {Bridge} ({(_hostsFiles ? "named " + HostName(1) + "..." : "no names")})");
    }

    /// <summary>Cuts host <paramref name="host"/> off the network (its link to the bridge goes down; it keeps running).</summary>
    internal void Cut(int host) => Must("link", "set", Veth(host), "down");

    internal void Restore(int host) => Must("link", "set", Veth(host), "up");

    /// <summary>Starts <c>proactive</c> (the dll beside the tests) with <paramref name="arguments"/> inside host <paramref name="host"/>, output to <paramref name="logPath"/>.</summary>
    internal Process Start(int host, string logPath, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(HostTools.Find("ip")!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "netns", "exec", Namespace(host), "dotnet", Path.Combine(AppContext.BaseDirectory, "proactive.dll") }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_processes)
        {
            _processes.Add((process, log));
        }

        return process;
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // The test is over.
            }
        }
    }

    public void Dispose()
    {
        lock (_processes)
        {
            foreach (var (process, log) in _processes)
            {
                try
                {
                    if (!process.HasExited)
                    {
                        process.Kill(entireProcessTree: true);
                        process.WaitForExit(10_000);
                    }
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }

                process.Dispose();
                lock (log)
                {
                    log.Dispose();
                }
            }

            _processes.Clear();
        }

        for (var host = 1; host <= Count; host++)
        {
            RemoveNamespace(Namespace(host));
        }

        Ip("link", "del", Bridge);
    }

    /// <summary>Kills what still runs in a namespace of ours (only our node processes run there), then deletes it and its /etc/netns folder.</summary>
    private static void RemoveNamespace(string ns)
    {
        foreach (var pid in Ip("netns", "pids", ns).StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(pid.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                try
                {
                    using var process = Process.GetProcessById(id);
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                {
                    // It ended meanwhile.
                }
            }
        }

        Ip("netns", "del", ns);
        var folder = Path.Combine("/etc/netns", ns);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Namespaces, /etc/netns folders and bridges of test processes that no longer exist.</summary>
    private static void RemoveStale(Action<string> log)
    {
        static string? DeadOwner(string name, string prefix)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal))
            {
                return null;
            }

            var digits = new string(name[prefix.Length..].TakeWhile(char.IsAsciiDigit).ToArray());
            return digits.Length > 0 && digits != Pid && !Directory.Exists("/proc/" + digits) ? digits : null;
        }

        var namespaces = Ip("netns", "list").StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]);
        var folders = Directory.Exists("/etc/netns") ? Directory.GetDirectories("/etc/netns").Select(Path.GetFileName) : [];
        foreach (var ns in namespaces.Concat(folders!).Distinct().Where(n => DeadOwner(n!, Prefix) is not null))
        {
            log($"removing {ns}, left by an earlier run");
            RemoveNamespace(ns!);
        }

        foreach (var line in Ip("-o", "link", "show", "type", "bridge").StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(':', 3)[1].Trim();
            if (DeadOwner(name, "pactbr") is not null)
            {
                log($"removing bridge {name}, left by an earlier run");
                Ip("link", "del", name);
            }
        }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces exist on Linux only";
        }

        if (HostTools.Find("ip") is null)
        {
            return "the 'ip' program (iproute2) is not installed";
        }

        var ns = $"{Prefix}{Pid}-probe";
        var bridge = $"pactbr{Pid}x";
        try
        {
            foreach (var step in new[]
            {
                new[] { "netns", "add", ns },
                ["link", "add", bridge, "type", "bridge"],
                ["link", "add", $"pactv{Pid}-x", "type", "veth", "peer", "name", "eth0", "netns", ns],
            })
            {
                var run = Ip(step);
                if (run.ExitCode != 0)
                {
                    return $"'ip {string.Join(' ', step)}' is not allowed here (it needs root or CAP_NET_ADMIN and CAP_SYS_ADMIN): {run.Both}";
                }
            }

            return null;
        }
        finally
        {
            Ip("link", "del", $"pactv{Pid}-x");
            Ip("link", "del", bridge);
            Ip("netns", "del", ns);
        }
    }

    private static HostTools.Result Ip(params string[] arguments) => HostTools.Run("ip", arguments, TimeSpan.FromSeconds(20));

    private static void Must(params string[] arguments)
    {
        var run = Ip(arguments);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed: {run.Both}");
        }
    }
}

/// <summary>
/// A test that needs network namespaces (<see cref="NetworkNamespaceHosts"/>): where they cannot be made
/// (not Linux, not root, no iproute2, a container without the capabilities), it is reported as skipped
/// with the reason. xunit 2.9 decides skips at discovery, so the probe runs then, once per process.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class FactWhenNetworkNamespacesAttribute : FactAttribute
{
    public FactWhenNetworkNamespacesAttribute([CallerMemberName] string test = "")
    {
        if (NetworkNamespaceHosts.Unavailable is { } reason)
        {
            FactWhenProgramAttribute.SkipWithReason(this, test, reason);
        }
    }
}
