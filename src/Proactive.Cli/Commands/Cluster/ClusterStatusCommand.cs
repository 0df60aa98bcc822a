using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>
/// <c>proactive cluster status</c>: asks every server of the cluster for its <c>/v1/status</c> (a short
/// timeout each) and prints a table, or with <c>--json</c> an array with one object per server: the
/// node's own status fields plus id, state ("down" when the process is gone or does not answer),
/// apiUrl and pid. Exit 0 when the folder holds a cluster, 1 when it does not.
/// </summary>
internal static class ClusterStatusCommand
{
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(2);

    internal static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array, one object per server." };
        var dir = ClusterCommand.DirectoryOption();
        var command = new Command("status", "Show every server of the local cluster: state, period, refresh, peers, alerts, network key.") { json, dir };
        command.SetAction(parse =>
        {
            if (!ClusterCommand.CheckPlatform())
            {
                return ClusterCommand.ExitFailed;
            }

            var layout = new ClusterLayout(parse.GetValue(dir)!);
            if (!layout.Exists)
            {
                Console.Error.WriteLine($"No cluster in {layout.Root} ('proactive cluster up --dir {layout.Root}' makes one).");
                return ClusterCommand.ExitFailed;
            }

            var members = ClusterMembers.Read(layout, ClusterState.Load(layout.StatePath), ClusterMembers.LoadConfig(layout, quietWhenMissing: true));
            using var client = new NodeStatusClient(StatusTimeout);
            var servers = ClusterView.PollAsync(client, members, CancellationToken.None).GetAwaiter().GetResult();
            if (parse.GetValue(json))
            {
                Console.WriteLine(ToJson(servers).ToJsonString());
            }
            else
            {
                AnsiConsole.MarkupLine($"[bold]Cluster {Markup.Escape(layout.Root)}[/]: {servers.Count(s => s.Status?.IsOperational == true)}/{servers.Count} operational");
                AnsiConsole.Write(ClusterView.ServerTable(servers, DateTimeOffset.UtcNow));
            }

            return ClusterCommand.ExitOk;
        });
        return command;
    }

    /// <summary>One object per server: what the node reported, then id, state, apiUrl and pid (ours win; "down" when it does not answer).</summary>
    internal static JsonArray ToJson(IReadOnlyList<ServerSnapshot> servers)
    {
        var array = new JsonArray();
        foreach (var server in servers)
        {
            var entry = server.Status?.Json.DeepClone() as JsonObject ?? [];
            var answering = server.Member.Running && server.Status is not null;
            entry["id"] = server.Member.Id;
            entry["state"] = answering ? server.Status!.State : "down";
            entry["running"] = server.Member.Running;
            if (!entry.ContainsKey("period"))
            {
                entry["period"] = null;
            }

            if (!entry.ContainsKey("networkKey"))
            {
                entry["networkKey"] = null;
            }

            entry["apiUrl"] = server.Member.ApiUrl;
            entry["pid"] = server.Member.Running ? server.Member.Pid : null;
            array.Add(entry);
        }

        return array;
    }
}
