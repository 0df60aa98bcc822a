using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Proactive.Node.Transport;

namespace Proactive.Node.Tests.Transport;

/// <summary>One server's transport on loopback, with a sink that records what arrives.</summary>
internal sealed class TransportTestServer : IAsyncDisposable
{
    private TransportTestServer(int id, PeerTransportOptions options, PeerCertificate certificate)
    {
        Id = id;
        Options = options;
        Certificates = new PeriodCertificates(id, TimeSpan.FromMinutes(1));
        Certificates.Install(certificate);
        Certificates.SwitchTo(certificate.Period);
        Transport = new PeerTransport(options, Certificates, Pinning, DeliverAsync);
    }

    public int Id { get; }

    public PeerTransportOptions Options { get; }

    public PeriodCertificates Certificates { get; }

    public InMemoryPeerPinning Pinning { get; } = new();

    public PeerTransport Transport { get; }

    public ConcurrentQueue<(int Sender, byte[] Frame)> Received { get; } = new();

    public Uri BaseAddress => new($"https://127.0.0.1:{Transport.BoundEndpoint.Port}/");

    /// <summary>Options that keep tests fast: short backoff, short batching delay.</summary>
    public static PeerTransportOptions FastOptions(int port = 0) => new()
    {
        ListenEndpoint = new IPEndPoint(IPAddress.Loopback, port),
        InitialBackoff = TimeSpan.FromMilliseconds(20),
        MaxBackoff = TimeSpan.FromMilliseconds(200),
        BatchDelay = TimeSpan.FromMilliseconds(1),
        ConnectTimeout = TimeSpan.FromSeconds(2),
        RequestTimeout = TimeSpan.FromSeconds(4),
    };

    /// <summary>A server with a period-<paramref name="period"/> certificate, not started.</summary>
    public static TransportTestServer Create(int id, PeerTransportOptions? options = null, ulong period = 0) =>
        new(id, options ?? FastOptions(), PeerCertificate.Create(id, period, DateTimeOffset.UtcNow));

    /// <summary>Starts every server, pins each one's current certificate at all of them (period 0 pins), and makes them peers.</summary>
    public static async Task ConnectAllAsync(params TransportTestServer[] servers)
    {
        foreach (var server in servers)
        {
            await server.Transport.StartAsync();
        }

        PinAll(0, servers);
        foreach (var server in servers)
        {
            foreach (var other in servers.Where(o => o.Id != server.Id))
            {
                server.Transport.AddPeer(other.Id, other.BaseAddress);
            }
        }
    }

    /// <summary>Sets, at every server, the pins of <paramref name="period"/> to the servers' current certificates.</summary>
    public static void PinAll(ulong period, params TransportTestServer[] servers)
    {
        var pins = servers.ToDictionary(s => s.Id, s => (IReadOnlyCollection<byte[]>)[s.Certificates.CurrentFingerprint!]);
        foreach (var server in servers)
        {
            server.Pinning.Update(period, pins);
        }
    }

    /// <summary>
    /// A port that was free a moment ago (for a server that starts later). It is drawn below the
    /// kernel's ephemeral range (Linux default 32768-60999), because a port the OS handed out for
    /// port 0 and got back is soon handed out again to the next listener on port 0, e.g. another
    /// test's transport, and the late server then fails to bind.
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = Random.Shared.Next(20000, 32000);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                probe.Stop();
                return port;
            }
            catch (SocketException) when (attempt < 100)
            {
            }
        }
    }

    /// <summary>
    /// A bare client that presents <paramref name="clientCertificate"/> (or none) and accepts the server
    /// certificate with <paramref name="serverFingerprint"/>: for sending hand-made bodies to a listener.
    /// </summary>
    public static HttpClient RawClient(X509Certificate2? clientCertificate, byte[] serverFingerprint, Version? version = null) =>
        new(new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls13,
                AllowTlsResume = false,
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && PeerCertificate.ComputeFingerprint(certificate).AsSpan().SequenceEqual(serverFingerprint),
                LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate!,
            },
        })
        {
            DefaultRequestVersion = version ?? HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(4),
        };

    /// <summary>Posts <paramref name="body"/> to the listener's route.</summary>
    public async Task<HttpResponseMessage> PostRawAsync(HttpClient client, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        return await client.PostAsync(new Uri(BaseAddress, PeerListener.MessagesPath), content);
    }

    /// <summary>Waits until <paramref name="condition"/> holds; fails the test after <paramref name="timeoutSeconds"/>.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, double timeoutSeconds = 4)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for: {what}");
            }

            await Task.Delay(10);
        }
    }

    public Task WaitForFramesAsync(int count, double timeoutSeconds = 4) =>
        EventuallyAsync(() => Received.Count >= count, $"server {Id} to receive {count} frames (has {Received.Count})", timeoutSeconds);

    public PeerReachability ReachabilityOf(int peer) => Transport.Reachability().Single(r => r.PeerId == peer);

    public async ValueTask DisposeAsync()
    {
        await Transport.DisposeAsync();
        Certificates.Dispose();
    }

    private ValueTask DeliverAsync(int senderId, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        Received.Enqueue((senderId, frame.ToArray()));
        return ValueTask.CompletedTask;
    }
}
