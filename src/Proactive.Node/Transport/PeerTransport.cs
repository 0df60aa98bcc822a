// References: docs/BRIEF.md section 4 ("Peer transport") and issue 4 item 2; docs/NODE.md "Peer transport".
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;

namespace Proactive.Node.Transport;

/// <summary>
/// The peer transport of one server: a <see cref="PeerListener"/> that receives batches of frames and a
/// <see cref="PeerLink"/> per peer that sends them, sharing this server's <see cref="PeriodCertificates"/>
/// and one <see cref="IPeerPinning"/>. Frames are opaque (sealed envelopes): the transport authenticates
/// the peer by its pinned TLS certificate, bounds sizes, batches, retries and reports reachability;
/// what a frame means, and whether its signature holds, is the node's business.
/// </summary>
/// <remarks>
/// Typical life: construct; <see cref="AddPeer"/> for every other server of C; install and switch to a
/// certificate; <see cref="StartAsync"/>; <see cref="Send"/> from the driver; around each period switch
/// update the pins and certificates (docs/NODE.md "Peer transport", "Certificates and periods");
/// <see cref="DisposeAsync"/> at shutdown.
/// </remarks>
public sealed class PeerTransport : IAsyncDisposable
{
    private readonly PeerTransportOptions _options;
    private readonly PeriodCertificates _certificates;
    private readonly IPeerPinning _pinning;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _linkLogger;
    private readonly PeerListener _listener;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, PeerLink> _links = [];
    private bool _started;
    private bool _disposed;

    /// <param name="options">Endpoint, limits, batching and retry settings; validated here.</param>
    /// <param name="certificates">This server's TLS certificates by period.</param>
    /// <param name="pinning">The accepted certificates of every peer (from C, then from the KeyTables).</param>
    /// <param name="sink">Where received frames go.</param>
    /// <param name="loggerFactory">Logs; none when null.</param>
    /// <param name="timeProvider">Clock for batching delays, backoff and reachability times.</param>
    public PeerTransport(
        PeerTransportOptions options,
        PeriodCertificates certificates,
        IPeerPinning pinning,
        PeerFrameSink sink,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(certificates);
        ArgumentNullException.ThrowIfNull(pinning);
        ArgumentNullException.ThrowIfNull(sink);
        options.Validate();
        loggerFactory ??= NullLoggerFactory.Instance;
        _options = options;
        _certificates = certificates;
        _pinning = pinning;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _linkLogger = loggerFactory.CreateLogger<PeerTransport>();
        _listener = new PeerListener(options, certificates, pinning, sink, loggerFactory)
        {
            BatchAccepted = OnBatchAccepted,
        };
    }

    /// <summary>This server.</summary>
    public int ServerId => _certificates.ServerId;

    /// <summary>The endpoint the listener bound (the real port when the options asked for port 0).</summary>
    /// <exception cref="InvalidOperationException">Not started.</exception>
    public IPEndPoint BoundEndpoint => _listener.BoundEndpoint;

    /// <summary>The listener's counters.</summary>
    public PeerListenerStatistics ListenerStatistics => _listener.Statistics;

    /// <summary>The peers known, ascending.</summary>
    public IReadOnlyList<int> Peers
    {
        get
        {
            lock (_gate)
            {
                return [.. _links.Keys.Order()];
            }
        }
    }

    /// <summary>Adds a peer and its listener's base address (<c>https://host:port/</c>); its link starts at once when the transport runs.</summary>
    /// <exception cref="ArgumentException">The id is this server's, already added, or outside 1..255; the address is not an absolute https URI.</exception>
    public void AddPeer(int peerId, Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfLessThan(peerId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(peerId, 255);
        if (peerId == ServerId)
        {
            throw new ArgumentException("A server is not its own peer.", nameof(peerId));
        }

        if (!endpoint.IsAbsoluteUri || endpoint.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException("A peer endpoint is an absolute https URI.", nameof(endpoint));
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_links.ContainsKey(peerId))
            {
                throw new ArgumentException($"Peer {peerId} is already known.", nameof(peerId));
            }

            var link = new PeerLink(peerId, endpoint, _options, _certificates, _pinning, _timeProvider, _linkLogger);
            _links.Add(peerId, link);
            if (_started)
            {
                link.Start();
            }
        }
    }

    /// <summary>Starts the listener, then the links.</summary>
    /// <exception cref="InvalidOperationException">Already started, or no certificate is current.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started)
            {
                throw new InvalidOperationException("The transport has already started.");
            }
        }

        await _listener.StartAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _started = true;
            foreach (var link in _links.Values)
            {
                link.Start();
            }
        }
    }

    /// <summary>
    /// Queues <paramref name="frame"/> for <paramref name="peerId"/> and returns at once. The transport
    /// keeps a reference: do not change the bytes afterwards. Frames queued before <see cref="StartAsync"/>
    /// are sent once it runs.
    /// </summary>
    /// <returns>False when the transport is shutting down (the frame is not sent).</returns>
    /// <exception cref="ArgumentException">Unknown peer, or the frame is empty or over <see cref="PeerTransportOptions.MaxFrameBytes"/>.</exception>
    public bool Send(int peerId, ReadOnlyMemory<byte> frame)
    {
        if (frame.IsEmpty || frame.Length > _options.MaxFrameBytes)
        {
            throw new ArgumentException($"A frame is 1..{_options.MaxFrameBytes} bytes; this one is {frame.Length}.", nameof(frame));
        }

        PeerLink? link;
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            if (!_links.TryGetValue(peerId, out link))
            {
                throw new ArgumentException($"Peer {peerId} is not known.", nameof(peerId));
            }
        }

        return link.Enqueue(frame);
    }

    /// <summary>Queues the same frame for every peer (see <see cref="Send"/>).</summary>
    /// <returns>False when the transport is shutting down.</returns>
    public bool SendToAll(ReadOnlyMemory<byte> frame)
    {
        var all = true;
        foreach (var peer in Peers)
        {
            all &= Send(peer, frame);
        }

        return all;
    }

    /// <summary>Per-peer reachability and queue state, ascending by peer id.</summary>
    public IReadOnlyList<PeerReachability> Reachability()
    {
        List<PeerLink> links;
        lock (_gate)
        {
            links = [.. _links.Values];
        }

        return [.. links.Select(l => l.Snapshot()).OrderBy(r => r.PeerId)];
    }

    /// <summary>Stops the links (frames still queued are dropped; the protocols retransmit) and then the listener.</summary>
    public async ValueTask DisposeAsync()
    {
        List<PeerLink> links;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            links = [.. _links.Values];
        }

        foreach (var link in links)
        {
            await link.DisposeAsync().ConfigureAwait(false);
        }

        await _listener.DisposeAsync().ConfigureAwait(false);
    }

    private void OnBatchAccepted(int senderId)
    {
        PeerLink? link;
        lock (_gate)
        {
            _links.TryGetValue(senderId, out link);
        }

        link?.PeerHeard();
    }
}
