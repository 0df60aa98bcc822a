// References: docs/BRIEF.md section 4 ("Application API": HTTP/JSON on a separate port, loopback by
// default, RFC 7807 problem+json errors; "Observability": health endpoint); RFC 9457 (obsoletes RFC
// 7807, same members); docs/API.md (the contract this file serves).
using System.Globalization;
using System.Net;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Api;

/// <summary>
/// The node's application API, read-only for now: <c>GET /v1/status</c>, <c>GET /v1/alerts</c> and
/// <c>GET /v1/health</c> on Kestrel (HTTP/1.1), with every error an RFC 7807 problem detail. See
/// docs/API.md for the bodies.
/// </summary>
/// <remarks>
/// Plain HTTP without client authentication: bind it to loopback (the default the node uses) until
/// the API gains client authentication; nothing it serves is secret, but the alert evidence and the
/// peer list are not for everyone. No route takes a body, so a request with one is refused (413), and
/// the header limits are small.
/// </remarks>
public sealed partial class NodeApi : IAsyncDisposable
{
    /// <summary>The status route.</summary>
    public const string StatusPath = "/v1/status";

    /// <summary>The alerts route.</summary>
    public const string AlertsPath = "/v1/alerts";

    /// <summary>The health route.</summary>
    public const string HealthPath = "/v1/health";

    /// <summary>Alerts per page when the request gives no <c>limit</c>.</summary>
    public const int DefaultAlertLimit = 100;

    /// <summary>The media type of every error.</summary>
    public const string ProblemJson = "application/problem+json";

    private const string ProblemPrefix = "urn:proactive:problem:";

    private static readonly string[] QueryParameters = ["after", "limit", "type", "period"];
    private static readonly Dictionary<string, AlertType> AlertTypesByName =
        Enum.GetValues<AlertType>().ToDictionary(type => type.ToString(), StringComparer.OrdinalIgnoreCase);

    private readonly IPEndPoint _listenEndpoint;
    private readonly Func<NodeStatus> _status;
    private readonly AlertLog _alerts;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly IApplicationGateway? _gateway;
    private readonly IApplicationDirectory? _directory;
    private WebApplication? _app;
    private IPEndPoint? _boundEndpoint;
    private int _disposed;

    /// <param name="listenEndpoint">Where to listen; port 0 picks a free port (<see cref="BoundEndpoint"/>).</param>
    /// <param name="status">Builds the current status; called on a request thread for every status and health request, so it must be thread-safe and quick.</param>
    /// <param name="alerts">The alert log to serve (not owned: the caller disposes it after this API).</param>
    /// <param name="loggerFactory">Logs (Kestrel's too); none when null.</param>
    /// <param name="gateway">The node's application side; null serves the read-only routes only.</param>
    /// <param name="directory">The registered application instances (with <paramref name="gateway"/>).</param>
    public NodeApi(IPEndPoint listenEndpoint, Func<NodeStatus> status, AlertLog alerts, ILoggerFactory? loggerFactory = null, IApplicationGateway? gateway = null, IApplicationDirectory? directory = null)
    {
        _gateway = gateway;
        _directory = directory;
        ArgumentNullException.ThrowIfNull(listenEndpoint);
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(alerts);
        _listenEndpoint = listenEndpoint;
        _status = status;
        _alerts = alerts;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<NodeApi>();
    }

    /// <summary>The endpoint actually bound (the real port when port 0 was asked for).</summary>
    /// <exception cref="InvalidOperationException">The API has not started.</exception>
    public IPEndPoint BoundEndpoint => _boundEndpoint ?? throw new InvalidOperationException("The API has not started.");

    /// <summary>The base address of the bound endpoint, e.g. <c>http://127.0.0.1:7101/</c>.</summary>
    public Uri BaseAddress => new($"http://{BoundEndpoint}/");

    /// <summary>Binds the endpoint and starts serving.</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    /// <exception cref="IOException">The endpoint could not be bound (the port is taken).</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_app is not null)
        {
            throw new InvalidOperationException("The API has already started.");
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(_loggerFactory);
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 0; // no route takes a body
            kestrel.Limits.MaxRequestLineSize = 2 * 1024;
            kestrel.Limits.MaxRequestHeadersTotalSize = 8 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 32;
            kestrel.Limits.MaxConcurrentConnections = 64;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Listen(_listenEndpoint, listen => listen.Protocols = HttpProtocols.Http1);
        });

        var app = builder.Build();
        app.Use(GuardAsync);
        app.MapGet(StatusPath, new RequestDelegate(ServeStatusAsync));
        app.MapGet(AlertsPath, new RequestDelegate(ServeAlertsAsync));
        app.MapGet(HealthPath, new RequestDelegate(ServeHealthAsync));
        if (_gateway is not null && _directory is not null)
        {
            ApplicationRoutes.Map(app, _gateway, _directory);
        }

        app.MapFallback(new RequestDelegate(ServeNotFoundAsync));
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _app = app;
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var uri = new Uri(addresses.Single());
        _boundEndpoint = new IPEndPoint(IPAddress.Parse(uri.Host.Trim('[', ']')), uri.Port);
        if (IPAddress.IsLoopback(_boundEndpoint.Address))
        {
            LogListening(_logger, _boundEndpoint);
        }
        else
        {
            LogListeningExposed(_logger, _boundEndpoint);
        }
    }

    /// <summary>Stops serving and releases the port (requests in progress get up to 5 seconds).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_app is { } app)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await app.StopAsync(deadline.Token).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Parses the query of <c>GET /v1/alerts</c>: every parameter optional, none twice, none unknown
    /// (a misspelt filter would otherwise silently return everything).
    /// </summary>
    internal static bool TryParseAlertQuery(IQueryCollection query, out AlertQuery parsed, out string problem)
    {
        parsed = new AlertQuery(null, DefaultAlertLimit, null, null);
        problem = string.Empty;
        foreach (var (name, values) in query)
        {
            if (!QueryParameters.Contains(name, StringComparer.Ordinal))
            {
                problem = $"Unknown query parameter '{name}'; the parameters are {string.Join(", ", QueryParameters)}.";
                return false;
            }

            if (values.Count != 1)
            {
                problem = $"The query parameter '{name}' is given {values.Count} times; give it once.";
                return false;
            }
        }

        if (query.TryGetValue("after", out var after))
        {
            if (!long.TryParse(after[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                problem = $"'after' must be an alert id: a whole number from 0 to {long.MaxValue} (got '{after[0]}').";
                return false;
            }

            parsed = parsed with { After = value };
        }

        if (query.TryGetValue("limit", out var limit))
        {
            if (!int.TryParse(limit[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1 || value > AlertLog.MaxQueryLimit)
            {
                problem = $"'limit' must be a whole number from 1 to {AlertLog.MaxQueryLimit} (got '{limit[0]}').";
                return false;
            }

            parsed = parsed with { Limit = value };
        }

        if (query.TryGetValue("type", out var type))
        {
            if (type[0] is not { } name || !AlertTypesByName.TryGetValue(name, out var value))
            {
                problem = $"'type' must be an alert type, one of {string.Join(", ", Enum.GetNames<AlertType>())} (got '{type[0]}').";
                return false;
            }

            parsed = parsed with { Type = value };
        }

        if (query.TryGetValue("period", out var period))
        {
            if (!ulong.TryParse(period[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                problem = $"'period' must be a period number: a whole number from 0 to {ulong.MaxValue} (got '{period[0]}').";
                return false;
            }

            parsed = parsed with { Period = value };
        }

        return true;
    }

    private static Task WriteProblemAsync(HttpContext context, int status, string kind, string title, string detail)
    {
        var problem = new ApiProblem(ProblemPrefix + kind, title, status, detail, context.Request.Path.Value);
        context.Response.StatusCode = status;
        return WriteAsync(context, problem, NodeApiJsonContext.Default.ApiProblem, ProblemJson);
    }

    private static Task WriteAsync<T>(HttpContext context, T value, JsonTypeInfo<T> typeInfo, string contentType = "application/json")
    {
        // Status, health and alerts change all the time; no cache may serve an old copy.
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(value, typeInfo, contentType, context.RequestAborted);
    }

    private async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if ((request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0) && !(_gateway is not null && ApplicationRoutes.TakesBody(request.Path)))
        {
            await WriteProblemAsync(context, StatusCodes.Status413PayloadTooLarge, "body-not-accepted", "Request body not accepted", "This API takes no request bodies.").ConfigureAwait(false);
            return;
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            LogRequestFailed(_logger, request.Path.Value ?? string.Empty, e);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await WriteProblemAsync(context, StatusCodes.Status500InternalServerError, "internal-error", "Internal error", "The server could not answer this request; its log says why.").ConfigureAwait(false);
            }
        }
    }

    private Task ServeStatusAsync(HttpContext context)
    {
        // The log's own count, so that the status and /v1/alerts never disagree.
        var status = _status() with { AlertCount = _alerts.Count() };
        return WriteAsync(context, status, NodeApiJsonContext.Default.NodeStatus);
    }

    private Task ServeHealthAsync(HttpContext context)
    {
        var state = _status().State;
        var ok = state == NodeState.Operational;
        context.Response.StatusCode = ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        return WriteAsync(context, new HealthReport(ok, state), NodeApiJsonContext.Default.HealthReport);
    }

    private Task ServeAlertsAsync(HttpContext context)
    {
        if (!TryParseAlertQuery(context.Request.Query, out var query, out var problem))
        {
            return WriteProblemAsync(context, StatusCodes.Status400BadRequest, "invalid-query", "Invalid query", problem);
        }

        var page = _alerts.Query(query.After, query.Limit, query.Type, query.Period);
        return WriteAsync(context, page, NodeApiJsonContext.Default.AlertPage);
    }

    private Task ServeNotFoundAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        if (path.TrimEnd('/') is StatusPath or AlertsPath or HealthPath)
        {
            context.Response.Headers.Allow = HttpMethods.Get;
            return WriteProblemAsync(context, StatusCodes.Status405MethodNotAllowed, "method-not-allowed", "Method not allowed", $"{path} answers GET only.");
        }

        return WriteProblemAsync(context, StatusCodes.Status404NotFound, "not-found", "No such resource", $"There is no resource at {path}; the routes are GET {StatusPath}, {AlertsPath} and {HealthPath}.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Application API listening on http://{Endpoint}")]
    private static partial void LogListening(ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Application API listening on http://{Endpoint}, beyond loopback: plain HTTP without client authentication, anyone who can reach it can read the status and the alerts")]
    private static partial void LogListeningExposed(ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(Level = LogLevel.Error, Message = "Application API request for {Path} failed")]
    private static partial void LogRequestFailed(ILogger logger, string path, Exception exception);

    /// <summary>The parsed query of <c>GET /v1/alerts</c>.</summary>
    internal readonly record struct AlertQuery(long? After, int Limit, AlertType? Type, ulong? Period);
}
