using System.CommandLine;
using Microsoft.Data.Sqlite;
using Proactive.Crypto.Groups;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Refresh;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>
/// <c>proactive cluster combine-stolen FILES...</c>: the attacker's last step. Interpolates the stolen
/// network-key shares at 0 and compares the result with the cluster's network key (from a running
/// server's status, else from a store's public state). Exit 0 when the key is reconstructed, 1 when
/// the shares do not combine or are too few, 2 for usage errors (no cluster, unreadable files).
/// </summary>
internal static class CombineStolenCommand
{
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(1);

    internal static Command Create()
    {
        var files = new Argument<string[]>("files") { Description = "Stolen share files (DIR/stolen/server-I-period-P.bin, or their .json).", Arity = ArgumentArity.OneOrMore };
        var dir = ClusterCommand.DirectoryOption();
        var command = new Command("combine-stolen", "Try to reconstruct the network secret key from stolen shares (works within one period only).") { files, dir };
        command.SetAction(parse =>
        {
            var layout = new ClusterLayout(parse.GetValue(dir)!);
            var config = ClusterMembers.LoadConfig(layout);
            if (config is null)
            {
                return ClusterCommand.ExitUsage;
            }

            var group = config.Suite.Group;
            var networkKey = FindNetworkKey(layout, group);
            if (networkKey is null)
            {
                Console.Error.WriteLine($"The network key of the cluster in {layout.Root} is unknown: no server answers and no store holds a readable public state (not initialized yet?).");
                return ClusterCommand.ExitFailed;
            }

            var result = StolenShares.TryCombine(group, config.Parameters.Threshold, parse.GetValue(files)!, networkKey);
            switch (result.Outcome)
            {
                case StolenShares.Outcome.Reconstructed:
                    Console.WriteLine(result.Message);
                    return ClusterCommand.ExitOk;
                case StolenShares.Outcome.Unusable:
                    Console.Error.WriteLine(result.Message);
                    return ClusterCommand.ExitUsage;
                default:
                    Console.WriteLine(result.Message);
                    return ClusterCommand.ExitFailed;
            }
        });
        return command;
    }

    /// <summary>
    /// The encoded network public key: what a running server reports (<c>networkKey</c> in its status,
    /// hex), else C_0 of the first signing key in a store's committed public state.
    /// </summary>
    internal static byte[]? FindNetworkKey(ClusterLayout layout, PrimeOrderGroup group)
    {
        var members = ClusterMembers.Read(layout, ClusterState.Load(layout.StatePath), ClusterMembers.LoadConfig(layout, quietWhenMissing: true));
        using (var client = new NodeStatusClient(StatusTimeout))
        {
            var running = members.Where(m => m.Running).ToList();
            var statuses = Task.WhenAll(running.Select(m => client.StatusAsync(m.ApiPort, CancellationToken.None))).GetAwaiter().GetResult();
            foreach (var status in statuses)
            {
                if (status?.NetworkKey is { } hex && TryHex(hex, out var key))
                {
                    return key;
                }
            }
        }

        foreach (var member in members)
        {
            if (NetworkKeyFromStore(layout.Server(member.Id), group) is { } key)
            {
                return key;
            }
        }

        return null;
    }

    /// <summary>C_0 of the first signing key in the store's committed public state, encoded; null when absent or unreadable.</summary>
    internal static byte[]? NetworkKeyFromStore(Node.Storage.ServerDirectory server, PrimeOrderGroup group)
    {
        if (!File.Exists(server.StorePath))
        {
            return null;
        }

        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = server.StorePath,
                Mode = SqliteOpenMode.ReadOnly,
                Pooling = false,
            }.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT value FROM {StoreAttacks.PublicTable} WHERE key = $key";
            command.Parameters.AddWithValue("$key", ServerController.PublicStateKey);
            return command.ExecuteScalar() is byte[] bytes
                && RefreshPublicState.TryDecode(bytes, group, out var state)
                && state.SigningKeyCount > 0
                ? group.EncodeElement(state.SigningKeyCommitments[0].ConstantTerm, allowIdentity: true)
                : null;
        }
        catch (SqliteException)
        {
            return null;
        }
    }

    private static bool TryHex(string hex, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromHexString(hex);
            return bytes.Length > 0;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
