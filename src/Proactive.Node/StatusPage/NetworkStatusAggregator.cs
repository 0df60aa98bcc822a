// References: docs/BRIEF.md section 4 ("Status GUI": the whole network from any server); issue 6 item 1
// (the page asks each peer's public status endpoint); docs/API.md "GET /v1/network/status".
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Proactive.Node.Api;

namespace Proactive.Node.StatusPage;

/// <summary>How <see cref="NetworkStatusAggregator"/> asks peers. The defaults suit a cluster on one network; every bound is a ceiling, not a wait.</summary>
public sealed record NetworkStatusOptions
{
    /// <summary>How long one peer may take for its status and alerts together; a peer slower than this is <c>unreachable</c> (timeout).</summary>
    public TimeSpan PeerTimeout { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>
    /// How long a gathered view is served again: every page that is open asks every few seconds, and
    /// each view costs two requests per peer, so many open pages cost the peers no more than one.
    /// </summary>
    public TimeSpan CacheFor { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Latest alerts asked of each server.</summary>
    public int AlertsPerServer { get; init; } = 20;

    /// <summary>Largest status answer read from a peer (a status is a few KiB).</summary>
    public int MaxStatusBytes { get; init; } = 256 * 1024;

    /// <summary>Largest alerts answer read from a peer (<see cref="AlertsPerServer"/> alerts with their evidence in base64).</summary>
    public int MaxAlertsBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Evidence bytes passed on per alert (the rest stays at the reporter's <c>/v1/alerts</c>).</summary>
    public int MaxEvidenceBytes { get; init; } = 2048;

    /// <summary>Characters of an alert's detail passed on.</summary>
    public int MaxDetailLength { get; init; } = 1000;
}

/// <summary>Where the view's own server's data comes from (in process, no request).</summary>
/// <param name="Status">This server's status (with the alert log's count).</param>
/// <param name="LatestAlerts">This server's latest alerts, at most the given number, oldest first.</param>
/// <param name="Cluster">The network's description with every server's API address; null when unknown (then the view has this server only).</param>
internal sealed record NetworkStatusSource(Func<NodeStatus> Status, Func<int, AlertPage> LatestAlerts, Func<ClusterBody?> Cluster);

/// <summary>
/// Gathers <see cref="NetworkStatusBody"/>: this server's status directly, every peer's from its public
/// <c>/v1/status</c> and <c>/v1/alerts</c>, all peers at once, each within
/// <see cref="NetworkStatusOptions.PeerTimeout"/>. A peer that refuses, times out, fails or answers
/// something else is reported as such; nothing a peer does makes the view fail or wait longer.
/// </summary>
/// <remarks>
/// <para><b>Why on the server.</b> The page could ask the peers itself, but then every peer's API would
/// have to allow other origins (CORS) and the page's Content-Security-Policy would have to list them.
/// Gathered here, the page talks to its own origin only, and peers need nothing new.</para>
/// <para><b>Load.</b> One gathering at a time; requests that arrive meanwhile wait for it, and a view is
/// served again for <see cref="NetworkStatusOptions.CacheFor"/>. So a route that makes requests to peers
/// cannot be used to multiply requests: at most two per peer per <see cref="NetworkStatusOptions.CacheFor"/>,
/// however many ask. Answers are read up to a size limit.</para>
/// </remarks>
internal sealed class NetworkStatusAggregator : IDisposable
{
    private readonly NetworkStatusSource _source;
    private readonly NetworkStatusOptions _options;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _gate = new();
    private Task<NetworkStatusBody>? _gathering;
    private NetworkStatusBody? _latest;

    public NetworkStatusAggregator(NetworkStatusSource source, NetworkStatusOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        _options = options ?? new NetworkStatusOptions();
        _time = time ?? TimeProvider.System;
        var handler = new SocketsHttpHandler
        {
            // Peers are asked directly: a proxy from the environment would see (and could change) their answers.
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectTimeout = _options.PeerTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            MaxResponseHeadersLength = 16,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The latest view: a fresh one, or the one being gathered, or the last one while it is younger than <see cref="NetworkStatusOptions.CacheFor"/>.</summary>
    public Task<NetworkStatusBody> GetAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        Task<NetworkStatusBody> gathering;
        lock (_gate)
        {
            if (_latest is { } latest && _time.GetUtcNow() - latest.GeneratedAt < _options.CacheFor)
            {
                return Task.FromResult(latest);
            }

            gathering = _gathering ??= GatherAndKeepAsync();
        }

        // The gathering is shared: a caller that goes away stops waiting, not the gathering.
        return gathering.WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        // Cancelled, not disposed: a gathering still running reads its token (a source without timers holds nothing to release).
        _disposed.Cancel();
        _http.Dispose();
    }

    private async Task<NetworkStatusBody> GatherAndKeepAsync()
    {
        // Out of the caller's lock before any work.
        await Task.Yield();
        try
        {
            var body = await GatherAsync(_disposed.Token).ConfigureAwait(false);
            lock (_gate)
            {
                _latest = body;
            }

            return body;
        }
        finally
        {
            lock (_gate)
            {
                _gathering = null;
            }
        }
    }

    private async Task<NetworkStatusBody> GatherAsync(CancellationToken cancellationToken)
    {
        var own = Own();
        var cluster = _source.Cluster();
        var peers = (cluster?.Servers ?? []).Where(s => s.Id != own.Id).DistinctBy(s => s.Id).ToList();
        var answers = await Task.WhenAll(peers.Select(peer => PeerAsync(peer, cancellationToken))).ConfigureAwait(false);
        own = own with { Api = cluster?.Servers.FirstOrDefault(s => s.Id == own.Id)?.Api };
        return new NetworkStatusBody(_time.GetUtcNow(), own.Id, cluster, [.. answers.Append(own).OrderBy(s => s.Id)]);
    }

    /// <summary>This server, from the process itself.</summary>
    private NetworkServerBody Own()
    {
        var status = _source.Status();
        IReadOnlyList<NetworkAlertBody> alerts = [];
        string? alertsProblem = null;
        try
        {
            alerts = Shorten(_source.LatestAlerts(_options.AlertsPerServer), status.ServerId);
        }
        catch (AlertLogException e)
        {
            alertsProblem = "its alert log could not be read: " + e.Message;
        }

        return new NetworkServerBody(status.ServerId, null, StateOf(status.State), Reachability.Self, null, null, status, alerts, alertsProblem);
    }

    /// <summary>One peer: its status and alerts at once, both within the peer timeout. Never throws.</summary>
    private async Task<NetworkServerBody> PeerAsync(ClusterServerBody peer, CancellationToken cancellationToken)
    {
        if (peer.Api is null || !Uri.TryCreate(peer.Api, UriKind.Absolute, out var api) || api.Scheme != Uri.UriSchemeHttp)
        {
            return Unanswered(peer, Reachability.Failed, peer.Api is null ? "the configuration gives it no API port" : $"its API address '{peer.Api}' is not an http:// URL");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.PeerTimeout);
        var statusTask = FetchAsync(new Uri(api, NodeApi.StatusPath), _options.MaxStatusBytes, deadline.Token);
        var alertsTask = FetchAsync(new Uri(api, NodeApi.AlertsPath + "?limit=" + _options.AlertsPerServer.ToString(CultureInfo.InvariantCulture)), _options.MaxAlertsBytes, deadline.Token);
        var status = await statusTask.ConfigureAwait(false);
        var alerts = await alertsTask.ConfigureAwait(false);
        if (status.Body is null)
        {
            return Unanswered(peer, status.Reachability, status.Problem!);
        }

        NodeStatus? parsed;
        string? why = null;
        try
        {
            parsed = JsonSerializer.Deserialize(status.Body, PeerAnswerJsonContext.Default.NodeStatus);
        }
        catch (JsonException e)
        {
            parsed = null;
            why = e.Message;
        }

        if (parsed is null)
        {
            return Unanswered(peer, Reachability.Malformed, "its /v1/status answer is not a status" + (why is null ? "" : $" ({why})"));
        }

        if (parsed.ServerId != peer.Id)
        {
            return Unanswered(peer, Reachability.Malformed, $"its /v1/status answer is server {parsed.ServerId}'s, not server {peer.Id}'s");
        }

        var (shortened, alertsProblem) = PeerAlerts(alerts, peer.Id);
        return new NetworkServerBody(peer.Id, peer.Api, StateOf(parsed.State), Reachability.Answered, null, status.Milliseconds, parsed, shortened, alertsProblem);
    }

    private (IReadOnlyList<NetworkAlertBody> Alerts, string? Problem) PeerAlerts(Fetched alerts, int reporter)
    {
        if (alerts.Body is null)
        {
            return ([], alerts.Problem);
        }

        try
        {
            if (JsonSerializer.Deserialize(alerts.Body, PeerAnswerJsonContext.Default.AlertPage) is { } page)
            {
                return (Shorten(page, reporter), null);
            }
        }
        catch (JsonException)
        {
        }

        return ([], "its /v1/alerts answer is not a page of alerts");
    }

    /// <summary>The latest alerts with the evidence in hex, shortened; the reporter is the server asked, whatever the rows say.</summary>
    private List<NetworkAlertBody> Shorten(AlertPage page, int reporter) =>
        [.. page.Alerts.TakeLast(_options.AlertsPerServer).Select(a => new NetworkAlertBody(
            a.Id, a.DetectedAt, a.LastDetectedAt, reporter, Truncate(a.Type, 64), a.Culprit, a.Period, a.Instance is null ? null : Truncate(a.Instance, 200),
            Truncate(a.Detail, _options.MaxDetailLength), a.Count,
            Convert.ToHexStringLower(a.Evidence.AsSpan(0, Math.Min(a.Evidence.Length, _options.MaxEvidenceBytes))),
            Math.Max(a.Evidence.Length, a.EvidenceLength)))];

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    private static NetworkServerBody Unanswered(ClusterServerBody peer, Reachability reachability, string problem) =>
        new(peer.Id, peer.Api, reachability == Reachability.Refused ? NetworkServerState.Down : NetworkServerState.Unreachable, reachability, problem, null, null, [], null);

    private static NetworkServerState StateOf(NodeState state) => state switch
    {
        NodeState.Operational => NetworkServerState.Operational,
        NodeState.Recovering => NetworkServerState.Recovering,
        NodeState.Stopping => NetworkServerState.Stopping,
        _ => NetworkServerState.Initializing,
    };

    /// <summary>One GET, its body read up to <paramref name="limit"/> bytes. Never throws: failures come back classified.</summary>
    private async Task<Fetched> FetchAsync(Uri uri, int limit, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return Fetched.Failure(Reachability.Failed, $"{uri.AbsolutePath} answered HTTP {(int)response.StatusCode}");
            }

            if (response.Content.Headers.ContentLength > limit)
            {
                return Fetched.Failure(Reachability.Failed, $"{uri.AbsolutePath} answered more than {limit} bytes");
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var buffer = new byte[Math.Min(limit + 1, 64 * 1024)];
                var length = 0;
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        if (length > limit)
                        {
                            return Fetched.Failure(Reachability.Failed, $"{uri.AbsolutePath} answered more than {limit} bytes");
                        }

                        Array.Resize(ref buffer, Math.Min(buffer.Length * 2, limit + 1));
                    }

                    var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                }

                return new Fetched(buffer[..length], Reachability.Answered, null, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
        catch (OperationCanceledException) when (!_disposed.IsCancellationRequested)
        {
            return Fetched.Failure(Reachability.Timeout, $"no answer within {_options.PeerTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
        }
        catch (HttpRequestException e) when (IsRefused(e))
        {
            return Fetched.Failure(Reachability.Refused, "nothing listens on its API port (connection refused)");
        }
        catch (HttpRequestException e)
        {
            return Fetched.Failure(Reachability.Failed, e.Message);
        }
        catch (IOException e)
        {
            return Fetched.Failure(Reachability.Failed, e.Message);
        }
    }

    private static bool IsRefused(HttpRequestException e) =>
        e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused };

    /// <summary>A body, or why there is none.</summary>
    private sealed record Fetched(byte[]? Body, Reachability Reachability, string? Problem, double Milliseconds)
    {
        public static Fetched Failure(Reachability reachability, string problem) => new(null, reachability, problem, 0);
    }
}
