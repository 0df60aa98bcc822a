// References: docs/API.md "Applications: services"; docs/NODE.md "The node" (one serial loop owns the
// controller: API requests reach it through OnLoopAsync).
using Proactive.Node.Api;

namespace Proactive.Node.Hosting;

public sealed partial class NodeHost
{
    private ControllerApplicationServices? _applicationServices;

    /// <summary>
    /// The application services the API serves from this node: their answers are computed on the loop
    /// (<see cref="OnLoopAsync{T}"/>) from the controller, and only while the node is operational.
    /// </summary>
    internal IApplicationServices ApplicationServices => _applicationServices ??= new ControllerApplicationServices(
        _config,
        Self,
        new Loop(this),
        () => _phase == NodePhase.Operational ? _controller : null,
        () => _snapshot,
        _random,
        TimeProvider.System);

    /// <summary>The node's loop as the services see it.</summary>
    private sealed class Loop(NodeHost host) : INodeLoop
    {
        public Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken) => host.OnLoopAsync(work, cancellationToken);
    }
}
