// References: docs/BRIEF.md section 4 ("Alerts": optionally posted to a webhook); docs/API.md
// "Webhook"; RFC 9110 section 15 (which status codes are worth retrying).
using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;

namespace Proactive.Node.Api;

/// <summary>Where and how <see cref="AlertWebhook"/> posts alerts. To add a setting: a property with its default here, a check in <see cref="Validate"/>.</summary>
public sealed class AlertWebhookOptions
{
    /// <summary>The absolute http or https URL each alert is posted to.</summary>
    public Uri? Url { get; set; }

    /// <summary>Alerts waiting to be posted; when full, the oldest is dropped (and counted) for the newest.</summary>
    public int Capacity { get; set; } = 1000;

    /// <summary>How long one post may take, connection included.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Posts per alert before it is given up (1 means no retry).</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>The wait before the first retry; it doubles at each further one.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two attempts.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        if (Url is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The webhook URL must be an absolute http or https URL (got '{Url}').", nameof(Url));
        }

        if (Capacity < 1)
        {
            throw new ArgumentException($"{nameof(Capacity)} must be at least 1 (got {Capacity}).", nameof(Capacity));
        }

        if (MaxAttempts < 1)
        {
            throw new ArgumentException($"{nameof(MaxAttempts)} must be at least 1 (got {MaxAttempts}).", nameof(MaxAttempts));
        }

        if (Timeout <= TimeSpan.Zero || InitialBackoff <= TimeSpan.Zero || MaxBackoff < InitialBackoff)
        {
            throw new ArgumentException($"{nameof(Timeout)} and {nameof(InitialBackoff)} must be positive and {nameof(MaxBackoff)} at least {nameof(InitialBackoff)}.", nameof(Timeout));
        }
    }
}

/// <summary>Counters of a webhook since it started.</summary>
/// <param name="Delivered">Alerts the receiver accepted (2xx).</param>
/// <param name="Dropped">Alerts dropped unsent because the queue was full (the oldest go first).</param>
/// <param name="Failed">Alerts given up: refused for good (4xx other than 408 and 429) or still failing after the last attempt.</param>
/// <param name="Retries">Attempts after a first one that failed.</param>
/// <param name="Queued">Alerts waiting now.</param>
public sealed record AlertWebhookStatistics(long Delivered, long Dropped, long Failed, long Retries, int Queued);

/// <summary>
/// Posts each alert it is given as JSON (the <see cref="StoredAlert"/> body of the API) to one URL,
/// in the background and in order, so that an operator's monitoring hears of a detection at once.
/// <see cref="Post"/> never blocks and never throws: the node's loop calls it (directly or through
/// <see cref="AlertLog.Recorded"/>), and a slow or dead receiver must not slow the protocol.
/// </summary>
/// <remarks>
/// The alert log is the record; the webhook is a notification. Alerts dropped from a full queue, given
/// up after <see cref="AlertWebhookOptions.MaxAttempts"/>, or still queued at dispose are counted and
/// logged, and remain in the log (<c>GET /v1/alerts</c>). Redirects are not followed: a redirect could
/// send the alerts somewhere the operator did not configure.
/// </remarks>
public sealed partial class AlertWebhook : IAsyncDisposable
{
    private readonly AlertWebhookOptions _options;
    private readonly Uri _url;
    private readonly ILogger _logger;
    private readonly HttpClient _client;
    private readonly Channel<StoredAlert> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;
    private long _delivered;
    private long _dropped;
    private long _failed;
    private long _retries;
    private int _disposed;

    /// <param name="options">The URL and limits; validated here (and copied: later changes have no effect).</param>
    /// <param name="loggerFactory">Logs of failed deliveries; none when null.</param>
    public AlertWebhook(AlertWebhookOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = new AlertWebhookOptions
        {
            Url = options.Url,
            Capacity = options.Capacity,
            Timeout = options.Timeout,
            MaxAttempts = options.MaxAttempts,
            InitialBackoff = options.InitialBackoff,
            MaxBackoff = options.MaxBackoff,
        };
        _url = _options.Url!;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<AlertWebhook>();
        _client = new HttpClient(
            new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                ConnectTimeout = _options.Timeout,
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            },
            disposeHandler: true)
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan, // each post has its own deadline
        };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd($"proactive-node/{NodeAssembly.Version}");
        _queue = Channel.CreateBounded<StoredAlert>(
            new BoundedChannelOptions(_options.Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
        _worker = Task.Run(RunAsync);
    }

    /// <summary>Counters since start.</summary>
    public AlertWebhookStatistics Statistics => new(
        Interlocked.Read(ref _delivered),
        Interlocked.Read(ref _dropped),
        Interlocked.Read(ref _failed),
        Interlocked.Read(ref _retries),
        _queue.Reader.Count);

    /// <summary>Test hook: called once per alert when its delivery is settled (true delivered, false given up).</summary>
    internal Action<StoredAlert, bool>? Settled { get; set; }

    /// <summary>
    /// Queues <paramref name="alert"/> for posting and returns at once; when the queue is full the
    /// oldest queued alert is dropped. False only after dispose.
    /// </summary>
    public bool Post(StoredAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return _queue.Writer.TryWrite(alert);
    }

    /// <summary>Stops posting: the post in progress is cancelled and queued alerts are not sent (they are in the log).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        await _worker.ConfigureAwait(false);
        var unsent = _queue.Reader.Count;
        if (unsent > 0)
        {
            LogUnsentAtStop(_logger, unsent, _url.Host);
        }

        _client.Dispose();
        _stop.Dispose();
    }

    /// <summary>RFC 9110: 408 and 429 say "try again later"; 5xx is the receiver's trouble; any other 4xx will not change.</summary>
    internal static bool IsWorthRetrying(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private async Task RunAsync()
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (_queue.Reader.TryRead(out var alert))
                {
                    var delivered = await DeliverAsync(alert).ConfigureAwait(false);
                    Interlocked.Increment(ref delivered ? ref _delivered : ref _failed);
                    Settled?.Invoke(alert, delivered);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task<bool> DeliverAsync(StoredAlert alert)
    {
        var backoff = _options.InitialBackoff;
        for (var attempt = 1; ; attempt++)
        {
            string reason;
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                deadline.CancelAfter(_options.Timeout);
                try
                {
                    using var content = JsonContent.Create(alert, NodeApiJsonContext.Default.StoredAlert);
                    using var response = await _client.PostAsync(_url, content, deadline.Token).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                    {
                        return true;
                    }

                    reason = $"HTTP {(int)response.StatusCode}";
                    if (!IsWorthRetrying(response.StatusCode))
                    {
                        LogRefused(_logger, alert.Id, _url.Host, reason);
                        return false;
                    }
                }
                catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
                {
                    reason = $"no answer within {_options.Timeout.TotalSeconds:0.###} s";
                }
                catch (HttpRequestException e)
                {
                    reason = e.Message;
                }
            }

            if (attempt >= _options.MaxAttempts)
            {
                LogGaveUp(_logger, alert.Id, _url.Host, attempt, reason);
                return false;
            }

            LogRetrying(_logger, alert.Id, _url.Host, attempt, reason);
            Interlocked.Increment(ref _retries);
            await Task.Delay(backoff, _stop.Token).ConfigureAwait(false);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Alert {Id}: webhook at {Host} failed attempt {Attempt} ({Reason}); retrying")]
    private static partial void LogRetrying(ILogger logger, long id, string host, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Id}: webhook at {Host} still failing after {Attempts} attempts ({Reason}); given up (the alert stays in the log)")]
    private static partial void LogGaveUp(ILogger logger, long id, string host, int attempts, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Id}: webhook at {Host} refused it ({Reason}); not retried (the alert stays in the log)")]
    private static partial void LogRefused(ILogger logger, long id, string host, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} alerts not posted to the webhook at {Host} before it stopped (they stay in the log)")]
    private static partial void LogUnsentAtStop(ILogger logger, int count, string host);
}
