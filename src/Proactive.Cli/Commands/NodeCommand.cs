using System.CommandLine;
using Microsoft.Extensions.Logging;
using Proactive.Node.Api;
using Proactive.Node.Configuration;
using Proactive.Node.Hosting;
using Proactive.Node.Storage;

namespace Proactive.Cli.Commands;

/// <summary>
/// <c>proactive node run --dir D --config cluster.json</c> (issue 4 item 2): runs one server until
/// SIGTERM or Ctrl+C. It initializes with its peers when it still holds its start key (toolkit Table 3),
/// otherwise recovers and refreshes every period. Logs go to standard output. Exit 0 after a clean
/// stop, 1 when the server cannot start or fails, 2 for usage errors.
/// </summary>
internal static class NodeCommand
{
    internal static Command Create()
    {
        var dir = new Option<string>("--dir") { Description = "The server's directory (made by 'proactive provision').", Required = true };
        var config = new Option<string>("--config") { Description = "The cluster configuration C (made by 'proactive config new').", Required = true };
        var rom = new Option<string?>("--rom") { Description = "The ROM file, when it is not DIR/rom.json." };
        var webhook = new Option<Uri?>("--webhook") { Description = "Post every alert as JSON to this http(s) URL." };
        var level = new Option<LogLevel>("--log-level") { Description = "The least severe log level written.", DefaultValueFactory = _ => LogLevel.Information };

        var run = new Command("run", "Run this server: initialize with its peers, then recover and refresh every period.")
        {
            dir,
            config,
            rom,
            webhook,
            level,
        };
        run.SetAction(async (parse, cancellationToken) =>
        {
            using var loggers = LoggerFactory.Create(builder => builder
                .SetMinimumLevel(parse.GetValue(level))
                .AddFilter("Microsoft", LogLevel.Warning)
                .AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "HH:mm:ss.fff ";
                    o.UseUtcTimestamp = true;
                }));
            var logger = loggers.CreateLogger("proactive");
            NodeHostOptions options;
            try
            {
                var cluster = ClusterConfig.Load(parse.GetValue(config)!);
                options = new NodeHostOptions(new ServerDirectory(parse.GetValue(dir)!, parse.GetValue(rom)), cluster) { Webhook = parse.GetValue(webhook) };
            }
            catch (Exception e) when (e is ClusterConfigException or NodeStoreException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"proactive node run: {e.Message}");
                return 1;
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });
            await using var host = new NodeHost(options, loggers);
            try
            {
                await host.RunAsync(stop.Token);
                return 0;
            }
            catch (Exception e) when (e is NodeStartException or NodeStoreException or AlertLogException or IOException or System.Net.Sockets.SocketException)
            {
                Console.Error.WriteLine($"proactive node run: server {options.ServerId} cannot run: {e.Message}");
                return 1;
            }
        });

        return new Command("node", "Run a server of the network.") { run, NodeHealthCommand.Create() };
    }
}
