using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Controller;

public sealed class ControllerRoutingTests
{
    private static readonly ClusterParameters Parameters = ClusterParameters.Create(4, 1, 1);
    private static readonly NetworkId Network = NetworkId.FromBytes(new byte[NetworkId.Length]);

    public static TheoryData<ProtocolKind, ulong, ulong> Parents => new()
    {
        { ProtocolKind.Dkg, 0, 0 },
        { ProtocolKind.Refresh, 7, 0 },
        { ProtocolKind.ShareRecovery, 7, 3 },
        { ProtocolKind.KeyTable, 9, 0 },
    };

    [Theory]
    [MemberData(nameof(Parents))]
    public void AgreementInstanceMapsBackToItsParent(ProtocolKind protocol, ulong period, ulong sequence)
    {
        var parent = new InstanceId(protocol, period, sequence);
        var agreement = AgreementWiring.AgreementFor(parent);
        Assert.Equal(ProtocolKind.Agreement, agreement.Protocol);
        Assert.Equal(period, agreement.Period);
        Assert.True(AgreementWiring.TryParentOf(agreement, out var back));
        Assert.Equal(parent, back);
    }

    [Fact]
    public void InstanceContextsOfDistinctParentsDiffer()
    {
        var a = AgreementWiring.InstanceContext(new InstanceId(ProtocolKind.Refresh, 1, 0), Network);
        var b = AgreementWiring.InstanceContext(new InstanceId(ProtocolKind.ShareRecovery, 1, 0), Network);
        Assert.NotEqual(a, b);
    }

    public static TheoryData<string, ProtocolKind, ulong, ulong, string> Routes => new()
    {
        { "unknown protocol instance of this period", ProtocolKind.Signing, 3, 5, "unknown instance" },
        { "refresh of this period before it starts", ProtocolKind.Refresh, 3, 0, "" },
        { "next period's refresh", ProtocolKind.Refresh, 4, 0, "buffered until the instance starts" },
        { "instance two periods old", ProtocolKind.Refresh, 1, 0, "replay of an old period" },
        { "agreement of an unknown parent", ProtocolKind.Agreement, 3, 77, "unknown instance" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public void RoutesOrDropsWithAReason(string actor, ProtocolKind protocol, ulong period, ulong sequence, string reason)
    {
        using var controller = new ServerController(1, Parameters, PrimeOrderGroup.Ristretto255, Network);
        var context = new ProtocolContext(1, Parameters, TimeSpan.Zero, new DeterministicRandomSource(1));
        controller.BeginPeriod(context, 3, []);
        var step = controller.Receive(context, new InstanceId(protocol, period, sequence), new InboundMessage(2, 0, 0, 1, new byte[] { 1 }, false, new byte[] { 1 }));
        if (reason.Length == 0)
        {
            Assert.Single(step.Drops);
            return;
        }

        Assert.True(step.Drops.Single().Reason == reason, $"{actor}: {step.Drops.Single().Reason}");
        if (reason == "replay of an old period")
        {
            var alert = Assert.IsType<Alert>(step.Outputs.Single().Outbox.Events.Single());
            Assert.Equal((AlertType.Replay, 2), (alert.Type, alert.Culprit));
        }
    }
}
