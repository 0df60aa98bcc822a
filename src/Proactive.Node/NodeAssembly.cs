// The proactive server (the toolkit's Pserver, seed 001 sections 3-4): storage, transport, period
// scheduling and the driver of Proactive.Protocols' ServerController. No protocol logic lives here.
namespace Proactive.Node;

/// <summary>Marker for the server assembly (version reporting, reflection-based tests).</summary>
public static class NodeAssembly
{
    /// <summary>The node's software version, as reported by the status endpoint.</summary>
    public static string Version { get; } = typeof(NodeAssembly).Assembly.GetName().Version?.ToString() ?? "0.0.0";
}
