using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>One server's row: the member and its status (null when it does not answer or is down).</summary>
internal sealed record ServerSnapshot(ClusterMember Member, NodeStatus? Status)
{
    /// <summary>"down" when the process is gone, "not answering" when it runs but its API is silent, else the node's state.</summary>
    internal string State => !Member.Running ? "down" : Status?.State ?? "not answering";
}

/// <summary>The tables of <c>cluster status</c> and the live view of <c>cluster up</c>.</summary>
internal static class ClusterView
{
    private const int AlertsShown = 6;
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromMilliseconds(800);

    /// <summary>Polls every running server's status (a stopped one is not asked).</summary>
    internal static async Task<IReadOnlyList<ServerSnapshot>> PollAsync(NodeStatusClient client, IReadOnlyList<ClusterMember> members, CancellationToken cancel) =>
        await Task.WhenAll(members.Select(async m => new ServerSnapshot(m, m.Running ? await client.StatusAsync(m.ApiPort, cancel).ConfigureAwait(false) : null))).ConfigureAwait(false);

    /// <summary>The server table: id, state, period, time to the next refresh, last refresh, peers, alerts, network key.</summary>
    internal static Table ServerTable(IReadOnlyList<ServerSnapshot> servers, DateTimeOffset now)
    {
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumns("Server", "State", "Period", "Next refresh", "Last refresh", "Peers", "Alerts", "Network key", "Pid");
        foreach (var server in servers)
        {
            var s = server.Status;
            table.AddRow(
                new Text(server.Member.Id.ToString(CultureInfo.InvariantCulture)),
                new Markup(StateMarkup(server.State)),
                new Text(s?.Period?.ToString(CultureInfo.InvariantCulture) ?? "-"),
                new Text(s?.NextRefreshAt is { } next ? FormatSpan(next - now) : "-"),
                new Text(s?.LastRefreshDurationMs is { } ms ? $"{ms.ToString("0", CultureInfo.InvariantCulture)} ms" : "-"),
                new Text(s?.PeersReachable is { } reachable ? (s.PeerCount is { } count ? $"{reachable}/{count}" : reachable.ToString(CultureInfo.InvariantCulture)) : "-"),
                new Text(s?.AlertCount?.ToString(CultureInfo.InvariantCulture) ?? "-"),
                new Text(ClusterUpCommand.Prefix(s?.NetworkKey)),
                new Text(server.Member.Running ? server.Member.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-" : "-"));
        }

        return table;
    }

    /// <summary>
    /// The live view: the server table and the latest alerts of every server, refreshed every 500 ms
    /// until <paramref name="cancel"/> (Ctrl+C). The caller then stops the cluster.
    /// </summary>
    internal static async Task RunAsync(ClusterLayout layout, ClusterState state, CancellationToken cancel)
    {
        using var client = new NodeStatusClient(StatusTimeout);
        var header = $"[bold]Cluster {Markup.Escape(layout.Root)}[/]: Ctrl+C stops this view [bold]and the cluster[/] (to keep it running: 'cluster up --detach', later 'cluster down').";
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected)
        {
            // No terminal to redraw in place: print the table now and then instead.
            AnsiConsole.MarkupLine(header);
            while (!cancel.IsCancellationRequested)
            {
                AnsiConsole.Write(await RenderAsync(client, layout, state, string.Empty, cancel).ConfigureAwait(false));
                await Delay(TimeSpan.FromSeconds(10), cancel).ConfigureAwait(false);
            }

            return;
        }

        await AnsiConsole.Live(new Markup(header))
            .AutoClear(false)
            .Overflow(VerticalOverflow.Ellipsis)
            .StartAsync(async context =>
            {
                while (!cancel.IsCancellationRequested)
                {
                    context.UpdateTarget(await RenderAsync(client, layout, state, header, cancel).ConfigureAwait(false));
                    context.Refresh();
                    await Delay(Refresh, cancel).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
    }

    private static async Task<IRenderable> RenderAsync(NodeStatusClient client, ClusterLayout layout, ClusterState state, string header, CancellationToken cancel)
    {
        try
        {
            var members = ClusterMembers.Read(layout, ClusterState.Load(layout.StatePath) ?? state, null);
            var servers = await PollAsync(client, members, cancel).ConfigureAwait(false);
            var alerts = (await Task.WhenAll(members.Where(m => m.Running).Select(m => client.AlertsAsync(m.ApiPort, cancel))).ConfigureAwait(false))
                .SelectMany(a => a)
                .OrderByDescending(a => a.DetectedAt ?? DateTimeOffset.MinValue)
                .Take(AlertsShown)
                .ToList();
            var now = DateTimeOffset.UtcNow;
            var rows = new List<IRenderable>();
            if (header.Length > 0)
            {
                rows.Add(new Markup(header));
            }

            rows.Add(ServerTable(servers, now));
            rows.Add(alerts.Count == 0 ? new Markup("[grey]No alerts.[/]") : AlertTable(alerts));
            return new Rows(rows);
        }
        catch (OperationCanceledException)
        {
            return new Markup(header.Length > 0 ? header : "Stopping.");
        }
    }

    private static Table AlertTable(IReadOnlyList<NodeAlert> alerts)
    {
        var table = new Table().Border(TableBorder.Simple).Title("Latest alerts");
        table.AddColumns("Detected", "Reporter", "Type", "Culprit", "Period", "Detail");
        foreach (var alert in alerts)
        {
            table.AddRow(
                new Text(alert.DetectedAt?.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture) ?? "?"),
                new Text(alert.Reporter),
                new Markup($"[yellow]{Markup.Escape(alert.Type)}[/]"),
                new Text(alert.Culprit == "0" ? "-" : alert.Culprit),
                new Text(alert.Period),
                new Text(alert.Detail.Length > 80 ? alert.Detail[..80] + "…" : alert.Detail));
        }

        return table;
    }

    private static string StateMarkup(string state) => state switch
    {
        NodeStatus.Operational => "[green]operational[/]",
        "recovering" => "[yellow]recovering[/]",
        "initializing" => "[blue]initializing[/]",
        "down" or "not answering" => $"[red]{state}[/]",
        _ => Markup.Escape(state),
    };

    private static string FormatSpan(TimeSpan span) =>
        span <= TimeSpan.Zero ? "now" : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m{span.Seconds:00}s" : $"{span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s";

    private static async Task Delay(TimeSpan delay, CancellationToken cancel)
    {
        try
        {
            await Task.Delay(delay, cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: the loop ends.
        }
    }
}
