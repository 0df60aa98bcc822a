using System.Net;
using System.Net.Sockets;
using Proactive.Cli.Commands.Cluster;

namespace Proactive.Cli.Tests.Cluster;

public sealed class PortAllocatorTests
{
    [Fact]
    public void Free_ports_are_distinct_and_can_be_bound()
    {
        var ports = PortAllocator.FreeLoopbackPorts(10);
        Assert.Equal(10, ports.Distinct().Count());
        Assert.All(ports, p => Assert.InRange(p, 1, 65535));

        // Each one is free now; another program could take one in between, but not on a quiet test machine
        // where the kernel hands ephemeral ports out in rotation.
        Assert.All(ports, p => Assert.True(PortAllocator.IsFree(p), $"port {p} is taken"));
    }

    [Fact]
    public void A_port_someone_listens_on_is_not_free()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            Assert.False(PortAllocator.IsFree(((IPEndPoint)listener.LocalEndpoint).Port));
        }
        finally
        {
            listener.Stop();
        }
    }
}
