using Proactive.Node.Configuration;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>One server of a local cluster as the CLI sees it: ports from the state file (or the configuration) and whether its recorded process still runs.</summary>
internal sealed record ClusterMember(int Id, int? Pid, int PeerPort, int ApiPort, string Root, bool Running)
{
    internal string ApiUrl => NodeStatusClient.ApiUrl(ApiPort);
}

/// <summary>Reads a cluster folder's configuration and state together.</summary>
internal static class ClusterMembers
{
    /// <summary>
    /// The servers of the cluster in <paramref name="layout"/>, from the state file when there is one
    /// (it has the pids), else from the configuration (a cluster that was provisioned but never started).
    /// </summary>
    internal static IReadOnlyList<ClusterMember> Read(ClusterLayout layout, ClusterState? state, ClusterConfig? config)
    {
        if (state is not null && state.Servers.Count > 0)
        {
            return [.. state.Servers.OrderBy(s => s.Id).Select(s =>
            {
                var root = layout.ServerRoot(s.Id);
                return new ClusterMember(s.Id, s.Pid, s.PeerPort, s.ApiPort, root, NodeProcesses.IsNodeProcess(s.Pid, root));
            })];
        }

        if (config is not null)
        {
            return [.. config.Servers.Select(s => new ClusterMember(s.Id, null, s.PeerPort, s.ApiPort ?? 0, layout.ServerRoot(s.Id), false))];
        }

        return [];
    }

    /// <summary>The configuration in <paramref name="layout"/>, or null with the reason printed when it cannot be read.</summary>
    internal static ClusterConfig? LoadConfig(ClusterLayout layout, bool quietWhenMissing = false)
    {
        if (!File.Exists(layout.ConfigPath))
        {
            if (!quietWhenMissing)
            {
                Console.Error.WriteLine($"No cluster configuration at {layout.ConfigPath}.");
            }

            return null;
        }

        try
        {
            return ClusterConfig.Load(layout.ConfigPath);
        }
        catch (ClusterConfigException e)
        {
            Console.Error.WriteLine(e.Message);
            return null;
        }
    }

    /// <summary>The last <paramref name="lines"/> lines of server <paramref name="id"/>'s node.log, for a failure report.</summary>
    internal static IReadOnlyList<string> LogTail(ClusterLayout layout, int id, int lines = 20)
    {
        var path = layout.LogPath(id);
        try
        {
            var all = File.ReadAllLines(path);
            return all.Length <= lines ? all : all[^lines..];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [$"(no log at {path}: {e.Message})"];
        }
    }
}
