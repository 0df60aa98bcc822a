// References: issue 3 "Measure" (CPU per server, messages and bytes per refresh; goals: 100,000
// secrets at n = 5 under 5 s of CPU per server, n = 31 refresh and DKG under 1 s); toolkit paper
// (seed 001) section 6 (about 10 minutes for one refresh of 5 servers); docs/BENCHMARKS.md
// "Protocols (simulator, real crypto)"; src/Proactive.Simulation/Scenarios/ProactiveScenario.cs
// (the period-0 and period-p sequence this harness replays without the invariant checks).
using System.Diagnostics;
using System.Globalization;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;
using Proactive.Simulation;
using Proactive.Simulation.Network;
using Proactive.Simulation.Scenarios;
using Proactive.Simulation.Tracing;
using Proactive.Simulation.Wire;

namespace Proactive.Benchmarks;

/// <summary>One measured configuration: (n, t, f) and M data secrets (the refresh covers 1 + M: the network key and the data keys).</summary>
internal sealed record ProtocolCase(int Nodes, int Threshold, int Faults, int Secrets);

/// <summary>What one run measured. CPU figures are whole-process totals; divide by n for per server.</summary>
internal sealed record ProtocolCostResult(
    ProtocolCase Case,
    TimeSpan DkgCpu,
    TimeSpan DkgWall,
    PeriodTraffic DkgTraffic,
    TimeSpan RefreshCpu,
    TimeSpan RefreshWall,
    PeriodTraffic RefreshTraffic,
    TimeSpan RefreshVirtual,
    long LargestPacket)
{
    public double DkgCpuPerServerMs => DkgCpu.TotalMilliseconds / Case.Nodes;

    public double RefreshCpuPerServerMs => RefreshCpu.TotalMilliseconds / Case.Nodes;
}

/// <summary>
/// <c>protocol-costs</c>: runs one DKG (period 0) and one refresh (period 1) through the real
/// <see cref="ServerController"/>s, agreement and envelope layer (<see cref="EnvelopeWireCodec"/>:
/// every message Ed25519-signed, every confidential one HPKE-sealed, every packet opened and
/// replay-checked) in the <see cref="Simulator"/>, single-threaded, and prints a markdown table of
/// process CPU per server and packets/bytes per phase.
/// </summary>
/// <remarks>
/// <para>The sequence is <see cref="ProactiveScenario"/>'s (period keys, DKG, the client's dealing,
/// import, period start with the stored-share check, refresh) minus its invariant checks, so the CPU
/// windows contain only protocol work and the simulator that carries it:</para>
/// <list type="bullet">
/// <item>DKG window: from StartDkg at every server until every server holds the network key, then 5 s
/// of virtual time more so that trailing agreement messages and timers are processed too.</item>
/// <item>Refresh window: every server's check of its stored shares against its digest
/// (<see cref="ServerController.CheckStoredShares"/>), BeginPeriod, until every server committed
/// period 1, then to 2 s before the period's end (trailing messages, timers).</item>
/// <item>Outside both windows: generating the period keys (the harness plays each server's key
/// generation), the client's Shamir dealing of M secrets, <see cref="ServerController.ImportDataShares"/>
/// and the sanity reconstruction at the end. A full GC runs before each window so that harness
/// garbage is not collected inside one.</item>
/// <item>Inside both windows besides the servers' own work: the simulator's event queue and network
/// model, the trace's SHA-256 chain over every event's text and its digest of every payload, and the
/// copy each Persist makes into the simulated disk.</item>
/// </list>
/// </remarks>
internal static class ProtocolCosts
{
    private static readonly TimeSpan PeriodLength = TimeSpan.FromSeconds(30);

    /// <summary>The small cases of <c>--quick</c> (a smoke test: seconds).</summary>
    public static IReadOnlyList<ProtocolCase> QuickCases { get; } =
    [
        new(5, 2, 1, 1),
        new(5, 2, 1, 1_000),
    ];

    /// <summary>The cases of issue 3 "Measure".</summary>
    public static IReadOnlyList<ProtocolCase> FullCases { get; } =
    [
        new(5, 2, 1, 1),
        new(5, 2, 1, 10_000),
        new(5, 2, 1, 100_000),
        new(31, 15, 10, 1),
    ];

    /// <summary>Entry point of <c>protocol-costs [--quick] [--seed N] [--group ed25519|ristretto255|p256]</c>.</summary>
    public static int Run(string[] args)
    {
        var quick = args.Contains("--quick");
        var seed = 1UL;
        var group = PrimeOrderGroup.Ed25519;
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i] == "--seed" && i + 1 < args.Length)
            {
                seed = ulong.Parse(args[++i], CultureInfo.InvariantCulture);
            }
            else if (args[i] == "--group" && i + 1 < args.Length)
            {
                group = args[++i].ToUpperInvariant() switch
                {
                    "ED25519" => PrimeOrderGroup.Ed25519,
                    "RISTRETTO255" => PrimeOrderGroup.Ristretto255,
                    "P256" or "P-256" => PrimeOrderGroup.P256,
                    var other => throw new ArgumentException($"Unknown group {other}."),
                };
            }
        }

        Console.WriteLine($"protocol-costs: seed {seed}, group {group.Name}, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, server GC {System.Runtime.GCSettings.IsServerGC}");

        // Warm-up: JIT (tiered compilation to optimised code) and libsodium/OpenSSL initialisation.
        for (var i = 0; i < 3; i++)
        {
            _ = Measure(new ProtocolCase(5, 2, 1, 10), seed + 1000 + (ulong)i, group);
        }

        var results = new List<ProtocolCostResult>();
        foreach (var c in quick ? QuickCases : FullCases)
        {
            var result = Measure(c, seed, group);
            results.Add(result);
            Console.Error.WriteLine($"  done n={c.Nodes} M={c.Secrets}: refresh {result.RefreshCpuPerServerMs:F1} ms CPU/server");
        }

        Console.WriteLine();
        Console.WriteLine("| n, t, f | M | DKG CPU / server | DKG packets | DKG bytes | refresh CPU / server | refresh wall (all n) | refresh packets | refresh bytes | largest packet | refresh virtual time |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {r.Case.Nodes}, {r.Case.Threshold}, {r.Case.Faults} | {r.Case.Secrets:N0} | {r.DkgCpuPerServerMs:N1} ms | {r.DkgTraffic.Messages:N0} | {r.DkgTraffic.Bytes:N0} | {r.RefreshCpuPerServerMs:N1} ms | {r.RefreshWall.TotalSeconds:N2} s | {r.RefreshTraffic.Messages:N0} | {r.RefreshTraffic.Bytes:N0} | {r.LargestPacket:N0} | {r.RefreshVirtual.TotalMilliseconds:N0} ms |"));
        }

        return 0;
    }

    /// <summary>Runs period 0 (DKG) and period 1 (refresh of 1 + M secrets) once; throws if either does not complete or the secrets do not reconstruct.</summary>
    public static ProtocolCostResult Measure(ProtocolCase c, ulong seed, PrimeOrderGroup group)
    {
        var parameters = ClusterParameters.Create(c.Nodes, c.Threshold, c.Faults);
        var timeouts = new ProactiveScenarioOptions().Timeouts;
        var networkBytes = new byte[NetworkId.Length];
        SimulationSeed.Source(seed, "network id").Fill(networkBytes);
        var network = NetworkId.FromBytes(networkBytes);
        var hosts = new Dictionary<int, ControllerHost>();
        EnvelopeWireCodec? codec = null;
        var options = new SimulationOptions(parameters, seed)
        {
            Network = new NetworkModel(new LinkBehavior(TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(40))),
            RecordTrace = false,
            MaxEvents = 50_000_000,
            InstanceFactory = (server, instance) => hosts[server].PortFor(instance),
            CodecFactory = p => codec = new EnvelopeWireCodec(p, seed, suite: group),
        };
        var simulator = new Simulator(options);
        var largest = 0L;
        foreach (var id in parameters.Servers)
        {
            hosts[id] = new ControllerHost(simulator, id, new ServerController(id, parameters, group, network, timeouts));
        }

        try
        {
            // Period 0: the DKG of the network key.
            InstallKeys(hosts, parameters, seed, 0);
            var dkg = new InstanceId(ProtocolKind.Dkg, 0, 0);
            var (dkgCpu, dkgWall) = Window(() =>
            {
                foreach (var host in hosts.Values)
                {
                    host.Run(context => host.Controller.StartDkg(context, dkg));
                }

                if (!simulator.RunUntil(_ => hosts.Values.All(h => h.Controller.NetworkKey is not null), PeriodLength - TimeSpan.FromSeconds(10)))
                {
                    throw new InvalidOperationException($"n={c.Nodes}: the DKG did not complete (seed {seed}).");
                }

                simulator.RunUntil(simulator.Now + TimeSpan.FromSeconds(5));
            });
            var dkgTraffic = TrafficOf(simulator, 0);

            // Harness: the client deals M secrets; every server imports its shares (not measured).
            var harness = SimulationSeed.Source(seed, "harness");
            var secrets = new Scalar[c.Secrets];
            var perServer = parameters.Servers.ToDictionary(s => s, _ => new Scalar[c.Secrets]);
            for (var k = 0; k < c.Secrets; k++)
            {
                secrets[k] = group.RandomScalar(harness);
                var (shares, polynomial) = Shamir.Split(group, secrets[k], parameters.Threshold, parameters.ServerCount, harness);
                polynomial.Dispose();
                foreach (var share in shares)
                {
                    perServer[share.Index][k] = share.Value;
                    share.Dispose();
                }
            }

            foreach (var host in hosts.Values)
            {
                host.Run(context => host.Controller.ImportDataShares(context, perServer[host.Server]));
            }

            perServer.Clear();
            simulator.RunUntil(PeriodLength);
            if (TrafficOf(simulator, 0) != dkgTraffic)
            {
                throw new InvalidOperationException("Importing the data shares sent messages: the DKG traffic figure would be wrong.");
            }

            // Period 1: the refresh of 1 + M secrets.
            InstallKeys(hosts, parameters, seed, 1);
            var start = simulator.Now;
            var committedAt = TimeSpan.Zero;
            var (refreshCpu, refreshWall) = Window(() =>
            {
                var none = new SortedSet<int>();
                foreach (var host in hosts.Values)
                {
                    var stored = simulator.Server(host.Server).Store.TryGet(ServerController.SharesKey, out var bytes) ? bytes : ReadOnlyMemory<byte>.Empty;
                    var needs = false;
                    host.Run(context =>
                    {
                        needs = host.Controller.CheckStoredShares(context, stored.Span, 1, out var step);
                        return step;
                    });
                    if (needs)
                    {
                        throw new InvalidOperationException($"Server {host.Server} failed its stored-share check.");
                    }
                }

                foreach (var host in hosts.Values)
                {
                    host.Run(context => host.Controller.BeginPeriod(context, 1, none));
                }

                if (!simulator.RunUntil(_ => hosts.Values.All(h => h.Controller.CommittedPeriod == 1), start + PeriodLength - TimeSpan.FromSeconds(5)))
                {
                    throw new InvalidOperationException($"n={c.Nodes} M={c.Secrets}: the refresh did not commit at every server (seed {seed}).");
                }

                committedAt = simulator.Now;
                simulator.RunUntil(start + PeriodLength - TimeSpan.FromSeconds(2));
            });
            var refreshTraffic = TrafficOf(simulator, 1);
            largest = hosts.Values.SelectMany(h => h.Sent.Where(s => s.Key.Period == 1).SelectMany(s => s.Value)).Max(m => (long)m.Payload.Length);

            CheckReconstruction(hosts, parameters, group, secrets);
            return new ProtocolCostResult(c, dkgCpu, dkgWall, dkgTraffic, refreshCpu, refreshWall, refreshTraffic, committedAt - start, largest);
        }
        finally
        {
            foreach (var host in hosts.Values)
            {
                host.Controller.Dispose();
            }

            codec?.Dispose();
        }
    }

    private static (TimeSpan Cpu, TimeSpan Wall) Window(Action phase)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var cpu = ProcessCpu();
        var wall = Stopwatch.StartNew();
        phase();
        wall.Stop();
        return (ProcessCpu() - cpu, wall.Elapsed);
    }

    private static TimeSpan ProcessCpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static PeriodTraffic TrafficOf(Simulator simulator, ulong period) =>
        simulator.Trace.Traffic.FirstOrDefault(t => t.Period == period) ?? new PeriodTraffic(period, 0, 0);

    /// <summary>As the scenario: each server's keys of the period (signing for agreement votes), everybody's public halves.</summary>
    private static void InstallKeys(Dictionary<int, ControllerHost> hosts, ClusterParameters parameters, ulong seed, ulong period)
    {
        var keys = parameters.Servers.ToDictionary(s => s, s => PeriodKeys.Generate(s, period, SimulationSeed.Source(seed, $"period keys {period} {s}")));
        var everyone = keys.Values.Select(k => k.PublicKeys).ToList();
        foreach (var host in hosts.Values)
        {
            host.Controller.InstallPeriodKeys(keys[host.Server], everyone);
        }
    }

    /// <summary>After the windows: t + 1 servers reconstruct the network key's discrete log (checked against the DKG key) and the last data secret.</summary>
    private static void CheckReconstruction(Dictionary<int, ControllerHost> hosts, ClusterParameters parameters, PrimeOrderGroup group, Scalar[] secrets)
    {
        var subset = hosts.Values.OrderByDescending(h => h.Server).Take(parameters.ReconstructionThreshold).ToList();
        var lambdas = Lagrange.Coefficients(group, subset.Select(h => group.FromUInt64((ulong)h.Server)).ToArray(), group.Zero);
        foreach (var k in new[] { 0, secrets.Length })
        {
            var sum = group.Zero;
            for (var i = 0; i < subset.Count; i++)
            {
                sum = group.Add(sum, group.Multiply(lambdas[i], subset[i].Controller.CurrentShares!.Values[k]));
            }

            var ok = k == 0
                ? group.MultiplyBase(sum).Equals(hosts[1].Controller.NetworkKey!.GroupPublicKey)
                : sum.Equals(secrets[k - 1]);
            if (!ok)
            {
                throw new InvalidOperationException($"After the refresh, servers {string.Join(",", subset.Select(h => h.Server))} do not reconstruct secret {k}.");
            }
        }
    }
}
