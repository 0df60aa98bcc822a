using System.Net;
using System.Text;
using Proactive.Node.Transport;

namespace Proactive.Node.Tests.Transport;

// Real sockets on loopback, ephemeral ports, HTTP/2 over TLS 1.3 with mutual authentication. No
// timing assertions: every wait is for a condition, with a timeout.
public sealed class PeerTransportTests
{
    private static byte[] Frame(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Three_servers_exchange_frames_and_each_frame_names_its_sender()
    {
        await using var a = TransportTestServer.Create(1);
        await using var b = TransportTestServer.Create(2);
        await using var c = TransportTestServer.Create(3);
        await TransportTestServer.ConnectAllAsync(a, b, c);

        foreach (var server in new[] { a, b, c })
        {
            foreach (var peer in server.Transport.Peers)
            {
                Assert.True(server.Transport.Send(peer, Frame($"{server.Id}->{peer}")));
            }
        }

        foreach (var server in new[] { a, b, c })
        {
            await server.WaitForFramesAsync(2);
            Assert.Equal(
                server.Transport.Peers.Select(p => (p, $"{p}->{server.Id}")).Order(),
                server.Received.Select(r => (r.Sender, Encoding.UTF8.GetString(r.Frame))).Order());
        }

        await TransportTestServer.EventuallyAsync(() => a.Transport.Reachability().All(r => r.Reachable && r.LastReceived is not null), "server 1 to see its peers reachable and heard from");
        var toB = a.ReachabilityOf(2);
        Assert.Equal(1, toB.FramesSent);
        Assert.Equal(0, toB.ConsecutiveFailures);
        Assert.NotNull(toB.LastSuccess);
        Assert.NotNull(toB.LastReceived);
    }

    [Fact]
    public async Task Frames_to_one_peer_arrive_in_the_order_they_were_queued()
    {
        await using var a = TransportTestServer.Create(1);
        await using var b = TransportTestServer.Create(2);
        await TransportTestServer.ConnectAllAsync(a, b);

        for (var i = 0; i < 300; i++)
        {
            a.Transport.Send(2, Frame($"frame {i}"));
        }

        await b.WaitForFramesAsync(300);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"frame {i}"), b.Received.Select(r => Encoding.UTF8.GetString(r.Frame)));
    }

    [Fact]
    public async Task Frames_queued_within_the_batching_delay_travel_in_few_requests()
    {
        var options = TransportTestServer.FastOptions();
        options.BatchDelay = TimeSpan.FromMilliseconds(100);
        await using var a = TransportTestServer.Create(1, options);
        await using var b = TransportTestServer.Create(2);
        await TransportTestServer.ConnectAllAsync(a, b);

        const int frames = 1000;
        for (var i = 0; i < frames; i++)
        {
            a.Transport.Send(2, new byte[100]);
        }

        await b.WaitForFramesAsync(frames);
        await TransportTestServer.EventuallyAsync(() => a.ReachabilityOf(2).FramesSent == frames, "the sender to see every frame accepted");
        var requests = b.Transport.ListenerStatistics.BatchesAccepted;
        Assert.InRange(requests, 1, 20);
        Assert.Equal(frames, b.Transport.ListenerStatistics.FramesAccepted);
        Assert.Equal(requests, a.ReachabilityOf(2).BatchesSent);
    }

    [Fact]
    public async Task A_batch_never_exceeds_the_target_size_unless_one_frame_does()
    {
        var options = TransportTestServer.FastOptions();
        options.BatchDelay = TimeSpan.FromMilliseconds(100);
        options.BatchTargetBytes = 64 * 1024;
        await using var a = TransportTestServer.Create(1, options);
        await using var b = TransportTestServer.Create(2);
        await TransportTestServer.ConnectAllAsync(a, b);

        // 20 frames of 10 KiB: at most 6 fit in 64 KiB, so at least 4 requests; then one frame over the target goes alone.
        for (var i = 0; i < 20; i++)
        {
            a.Transport.Send(2, new byte[10 * 1024]);
        }

        a.Transport.Send(2, new byte[100 * 1024]);

        await b.WaitForFramesAsync(21);
        Assert.InRange(b.Transport.ListenerStatistics.BatchesAccepted, 5, 21);
        Assert.Equal(100 * 1024, b.Received.Last().Frame.Length);
    }

    [Fact]
    public async Task A_down_peer_gets_its_frames_once_it_comes_up()
    {
        var port = TransportTestServer.FreePort();
        await using var a = TransportTestServer.Create(1);
        await using var b = TransportTestServer.Create(2, TransportTestServer.FastOptions(port));
        await a.Transport.StartAsync();
        TransportTestServer.PinAll(0, a, b);
        a.Transport.AddPeer(2, new Uri($"https://127.0.0.1:{port}/"));

        a.Transport.Send(2, Frame("sent while down 1"));
        a.Transport.Send(2, Frame("sent while down 2"));
        await TransportTestServer.EventuallyAsync(() => a.ReachabilityOf(2).ConsecutiveFailures >= 3, "retries with backoff while the peer is down");
        var down = a.ReachabilityOf(2);
        Assert.False(down.Reachable);
        Assert.NotNull(down.LastError);
        Assert.Equal(2, down.QueuedFrames);

        await b.Transport.StartAsync();
        b.Transport.AddPeer(1, a.BaseAddress);

        await b.WaitForFramesAsync(2);
        Assert.Equal(["sent while down 1", "sent while down 2"], b.Received.Select(r => Encoding.UTF8.GetString(r.Frame)));
        await TransportTestServer.EventuallyAsync(() => a.ReachabilityOf(2).Reachable, "the peer to be reachable again");
        Assert.Equal(0, a.ReachabilityOf(2).QueuedFrames);
    }

    [Fact]
    public async Task A_full_queue_drops_the_oldest_frames_and_counts_them()
    {
        var port = TransportTestServer.FreePort();
        var options = TransportTestServer.FastOptions();
        options.MaxQueuedFramesPerPeer = 10;
        await using var a = TransportTestServer.Create(1, options);
        await using var b = TransportTestServer.Create(2, TransportTestServer.FastOptions(port));
        await a.Transport.StartAsync();
        TransportTestServer.PinAll(0, a, b);
        a.Transport.AddPeer(2, new Uri($"https://127.0.0.1:{port}/"));

        for (var i = 0; i < 25; i++)
        {
            a.Transport.Send(2, Frame($"frame {i}"));
        }

        // After a failure the batch in flight is back at the head of the queue, and the bound applies to all.
        var failuresBefore = a.ReachabilityOf(2).ConsecutiveFailures;
        await TransportTestServer.EventuallyAsync(() => a.ReachabilityOf(2).ConsecutiveFailures >= failuresBefore + 2, "two failed attempts after the last frame was queued");
        var full = a.ReachabilityOf(2);
        Assert.Equal(10, full.QueuedFrames);
        Assert.Equal(15, full.FramesDropped);

        await b.Transport.StartAsync();
        await b.WaitForFramesAsync(10);
        Assert.Equal(Enumerable.Range(15, 10).Select(i => $"frame {i}"), b.Received.Select(r => Encoding.UTF8.GetString(r.Frame)));
    }

    [Fact]
    public async Task A_frame_larger_than_the_limit_is_refused_when_queued()
    {
        var options = TransportTestServer.FastOptions();
        options.MaxFrameBytes = 1000;
        options.MaxBatchBytes = 4000;
        options.BatchTargetBytes = 4000;
        await using var a = TransportTestServer.Create(1, options);
        a.Transport.AddPeer(2, new Uri("https://127.0.0.1:1/"));

        Assert.Throws<ArgumentException>(() => a.Transport.Send(2, new byte[1001]));
        Assert.Throws<ArgumentException>(() => a.Transport.Send(2, ReadOnlyMemory<byte>.Empty));
        Assert.Throws<ArgumentException>(() => a.Transport.Send(3, new byte[10]));
        Assert.True(a.Transport.Send(2, new byte[1000]));
    }

    [Fact]
    public async Task Send_after_shutdown_returns_false_and_shutdown_is_idempotent()
    {
        var a = TransportTestServer.Create(1);
        await a.Transport.StartAsync();
        a.Transport.AddPeer(2, new Uri($"https://127.0.0.1:{TransportTestServer.FreePort()}/"));
        a.Transport.Send(2, Frame("never delivered"));

        await a.DisposeAsync();
        await a.Transport.DisposeAsync();

        Assert.False(a.Transport.Send(2, Frame("too late")));
        Assert.Equal(1, a.ReachabilityOf(2).FramesDropped);
    }

    [Fact]
    public async Task The_listener_speaks_only_http2()
    {
        await using var a = TransportTestServer.Create(1);
        await using var b = TransportTestServer.Create(2);
        await TransportTestServer.ConnectAllAsync(a, b);
        using var http11 = TransportTestServer.RawClient(a.Certificates.ClientCertificateFor(null), b.Certificates.CurrentFingerprint!, HttpVersion.Version11);

        await Assert.ThrowsAsync<HttpRequestException>(() => b.PostRawAsync(http11, PeerBatch.Encode([new byte[] { 1 }])));
        Assert.Empty(b.Received);
        Assert.Equal(0, b.Transport.ListenerStatistics.HandshakesRefused);
    }
}
