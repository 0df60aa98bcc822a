using System.CommandLine;
using Microsoft.Data.Sqlite;
using Proactive.Node.Configuration;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>
/// <c>proactive cluster break-in --server I ATTACK</c>: the mobile adversary of the demo, one attack at
/// a time. <c>--wipe</c>, <c>--corrupt-public</c> and <c>--corrupt-shares</c> kill the server (kill -9),
/// damage its disk and restart it, so that it must recover from its peers; <c>--crash</c> kills and restarts
/// it with its disk intact (the reliability trials); <c>--steal</c> copies its
/// shares without stopping it (for <c>combine-stolen</c>). Exit 0 done, 1 nothing to attack (no data
/// yet), 2 usage (unknown server, no cluster, not exactly one attack).
/// </summary>
internal static class BreakInCommand
{
    internal static Command Create()
    {
        var server = new Option<int>("--server") { Description = "The server to break into (its id).", Required = true };
        var wipe = new Option<bool>("--wipe") { Description = "Kill it and erase its disk (store, keys, alerts; not the read-only ROM), then restart it: it must recover its shares." };
        var corruptPublic = new Option<bool>("--corrupt-public") { Description = "Kill it, flip the bytes of its public state (controller/public-state), restart it." };
        var corruptShares = new Option<bool>("--corrupt-shares") { Description = "Kill it, flip the bytes of its private shares (controller/shares), restart it." };
        var crash = new Option<bool>("--crash") { Description = "Kill it (kill -9) at once, disk intact, and restart it: it must catch up with its peers." };
        var impersonate = new Option<bool>("--impersonate") { Description = "Steal its period key and TLS key (it keeps running) and, as the next period starts, announce a K_i of the attacker's in its name: it must raise 'impersonation detected'." };
        var steal = new Option<bool>("--steal") { Description = "Copy its shares and period (read-only, it keeps running) to DIR/stolen/server-I-period-P.bin." };
        var dir = ClusterCommand.DirectoryOption();
        var command = new Command("break-in", "Attack one server of the local cluster: --wipe, --corrupt-public, --corrupt-shares, --crash, --impersonate or --steal.")
        {
            server,
            wipe,
            corruptPublic,
            corruptShares,
            crash,
            impersonate,
            steal,
            dir,
        };
        command.SetAction(parse =>
        {
            var attacks = new[] { (wipe, Attack.Wipe), (corruptPublic, Attack.CorruptPublic), (corruptShares, Attack.CorruptShares), (crash, Attack.Crash), (impersonate, Attack.Impersonate), (steal, Attack.Steal) }
                .Where(a => parse.GetValue(a.Item1))
                .Select(a => a.Item2)
                .ToList();
            if (attacks.Count != 1)
            {
                Console.Error.WriteLine("Choose exactly one attack: --wipe, --corrupt-public, --corrupt-shares, --crash, --impersonate or --steal.");
                return ClusterCommand.ExitUsage;
            }

            if (!ClusterCommand.CheckPlatform())
            {
                return ClusterCommand.ExitFailed;
            }

            var layout = new ClusterLayout(parse.GetValue(dir)!);
            if (!layout.Exists)
            {
                Console.Error.WriteLine($"No cluster in {layout.Root}.");
                return ClusterCommand.ExitUsage;
            }

            var config = ClusterMembers.LoadConfig(layout);
            if (config is null)
            {
                return ClusterCommand.ExitUsage;
            }

            var id = parse.GetValue(server);
            if (!config.Servers.Any(s => s.Id == id))
            {
                Console.Error.WriteLine($"--server {id}: the cluster has servers 1..{config.Servers.Count}.");
                return ClusterCommand.ExitUsage;
            }

            try
            {
                return Run(layout, config, id, attacks[0]);
            }
            catch (SqliteException e)
            {
                Console.Error.WriteLine($"Server {id}'s store could not be read or written: {e.Message}");
                return ClusterCommand.ExitFailed;
            }
        });
        return command;
    }

    private enum Attack
    {
        Wipe,
        CorruptPublic,
        CorruptShares,
        Crash,
        Impersonate,
        Steal,
    }

    private static int Run(ClusterLayout layout, ClusterConfig config, int id, Attack attack)
    {
        var directory = layout.Server(id);
        if (attack == Attack.Impersonate)
        {
            return Impersonate(layout, config, id);
        }

        if (attack == Attack.Steal)
        {
            var stolen = StoreAttacks.Steal(directory, id, layout.StolenDirectory, DateTimeOffset.UtcNow);
            if (stolen is null)
            {
                Console.Error.WriteLine($"Server {id} holds no shares yet (not initialized?); nothing stolen.");
                return ClusterCommand.ExitFailed;
            }

            Console.WriteLine($"Stole server {id}'s shares of period {stolen.Period} without stopping it: {stolen.Path} (+ .json).");
            Console.WriteLine($"Steal t + 1 = {config.Parameters.ReconstructionThreshold} servers' shares, then: proactive cluster combine-stolen --dir {layout.Root} {layout.StolenDirectory}/*.bin");
            return ClusterCommand.ExitOk;
        }

        // Look before killing: an attack with nothing to damage leaves the server alone.
        if (attack == Attack.CorruptPublic && StoreAttacks.CountPublicState(directory) == 0)
        {
            Console.Error.WriteLine($"Server {id} has no public state yet (not initialized?); nothing corrupted, the server was not touched.");
            return ClusterCommand.ExitFailed;
        }

        if (attack == Attack.CorruptShares && StoreAttacks.CountShares(directory) == 0)
        {
            Console.Error.WriteLine($"Server {id} has no shares yet (not initialized?); nothing corrupted, the server was not touched.");
            return ClusterCommand.ExitFailed;
        }

        var state = ClusterState.Load(layout.StatePath);
        var entry = state?.Server(id);
        var killed = NodeProcesses.KillNow(entry?.Pid, directory.Root);
        var what = attack switch
        {
            Attack.Wipe => $"erased its disk ({StoreAttacks.Wipe(directory, layout.AlertsPath(id)).Count} store, key and alert files; rom.json kept)",
            Attack.CorruptPublic => $"flipped the bytes of {StoreAttacks.CorruptPublicState(directory)} public-state row(s)",
            Attack.Crash => "left its disk as it was",
            _ => $"flipped the bytes of its shares ({StoreAttacks.CorruptShares(directory)} row)",
        };
        Console.WriteLine($"Broke into server {id}: {(killed ? $"killed it (kill -9, pid {entry!.Pid}), " : string.Empty)}{what}.");

        if (state is { State: ClusterRunState.Running } && entry is not null)
        {
            var restarted = ClusterUpCommand.StartServer(layout, entry);
            state.WithServer(restarted).Save(layout.StatePath);
            Console.WriteLine($"Restarted it (pid {restarted.Pid}); it must notice the damage and recover from its peers: watch 'proactive cluster status --dir {layout.Root}'.");
        }
        else
        {
            Console.WriteLine("The cluster is not running; the server finds the damage at the next 'proactive cluster up'.");
        }

        return ClusterCommand.ExitOk;
    }

    private static int Impersonate(ClusterLayout layout, ClusterConfig config, int id)
    {
        var stolen = Impersonation.Steal(layout.Server(id), id);
        if (stolen is null)
        {
            Console.Error.WriteLine($"Server {id} holds no period keys yet (not initialized?); nothing stolen.");
            return ClusterCommand.ExitFailed;
        }

        using (stolen.Keys)
        using (stolen.Tls)
        {
            var apiPort = ClusterState.Load(layout.StatePath)?.Server(id)?.ApiPort;
            using var client = new NodeStatusClient(TimeSpan.FromSeconds(5));
            var status = apiPort is { } port ? client.StatusAsync(port, CancellationToken.None).GetAwaiter().GetResult() : null;
            if (status?.NextRefreshAt is not { } next)
            {
                Console.Error.WriteLine($"Server {id} does not say when its next period starts (is it running?).");
                return ClusterCommand.ExitFailed;
            }

            Console.WriteLine($"Stole server {id}'s period key and TLS key of period {stolen.Period}; waiting for period {stolen.Period + 1} (starts {next:HH:mm:ss}).");
            var report = Impersonation.RunAsync(config, id, stolen, next, CancellationToken.None).GetAwaiter().GetResult();
            Console.WriteLine($"Impersonated server {id}: {report}. Its alerts should now say 'ImpersonationDetected'.");
            return ClusterCommand.ExitOk;
        }
    }
}
