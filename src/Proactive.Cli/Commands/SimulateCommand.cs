using System.Buffers.Binary;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Interop;
using Proactive.Crypto.Random;
using Proactive.Protocols.Cluster;
using Proactive.Simulation.Scenarios;

namespace Proactive.Cli.Commands;

/// <summary>
/// <c>proactive simulate</c> (issue 3 item 12): runs <see cref="ProactiveScenario"/> in virtual time,
/// period 0 (the DKG of the network key and the dealing of M secrets) then P refresh periods, with
/// the mobile adversary on unless <c>--no-adversary</c>, and prints what happened: periods committed,
/// traffic per period, alerts by type and by culprit, invariant violations and the seed that
/// reproduces the run. Exit 0 when every invariant held, 1 when one was violated, 2 for usage errors.
/// </summary>
internal static class SimulateCommand
{
    internal const int ExitHeld = 0;
    internal const int ExitViolated = 1;
    internal const int ExitUsage = 2;

    internal static readonly string[] GroupNames = ["ed25519", "ristretto255", "p256"];

    internal static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Number of servers n.", DefaultValueFactory = _ => 4 };
        var threshold = new Option<int>("--threshold")
        {
            Description = "Privacy threshold t: any t servers learn nothing, t+1 reconstruct.",
            DefaultValueFactory = _ => 1,
        };
        var faults = new Option<int>("--faults") { Description = "Byzantine servers f per period (n >= 3f + 1, f <= t).", DefaultValueFactory = _ => 1 };
        var periods = new Option<int>("--periods") { Description = "Refresh periods after period 0 (at least 1).", DefaultValueFactory = _ => 3 };
        var secrets = new Option<int>("--secrets") { Description = "Data secrets M dealt after the DKG (0 or more).", DefaultValueFactory = _ => 2 };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of every random choice; default: drawn from the OS and printed." };
        var group = new Option<string>("--group") { Description = "Group of the network key and the secrets.", DefaultValueFactory = _ => "ed25519" };
        group.AcceptOnlyFromAmong(GroupNames);
        var noAdversary = new Option<bool>("--no-adversary") { Description = "Turn the mobile adversary off (it is on by default)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };

        var command = new Command("simulate", "Run the proactive protocols (DKG, dealing, share recovery, refresh) for P periods in the simulator, under the mobile adversary, and check the invariants.")
        {
            nodes,
            threshold,
            faults,
            periods,
            secrets,
            seed,
            group,
            noAdversary,
            json,
        };
        command.SetAction(parse =>
        {
            var n = parse.GetValue(nodes);
            var t = parse.GetValue(threshold);
            var f = parse.GetValue(faults);
            if (!ClusterParameters.TryCreate(n, t, f, out _, out var error))
            {
                Console.Error.WriteLine($"Invalid --nodes/--threshold/--faults: {error}");
                return ExitUsage;
            }

            var p = parse.GetValue(periods);
            if (p < 1)
            {
                Console.Error.WriteLine($"--periods must be at least 1 (got {p}): period 0 is the setup, refresh periods are 1..P.");
                return ExitUsage;
            }

            var m = parse.GetValue(secrets);
            if (m < 0)
            {
                Console.Error.WriteLine($"--secrets cannot be negative (got {m}).");
                return ExitUsage;
            }

            var run = new SimulationRun(
                n,
                t,
                f,
                p,
                m,
                parse.GetValue(seed) ?? RandomSeed(),
                parse.GetValue(group)!,
                !parse.GetValue(noAdversary));
            try
            {
                var report = new ProactiveScenario(new ProactiveScenarioOptions
                {
                    Nodes = run.Nodes,
                    Threshold = run.Threshold,
                    Faults = run.Faults,
                    Periods = run.Periods,
                    Secrets = run.Secrets,
                    Seed = run.Seed,
                    Group = ParseGroup(run.Group),
                    MobileAdversary = run.MobileAdversary,
                }).Run();
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(ToJson(run, report), CliJson.Options));
                }
                else
                {
                    PrintText(run, report);
                }

                return report.Violations.Count == 0 ? ExitHeld : ExitViolated;
            }
            catch (NativeLibraryMissingException e)
            {
                Console.Error.WriteLine(e.Message);
                return ExitViolated;
            }
        });
        return command;
    }

    internal sealed record SimulationRun(int Nodes, int Threshold, int Faults, int Periods, int Secrets, ulong Seed, string Group, bool MobileAdversary)
    {
        /// <summary>The command line that repeats this run.</summary>
        internal string CommandLine =>
            $"proactive simulate --nodes {Nodes} --threshold {Threshold} --faults {Faults} --periods {Periods} --secrets {Secrets} --group {Group}"
            + (MobileAdversary ? string.Empty : " --no-adversary")
            + $" --seed {Seed.ToString(CultureInfo.InvariantCulture)}";
    }

    private static PrimeOrderGroup ParseGroup(string name) => name switch
    {
        "ed25519" => PrimeOrderGroup.Ed25519,
        "ristretto255" => PrimeOrderGroup.Ristretto255,
        "p256" => PrimeOrderGroup.P256,
        _ => throw new ArgumentException($"Unknown group '{name}'; use one of {string.Join(", ", GroupNames)}.", nameof(name)),
    };

    /// <summary>A seed from the OS, below 2^53 so that it survives any JSON reader and is short to type.</summary>
    private static ulong RandomSeed()
    {
        Span<byte> bytes = stackalloc byte[8];
        SystemRandomSource.Instance.Fill(bytes);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes) >> 11;
    }

    private static object ToJson(SimulationRun run, SimulationReport report) => new
    {
        seed = run.Seed,
        nodes = run.Nodes,
        threshold = run.Threshold,
        faults = run.Faults,
        periods = run.Periods,
        secrets = run.Secrets,
        group = run.Group,
        mobileAdversary = run.MobileAdversary,
        periodsCommitted = report.PeriodsCommitted,
        traffic = report.Traffic.Select(x => new { period = x.Period, messages = x.Messages, bytes = x.Bytes }).ToArray(),
        totalAlerts = report.TotalAlerts,
        alerts = new SortedDictionary<string, int>(report.AlertsByType.ToDictionary(), StringComparer.Ordinal),
        alertsByCulprit = new SortedDictionary<int, int>(report.AlertsByCulprit.ToDictionary()),
        invariantViolations = report.Violations.ToArray(),
        elapsedVirtualSeconds = Math.Round(report.ElapsedVirtualTime.TotalSeconds, 3),
    };

    private static void PrintText(SimulationRun run, SimulationReport report)
    {
        var w = Console.Out;
        w.WriteLine($"Simulation: n = {run.Nodes} servers, threshold t = {run.Threshold} (t+1 = {run.Threshold + 1} reconstruct), f = {run.Faults} Byzantine per period");
        w.WriteLine($"  periods       {run.Periods} refresh periods after period 0 (DKG and dealing)");
        w.WriteLine($"  secrets       {run.Secrets} data secrets, group {run.Group}");
        w.WriteLine($"  adversary     {(run.MobileAdversary ? "mobile: each period reads up to t servers, makes up to f Byzantine" : "off")}");
        w.WriteLine($"  seed          {run.Seed.ToString(CultureInfo.InvariantCulture)}");
        w.WriteLine();
        w.WriteLine($"Periods committed: {report.PeriodsCommitted} of {run.Periods} (virtual time {report.ElapsedVirtualTime.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s)");
        w.WriteLine();
        w.WriteLine("  period    messages         bytes");
        foreach (var row in report.Traffic)
        {
            var note = row.Period == 0 ? "  setup: DKG and dealing" : string.Empty;
            w.WriteLine($"  {row.Period,6}  {row.Messages,10}  {row.Bytes,12}{note}");
        }

        w.WriteLine($"  {"total",6}  {report.Traffic.Sum(x => x.Messages),10}  {report.Traffic.Sum(x => x.Bytes),12}");
        w.WriteLine();
        w.WriteLine($"Alerts: {report.TotalAlerts}");
        if (report.TotalAlerts > 0)
        {
            w.WriteLine("  by type       " + string.Join(", ", report.AlertsByType.OrderBy(x => x.Key, StringComparer.Ordinal).Select(x => $"{x.Key} {x.Value}")));
            w.WriteLine("  by culprit    " + string.Join(", ", report.AlertsByCulprit.OrderBy(x => x.Key).Select(x => $"server {x.Key}: {x.Value}")));
        }

        w.WriteLine();
        if (report.Violations.Count == 0)
        {
            w.WriteLine("Invariant violations: none (every invariant held)");
        }
        else
        {
            w.WriteLine($"Invariant violations: {report.Violations.Count}");
            foreach (var v in report.Violations)
            {
                w.WriteLine($"  - {v}");
            }
        }

        w.WriteLine();
        w.WriteLine($"Seed {run.Seed.ToString(CultureInfo.InvariantCulture)}; reproduce with: {run.CommandLine}");
    }
}
