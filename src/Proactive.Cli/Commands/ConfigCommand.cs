using System.CommandLine;
using System.Globalization;
using Proactive.Node.Configuration;
using Proactive.Node.Storage;

namespace Proactive.Cli.Commands;

/// <summary>
/// <c>proactive config new</c> builds the constants C (issue 4 item 1) from the servers' V_start
/// values and the network's parameters and writes the cluster configuration file;
/// <c>proactive config check</c> validates a file and summarizes it. Exit 0 on success, 1 when the
/// output exists (without <c>--force</c>), a file cannot be written or a checked file is invalid, 2 for
/// usage errors (every broken rule is printed, by name).
/// </summary>
internal static class ConfigCommand
{
    internal const int ExitOk = 0;
    internal const int ExitFailed = 1;
    internal const int ExitUsage = 2;

    internal static Command Create()
    {
        var command = new Command("config", "Build and check the cluster configuration (the constants C every server runs with).")
        {
            CreateNew(),
            CreateCheck(),
        };
        return command;
    }

    private static Command CreateNew()
    {
        var servers = new Option<string[]>("--server")
        {
            Description = "A server: I=HOST:PORT:VSTART or I=HOST:PORT:APIPORT:VSTART (VSTART as 'proactive provision' printed it; IPv6 hosts in brackets). Once per server.",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var threshold = new Option<int?>("--threshold") { Description = "Privacy threshold t (default floor((n-1)/2)): any t servers learn nothing, t+1 sign." };
        var faults = new Option<int?>("--faults") { Description = "Byzantine servers f tolerated (default floor((n-1)/3)); n >= 3f + 1, f <= t, t + 1 <= n - f." };
        var period = new Option<string>("--period") { Description = "Period length L: 30s, 15m, 1h, 1d, 1h30m.", DefaultValueFactory = _ => "1h" };
        var suite = new Option<string>("--suite") { Description = "Ciphersuite of the network key and the secrets.", DefaultValueFactory = _ => "ed25519" };
        suite.AcceptOnlyFromAmong([.. ClusterConfig.SuiteNames]);
        var genesis = new Option<string?>("--genesis") { Description = "Start of period 0: 'now' or a UTC time such as 2030-01-01T00:00:00Z (default: decided at initialization)." };
        var output = new Option<string>("--out") { Description = "The file to write.", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace the output file if it exists." };

        var command = new Command("new", "Build the cluster configuration from the provisioned servers and write it.")
        {
            servers,
            threshold,
            faults,
            period,
            suite,
            genesis,
            output,
            force,
        };
        command.SetAction(parse =>
        {
            var problems = new List<string>();
            var parsed = new List<ClusterServer>();
            foreach (var spec in parse.GetValue(servers) ?? [])
            {
                if (ClusterServer.TryParse(spec, out var server, out var error))
                {
                    parsed.Add(server);
                }
                else
                {
                    problems.Add($"--server {error}");
                }
            }

            if (!PeriodLength.TryParse(parse.GetValue(period), out var length, out var periodError))
            {
                problems.Add($"--period: {periodError}");
            }

            DateTimeOffset? start = null;
            if (parse.GetValue(genesis) is { } genesisText)
            {
                if (TryParseGenesis(genesisText, out var parsedGenesis, out var genesisError))
                {
                    start = parsedGenesis;
                }
                else
                {
                    problems.Add($"--genesis: {genesisError}");
                }
            }

            ClusterConfig? config = null;
            if (problems.Count == 0
                && !ClusterConfig.TryCreate(parsed, parse.GetValue(threshold), parse.GetValue(faults), length, parse.GetValue(suite)!, start, out config, out var rules))
            {
                problems.AddRange(rules);
            }

            if (problems.Count > 0 || config is null)
            {
                Console.Error.WriteLine("Cannot build the cluster configuration:");
                foreach (var problem in problems)
                {
                    Console.Error.WriteLine($"  - {problem}");
                }

                return ExitUsage;
            }

            var path = parse.GetValue(output)!;
            var replace = parse.GetValue(force);
            if (!replace && File.Exists(path))
            {
                Console.Error.WriteLine($"{path} exists; pass --force to replace it.");
                return ExitFailed;
            }

            try
            {
                AtomicFile.Write(path, config.ToJson(), replace);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"Cannot write {path}: {e.Message}");
                return ExitFailed;
            }

            Console.WriteLine($"Wrote {path}");
            PrintSummary(config);
            return ExitOk;
        });
        return command;
    }

    private static Command CreateCheck()
    {
        var file = new Argument<string>("file") { Description = "The cluster configuration file." };
        var command = new Command("check", "Validate a cluster configuration file and summarize it.") { file };
        command.SetAction(parse =>
        {
            try
            {
                PrintSummary(ClusterConfig.Load(parse.GetValue(file)!));
                return ExitOk;
            }
            catch (ClusterConfigException e)
            {
                Console.Error.WriteLine(e.Message);
                return ExitFailed;
            }
        });
        return command;
    }

    /// <summary>'now' (this second, UTC) or an ISO 8601 time with an offset or Z, in whole seconds.</summary>
    private static bool TryParseGenesis(string text, out DateTimeOffset genesis, out string? error)
    {
        error = null;
        if (text == "now")
        {
            genesis = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            return true;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) || !text.Contains('T', StringComparison.Ordinal))
        {
            genesis = default;
            error = $"'{text}' is not a time; write 'now' or e.g. 2030-01-01T00:00:00Z.";
            return false;
        }

        genesis = parsed.ToUniversalTime();
        if (genesis.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            error = $"'{text}' has fractions of a second; the genesis is in whole seconds.";
            return false;
        }

        return true;
    }

    internal static void PrintSummary(ClusterConfig config)
    {
        var p = config.Parameters;
        var w = Console.Out;
        w.WriteLine($"Network {config.NetworkId}: n = {p.ServerCount}, t = {p.Threshold} (t+1 = {p.ReconstructionThreshold} sign), f = {p.Faults}, quorum n-f = {p.Quorum}");
        w.WriteLine($"  suite     {config.SuiteName} ({config.Suite.Name})");
        w.WriteLine($"  period    {PeriodLength.Format(config.Period)}");
        w.WriteLine($"  genesis   {(config.Genesis is { } g ? ClusterConfig.FormatGenesis(g) : "decided at initialization")}");
        foreach (var server in config.Servers)
        {
            var api = server.ApiEndpoint is { } endpoint ? $"  api {endpoint}" : string.Empty;
            w.WriteLine($"  server {server.Id,3}  peer {server.PeerEndpoint}{api}  V_start {StartKeyText.Format(server.StartPublicKey)}");
        }
    }
}
