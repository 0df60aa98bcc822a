using System.CommandLine;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>
/// <c>proactive cluster down</c>: SIGTERM to every recorded server that is still that server's node
/// process, SIGKILL to any still there after 10 s, and the state file marked stopped. Idempotent:
/// a stopped or missing cluster is fine (exit 0).
/// </summary>
internal static class ClusterDownCommand
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    internal static Command Create()
    {
        var dir = ClusterCommand.DirectoryOption();
        var command = new Command("down", "Stop every server of the local cluster (SIGTERM, then SIGKILL after 10 s); the stores stay for the next 'up'.") { dir };
        command.SetAction(parse =>
        {
            if (!ClusterCommand.CheckPlatform())
            {
                return ClusterCommand.ExitFailed;
            }

            var layout = new ClusterLayout(parse.GetValue(dir)!);
            var state = ClusterState.Load(layout.StatePath);
            if (state is null)
            {
                Console.WriteLine(layout.Exists ? $"The cluster in {layout.Root} was never started; nothing to stop." : $"No cluster in {layout.Root}; nothing to stop.");
                return ClusterCommand.ExitOk;
            }

            StopAll(layout, state);
            return ClusterCommand.ExitOk;
        });
        return command;
    }

    /// <summary>Stops every server of <paramref name="state"/> in parallel, prints one line each and saves the state as stopped.</summary>
    internal static void StopAll(ClusterLayout layout, ClusterState state)
    {
        // The file may be newer than the caller's copy (a break-in restarted a server meanwhile).
        var latest = ClusterState.Load(layout.StatePath) ?? state;
        var results = latest.Servers
            .Select(server => (server, Task.Run(() => NodeProcesses.Stop(server.Pid, layout.ServerRoot(server.Id), Grace))))
            .ToList();
        foreach (var (server, stopped) in results)
        {
            Console.WriteLine(stopped.GetAwaiter().GetResult()
                ? $"Stopped server {server.Id} (pid {server.Pid})."
                : $"Server {server.Id} was not running.");
        }

        (latest with
        {
            State = ClusterRunState.Stopped,
            UpdatedAt = DateTimeOffset.UtcNow,
            Servers = [.. latest.Servers.Select(s => s with { Pid = null })],
        }).Save(layout.StatePath);
    }
}
