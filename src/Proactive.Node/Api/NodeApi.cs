// References: docs/BRIEF.md section 4 ("Application API": HTTP/JSON on a separate port, loopback by
// default, RFC 7807 problem+json errors; "Observability": health endpoint); RFC 9457 (obsoletes RFC
// 7807, same members); docs/API.md (the contract this file serves).
using System.Globalization;
using System.Net;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Net.Http.Headers;
using Proactive.Node.Hosting;
using Proactive.Protocols.Application;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Api;

/// <summary>
/// The node's application API on Kestrel (HTTP/1.1): <c>GET /v1/status</c>, <c>GET /v1/alerts</c>,
/// <c>GET /v1/health</c>, the application services (<c>NodeApi.Services.cs</c>) and
/// <c>GET /openapi.json</c>, with every error an RFC 9457 problem detail with a stable <c>code</c>. See
/// docs/API.md for the bodies.
/// </summary>
/// <remarks>
/// <para>Plain HTTP: bind it to loopback (the default the node uses). Application routes are
/// authenticated per request (<see cref="RequestAuthenticator"/>); status and alerts are not, and
/// nothing they serve is secret, but the alert evidence and the peer list are not for everyone.</para>
/// <para><b>Routes</b> are declared once, in a table of <see cref="ApiRoute"/>s: the endpoints, who may
/// call each, its body limit, the 405 answers and the OpenAPI document all come from it. A route
/// without a body refuses one (413 <c>body-not-accepted</c>); a route with one reads at most its limit
/// (<see cref="DefaultMaxBodyBytes"/> unless it says less; beyond: 413 <c>payload-too-large</c>). Header
/// limits are small.</para>
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

    /// <summary>The OpenAPI document's route.</summary>
    public const string OpenApiPath = "/openapi.json";

    /// <summary>The media type of every error.</summary>
    public const string ProblemJson = ApiProblems.MediaType;

    /// <summary>
    /// The body limit of a route that takes one and says no less: 1 MiB of payload (a stored value)
    /// plus room for its JSON and hex or base64 framing.
    /// </summary>
    public const long DefaultMaxBodyBytes = (1024 * 1024) + (64 * 1024);

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
    private readonly IApplicationServices? _services;
    private readonly RequestAuthenticator? _authenticator;
    private readonly IReadOnlyList<ApiRoute> _routes;
    private readonly Lazy<byte[]> _openApi;
    private WebApplication? _app;
    private IPEndPoint? _boundEndpoint;
    private int _disposed;

    /// <param name="listenEndpoint">Where to listen; port 0 picks a free port (<see cref="BoundEndpoint"/>).</param>
    /// <param name="status">Builds the current status; called on a request thread for every status and health request, so it must be thread-safe and quick.</param>
    /// <param name="alerts">The alert log to serve (not owned: the caller disposes it after this API).</param>
    /// <param name="loggerFactory">Logs (Kestrel's too); none when null.</param>
    /// <param name="gateway">The node's application side (registration, storage, keys: <c>NodeApi.Ledger.cs</c>); null serves none of those routes.</param>
    /// <param name="directory">The registered application instances: what the authenticated routes check handles against; none: every handle is unknown (401 <c>unknown-handle</c>).</param>
    /// <param name="services">The application services (the node's); none: their routes answer 503 <c>not-operational</c>.</param>
    /// <param name="time">The clock request timestamps are checked against; the system's when null.</param>
    public NodeApi(
        IPEndPoint listenEndpoint, Func<NodeStatus> status, AlertLog alerts, ILoggerFactory? loggerFactory = null,
        IApplicationGateway? gateway = null, IApplicationDirectory? directory = null, IApplicationServices? services = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(listenEndpoint);
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(alerts);
        _listenEndpoint = listenEndpoint;
        _status = status;
        _alerts = alerts;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<NodeApi>();
        _gateway = gateway;
        _directory = directory;
        _services = services;
        // One authenticator (one replay cache) for every authenticated route: a nonce is a nonce, whatever the route.
        var network = services?.Network ?? (gateway is null ? (NetworkId?)null : NetworkId.FromBytes(Convert.FromHexString(gateway.NetworkHex)));
        _authenticator = network is { } id ? new RequestAuthenticator(id, directory, time) : null;
        _routes = [.. StatusRoutes(), .. ObservabilityRoutes(), .. ServiceRoutes(), .. (gateway is null || directory is null ? [] : LedgerRoutes())];
        _openApi = new Lazy<byte[]>(() => OpenApiDocument.Build(_routes, NodeAssembly.Version));
    }

    /// <summary>The endpoint actually bound (the real port when port 0 was asked for).</summary>
    /// <exception cref="InvalidOperationException">The API has not started.</exception>
    public IPEndPoint BoundEndpoint => _boundEndpoint ?? throw new InvalidOperationException("The API has not started.");

    /// <summary>Every route this API serves (the table the endpoints, the 405s and the OpenAPI document come from).</summary>
    internal IReadOnlyList<ApiRoute> Routes => _routes;

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
            // The largest any route accepts; each request is held to its own route's limit (ServeAsync).
            kestrel.Limits.MaxRequestBodySize = _routes.Max(r => r.MaxBodyBytes ?? 0);
            kestrel.Limits.MaxRequestLineSize = 2 * 1024;
            kestrel.Limits.MaxRequestHeadersTotalSize = 8 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 32;
            kestrel.Limits.MaxConcurrentConnections = 64;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Listen(_listenEndpoint, listen => listen.Protocols = HttpProtocols.Http1);
        });

        var app = builder.Build();
        app.Use(MeasureAsync);
        app.Use(GuardAsync);
        foreach (var route in _routes)
        {
            app.MapMethods(route.Path, [route.Method], new RequestDelegate(context => ServeAsync(route, context)))
                .WithMetadata(route)
                .WithName(route.OperationId)
                .WithDisplayName($"{route.Method} {route.Path}");
        }

        // Every path, also those that look like file names (the default fallback pattern skips them with
        // ':nonfile', which left e.g. PATCH /openapi.json or DELETE /v1/data/a.b an empty 404).
        app.MapFallback("{*path}", new RequestDelegate(ServeNotFoundAsync));
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

        DisposeOwnObservability();
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

    private static Task WriteAsync<T>(HttpContext context, T value, JsonTypeInfo<T> typeInfo, string contentType = "application/json")
    {
        // Status, health, alerts and the services' answers change all the time; no cache may serve an old copy.
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(value, typeInfo, contentType, context.RequestAborted);
    }

    private IEnumerable<ApiRoute> StatusRoutes()
    {
        IReadOnlyList<ProblemKind> none = [];
        yield return new ApiRoute("GET", StatusPath, "getStatus", "This server's status: period, keys, peers, alerts.", RouteAccess.Public, null, null, NodeApiJsonContext.Default.NodeStatus, none, ServeStatusAsync);
        yield return new ApiRoute("GET", AlertsPath, "getAlerts", "This server's alerts, oldest first, with filters and paging.", RouteAccess.Public, null, null, NodeApiJsonContext.Default.AlertPage, [ApiProblems.InvalidQuery], ServeAlertsAsync)
        {
            Query =
            [
                new QueryParameter("after", "Only alerts with a greater id (paging forward, polling).", "integer"),
                new QueryParameter("limit", $"Most alerts in the page, 1 to {AlertLog.MaxQueryLimit} (default {DefaultAlertLimit}).", "integer"),
                new QueryParameter("type", "Only alerts of this type (case-insensitive).", "string"),
                new QueryParameter("period", "Only alerts of this period.", "integer"),
            ],
        };
        yield return new ApiRoute("GET", HealthPath, "getHealth", "200 when operational, 503 otherwise, with the same body.", RouteAccess.Public, null, null, NodeApiJsonContext.Default.HealthReport, none, ServeHealthAsync)
        {
            OtherSuccessStatuses = [StatusCodes.Status503ServiceUnavailable],
        };
        yield return new ApiRoute("GET", OpenApiPath, "getOpenApi", "This API's OpenAPI 3.1 document.", RouteAccess.Public, null, null, OpenApiJsonContext.Default.JsonObject, none, ServeOpenApiAsync);
    }

    /// <summary>
    /// Every request that matched a route: its body (bounded by the route, read whole: authenticated
    /// requests sign its hash), its authentication when the route needs one, then its handler.
    /// </summary>
    private async Task ServeAsync(ApiRoute route, HttpContext context)
    {
        var body = ReadOnlyMemory<byte>.Empty;
        if (route.MaxBodyBytes is { } limit)
        {
            var (read, error) = await ReadBodyAsync(context, limit).ConfigureAwait(false);
            if (error is not null)
            {
                await error.WriteAsync(context).ConfigureAwait(false);
                return;
            }

            body = read;
        }

        AuthenticatedApplication? application = null;
        SignedRequest? signed = null;
        if (route.Access != RouteAccess.Public && _authenticator is null)
        {
            await ApiProblems.WriteAsync(context, ApiProblems.NotOperational, "This API serves no application services.", TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            return;
        }

        if (route.Access == RouteAccess.Application)
        {
            var request = context.Request;
            if (!_authenticator!.TryAuthenticate(request.Method, RequestTarget(context), request.Headers, body.Span, out application, out var refused))
            {
                await refused.WriteAsync(context).ConfigureAwait(false);
                return;
            }

            context.Features.Set(application);
        }

        if (route.Access == RouteAccess.Ledger)
        {
            if (!TryReadSigned(context, body, out signed, out var refused))
            {
                await refused!.WriteAsync(context).ConfigureAwait(false);
                return;
            }
        }
        else if (route.MaxBodyBytes is not null && body.Length > 0 && !IsJson(context.Request.ContentType))
        {
            await ApiProblems.WriteAsync(context, ApiProblems.UnsupportedMediaType, $"{route.Method} {route.Path} takes application/json (UTF-8), not '{context.Request.ContentType}'.").ConfigureAwait(false);
            return;
        }

        await route.Handler(new ApiRequest(context, body, application) { Signed = signed }).ConfigureAwait(false);
    }

    /// <summary>The request target exactly as received (the signed path and query), not as ASP.NET decoded it.</summary>
    private static string RequestTarget(HttpContext context) =>
        context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw : context.Request.Path + context.Request.QueryString;

    /// <summary>Reads the whole body, refusing it (413 <c>payload-too-large</c>) once it passes <paramref name="limit"/> bytes.</summary>
    private static async Task<(ReadOnlyMemory<byte> Body, ApiError? Error)> ReadBodyAsync(HttpContext context, long limit)
    {
        var request = context.Request;
        var ceiling = DrainCeiling(limit);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            // Kestrel cuts the connection past this; between the limit and it the rest is drained (DrainAsync).
            sizeFeature.MaxRequestBodySize = ceiling;
        }

        var tooLarge = new ApiError(ApiProblems.PayloadTooLarge, $"The body is larger than the {limit} bytes this route accepts.");
        var buffer = new byte[(int)Math.Min(request.ContentLength ?? 4096, limit)];
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= limit)
                    {
                        // Full at the limit: one more byte means too large.
                        var probe = new byte[1];
                        if (await request.Body.ReadAsync(probe, context.RequestAborted).ConfigureAwait(false) == 0)
                        {
                            return (buffer, null);
                        }

                        await DrainAsync(context, ceiling).ConfigureAwait(false);
                        return (default, tooLarge);
                    }

                    Array.Resize(ref buffer, (int)Math.Min(Math.Max(buffer.Length * 2L, 4096), limit));
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                {
                    return (buffer.AsMemory(0, length), null);
                }

                length += read;
            }
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (default, tooLarge);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e)
        {
            return (default, new ApiError(ApiProblems.InvalidRequest, $"The request body could not be read ({e.Message})."));
        }
    }

    /// <summary>How much of a refused body is read and discarded: up to twice the limit and 64 KiB more.</summary>
    private static long DrainCeiling(long limit) => (2 * limit) + (64 * 1024);

    /// <summary>
    /// Reads and discards what is left of a refused body, up to <paramref name="ceiling"/> bytes in all:
    /// a client still sending it then reads the 413 instead of a reset connection (HTTP/1.1 has no way to
    /// refuse a body the client is sending). A larger body is cut off with the connection, so a refusal
    /// never costs more than the ceiling.
    /// </summary>
    private static async Task DrainAsync(HttpContext context, long ceiling)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = ceiling;
        }

        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            long total = 0;
            int read;
            while (total <= ceiling && (read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                total += read;
            }
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException)
        {
            // Past the ceiling or malformed: Kestrel closes the connection after the answer.
        }
        catch (IOException)
        {
            // The client went away.
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary><c>application/json</c>, with no charset or UTF-8: the only body media type the API reads.</summary>
    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed)
        && parsed.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        && (!parsed.Charset.HasValue || parsed.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    private async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        var route = context.GetEndpoint()?.Metadata.GetMetadata<ApiRoute>();
        var hasBody = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;

        if (hasBody && route?.MaxBodyBytes is null)
        {
            var detail = route is null ? "This request takes no body." : $"{route.Method} {route.Path} takes no request body.";
            await ApiProblems.WriteAsync(context, ApiProblems.BodyNotAccepted, detail).ConfigureAwait(false);
            return;
        }

        if (route?.MaxBodyBytes is { } limit && request.ContentLength > limit)
        {
            if (request.ContentLength <= DrainCeiling(limit))
            {
                await DrainAsync(context, DrainCeiling(limit)).ConfigureAwait(false);
            }

            await ApiProblems.WriteAsync(context, ApiProblems.PayloadTooLarge, $"The body ({request.ContentLength} bytes) is larger than the {limit} bytes {route.Method} {route.Path} accepts.").ConfigureAwait(false);
            return;
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (NodeBusyException e)
        {
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await ApiProblems.WriteAsync(context, ApiProblems.Busy, e.Message).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            LogRequestFailed(_logger, request.Path.Value ?? string.Empty, e);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await ApiProblems.WriteAsync(context, ApiProblems.InternalError, "The server could not answer this request; its log says why.").ConfigureAwait(false);
            }
        }
    }

    private Task ServeStatusAsync(ApiRequest request)
    {
        var context = request.Http;
        // The log's own count, so that the status and /v1/alerts never disagree.
        var status = _status() with { AlertCount = _alerts.Count() };
        return WriteAsync(context, status, NodeApiJsonContext.Default.NodeStatus);
    }

    private Task ServeHealthAsync(ApiRequest request)
    {
        var context = request.Http;
        var state = _status().State;
        var ok = state == NodeState.Operational;
        context.Response.StatusCode = ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        return WriteAsync(context, new HealthReport(ok, state), NodeApiJsonContext.Default.HealthReport);
    }

    private Task ServeAlertsAsync(ApiRequest request)
    {
        var context = request.Http;
        if (!TryParseAlertQuery(context.Request.Query, out var query, out var problem))
        {
            return ApiProblems.WriteAsync(context, ApiProblems.InvalidQuery, problem);
        }

        var page = _alerts.Query(query.After, query.Limit, query.Type, query.Period);
        return WriteAsync(context, page, NodeApiJsonContext.Default.AlertPage);
    }

    private Task ServeOpenApiAsync(ApiRequest request)
    {
        var response = request.Http.Response;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        return response.Body.WriteAsync(_openApi.Value, request.Http.RequestAborted).AsTask();
    }

    private Task ServeNotFoundAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        var methods = _routes.Where(r => PathMatches(r.Path, path)).Select(r => r.Method).Distinct().ToList();
        if (methods.Count > 0)
        {
            context.Response.Headers.Allow = string.Join(", ", methods);
            return ApiProblems.WriteAsync(context, ApiProblems.MethodNotAllowed, $"{path} answers {string.Join(" and ", methods)} only.");
        }

        var routes = string.Join(", ", _routes.Select(r => $"{r.Method} {r.Path}"));
        return ApiProblems.WriteAsync(context, ApiProblems.NotFound, $"There is no resource at {path}; the routes are {routes}.");
    }

    /// <summary>Whether <paramref name="path"/> is a path of <paramref name="pattern"/> (<c>{x}</c> one segment, <c>{*x}</c> the rest), ignoring a trailing slash.</summary>
    internal static bool PathMatches(string pattern, string path)
    {
        var expected = pattern.Trim('/').Split('/');
        var actual = path.Trim('/').Split('/');
        for (var i = 0; i < expected.Length; i++)
        {
            var segment = expected[i];
            if (segment.StartsWith("{*", StringComparison.Ordinal))
            {
                return actual.Length > i;
            }

            if (i >= actual.Length || (segment.StartsWith('{') ? actual[i].Length == 0 : !segment.Equals(actual[i], StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }
        }

        return actual.Length == expected.Length;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Application API listening on http://{Endpoint}")]
    private static partial void LogListening(ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Application API listening on http://{Endpoint}, beyond loopback: plain HTTP, anyone who can reach it can read the status and the alerts, and see application requests and answers")]
    private static partial void LogListeningExposed(ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(Level = LogLevel.Error, Message = "Application API request for {Path} failed")]
    private static partial void LogRequestFailed(ILogger logger, string path, Exception exception);

    /// <summary>The parsed query of <c>GET /v1/alerts</c>.</summary>
    internal readonly record struct AlertQuery(long? After, int Limit, AlertType? Type, ulong? Period);
}
