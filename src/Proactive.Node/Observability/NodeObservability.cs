// References: docs/BRIEF.md section 4 "Observability"; docs/NODE.md "Observability".
namespace Proactive.Node.Observability;

/// <summary>
/// What the API serves at <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c>, and where it records its
/// requests: a node's <see cref="NodeMetrics"/> and its vitals. The node makes one and hands it to its
/// API (<c>NodeApi.Observability</c>); an API without a node makes its own from its status alone.
/// </summary>
public sealed class NodeObservability : IDisposable
{
    private readonly Func<NodeVitals> _vitals;

    /// <param name="metrics">The node's instruments (owned: disposed with this).</param>
    /// <param name="vitals">What the probes judge now; called on a request thread, so thread-safe and quick.</param>
    public NodeObservability(NodeMetrics metrics, Func<NodeVitals> vitals)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(vitals);
        Metrics = metrics;
        _vitals = vitals;
    }

    /// <summary>The instruments and their exporter.</summary>
    public NodeMetrics Metrics { get; }

    /// <summary>The vitals now.</summary>
    public NodeVitals Vitals() => _vitals();

    /// <summary>Releases the instruments.</summary>
    public void Dispose() => Metrics.Dispose();
}
