// References: docs/BRIEF.md section 4 ("Status GUI": a web page served by each server showing the
// whole network, read-only, no secrets); issue 6 item 1; docs/API.md "GET /v1/network/status" and
// docs/NODE.md "The status page".
using Proactive.Node.StatusPage;

namespace Proactive.Node.Api;

/// <summary>The status page: its files at <c>/ui</c> and the network view it reads, <c>GET /v1/network/status</c>.</summary>
public sealed partial class NodeApi
{
    /// <summary>The network view route (public).</summary>
    public const string NetworkStatusPath = "/v1/network/status";

    /// <summary>The status page.</summary>
    public const string StatusPagePath = "/ui";

    private readonly Lock _networkStatusGate = new();
    private NetworkStatusAggregator? _networkStatus;

    /// <summary>How the network view asks the peers (tests shorten the timeouts).</summary>
    internal NetworkStatusOptions NetworkStatusOptions { get; init; } = new();

    /// <summary>The peers this API's network view asks: those of <c>GET /v1/cluster</c> (none without application services).</summary>
    private NetworkStatusAggregator NetworkStatus
    {
        get
        {
            lock (_networkStatusGate)
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
                return _networkStatus ??= new NetworkStatusAggregator(
                    new NetworkStatusSource(
                        () => _status() with { AlertCount = _alerts.Count() },
                        limit => _alerts.Query(null, limit),
                        () => _services?.Cluster()),
                    NetworkStatusOptions);
            }
        }
    }

    private IEnumerable<ApiRoute> NetworkStatusRoutes()
    {
        yield return new ApiRoute("GET", NetworkStatusPath, "getNetworkStatus", "Every server's status and latest alerts, as this server gathers them from its peers (the status page's data).", RouteAccess.Public, null, null, StatusPageJsonContext.Default.NetworkStatusBody, [], ServeNetworkStatusAsync)
        {
            Description = "This server's own status, and each peer's public GET /v1/status and GET /v1/alerts asked at once with a short timeout: "
                + "a peer that refuses is 'down', one that times out, fails or answers something else 'unreachable', with the reason. "
                + "Gathered at most once a second, however many ask; evidence is shortened and in hex.",
        };
    }

    private async Task ServeNetworkStatusAsync(ApiRequest request)
    {
        var body = await NetworkStatus.GetAsync(request.Http.RequestAborted).ConfigureAwait(false);
        await WriteAsync(request.Http, body, StatusPageJsonContext.Default.NetworkStatusBody).ConfigureAwait(false);
    }

    /// <summary>Maps <c>/ui</c> (the page) and <c>/ui/{file}</c> (its script and styles), every method: GET and HEAD are served, others are 405.</summary>
    private void MapStatusPage(WebApplication app)
    {
        app.Map(StatusPagePath, new RequestDelegate(context => ServeStatusPageAsync(context, StatusPageAssets.IndexName)))
            .WithDisplayName("GET " + StatusPagePath);
        app.Map(StatusPagePath + "/{file}", new RequestDelegate(context => ServeStatusPageAsync(context, context.Request.RouteValues["file"] as string ?? string.Empty)))
            .WithDisplayName("GET " + StatusPagePath + "/{file}");
    }

    private static Task ServeStatusPageAsync(HttpContext context, string name)
    {
        var request = context.Request;
        var response = context.Response;
        response.Headers.ContentSecurityPolicy = StatusPageAssets.ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            response.Headers.Allow = "GET, HEAD";
            return ApiProblems.WriteAsync(context, ApiProblems.MethodNotAllowed, $"{request.Path} answers GET and HEAD only.");
        }

        if (StatusPageAssets.Find(name) is not { } asset)
        {
            return ApiProblems.WriteAsync(context, ApiProblems.NotFound, $"The status page has no file '{name}'; it is at {StatusPagePath}.");
        }

        // The files change only with the server's version: a browser keeps them but asks each time.
        response.Headers.CacheControl = "no-cache";
        response.Headers.ETag = asset.ETag;
        if (request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Content.Length;
        return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : response.Body.WriteAsync(asset.Content, context.RequestAborted).AsTask();
    }

    private void DisposeStatusPage()
    {
        lock (_networkStatusGate)
        {
            _networkStatus?.Dispose();
        }
    }
}
