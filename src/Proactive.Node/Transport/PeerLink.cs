// References: docs/BRIEF.md section 4 ("Peer transport": HttpClient on the other side, batching and
// retries with backoff); RFC 9113 (HTTP/2); AWS Architecture Blog "Exponential Backoff And Jitter"
// (2015, the "equal jitter" variant); docs/NODE.md "Peer transport", "Sending".
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;

namespace Proactive.Node.Transport;

/// <summary>
/// The sending half of the transport towards one peer: a bounded FIFO queue of frames, one loop that
/// coalesces them into batches and posts one batch at a time over one HTTP/2 connection (mutual TLS,
/// the peer's certificate checked against its pins), and retries with backoff when the peer is down.
/// </summary>
/// <remarks>
/// <para>Delivery is at least once and in order while the peer is reachable: a batch whose answer is lost
/// is sent again (the protocols' replay guard drops the copy); frames dropped for a full queue or
/// refused with 400/413 are lost (counted), and the protocols retransmit what matters.</para>
/// <para>Thread-safe: any thread may queue frames while the loop sends.</para>
/// </remarks>
internal sealed partial class PeerLink : IAsyncDisposable
{
    private const int MaxReasonLength = 300;

    private readonly PeerTransportOptions _options;
    private readonly PeriodCertificates _certificates;
    private readonly IPeerPinning _pinning;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Uri _messagesUri;
    private readonly HttpClient _client;
    private readonly Lock _gate = new();
    private readonly LinkedList<ReadOnlyMemory<byte>> _queue = new();
    private readonly Channel<bool> _wake = Signal();
    private readonly Channel<bool> _nudge = Signal();
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private long _queuedBytes;
    private int _inFlightFrames;
    private long _inFlightBytes;
    private DateTimeOffset? _lastSuccess;
    private DateTimeOffset? _lastReceived;
    private DateTimeOffset? _lastFailure;
    private string? _lastError;
    private int _consecutiveFailures;
    private long _framesSent;
    private long _batchesSent;
    private long _framesDropped;
    private long _framesRejected;
    private bool _stopped;

    public PeerLink(int peerId, Uri endpoint, PeerTransportOptions options, PeriodCertificates certificates, IPeerPinning pinning, TimeProvider timeProvider, ILogger logger)
    {
        PeerId = peerId;
        Endpoint = endpoint;
        _options = options;
        _certificates = certificates;
        _pinning = pinning;
        _timeProvider = timeProvider;
        _logger = logger;
        _messagesUri = new Uri(endpoint, PeerListener.MessagesPath);
        _client = new HttpClient(CreateHandler(), disposeHandler: true)
        {
            Timeout = options.RequestTimeout,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    public int PeerId { get; }

    public Uri Endpoint { get; }

    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>Queues a frame; false when the link has stopped. Over the bounds, the oldest frames are dropped.</summary>
    public bool Enqueue(ReadOnlyMemory<byte> frame)
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return false;
            }

            _queue.AddLast(frame);
            _queuedBytes += frame.Length;
            DropOldestOverBounds();
        }

        _wake.Writer.TryWrite(true);
        return true;
    }

    /// <summary>The peer just delivered a batch to our listener: it is up, so a link waiting out a backoff retries now.</summary>
    public void PeerHeard()
    {
        lock (_gate)
        {
            _lastReceived = _timeProvider.GetUtcNow();
        }

        _nudge.Writer.TryWrite(true);
    }

    public PeerReachability Snapshot()
    {
        lock (_gate)
        {
            return new PeerReachability(
                PeerId,
                Endpoint,
                _lastSuccess is not null && _consecutiveFailures == 0,
                _lastSuccess,
                _lastReceived,
                _lastFailure,
                _lastError,
                _consecutiveFailures,
                _queue.Count + _inFlightFrames,
                _queuedBytes + _inFlightBytes,
                _framesSent,
                _batchesSent,
                _framesDropped,
                _framesRejected);
        }
    }

    /// <summary>Stops the loop (a request in flight is cancelled) and drops what is still queued.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The loop ends by cancellation.
            }
        }

        lock (_gate)
        {
            _framesDropped += _queue.Count + _inFlightFrames;
            _queue.Clear();
            _queuedBytes = 0;
            _inFlightFrames = 0;
            _inFlightBytes = 0;
        }

        _client.Dispose();
        _stop.Dispose();
    }

    private static Channel<bool> Signal() =>
        Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    private SocketsHttpHandler CreateHandler() => new()
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = _options.ConnectTimeout,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        KeepAlivePingDelay = TimeSpan.FromSeconds(15),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
        SslOptions = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            AllowTlsResume = false,
            RemoteCertificateValidationCallback = ValidateServerCertificate,
            LocalCertificateSelectionCallback = SelectClientCertificate,
        },
    };

    // Chain errors are expected (self-signed) and ignored: the pin for the peer we dialled is the whole check.
    private bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is not null &&
            PeerCertificate.TryReadServerId(certificate, out var named) && named == PeerId &&
            _pinning.IsPinned(PeerId, PeerCertificate.ComputeFingerprint(certificate)))
        {
            return true;
        }

        LogServerCertificateRefused(_logger, PeerId, certificate is null ? "none" : Convert.ToHexStringLower(PeerCertificate.ComputeFingerprint(certificate)));
        return false;
    }

    // The request's server name carries the period this side is in (PeerHostName); present that period's certificate.
    private X509Certificate2 SelectClientCertificate(object sender, string targetHost, X509CertificateCollection localCertificates, X509Certificate? remoteCertificate, string[] acceptableIssuers) =>
        _certificates.ClientCertificateFor(PeerHostName.TryParsePeriod(targetHost, out var period) ? period : null)!;

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (QueuedBytes() is not { } queued)
            {
                await _wake.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (queued < _options.BatchTargetBytes && _options.BatchDelay > TimeSpan.Zero)
            {
                await Task.Delay(_options.BatchDelay, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            else if (queued < _options.BatchTargetBytes)
            {
                // Let the node's loop finish queuing the step it is in: its frames to this peer leave together.
                await Task.Yield();
            }

            var batch = TakeBatch();
            if (batch.Count == 0)
            {
                continue;
            }

            var outcome = await SendAsync(batch, cancellationToken).ConfigureAwait(false);
            if (outcome.Kind == OutcomeKind.Failed)
            {
                var failures = RecordFailure(batch, outcome.Reason);
                await BackoffAsync(failures, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                RecordContact(batch, outcome);
            }
        }
    }

    private long? QueuedBytes()
    {
        lock (_gate)
        {
            return _queue.Count == 0 ? null : _queuedBytes;
        }
    }

    private List<ReadOnlyMemory<byte>> TakeBatch()
    {
        var batch = new List<ReadOnlyMemory<byte>>();
        lock (_gate)
        {
            var size = (long)PeerBatch.HeaderLength;
            while (_queue.First is { } first && batch.Count < _options.MaxFramesPerBatch)
            {
                var frameSize = PeerBatch.FramePrefixLength + first.Value.Length;
                if (batch.Count > 0 && size + frameSize > _options.BatchTargetBytes)
                {
                    break;
                }

                batch.Add(first.Value);
                size += frameSize;
                _queuedBytes -= first.Value.Length;
                _queue.RemoveFirst();
            }

            _inFlightFrames = batch.Count;
            _inFlightBytes = size - PeerBatch.HeaderLength - (PeerBatch.FramePrefixLength * batch.Count);
        }

        return batch;
    }

    private async Task<Outcome> SendAsync(List<ReadOnlyMemory<byte>> batch, CancellationToken cancellationToken)
    {
        if (_certificates.CurrentPeriod is not { } period)
        {
            return Outcome.Failed("this server holds no current TLS certificate");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, _messagesUri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new PeerBatchContent(batch),
        };

        // The TLS server name (taken from Host) tells the peer which period's certificate we expect,
        // and keys the connection pool, so a period switch opens connections with the new certificates.
        request.Headers.Host = PeerHostName.Format(PeerId, period);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return Outcome.Delivered;
            }

            var reason = $"{(int)response.StatusCode}: {await ReadReasonAsync(response, cancellationToken).ConfigureAwait(false)}";
            return response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge
                ? Outcome.Rejected(reason)
                : Outcome.Failed(reason);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or AuthenticationException)
        {
            return Outcome.Failed(Describe(e));
        }
    }

    private static async Task<string> ReadReasonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        text = text.ReplaceLineEndings(" ").Trim();
        return text.Length <= MaxReasonLength ? text : text[..MaxReasonLength];
    }

    private static string Describe(Exception e)
    {
        var message = e is OperationCanceledException ? "request timed out" : e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            message += " <- " + inner.Message;
        }

        return message.Length <= MaxReasonLength ? message : message[..MaxReasonLength];
    }

    private void DropOldestOverBounds()
    {
        while (_queue.First is { } oldest && (_queue.Count > _options.MaxQueuedFramesPerPeer || _queuedBytes > _options.MaxQueuedBytesPerPeer))
        {
            _queuedBytes -= oldest.Value.Length;
            _queue.RemoveFirst();
            _framesDropped++;
        }
    }

    private int RecordFailure(List<ReadOnlyMemory<byte>> batch, string reason)
    {
        int failures;
        lock (_gate)
        {
            // Back at the head, in order; if the queue grew meanwhile, these are the oldest and go first.
            _inFlightFrames = 0;
            _inFlightBytes = 0;
            for (var i = batch.Count - 1; i >= 0; i--)
            {
                _queue.AddFirst(batch[i]);
                _queuedBytes += batch[i].Length;
            }

            DropOldestOverBounds();
            _lastFailure = _timeProvider.GetUtcNow();
            _lastError = reason;
            failures = ++_consecutiveFailures;
        }

        if (failures == 1)
        {
            LogPeerUnreachable(_logger, PeerId, reason);
        }
        else
        {
            LogRetryFailed(_logger, PeerId, failures, reason);
        }

        return failures;
    }

    private void RecordContact(List<ReadOnlyMemory<byte>> batch, Outcome outcome)
    {
        int previousFailures;
        lock (_gate)
        {
            previousFailures = _consecutiveFailures;
            _consecutiveFailures = 0;
            _inFlightFrames = 0;
            _inFlightBytes = 0;
            _lastSuccess = _timeProvider.GetUtcNow();
            if (outcome.Kind == OutcomeKind.Delivered)
            {
                _framesSent += batch.Count;
                _batchesSent++;
            }
            else
            {
                _framesRejected += batch.Count;
            }
        }

        if (outcome.Kind == OutcomeKind.Rejected)
        {
            LogBatchRejected(_logger, PeerId, batch.Count, outcome.Reason);
        }

        if (previousFailures > 0)
        {
            LogPeerReachable(_logger, PeerId, previousFailures);
        }
    }

    /// <summary>
    /// Waits InitialBackoff * 2^(failures-1), capped at MaxBackoff, with equal jitter (half fixed, half
    /// random). After the first InitialBackoff, <see cref="PeerHeard"/> ends the wait early.
    /// </summary>
    private async Task BackoffAsync(int failures, CancellationToken cancellationToken)
    {
        var ceiling = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30)));
        var delay = TimeSpan.FromMilliseconds((ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2));

        // Signs of life from before this failure say nothing about the retry.
        while (_nudge.Reader.TryRead(out _))
        {
        }

        var floor = delay < _options.InitialBackoff ? delay : _options.InitialBackoff;
        await Task.Delay(floor, _timeProvider, cancellationToken).ConfigureAwait(false);
        var rest = delay - floor;
        if (rest <= TimeSpan.Zero)
        {
            return;
        }

        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timer = Task.Delay(rest, _timeProvider, waiting.Token);
        var nudged = _nudge.Reader.ReadAsync(waiting.Token).AsTask();
        await Task.WhenAny(timer, nudged).ConfigureAwait(false);
        await waiting.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private enum OutcomeKind
    {
        Delivered,
        Rejected,
        Failed,
    }

    private readonly record struct Outcome(OutcomeKind Kind, string Reason)
    {
        public static Outcome Delivered => new(OutcomeKind.Delivered, "");

        public static Outcome Rejected(string reason) => new(OutcomeKind.Rejected, reason);

        public static Outcome Failed(string reason) => new(OutcomeKind.Failed, reason);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer {Peer} unreachable: {Reason}")]
    private static partial void LogPeerUnreachable(ILogger logger, int peer, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Peer {Peer} still unreachable after {Failures} attempts: {Reason}")]
    private static partial void LogRetryFailed(ILogger logger, int peer, int failures, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Peer {Peer} reachable again after {Failures} failed attempts")]
    private static partial void LogPeerReachable(ILogger logger, int peer, int failures);

    [LoggerMessage(Level = LogLevel.Error, Message = "Peer {Peer} refused a batch of {Frames} frames for good ({Reason}); they are dropped")]
    private static partial void LogBatchRejected(ILogger logger, int peer, int frames, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS certificate of peer {Peer} refused: {Fingerprint} is not pinned for it")]
    private static partial void LogServerCertificateRefused(ILogger logger, int peer, string fingerprint);
}
