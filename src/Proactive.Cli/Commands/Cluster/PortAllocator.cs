using System.Net;
using System.Net.Sockets;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>
/// Free loopback ports for a new cluster, so that two clusters in different folders (or a cluster and
/// anything else on the machine) do not collide: the operating system picks each one (bind to port 0),
/// and every listener is held until all are chosen, so the ports are distinct.
/// </summary>
/// <remarks>
/// A port is released before the node binds it, so another program could take it in between; the
/// node then fails to start and <c>cluster up</c> shows its log. The window is short and the ports
/// come from the ephemeral range, which the kernel hands out in rotation.
/// </remarks>
internal static class PortAllocator
{
    /// <summary><paramref name="count"/> distinct ports that were free on 127.0.0.1 a moment ago.</summary>
    internal static int[] FreeLoopbackPorts(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var listeners = new List<TcpListener>(count);
        try
        {
            var ports = new int[count];
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
                ports[i] = ((IPEndPoint)listener.LocalEndpoint).Port;
            }

            return ports;
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    /// <summary>True when nothing listens on 127.0.0.1:<paramref name="port"/> (a restart reuses the ports in the configuration).</summary>
    internal static bool IsFree(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }
}
