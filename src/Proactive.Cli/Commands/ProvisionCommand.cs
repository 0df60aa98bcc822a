using System.CommandLine;
using System.Text.Json;
using Proactive.Crypto.Interop;
using Proactive.Crypto.Random;
using Proactive.Node.Provisioning;
using Proactive.Node.Storage;
using Proactive.Protocols.Cluster;

namespace Proactive.Cli.Commands;

/// <summary>
/// <c>proactive provision --id I --dir D</c> (issue 4 item 1, the "manufacturing" step): makes the
/// server's start key pair, writes V_start and the id to the ROM file (read-only) and S_start to an
/// owner-only key file, creates the empty store, and prints V_start (64 hex digits) alone on standard
/// output so that a script can capture it; the explanation goes to standard error. Refuses an existing
/// or non-empty directory. Exit 0 when provisioned, 1 when refused or failed, 2 for usage errors.
/// </summary>
internal static class ProvisionCommand
{
    internal const int ExitProvisioned = 0;
    internal const int ExitRefused = 1;
    internal const int ExitUsage = 2;

    internal static Command Create()
    {
        var id = new Option<int>("--id") { Description = $"This server's id in the network (1..{ClusterParameters.MaxServers}).", Required = true };
        var dir = new Option<string>("--dir") { Description = "The server's directory (created; must not exist or be empty).", Required = true };
        var rom = new Option<string?>("--rom") { Description = "Where to write the ROM file instead of DIR/rom.json (e.g. a volume that is mounted read-only afterwards)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the bare V_start." };

        var command = new Command("provision", "Provision one server: its start key pair, V_start in the ROM, S_start in erasable storage; prints V_start.")
        {
            id,
            dir,
            rom,
            json,
        };
        command.SetAction(parse =>
        {
            var serverId = parse.GetValue(id);
            if (serverId < 1 || serverId > ClusterParameters.MaxServers)
            {
                Console.Error.WriteLine($"--id must be between 1 and {ClusterParameters.MaxServers} (got {serverId}).");
                return ExitUsage;
            }

            var path = parse.GetValue(dir)!;
            if (string.IsNullOrWhiteSpace(path))
            {
                Console.Error.WriteLine("--dir must name a directory.");
                return ExitUsage;
            }

            try
            {
                var result = Provisioner.Provision(new ServerDirectory(path, parse.GetValue(rom)), serverId, SystemRandomSource.Instance);
                var startKey = StartKeyText.Format(result.StartPublicKey);
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(
                        new
                        {
                            serverId = result.ServerId,
                            startPublicKey = startKey,
                            directory = result.Directory.Root,
                            rom = result.Directory.RomPath,
                            startKeyFile = result.Directory.StartKeyPath,
                            store = result.Directory.StorePath,
                            romProtection = result.RomProtection.ToString(),
                        },
                        CliJson.Options));
                }
                else
                {
                    Console.WriteLine(startKey);
                    PrintExplanation(result, startKey);
                }

                return ExitProvisioned;
            }
            catch (ProvisioningException e)
            {
                Console.Error.WriteLine(e.Message);
                return ExitRefused;
            }
            catch (NativeLibraryMissingException e)
            {
                Console.Error.WriteLine(e.Message);
                return ExitRefused;
            }
        });
        return command;
    }

    private static void PrintExplanation(ProvisionResult result, string startKey)
    {
        var w = Console.Error;
        w.WriteLine($"Provisioned server {result.ServerId} in {result.Directory.Root}:");
        w.WriteLine($"  ROM        {result.Directory.RomPath} (V_start and server id; mode 0444; protection here: {Describe(result.RomProtection)})");
        w.WriteLine($"  S_start    {result.Directory.StartKeyPath} (mode 0600; overwritten and deleted at initialization)");
        w.WriteLine($"  store      {result.Directory.StorePath} (empty)");
        w.WriteLine($"V_start (printed on standard output) goes into the cluster configuration:");
        w.WriteLine($"  proactive config new --server {result.ServerId}=HOST:PORT:{startKey} ... --out cluster.json");
    }

    private static string Describe(RomProtection protection) => protection switch
    {
        RomProtection.ReadOnlyMount => "read-only mount",
        RomProtection.FileModeOnly => "file mode only; mount it read-only for more",
        _ => "writable by this user (root ignores the mode); mount it read-only",
    };
}
