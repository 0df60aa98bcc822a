using System.Net;
using System.Text;
using Proactive.Node.Transport;

namespace Proactive.Node.Tests.Transport;

// Who may talk to whom: the pins decide, at the handshake and again at every request.
public sealed class PeerPinningTests
{
    private static byte[] Frame(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task A_client_whose_certificate_is_not_pinned_is_refused_and_nothing_is_delivered()
    {
        await using var a = TransportTestServer.Create(1);
        await using var b = TransportTestServer.Create(2);
        await TransportTestServer.ConnectAllAsync(a, b);

        // B now pins another certificate for server 1: A's real one is no longer accepted.
        using var other = PeerCertificate.Create(1, 0, DateTimeOffset.UtcNow);
        b.Pinning.Update(0, new Dictionary<int, IReadOnlyCollection<byte[]>> { [1] = [other.Fingerprint.ToArray()], [2] = [b.Certificates.CurrentFingerprint!] });

        a.Transport.Send(2, Frame("from an unpinned client"));
        await TransportTestServer.EventuallyAsync(() => a.ReachabilityOf(2).ConsecutiveFailures >= 2, "the sender to fail twice");

        Assert.Empty(b.Received);
        Assert.True(b.Transport.ListenerStatistics.HandshakesRefused >= 1);
        Assert.False(a.ReachabilityOf(2).Reachable);
        Assert.Equal(1, a.ReachabilityOf(2).QueuedFrames);
    }

    [Fact]
    public async Task A_certificate_pinned_for_one_server_does_not_speak_for_another()
    {
        await using var a = TransportTestServer.Create(1);
        await using var b = TransportTestServer.Create(2);
        await using var c = TransportTestServer.Create(3);
        await TransportTestServer.ConnectAllAsync(a, b, c);

        // Server 3's certificate is pinned for 3 only; a client presenting it claims to be 3 and is 3.
        // A certificate whose common name claims 1 but whose fingerprint is pinned only for 3 is refused.
        using var impostor = PeerCertificate.Create(1, 0, DateTimeOffset.UtcNow);
        c.Pinning.Update(1, new Dictionary<int, IReadOnlyCollection<byte[]>> { [3] = [impostor.Fingerprint.ToArray()] });
        using var client = TransportTestServer.RawClient(impostor.Certificate, c.Certificates.CurrentFingerprint!);

        await Assert.ThrowsAsync<HttpRequestException>(() => c.PostRawAsync(client, PeerBatch.Encode([Frame("claims to be 1")])));

        Assert.Empty(c.Received);
        Assert.True(c.Transport.ListenerStatistics.HandshakesRefused >= 1);
    }

    [Fact]
    public async Task A_client_without_a_certificate_is_refused()
    {
        await using var b = TransportTestServer.Create(2);
        await TransportTestServer.ConnectAllAsync(b);
        using var client = TransportTestServer.RawClient(null, b.Certificates.CurrentFingerprint!);

        await Assert.ThrowsAsync<HttpRequestException>(() => b.PostRawAsync(client, PeerBatch.Encode([Frame("anonymous")])));

        Assert.Empty(b.Received);
        Assert.True(b.Transport.ListenerStatistics.HandshakesRefused >= 1);
    }

    [Fact]
    public async Task A_server_presenting_an_unpinned_certificate_is_refused_by_the_client()
    {
        await using var a = TransportTestServer.Create(1);
        await using var b = TransportTestServer.Create(2);
        await TransportTestServer.ConnectAllAsync(a, b);

        // A pins another certificate for server 2; B still accepts A.
        using var other = PeerCertificate.Create(2, 0, DateTimeOffset.UtcNow);
        a.Pinning.Update(0, new Dictionary<int, IReadOnlyCollection<byte[]>> { [1] = [a.Certificates.CurrentFingerprint!], [2] = [other.Fingerprint.ToArray()] });

        a.Transport.Send(2, Frame("to an unpinned server"));
        await TransportTestServer.EventuallyAsync(() => a.ReachabilityOf(2).ConsecutiveFailures >= 2, "the sender to fail twice");

        Assert.Empty(b.Received);
        Assert.Equal(0, b.Transport.ListenerStatistics.BatchesAccepted);
        Assert.False(a.ReachabilityOf(2).Reachable);
    }

    [Fact]
    public async Task A_server_certificate_naming_another_server_is_refused_even_when_pinned()
    {
        await using var a = TransportTestServer.Create(1);
        await using var c = TransportTestServer.Create(3);
        await TransportTestServer.ConnectAllAsync(a, c);

        // A is told that server 2 listens at C's address and (wrongly) pins C's certificate for 2;
        // C's certificate names server 3, so A still refuses it.
        a.Pinning.Update(1, new Dictionary<int, IReadOnlyCollection<byte[]>> { [2] = [c.Certificates.CurrentFingerprint!] });
        a.Transport.AddPeer(2, c.BaseAddress);

        a.Transport.Send(2, Frame("to the wrong server"));
        await TransportTestServer.EventuallyAsync(() => a.ReachabilityOf(2).ConsecutiveFailures >= 2, "the sender to fail twice");

        Assert.Empty(c.Received);
    }

    [Fact]
    public async Task Removing_a_pin_shuts_out_connections_opened_with_that_certificate()
    {
        await using var a = TransportTestServer.Create(1);
        await using var b = TransportTestServer.Create(2);
        await TransportTestServer.ConnectAllAsync(a, b);
        a.Transport.Send(2, Frame("while pinned"));
        await b.WaitForFramesAsync(1);

        // The HTTP/2 connection from A stays open; B drops A's pin: the next request on it is refused (403).
        b.Pinning.Update(0, new Dictionary<int, IReadOnlyCollection<byte[]>> { [2] = [b.Certificates.CurrentFingerprint!] });
        a.Transport.Send(2, Frame("after the pin is gone"));
        await TransportTestServer.EventuallyAsync(() => a.ReachabilityOf(2).ConsecutiveFailures >= 1, "the sender to fail");

        Assert.Single(b.Received);
        Assert.True(b.Transport.ListenerStatistics.RequestsUnpinned >= 1);
        Assert.StartsWith("403", a.ReachabilityOf(2).LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_period_switch_with_new_certificates_and_old_pins_removed_keeps_frames_flowing()
    {
        var servers = new[] { TransportTestServer.Create(1), TransportTestServer.Create(2), TransportTestServer.Create(3) };
        try
        {
            await TransportTestServer.ConnectAllAsync(servers);
            foreach (var s in servers)
            {
                s.Transport.SendToAll(Frame($"period 0 from {s.Id}"));
            }

            foreach (var s in servers)
            {
                await s.WaitForFramesAsync(2);
            }

            // Refresh for period 1: each server makes a certificate; the KeyTable (here: everyone's new
            // fingerprint) is pinned everywhere before anyone switches; then all switch; then the period-0
            // pins are dropped and the old certificates retired.
            var oldFingerprints = servers.ToDictionary(s => s.Id, s => s.Certificates.CurrentFingerprint!);
            var next = servers.ToDictionary(s => s.Id, s => PeerCertificate.Create(s.Id, 1, DateTimeOffset.UtcNow));
            var pins = next.ToDictionary(kv => kv.Key, kv => (IReadOnlyCollection<byte[]>)[kv.Value.Fingerprint.ToArray()]);
            foreach (var s in servers)
            {
                s.Pinning.Update(1, pins);
                s.Certificates.Install(next[s.Id]);
            }

            foreach (var s in servers)
            {
                s.Certificates.SwitchTo(1);
            }

            foreach (var s in servers)
            {
                s.Pinning.RemoveBefore(1);
                Assert.True(s.Certificates.Retire(0));
                Assert.Equal([1UL], s.Pinning.Periods);
            }

            foreach (var s in servers)
            {
                s.Transport.SendToAll(Frame($"period 1 from {s.Id}"));
            }

            foreach (var s in servers)
            {
                await s.WaitForFramesAsync(4);
                Assert.Equal(2, s.Received.Count(r => Encoding.UTF8.GetString(r.Frame).StartsWith("period 1", StringComparison.Ordinal)));
            }

            // The period-0 certificate of server 1 is no longer accepted anywhere.
            Assert.False(servers[1].Pinning.IsPinned(1, oldFingerprints[1]));
            Assert.True(servers[1].Pinning.IsPinned(1, next[1].Fingerprint));
        }
        finally
        {
            foreach (var s in servers)
            {
                await s.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_client_presenting_the_previous_period_certificate_is_refused_after_its_pins_are_removed()
    {
        await using var a = TransportTestServer.Create(1);
        await using var b = TransportTestServer.Create(2);
        await TransportTestServer.ConnectAllAsync(a, b);
        var previous = PeerCertificate.Create(1, 0, DateTimeOffset.UtcNow);
        using var previousCopy = PeerCertificate.Import(previous.ExportCertificate(), ExportKey(previous), 0);
        previous.Dispose();

        // Period 1: B pins a new certificate for 1 and drops period 0.
        using var current = PeerCertificate.Create(1, 1, DateTimeOffset.UtcNow);
        b.Pinning.Update(1, new Dictionary<int, IReadOnlyCollection<byte[]>> { [1] = [current.Fingerprint.ToArray()], [2] = [b.Certificates.CurrentFingerprint!] });
        b.Pinning.RemoveBefore(1);

        using var withCurrent = TransportTestServer.RawClient(current.Certificate, b.Certificates.CurrentFingerprint!);
        using var accepted = await b.PostRawAsync(withCurrent, PeerBatch.Encode([Frame("current")]));
        Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);

        using var withPrevious = TransportTestServer.RawClient(previousCopy.Certificate, b.Certificates.CurrentFingerprint!);
        await Assert.ThrowsAsync<HttpRequestException>(() => b.PostRawAsync(withPrevious, PeerBatch.Encode([Frame("previous")])));

        Assert.Equal(["current"], b.Received.Select(r => Encoding.UTF8.GetString(r.Frame)));
        Assert.All(b.Received, r => Assert.Equal(1, r.Sender));
    }

    [Fact]
    public async Task During_the_grace_interval_a_client_that_has_not_switched_gets_the_previous_certificate()
    {
        await using var a = TransportTestServer.Create(1);
        await using var b = TransportTestServer.Create(2);
        await TransportTestServer.ConnectAllAsync(a, b);
        var oldB = b.Certificates.CurrentFingerprint!;

        // B switches to period 1; A has not learned B's period-1 fingerprint and is still in period 0.
        b.Certificates.Install(PeerCertificate.Create(2, 1, DateTimeOffset.UtcNow));
        b.Certificates.SwitchTo(1);
        Assert.False(a.Pinning.IsPinned(2, b.Certificates.CurrentFingerprint!));
        Assert.Equal([0UL, 1UL], b.Certificates.HeldPeriods);

        // A asks for period 0 in its server name and gets B's period-0 certificate, which it pins.
        a.Transport.Send(2, Frame("from a server one period behind"));
        await b.WaitForFramesAsync(1);
        Assert.True(a.Pinning.IsPinned(2, oldB));
    }

    private static byte[] ExportKey(PeerCertificate certificate)
    {
        var buffer = new byte[PeerCertificate.PrivateKeyBufferLength];
        Assert.True(certificate.TryExportPrivateKey(buffer, out var written));
        return buffer[..written];
    }
}
