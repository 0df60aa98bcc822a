// References: docs/BRIEF.md section 4 (the controller dispatches messages to protocol instances);
// docs/PROTOCOLS.md "Controller and simulator".
using Proactive.Protocols.Controller;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;
using Proactive.Simulation.Wire;

namespace Proactive.Simulation.Scenarios;

/// <summary>
/// Plugs one server's <see cref="ServerController"/> into the <see cref="Simulator"/>: the simulator
/// routes by instance to machines, so every instance the controller runs is represented by a
/// <see cref="ControllerPort"/> that forwards messages and timers to the controller, and a controller
/// step (which may drive several instances) is applied with <see cref="Simulator.ApplyOutputs"/>.
/// </summary>
internal sealed class ControllerHost
{
    private readonly Simulator _simulator;

    public ControllerHost(Simulator simulator, int server, ServerController controller)
    {
        _simulator = simulator;
        Server = server;
        Controller = controller;
    }

    public int Server { get; }

    public ServerController Controller { get; set; }

    /// <summary>Messages the controller did not route, by reason.</summary>
    public Dictionary<string, long> Drops { get; } = [];

    /// <summary>What this server sent, by instance (the adversary that reads the server sees it).</summary>
    public Dictionary<InstanceId, List<OutboundMessage>> Sent { get; } = [];

    public IProtocolMachine PortFor(InstanceId instance) => new ControllerPort(this, instance);

    /// <summary>Runs a controller call now (from a scenario action) and applies its outputs.</summary>
    public void Run(Func<ProtocolContext, ControllerStep> call) =>
        _simulator.RunDriverStep(Server, context => Apply(call(context)));

    internal void Deliver(ProtocolContext context, InstanceId instance, InboundMessage message)
    {
        var server = _simulator.Server(Server);
        _simulator.ApplyOutputs(server, Apply(Controller.Receive(context, instance, message)), stepEnd: false);
    }

    internal void Fire(ProtocolContext context, InstanceId instance, int timerId)
    {
        var server = _simulator.Server(Server);
        _simulator.ApplyOutputs(server, Apply(Controller.Timeout(context, instance, timerId)), stepEnd: false);
    }

    private List<(InstanceId, Outbox)> Apply(ControllerStep step)
    {
        var server = _simulator.Server(Server);
        foreach (var drop in step.Drops)
        {
            Drops[drop.Reason] = Drops.GetValueOrDefault(drop.Reason) + 1;
        }

        var outputs = new List<(InstanceId, Outbox)>();
        foreach (var output in step.Outputs)
        {
            if (server.IsUp && !server.TryGetMachine(output.Instance, out _))
            {
                server.AddMachine(PortFor(output.Instance));
            }

            if (output.Outbox.Messages.Count > 0)
            {
                if (!Sent.TryGetValue(output.Instance, out var log))
                {
                    Sent[output.Instance] = log = [];
                }

                log.AddRange(output.Outbox.Messages);
            }

            outputs.Add((output.Instance, output.Outbox));
        }

        return outputs;
    }
}

/// <summary>The simulator's handle on one controller instance: never finished (the controller decides), starting does nothing.</summary>
internal sealed class ControllerPort(ControllerHost host, InstanceId instance) : IProtocolMachine
{
    public InstanceId Instance { get; } = instance;

    public bool IsFinished => false;

    public void Start(ProtocolContext context, Outbox outbox)
    {
    }

    public void Receive(ProtocolContext context, InboundMessage message, Outbox outbox) =>
        host.Deliver(context, Instance, message);

    public void Timeout(ProtocolContext context, int timerId, Outbox outbox) =>
        host.Fire(context, Instance, timerId);
}

/// <summary>
/// Each server's controller as its envelope layer's key source: the period keys the controller holds
/// (installed at each period start, restored after a restart) sign and open its envelopes, and its
/// directory of installed public keys verifies everyone else's. Looked up on every use, so a restarted
/// server's restored controller takes over at once.
/// </summary>
internal sealed class ControllerKeySource(IReadOnlyDictionary<int, ControllerHost> hosts) : IEnvelopeKeySource
{
    public PeriodKeys? OwnKeys(int server, ulong period) => hosts[server].Controller.PeriodKeysOf(period);

    public PeriodKeyDirectory DirectoryOf(int server) => hosts[server].Controller.KeyDirectory;
}
