// References: docs/BRIEF.md section 4 ("Peer transport": HTTP/2 over TLS on Kestrel, certificates
// pinned by fingerprint); RFC 9113 (HTTP/2), RFC 8446 section 4.3.2 (client certificate request),
// RFC 7301 (ALPN "h2"); docs/NODE.md "Peer transport".
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging.Abstractions;

namespace Proactive.Node.Transport;

/// <summary>
/// Where the listener hands each received frame, in order, with the sender id the pinned client
/// certificate proved. The transport answers the request only after every frame of the batch was
/// handed over, so awaiting here is the back-pressure on peers.
/// </summary>
/// <param name="senderId">The peer whose pinned certificate carried the request (never read from the body).</param>
/// <param name="frame">One opaque frame (a sealed envelope), owned by the receiver from now on.</param>
/// <param name="cancellationToken">Cancelled when the listener stops.</param>
public delegate ValueTask PeerFrameSink(int senderId, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken);

/// <summary>Counters of the listener since it started, for metrics and the status page.</summary>
/// <param name="BatchesAccepted">Requests answered 204.</param>
/// <param name="FramesAccepted">Frames handed to the sink.</param>
/// <param name="HandshakesRefused">TLS handshakes refused: no client certificate, or one not pinned for the id it claims.</param>
/// <param name="RequestsUnpinned">Requests answered 403: the connection's certificate is no longer pinned.</param>
/// <param name="RequestsTooLarge">Requests answered 413.</param>
/// <param name="RequestsMalformed">Requests answered 400, 404 or 405.</param>
/// <param name="RequestsAborted">Requests whose body broke off (nothing delivered).</param>
public sealed record PeerListenerStatistics(
    long BatchesAccepted,
    long FramesAccepted,
    long HandshakesRefused,
    long RequestsUnpinned,
    long RequestsTooLarge,
    long RequestsMalformed,
    long RequestsAborted);

/// <summary>
/// The receiving half of the peer transport: Kestrel on one endpoint, HTTP/2 only, TLS 1.3 only, a
/// client certificate required and accepted only when <see cref="IPeerPinning"/> pins it for the id its
/// common name claims; one route, <c>POST /peer/v1/messages</c>, whose body is a <see cref="PeerBatch"/>.
/// </summary>
/// <remarks>
/// <para>Answers: 204 when every frame was handed to the sink; 400 malformed; 403 when the connection's
/// certificate is no longer pinned (pins are re-checked on every request, so removing a pin shuts out
/// connections opened before); 404/405 for other routes; 413 over a limit; 503 while stopping. Refusals
/// carry a one-line text reason. Frames of a refused batch are never delivered: the whole body is
/// read and checked before the first frame goes to the sink.</para>
/// <para>The server certificate is chosen per handshake from <see cref="PeriodCertificates"/>: the one
/// of the period named in the client's server name (<see cref="PeerHostName"/>) when held, else the
/// current one. Session resumption is off, so every connection is a full handshake with both pins checked.</para>
/// </remarks>
public sealed partial class PeerListener : IAsyncDisposable
{
    /// <summary>The one route.</summary>
    public const string MessagesPath = "/peer/v1/messages";

    private const string TextPlain = "text/plain; charset=utf-8";

    private readonly PeerTransportOptions _options;
    private readonly PeriodCertificates _certificates;
    private readonly IPeerPinning _pinning;
    private readonly PeerFrameSink _sink;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private IPEndPoint? _boundEndpoint;
    private long _batchesAccepted;
    private long _framesAccepted;
    private long _handshakesRefused;
    private long _requestsUnpinned;
    private long _requestsTooLarge;
    private long _requestsMalformed;
    private long _requestsAborted;
    private int _disposed;

    /// <param name="options">Endpoint and limits; validated here.</param>
    /// <param name="certificates">This server's certificates (shared with the outbound links).</param>
    /// <param name="pinning">Which client certificates are accepted for which peer.</param>
    /// <param name="sink">Where frames go.</param>
    /// <param name="loggerFactory">Logs (Kestrel's too); none when null.</param>
    public PeerListener(PeerTransportOptions options, PeriodCertificates certificates, IPeerPinning pinning, PeerFrameSink sink, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(certificates);
        ArgumentNullException.ThrowIfNull(pinning);
        ArgumentNullException.ThrowIfNull(sink);
        options.Validate();
        _options = options;
        _certificates = certificates;
        _pinning = pinning;
        _sink = sink;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<PeerListener>();
    }

    /// <summary>The endpoint actually bound (the real port when the options asked for port 0).</summary>
    /// <exception cref="InvalidOperationException">The listener has not started.</exception>
    public IPEndPoint BoundEndpoint => _boundEndpoint ?? throw new InvalidOperationException("The listener has not started.");

    /// <summary>Counters since start.</summary>
    public PeerListenerStatistics Statistics => new(
        Interlocked.Read(ref _batchesAccepted),
        Interlocked.Read(ref _framesAccepted),
        Interlocked.Read(ref _handshakesRefused),
        Interlocked.Read(ref _requestsUnpinned),
        Interlocked.Read(ref _requestsTooLarge),
        Interlocked.Read(ref _requestsMalformed),
        Interlocked.Read(ref _requestsAborted));

    /// <summary>Called with the sender id after each accepted batch (the transport uses it as a sign the peer is up).</summary>
    internal Action<int>? BatchAccepted { get; set; }

    /// <summary>Binds the endpoint and starts accepting connections.</summary>
    /// <exception cref="InvalidOperationException">Already started, or no certificate is current yet.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_app is not null)
        {
            throw new InvalidOperationException("The listener has already started.");
        }

        if (_certificates.CurrentPeriod is null)
        {
            throw new InvalidOperationException("Install a certificate and switch to its period before starting the listener.");
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(_loggerFactory);
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // The batch reader enforces the body limits with a reason; Kestrel's own limit would answer a bare 413.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(_options.ListenEndpoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.UseHttps(new TlsHandshakeCallbackOptions
                {
                    OnConnection = context => ValueTask.FromResult(ServerAuthenticationOptions(context.ClientHelloInfo.ServerName)),
                    HandshakeTimeout = _options.HandshakeTimeout,
                });
            });
        });

        var app = builder.Build();
        app.Run(HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Binding failed (port in use, address not local): release what the host built.
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _app = app;
        _boundEndpoint = ReadBoundEndpoint(app);
        LogListening(_logger, _boundEndpoint);
    }

    /// <summary>Stops accepting, cancels deliveries in progress, and releases the port.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_app is { } app)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await app.StopAsync(deadline.Token).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private static IPEndPoint ReadBoundEndpoint(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var uri = new Uri(addresses.Single());
        return new IPEndPoint(IPAddress.Parse(uri.Host.Trim('[', ']')), uri.Port);
    }

    private SslServerAuthenticationOptions ServerAuthenticationOptions(string? serverName)
    {
        var requested = PeerHostName.TryParsePeriod(serverName, out var period) ? period : (ulong?)null;
        var context = _certificates.ServerContextFor(requested)
            ?? throw new AuthenticationException("This server holds no current TLS certificate.");
        return new SslServerAuthenticationOptions
        {
            ServerCertificateContext = context,
            ClientCertificateRequired = true,
            RemoteCertificateValidationCallback = ValidateClientCertificate,
            EnabledSslProtocols = SslProtocols.Tls13,
            ApplicationProtocols = [SslApplicationProtocol.Http2],
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            AllowTlsResume = false,
        };
    }

    // Chain errors are expected (self-signed) and ignored: the pin is the whole check.
    private bool ValidateClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is not null && TryAuthenticate(certificate, out _))
        {
            return true;
        }

        Interlocked.Increment(ref _handshakesRefused);
        LogHandshakeRefused(_logger, certificate is null ? "no client certificate" : DescribeCertificate(certificate));
        return false;
    }

    private bool TryAuthenticate(X509Certificate certificate, out int peerId) =>
        PeerCertificate.TryReadServerId(certificate, out peerId) &&
        _pinning.IsPinned(peerId, PeerCertificate.ComputeFingerprint(certificate));

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var certificate = context.Connection.ClientCertificate;
        if (certificate is null || !TryAuthenticate(certificate, out var senderId))
        {
            Interlocked.Increment(ref _requestsUnpinned);
            LogRequestUnpinned(_logger, certificate is null ? "no client certificate" : DescribeCertificate(certificate));
            await RefuseAsync(context, StatusCodes.Status403Forbidden, "the client certificate is not pinned").ConfigureAwait(false);
            return;
        }

        if (!string.Equals(request.Path.Value, MessagesPath, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _requestsMalformed);
            await RefuseAsync(context, StatusCodes.Status404NotFound, "the only route is POST " + MessagesPath).ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            Interlocked.Increment(ref _requestsMalformed);
            context.Response.Headers.Allow = HttpMethods.Post;
            await RefuseAsync(context, StatusCodes.Status405MethodNotAllowed, "the only method is POST").ConfigureAwait(false);
            return;
        }

        if (request.ContentLength is { } announced && announced > _options.MaxBatchBytes)
        {
            Interlocked.Increment(ref _requestsTooLarge);
            var reason = $"the body of {announced} bytes exceeds the limit of {_options.MaxBatchBytes}";
            LogBatchRefused(_logger, senderId, StatusCodes.Status413PayloadTooLarge, reason);
            await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, reason).ConfigureAwait(false);
            return;
        }

        PeerBatchReadResult batch;
        try
        {
            batch = await PeerBatch.ReadAsync(request.BodyReader, _options.BatchLimits, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or Microsoft.AspNetCore.Http.BadHttpRequestException)
        {
            Interlocked.Increment(ref _requestsAborted);
            LogBodyAborted(_logger, senderId, e.Message);
            return;
        }

        if (batch.Status != PeerBatchStatus.Accepted)
        {
            var status = batch.Status == PeerBatchStatus.TooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest;
            Interlocked.Increment(ref status == StatusCodes.Status413PayloadTooLarge ? ref _requestsTooLarge : ref _requestsMalformed);
            LogBatchRefused(_logger, senderId, status, batch.Reason!);
            await RefuseAsync(context, status, batch.Reason!).ConfigureAwait(false);
            return;
        }

        try
        {
            foreach (var frame in batch.Frames)
            {
                await _sink(senderId, frame, _stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "the server is stopping").ConfigureAwait(false);
            return;
        }

        Interlocked.Increment(ref _batchesAccepted);
        Interlocked.Add(ref _framesAccepted, batch.Frames.Count);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        BatchAccepted?.Invoke(senderId);
    }

    private static async Task RefuseAsync(HttpContext context, int status, string reason)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = TextPlain;
        await context.Response.WriteAsync(reason, context.RequestAborted).ConfigureAwait(false);
    }

    private static string DescribeCertificate(X509Certificate certificate) =>
        $"'{certificate.Subject}' tls:{Convert.ToHexStringLower(PeerCertificate.ComputeFingerprint(certificate))}";

    [LoggerMessage(Level = LogLevel.Information, Message = "Peer transport listening on {Endpoint}")]
    private static partial void LogListening(ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer TLS handshake refused: {Certificate} is not pinned for the server it names")]
    private static partial void LogHandshakeRefused(ILogger logger, string certificate);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer request refused (403): {Certificate} is no longer pinned")]
    private static partial void LogRequestUnpinned(ILogger logger, string certificate);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer batch from server {Sender} refused ({Status}): {Reason}")]
    private static partial void LogBatchRefused(ILogger logger, int sender, int status, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Peer batch from server {Sender} broke off: {Reason}")]
    private static partial void LogBodyAborted(ILogger logger, int sender, string reason);
}
