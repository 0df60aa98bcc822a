using System.Globalization;
using Proactive.Node.Storage;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>
/// Where a local cluster keeps its files: one folder (default <c>.cluster</c>) holding
/// <c>cluster.json</c> (the constants C), <c>cluster-state.json</c> (pids and ports of the running
/// servers), one <c>server-I</c> folder per server (its provisioned directory plus <c>node.log</c>) and
/// <c>stolen/</c> for what <c>cluster break-in --steal</c> takes.
/// </summary>
internal sealed class ClusterLayout
{
    internal const string DefaultDirectory = ".cluster";
    internal const string ConfigFileName = "cluster.json";
    internal const string StateFileName = "cluster-state.json";
    internal const string LogFileName = "node.log";
    internal const string StolenFolderName = "stolen";

    /// <summary>The alert log the node keeps beside its store (erased by <c>--wipe</c> with the rest of the server's disk).</summary>
    internal const string AlertsFileName = "alerts.db";

    internal ClusterLayout(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
    }

    internal string Root { get; }

    internal string ConfigPath => Path.Combine(Root, ConfigFileName);

    internal string StatePath => Path.Combine(Root, StateFileName);

    internal string StolenDirectory => Path.Combine(Root, StolenFolderName);

    /// <summary>True when the folder holds a cluster (its configuration or its state file).</summary>
    internal bool Exists => File.Exists(ConfigPath) || File.Exists(StatePath);

    internal string ServerRoot(int id) => Path.Combine(Root, "server-" + id.ToString(CultureInfo.InvariantCulture));

    internal ServerDirectory Server(int id) => new(ServerRoot(id));

    internal string LogPath(int id) => Path.Combine(ServerRoot(id), LogFileName);

    internal string AlertsPath(int id) => Path.Combine(ServerRoot(id), AlertsFileName);
}
