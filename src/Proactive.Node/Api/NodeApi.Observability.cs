// References: docs/BRIEF.md section 4 "Observability" (a Prometheus text endpoint, health and readiness
// endpoints); issue 6 item 3; Prometheus text exposition format 0.0.4; docs/API.md "GET /metrics",
// "GET /healthz, GET /readyz".
using System.Diagnostics;
using System.Text;
using Proactive.Node.Observability;

namespace Proactive.Node.Api;

/// <summary>
/// The observability routes (<c>GET /metrics</c>, <c>GET /healthz</c>, <c>GET /readyz</c>: public, nothing
/// secret) and the measurement of every request (by route template and status, and the latency of
/// application signing).
/// </summary>
public sealed partial class NodeApi
{
    /// <summary>The metrics route (Prometheus text format 0.0.4).</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The liveness route.</summary>
    public const string LivenessPath = "/healthz";

    /// <summary>The readiness route.</summary>
    public const string ReadinessPath = "/readyz";

    /// <summary>The routes whose latency is a signature's, by operation id: the operation label of <c>proactive_signature_duration_seconds</c>.</summary>
    private static readonly Dictionary<string, string> SignatureOperations = new(StringComparer.Ordinal)
    {
        ["postKeySign"] = "sign",
        ["postKeySignBatch"] = "sign-batch",
        ["postPeriodKey"] = "period-key",
    };

    private readonly Lock _observabilityGate = new();
    private NodeObservability? _observability;
    private bool _ownsObservability;

    /// <summary>
    /// The node's metrics and vitals (not owned: the node disposes them after this API). When none is
    /// given the API makes its own, judged by its status function alone (its loop counts as alive, its
    /// application state as current), with the API's own request metrics and the status's gauges.
    /// </summary>
    public NodeObservability Observability
    {
        get
        {
            lock (_observabilityGate)
            {
                if (_observability is null)
                {
                    _observability = new NodeObservability(new NodeMetrics(ReadStatus), () => new NodeVitals(_status().State, TimeSpan.Zero, false, false, false, true));
                    _ownsObservability = true;
                }

                return _observability;
            }
        }

        init => _observability = value ?? throw new ArgumentNullException(nameof(value));
    }

    private IEnumerable<ApiRoute> ObservabilityRoutes()
    {
        IReadOnlyList<ProblemKind> none = [];
        yield return new ApiRoute("GET", MetricsPath, "getMetrics", "This server's metrics in the Prometheus text format (version 0.0.4).", RouteAccess.Public, null, null, null, none, ServeMetricsAsync)
        {
            ResponseMediaType = PrometheusText.ContentType,
            Description = "Refresh durations, the period, alerts by type, peer messages by protocol and outcome, API requests by route and status, "
                + "signature latency, peers, the ledger and the node's state. Counts, states and durations only: nothing secret. See docs/NODE.md \"Observability\".",
        };
        yield return new ApiRoute("GET", LivenessPath, "getLiveness", "Liveness: 200 while the process and its loop are alive, 503 when the loop is stalled or has stopped.", RouteAccess.Public, null, null, ProbeJsonContext.Default.LivenessReport, none, ServeLivenessAsync)
        {
            OtherSuccessStatuses = [StatusCodes.Status503ServiceUnavailable],
        };
        yield return new ApiRoute("GET", ReadinessPath, "getReadiness", "Readiness: 200 when operational in the current period and able to serve applications, 503 with the reason otherwise.", RouteAccess.Public, null, null, ProbeJsonContext.Default.ReadinessReport, none, ServeReadinessAsync)
        {
            OtherSuccessStatuses = [StatusCodes.Status503ServiceUnavailable],
        };
    }

    /// <summary>Measures every request: its route template (never the raw path), its status and how long it took.</summary>
    private async Task MeasureAsync(HttpContext context, RequestDelegate next)
    {
        var started = Stopwatch.GetTimestamp();
        var abandoned = false;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            abandoned = true;
            throw;
        }
        finally
        {
            var route = context.GetEndpoint()?.Metadata.GetMetadata<ApiRoute>();
            var status = abandoned || (context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted) ? NodeMetrics.ClientClosedRequest : context.Response.StatusCode;
            var signature = route is null ? null : SignatureOperations.GetValueOrDefault(route.OperationId);
            Observability.Metrics.ApiRequestServed(route?.Method ?? context.Request.Method, route?.Path, status, Stopwatch.GetElapsedTime(started), signature);
        }
    }

    private Task ServeMetricsAsync(ApiRequest request)
    {
        var response = request.Http.Response;
        response.ContentType = PrometheusText.ContentType;
        response.Headers.CacheControl = "no-store";
        var text = Observability.Metrics.Exporter.Collect();
        return response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), request.Http.RequestAborted).AsTask();
    }

    private Task ServeLivenessAsync(ApiRequest request)
    {
        var report = NodeProbes.Liveness(Observability.Vitals());
        request.Http.Response.StatusCode = report.Alive ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        return WriteAsync(request.Http, report, ProbeJsonContext.Default.LivenessReport);
    }

    private Task ServeReadinessAsync(ApiRequest request)
    {
        var report = NodeProbes.Readiness(Observability.Vitals());
        request.Http.Response.StatusCode = report.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        return WriteAsync(request.Http, report, ProbeJsonContext.Default.ReadinessReport);
    }

    /// <summary>The gauges of an API without a node: what its status says.</summary>
    private NodeReading ReadStatus()
    {
        var status = _status();
        return new NodeReading(status.ServerId, status.Version, status.State.ToString().ToLowerInvariant(), status.Period, status.StartedAt)
        {
            PeriodStartedAt = status.PeriodStartedAt,
            NextRefreshAt = status.NextRefreshAt,
            LastRefreshDuration = status.LastRefreshDurationMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
        };
    }

    /// <summary>Disposes the observability this API made for itself (a node's is the node's to dispose).</summary>
    private void DisposeOwnObservability()
    {
        lock (_observabilityGate)
        {
            if (_ownsObservability)
            {
                _observability?.Dispose();
            }
        }
    }
}
