using System.CommandLine;
using System.Globalization;
using Proactive.Node.Configuration;
using Proactive.Node.Storage;

namespace Proactive.Cli.Commands;

/// <summary>
/// <c>proactive node health --dir D --config cluster.json [--rom R] [--path /healthz]</c>: asks this
/// machine's server, at the API endpoint C publishes for the id in its ROM, for a health route, and exits
/// 0 when it answers 200, 1 otherwise (no answer, another status, no API port in C), 2 for usage errors.
/// It takes the same arguments as <c>node run</c>, so a container's HEALTHCHECK (deploy/Dockerfile)
/// needs no address of its own: it checks the endpoint the server really binds, whatever C names.
/// </summary>
internal static class NodeHealthCommand
{
    /// <summary>The liveness route (the node's process answers; docs/OPERATIONS.md "Watching the network").</summary>
    internal const string DefaultPath = "/healthz";

    internal static Command Create()
    {
        var dir = new Option<string>("--dir") { Description = "The server's directory (as for 'node run').", Required = true };
        var config = new Option<string>("--config") { Description = "The cluster configuration C (as for 'node run').", Required = true };
        var rom = new Option<string?>("--rom") { Description = "The ROM file, when it is not DIR/rom.json." };
        var path = new Option<string>("--path") { Description = "The route to ask: /healthz (alive) or /readyz (operational).", DefaultValueFactory = _ => DefaultPath };
        var timeout = new Option<string>("--timeout") { Description = "How long to wait for the answer: 5s, 1m.", DefaultValueFactory = _ => "5s" };

        var command = new Command("health", "Ask this server's API for a health route; exit 0 when it answers 200 (for container health checks).")
        {
            dir,
            config,
            rom,
            path,
            timeout,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var route = parse.GetValue(path)!;
            if (!route.StartsWith('/'))
            {
                Console.Error.WriteLine($"--path must start with '/' (got '{route}').");
                return 2;
            }

            if (!PeriodLength.TryParse(parse.GetValue(timeout), out var wait, out var timeoutError))
            {
                Console.Error.WriteLine($"--timeout: {timeoutError}");
                return 2;
            }

            Uri url;
            int serverId;
            try
            {
                var cluster = ClusterConfig.Load(parse.GetValue(config)!);
                serverId = RomRecord.Read(new ServerDirectory(parse.GetValue(dir)!, parse.GetValue(rom)).RomPath).ServerId;
                if (serverId > cluster.Servers.Count)
                {
                    Console.Error.WriteLine($"proactive node health: the ROM names server {serverId}, which C does not have.");
                    return 1;
                }

                if (cluster.Server(serverId).ApiEndpoint is not { } endpoint)
                {
                    Console.Error.WriteLine($"proactive node health: C publishes no API port for server {serverId}, so it has no health route to ask.");
                    return 1;
                }

                url = new Uri($"http://{endpoint}{route}");
            }
            catch (Exception e) when (e is ClusterConfigException or NodeStoreException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"proactive node health: {e.Message}");
                return 1;
            }

            using var http = new HttpClient { Timeout = wait };
            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                var status = (int)response.StatusCode;
                Console.WriteLine($"server {serverId} {url}: {status.ToString(CultureInfo.InvariantCulture)} {response.ReasonPhrase}");
                return response.IsSuccessStatusCode && status == 200 ? 0 : 1;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Console.WriteLine($"server {serverId} {url}: no answer ({e.Message})");
                return 1;
            }
        });
        return command;
    }
}
