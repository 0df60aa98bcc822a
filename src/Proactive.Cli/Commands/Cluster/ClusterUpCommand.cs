using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Proactive.Crypto.Interop;
using Proactive.Crypto.Random;
using Proactive.Node.Configuration;
using Proactive.Node.Provisioning;
using Proactive.Node.Storage;
using Proactive.Protocols.Cluster;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>
/// <c>proactive cluster up</c>: provisions n servers in DIR/server-I (once), writes DIR/cluster.json
/// with free loopback ports (once), starts every server as its own process (<c>proactive node run</c>,
/// output in DIR/server-I/node.log), records them in DIR/cluster-state.json and waits until all are
/// operational with the same network key. Then either exits (<c>--detach</c>; <c>cluster down</c>
/// stops them) or shows a live view until Ctrl+C, which stops the cluster. Run again on a stopped
/// cluster it restarts the same servers with their stores.
/// </summary>
internal static class ClusterUpCommand
{
    private const int DefaultServers = 5;
    private const string DefaultPeriod = "30s";
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(1);

    internal static Command Create()
    {
        var nodes = new Option<int?>("--nodes") { Description = $"Number of servers n (default {DefaultServers})." };
        var threshold = new Option<int?>("--threshold") { Description = "Privacy threshold t (default floor((n-1)/2)): t + 1 servers sign." };
        var faults = new Option<int?>("--faults") { Description = "Byzantine servers f tolerated (default floor((n-1)/3)); n >= 3f + 1, f <= t, t + 1 <= n - f." };
        var period = new Option<string?>("--period") { Description = $"Period length L (default {DefaultPeriod}): shares are refreshed every period." };
        var suite = new Option<string?>("--suite") { Description = "Ciphersuite of the network key (default ed25519)." };
        suite.AcceptOnlyFromAmong([.. ClusterConfig.SuiteNames]);
        var timeout = new Option<string>("--timeout") { Description = "How long to wait for every server to be operational: 120s, 5m.", DefaultValueFactory = _ => "120s" };
        var detach = new Option<bool>("--detach") { Description = "Exit once the cluster is ready and leave it running ('proactive cluster down' stops it). Without it, a live view runs until Ctrl+C, which stops the cluster." };
        var dir = ClusterCommand.DirectoryOption();

        var command = new Command("up", "Provision (once) and start a local cluster, wait until it is operational, then watch it (or --detach).")
        {
            nodes,
            threshold,
            faults,
            period,
            suite,
            timeout,
            detach,
            dir,
        };
        // A synchronous action: System.CommandLine's own Ctrl+C handling (for asynchronous actions) would
        // end the process two seconds after Ctrl+C, before the cluster is stopped; InterruptHandler does it.
        command.SetAction(parse =>
        {
            if (!ClusterCommand.CheckPlatform())
            {
                return ClusterCommand.ExitFailed;
            }

            var request = new UpRequest(parse.GetValue(nodes), parse.GetValue(threshold), parse.GetValue(faults), parse.GetValue(period), parse.GetValue(suite));
            if (!PeriodLength.TryParse(parse.GetValue(timeout), out var wait, out var timeoutError))
            {
                Console.Error.WriteLine($"--timeout: {timeoutError}");
                return ClusterCommand.ExitUsage;
            }

            return RunAsync(new ClusterLayout(parse.GetValue(dir)!), request, wait, parse.GetValue(detach), CancellationToken.None).GetAwaiter().GetResult();
        });
        return command;
    }

    private static async Task<int> RunAsync(ClusterLayout layout, UpRequest request, TimeSpan wait, bool detach, CancellationToken cancel)
    {
        var previous = ClusterState.Load(layout.StatePath);
        var running = ClusterMembers.Read(layout, previous, null).Where(m => m.Running).ToList();
        if (running.Count > 0)
        {
            Console.Error.WriteLine($"A cluster is already running in {layout.Root} (servers {string.Join(", ", running.Select(m => m.Id))}).");
            Console.Error.WriteLine($"  proactive cluster status --dir {layout.Root}   shows it");
            Console.Error.WriteLine($"  proactive cluster down --dir {layout.Root}     stops it");
            return ClusterCommand.ExitFailed;
        }

        ClusterConfig? config;
        if (File.Exists(layout.ConfigPath))
        {
            config = ClusterMembers.LoadConfig(layout);
            if (config is null)
            {
                return ClusterCommand.ExitFailed;
            }

            if (request.Conflicts(config) is { } conflict)
            {
                Console.Error.WriteLine($"The cluster in {layout.Root} already exists with {conflict}; it restarts with its own configuration. Remove the folder (after 'cluster down') for a new cluster.");
                return ClusterCommand.ExitUsage;
            }

            if (!CheckRestartable(layout, config))
            {
                return ClusterCommand.ExitFailed;
            }

            Console.WriteLine($"Restarting the cluster in {layout.Root} ({config.Parameters}); the servers keep their stores.");
        }
        else
        {
            var created = Create(layout, request);
            if (created.Exit != ClusterCommand.ExitOk)
            {
                return created.Exit;
            }

            config = created.Config!;
        }

        var state = Start(layout, config);
        Console.WriteLine($"Started {state.Servers.Count} servers (logs in {layout.Root}/server-I/{ClusterLayout.LogFileName}); waiting up to {PeriodLength.Format(wait)} until all are operational.");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var interrupt = InterruptHandler.Install(stop);
        var ready = await WaitReadyAsync(layout, state, wait, stop.Token).ConfigureAwait(false);
        if (ready == Readiness.Interrupted)
        {
            if (detach)
            {
                Console.Error.WriteLine($"Interrupted; the servers keep running ('proactive cluster down --dir {layout.Root}' stops them).");
                return ClusterCommand.ExitFailed;
            }

            Console.Error.WriteLine("Interrupted; stopping the cluster.");
            ClusterDownCommand.StopAll(layout, state);
            return ClusterCommand.ExitFailed;
        }

        if (ready != Readiness.Ready)
        {
            Console.Error.WriteLine(ClusterMembers.Read(layout, state, null).Any(m => m.Running)
                ? $"The servers still running are left running so that you can look: 'proactive cluster status --dir {layout.Root}', then 'proactive cluster down --dir {layout.Root}'."
                : $"No server is running any more; fix the cause shown in the logs and run 'proactive cluster up --dir {layout.Root}' again (it restarts the same servers).");
            return ClusterCommand.ExitFailed;
        }

        if (detach)
        {
            Console.WriteLine($"The cluster is operational and keeps running. 'proactive cluster status --dir {layout.Root}' shows it; 'proactive cluster down --dir {layout.Root}' stops it.");
            return ClusterCommand.ExitOk;
        }

        await ClusterView.RunAsync(layout, state, stop.Token).ConfigureAwait(false);
        Console.WriteLine("Stopping the cluster.");
        ClusterDownCommand.StopAll(layout, state);
        return ClusterCommand.ExitOk;
    }

    /// <summary>Validates the parameters (before anything is written), provisions the servers that are not yet and writes cluster.json.</summary>
    private static (int Exit, ClusterConfig? Config) Create(ClusterLayout layout, UpRequest request)
    {
        var n = request.Nodes ?? DefaultServers;
        var problems = new List<string>();

        // The same rules as 'config new' (ClusterParameters, PeriodLength), checked before anything
        // is provisioned so that a typo leaves no folder behind; ClusterConfig.TryCreate checks them
        // again with the servers below.
        var defaults = n is >= 1 and <= ClusterParameters.MaxServers ? ClusterParameters.Default(n) : null;
        if (!ClusterParameters.TryCreate(n, request.Threshold ?? defaults?.Threshold ?? 0, request.Faults ?? defaults?.Faults ?? 0, out _, out var rule))
        {
            problems.Add(rule);
        }

        if (!PeriodLength.TryParse(request.Period ?? DefaultPeriod, out var period, out var periodError))
        {
            problems.Add($"--period: {periodError}");
        }

        if (problems.Count > 0)
        {
            Console.Error.WriteLine("Cannot build the cluster:");
            foreach (var problem in problems)
            {
                Console.Error.WriteLine($"  - {problem}");
            }

            return (ClusterCommand.ExitUsage, null);
        }

        var ports = PortAllocator.FreeLoopbackPorts(2 * n);
        var servers = new List<ClusterServer>(n);
        for (var id = 1; id <= n; id++)
        {
            var directory = layout.Server(id);
            try
            {
                var startKey = File.Exists(directory.RomPath)
                    ? ExistingStartKey(directory, id)
                    : Provisioner.Provision(directory, id, SystemRandomSource.Instance).StartPublicKey;
                servers.Add(new ClusterServer(id, "127.0.0.1", ports[id - 1], ports[n + id - 1], startKey));
            }
            catch (Exception e) when (e is ProvisioningException or NodeStoreException or NativeLibraryMissingException)
            {
                Console.Error.WriteLine($"Cannot provision server {id}: {e.Message}");
                return (ClusterCommand.ExitFailed, null);
            }
        }

        if (!ClusterConfig.TryCreate(servers, request.Threshold, request.Faults, period, request.Suite ?? "ed25519", genesis: null, out var config, out var errors))
        {
            Console.Error.WriteLine("Cannot build the cluster configuration:");
            foreach (var error in errors)
            {
                Console.Error.WriteLine($"  - {error}");
            }

            return (ClusterCommand.ExitUsage, null);
        }

        AtomicFile.Write(layout.ConfigPath, config.ToJson(), replace: false);
        Console.WriteLine($"Provisioned {n} servers and wrote {layout.ConfigPath}:");
        ConfigCommand.PrintSummary(config);
        return (ClusterCommand.ExitOk, config);
    }

    /// <summary>V_start of a server provisioned by an earlier, interrupted 'up' (its ROM must name this id).</summary>
    private static Crypto.Signing.Ed25519PublicKey ExistingStartKey(ServerDirectory directory, int id)
    {
        var rom = RomRecord.Read(directory.RomPath);
        return rom.ServerId == id
            ? rom.StartPublicKey
            : throw new ProvisioningException($"{directory.RomPath} belongs to server {rom.ServerId}, not {id}; the folder was mixed up.");
    }

    /// <summary>Every server of C is provisioned here and its ports are free (C fixes the ports: its servers signed it).</summary>
    private static bool CheckRestartable(ClusterLayout layout, ClusterConfig config)
    {
        var ok = true;
        foreach (var server in config.Servers)
        {
            if (!File.Exists(layout.Server(server.Id).RomPath))
            {
                Console.Error.WriteLine($"Server {server.Id} is not provisioned in {layout.ServerRoot(server.Id)}; a new identity would not match cluster.json. Remove {layout.Root} for a new cluster.");
                ok = false;
            }

            foreach (var (port, what) in new[] { (server.PeerPort, "peer"), (server.ApiPort ?? 0, "API") })
            {
                if (port > 0 && !PortAllocator.IsFree(port))
                {
                    Console.Error.WriteLine($"Port {port} (server {server.Id}'s {what} port in cluster.json) is in use by another program; free it and run 'cluster up' again.");
                    ok = false;
                }
            }
        }

        return ok;
    }

    /// <summary>Starts every server and records them (the state file is rewritten after each start, so a crash here loses no pid).</summary>
    private static ClusterState Start(ClusterLayout layout, ClusterConfig config)
    {
        var self = NodeProcesses.SelfCommand();
        var state = new ClusterState
        {
            State = ClusterRunState.Running,
            UpdatedAt = DateTimeOffset.UtcNow,
            Servers = [.. config.Servers.Select(s => new ServerProcessState
            {
                Id = s.Id,
                PeerPort = s.PeerPort,
                ApiPort = s.ApiPort ?? 0,
                Command = NodeProcesses.NodeCommand(self, layout.ServerRoot(s.Id), layout.ConfigPath),
            })],
        };
        state.Save(layout.StatePath);
        foreach (var server in state.Servers)
        {
            state = state.WithServer(StartServer(layout, server));
            state.Save(layout.StatePath);
        }

        return state;
    }

    /// <summary>Starts one server with its recorded command, a line in its log saying when.</summary>
    internal static ServerProcessState StartServer(ClusterLayout layout, ServerProcessState server)
    {
        var log = layout.LogPath(server.Id);
        var now = DateTimeOffset.UtcNow;
        File.AppendAllText(log, $"---- {now.ToString("O", CultureInfo.InvariantCulture)} proactive cluster: starting {string.Join(' ', server.Command)}{Environment.NewLine}");
        var pid = NodeProcesses.StartDetached(server.Command, log, layout.Root);
        return server with { Pid = pid, StartedAt = now };
    }

    private enum Readiness
    {
        Ready,
        TimedOut,
        Exited,
        Interrupted,
    }

    private static async Task<Readiness> WaitReadyAsync(ClusterLayout layout, ClusterState state, TimeSpan wait, CancellationToken cancel)
    {
        using var client = new NodeStatusClient(StatusTimeout);
        var deadline = DateTime.UtcNow + wait;
        string? lastProgress = null;
        try
        {
            while (true)
            {
                var exited = state.Servers.Where(s => !NodeProcesses.IsNodeProcess(s.Pid, layout.ServerRoot(s.Id))).ToList();
                if (exited.Count > 0)
                {
                    foreach (var server in exited)
                    {
                        Console.Error.WriteLine($"Server {server.Id} (pid {server.Pid}) exited. The end of {layout.LogPath(server.Id)}:");
                        PrintTail(layout, server.Id);
                    }

                    return Readiness.Exited;
                }

                var polled = await Task.WhenAll(state.Servers.Select(async s => (Server: s, Status: await client.StatusAsync(s.ApiPort, cancel).ConfigureAwait(false)))).ConfigureAwait(false);
                var keys = polled.Select(p => p.Status?.NetworkKey).Distinct().ToList();
                var operational = polled.Count(p => p.Status?.IsOperational == true);
                if (operational == polled.Length && keys is [{ } key])
                {
                    Console.WriteLine($"  all {polled.Length} servers operational, network key {Prefix(key)}");
                    return Readiness.Ready;
                }

                var progress = $"  {operational}/{polled.Length} operational"
                    + (keys.Count(k => k is not null) > 1 ? $", {keys.Count(k => k is not null)} different network keys so far" : string.Empty)
                    + $" ({string.Join(", ", polled.Select(p => $"{p.Server.Id}: {p.Status?.State ?? "not answering"}"))})";
                if (progress != lastProgress)
                {
                    Console.WriteLine(progress);
                    lastProgress = progress;
                }

                if (DateTime.UtcNow >= deadline)
                {
                    Console.Error.WriteLine($"Timed out after {PeriodLength.Format(wait)}: not every server is operational with the same network key.");
                    foreach (var (server, status) in polled.Where(p => p.Status?.IsOperational != true))
                    {
                        Console.Error.WriteLine($"Server {server.Id} is {status?.State ?? "not answering"} (API {NodeStatusClient.ApiUrl(server.ApiPort)}). The end of {layout.LogPath(server.Id)}:");
                        PrintTail(layout, server.Id);
                    }

                    return Readiness.TimedOut;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), cancel).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return Readiness.Interrupted;
        }
    }

    private static void PrintTail(ClusterLayout layout, int id)
    {
        foreach (var line in ClusterMembers.LogTail(layout, id))
        {
            Console.Error.WriteLine($"    {line}");
        }
    }

    internal static string Prefix(string? key) => key is null ? "-" : key.Length <= 16 ? key : key[..16] + "…";

    /// <summary>What the user asked for; on an existing cluster only what was given explicitly is compared.</summary>
    private sealed record UpRequest(int? Nodes, int? Threshold, int? Faults, string? Period, string? Suite)
    {
        internal string? Conflicts(ClusterConfig config)
        {
            var p = config.Parameters;
            var differences = new List<string>();
            if (Nodes is { } n && n != p.ServerCount)
            {
                differences.Add($"n = {p.ServerCount} (not {n})");
            }

            if (Threshold is { } t && t != p.Threshold)
            {
                differences.Add($"t = {p.Threshold} (not {t})");
            }

            if (Faults is { } f && f != p.Faults)
            {
                differences.Add($"f = {p.Faults} (not {f})");
            }

            if (Period is { } text && (!PeriodLength.TryParse(text, out var length, out _) || length != config.Period))
            {
                differences.Add($"period {PeriodLength.Format(config.Period)} (not {text})");
            }

            if (Suite is { } suite && suite != config.SuiteName)
            {
                differences.Add($"suite {config.SuiteName} (not {suite})");
            }

            return differences.Count == 0 ? null : string.Join(", ", differences);
        }
    }
}

/// <summary>Ctrl+C (and SIGTERM) cancel a token instead of killing the CLI, so that it can stop the cluster first.</summary>
internal sealed class InterruptHandler : IDisposable
{
    private readonly CancellationTokenSource _cancel;
    private readonly PosixSignalRegistration _terminate;

    private InterruptHandler(CancellationTokenSource cancel)
    {
        _cancel = cancel;
        Console.CancelKeyPress += OnCancelKeyPress;
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            Cancel();
        });
    }

    internal static InterruptHandler Install(CancellationTokenSource cancel) => new(cancel);

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        _terminate.Dispose();
    }

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        Cancel();
    }

    private void Cancel()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The command finished meanwhile.
        }
    }
}
