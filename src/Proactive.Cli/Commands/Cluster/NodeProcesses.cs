using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>
/// Starting, recognizing and stopping the node processes of a local cluster (Linux: the checks read
/// <c>/proc</c>). A recorded pid is only ever signalled after <see cref="IsNodeProcess"/> confirms it
/// is still that server's <c>node run</c>: pids are reused, and a stale state file must never make
/// <c>cluster down</c> kill an unrelated program.
/// </summary>
internal static partial class NodeProcesses
{
    private const int SigKill = 9;
    private const int SigTerm = 15;

    /// <summary>
    /// The command that runs this same <c>proactive</c> program: the executable itself, or
    /// <c>dotnet proactive.dll</c> when the CLI runs under the <c>dotnet</c> host (tests, <c>dotnet run</c>).
    /// </summary>
    internal static IReadOnlyList<string> SelfCommand()
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("The path of the running program is unknown; cannot start the servers.");
        var name = Path.GetFileNameWithoutExtension(process);
        if (string.Equals(name, "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            var entry = System.Reflection.Assembly.GetEntryAssembly()?.Location;
            if (string.IsNullOrEmpty(entry))
            {
                throw new InvalidOperationException("Running under dotnet, but the entry assembly's path is unknown; cannot start the servers.");
            }

            return [process, entry];
        }

        return [process];
    }

    /// <summary>The full command of server <paramref name="serverRoot"/>'s node: <c>proactive node run --dir D --config C</c>.</summary>
    internal static IReadOnlyList<string> NodeCommand(IReadOnlyList<string> self, string serverRoot, string configPath) =>
        [.. self, "node", "run", "--dir", serverRoot, "--config", configPath];

    /// <summary>
    /// Starts <paramref name="command"/> detached from this terminal (its own session when
    /// <c>setsid</c> exists, so closing the terminal or Ctrl+C here does not reach it), with standard
    /// input from /dev/null and its output appended to <paramref name="logPath"/>. Returns its pid:
    /// the shell and <c>setsid</c> both <c>exec</c>, so the pid is the node's.
    /// </summary>
    internal static int StartDetached(IReadOnlyList<string> command, string logPath, string workingDirectory)
    {
        ArgumentOutOfRangeException.ThrowIfZero(command.Count);
        var setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);
        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(setsid is null
            ? "log=$1; shift; exec \"$@\" </dev/null >>\"$log\" 2>&1"
            : $"log=$1; shift; exec {setsid} \"$@\" </dev/null >>\"$log\" 2>&1");
        start.ArgumentList.Add("proactive-node");
        start.ArgumentList.Add(logPath);
        foreach (var argument in command)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command[0]}.");
        return process.Id;
    }

    /// <summary>
    /// True when <paramref name="pid"/> is alive and is the node of <paramref name="serverRoot"/>: its
    /// command line (<c>/proc/PID/cmdline</c>) holds "node run" and the server's directory. A zombie
    /// has an empty command line, so an exited node is not running.
    /// </summary>
    internal static bool IsNodeProcess(int? pid, string serverRoot)
    {
        if (pid is not { } id || id <= 0)
        {
            return false;
        }

        string commandLine;
        try
        {
            commandLine = Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{id}/cmdline")).Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        // Each argument ends with a NUL (a space here), so " DIR " cannot match server-1 inside server-10.
        return commandLine.Contains(" node run ", StringComparison.Ordinal)
            && commandLine.Contains(" " + Path.GetFullPath(serverRoot) + " ", StringComparison.Ordinal);
    }

    /// <summary>
    /// Stops <paramref name="pid"/> if it is still <paramref name="serverRoot"/>'s node: SIGTERM (the
    /// node stops cleanly), and SIGKILL if it is still there after <paramref name="grace"/>. True when
    /// it was running.
    /// </summary>
    internal static bool Stop(int? pid, string serverRoot, TimeSpan grace)
    {
        if (!IsNodeProcess(pid, serverRoot))
        {
            return false;
        }

        Signal(pid!.Value, SigTerm);
        var deadline = DateTime.UtcNow + grace;
        while (IsNodeProcess(pid, serverRoot) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(100);
        }

        if (IsNodeProcess(pid, serverRoot))
        {
            Signal(pid.Value, SigKill);
            WaitGone(pid, serverRoot);
        }

        return true;
    }

    /// <summary>SIGKILL at once (a break-in: the server gets no chance to clean up). True when it was running.</summary>
    internal static bool KillNow(int? pid, string serverRoot)
    {
        if (!IsNodeProcess(pid, serverRoot))
        {
            return false;
        }

        Signal(pid!.Value, SigKill);
        WaitGone(pid, serverRoot);
        return true;
    }

    private static void WaitGone(int? pid, string serverRoot)
    {
        // SIGKILL cannot be caught; the process is gone once the kernel has torn it down.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (IsNodeProcess(pid, serverRoot) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
    }

    private static void Signal(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            const int NoSuchProcess = 3; // ESRCH: it exited in between, which is what we wanted
            if (errno != NoSuchProcess)
            {
                throw new InvalidOperationException($"Could not signal process {pid} (errno {errno}).");
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
