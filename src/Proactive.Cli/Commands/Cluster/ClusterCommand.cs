using System.CommandLine;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>
/// <c>proactive cluster</c> (issue 4 item 8): a whole network on this machine for development and the
/// demo. <c>up</c> provisions and starts n servers as separate processes on loopback ports,
/// <c>status</c> and <c>down</c> watch and stop them, <c>break-in</c> attacks one the way the threat
/// model allows (erase or scribble over its disk, copy its shares) and <c>combine-stolen</c> shows
/// that shares stolen in different periods are worthless. Every subcommand takes <c>--dir</c>
/// (default <c>.cluster</c>), so clusters in different folders coexist. Exit 0 ok, 1 failed, 2 usage.
/// Linux only: the processes are found again through <c>/proc</c>.
/// </summary>
internal static class ClusterCommand
{
    internal const int ExitOk = 0;
    internal const int ExitFailed = 1;
    internal const int ExitUsage = 2;

    internal static Command Create() =>
        new("cluster", "Run a local cluster of servers as separate processes: up, status, down, break-in, combine-stolen.")
        {
            ClusterUpCommand.Create(),
            ClusterStatusCommand.Create(),
            ClusterDownCommand.Create(),
            BreakInCommand.Create(),
            CombineStolenCommand.Create(),
        };

    /// <summary>The <c>--dir</c> option every subcommand takes.</summary>
    internal static Option<string> DirectoryOption() => new("--dir")
    {
        Description = "The cluster's folder (cluster.json, cluster-state.json, server-I/), relative to the current directory.",
        DefaultValueFactory = _ => ClusterLayout.DefaultDirectory,
    };

    /// <summary>False (with a message) where <c>/proc</c> is missing: recognizing a node by its pid needs it.</summary>
    internal static bool CheckPlatform()
    {
        if (OperatingSystem.IsLinux())
        {
            return true;
        }

        Console.Error.WriteLine("proactive cluster runs on Linux only (it finds its server processes through /proc).");
        return false;
    }
}
