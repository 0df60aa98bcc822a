using Proactive.Crypto.Random;
using Proactive.Node.Hosting;
using Proactive.Node.Transport;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.KeyTable;

namespace Proactive.Node.Tests.Hosting;

/// <summary>The node's pins, its protocol windows and the stored form of its own keys.</summary>
public sealed class NodeHostingTests
{
    private static KeyTableEntry Entry(int server, ulong period, byte fingerprint)
    {
        using var keys = PeriodKeys.Generate(server, period, SystemRandomSource.Instance);
        return new KeyTableEntry(keys.PublicKeys, Enumerable.Repeat(fingerprint, KeyTableEntry.FingerprintLength).ToArray());
    }

    private static byte[] Fingerprint(byte value) => Enumerable.Repeat(value, KeyTableEntry.FingerprintLength).ToArray();

    [Fact]
    public void Pins_hold_for_peers_in_the_latest_table_and_give_way_only_where_there_is_nothing_current_to_pin()
    {
        ulong current = 1;
        var pinning = new NodePinning([1, 2, 3], () => current);

        // Nothing pinned yet (initialization): a certificate naming a server of C is let in, others not.
        Assert.True(pinning.IsPinned(2, Fingerprint(7)));
        Assert.False(pinning.IsPinned(9, Fingerprint(7)));

        pinning.Pin(1, [Entry(2, 1, 0xA1), Entry(3, 1, 0xA2)]);
        Assert.True(pinning.IsPinned(2, Fingerprint(0xA1)));
        Assert.False(pinning.IsPinned(2, Fingerprint(0xA2)));
        Assert.False(pinning.IsPinned(2, Fingerprint(7)));

        // Server 2 is missing from the next table (it lost its store): its new certificate is let in.
        current = 2;
        pinning.Pin(2, [Entry(3, 2, 0xB2)]);
        Assert.True(pinning.IsPinned(2, Fingerprint(7)));
        Assert.False(pinning.IsPinned(3, Fingerprint(7)));
        Assert.True(pinning.IsPinned(3, Fingerprint(0xB2)));

        // This server was away for periods: its pins are stale, nothing current to pin against.
        current = 5;
        Assert.True(pinning.IsPinned(3, Fingerprint(7)));

        // Pins of the last periods are kept; older ones go.
        current = 4;
        pinning.Pin(3, [Entry(2, 3, 0xC1), Entry(3, 3, 0xC2)]);
        pinning.Pin(4, [Entry(2, 4, 0xD1), Entry(3, 4, 0xD2)]);
        Assert.False(pinning.IsPinned(3, Fingerprint(0xA2)));
        Assert.True(pinning.IsPinned(3, Fingerprint(0xB2)));
        Assert.True(pinning.IsPinned(2, Fingerprint(0xD1)));
        Assert.False(pinning.IsPinned(2, Fingerprint(7)));

        // A zero fingerprint (the simulator's "no TLS") is no pin.
        var fresh = new NodePinning([1, 2], () => 1);
        fresh.Pin(1, [Entry(2, 1, 0)]);
        Assert.True(fresh.IsPinned(2, Fingerprint(7)));
    }

    [Theory]
    [InlineData(10, 250)]
    [InlineData(30, 750)]
    [InlineData(3600, 10_000)]
    [InlineData(1, 250)]
    public void Protocol_windows_scale_with_the_period_within_bounds(int periodSeconds, int windowMs)
    {
        var timeouts = NodeTimeouts.ForPeriod(TimeSpan.FromSeconds(periodSeconds));
        Assert.Equal(TimeSpan.FromMilliseconds(windowMs), timeouts.Refresh.DealingWindow);
        Assert.Equal(TimeSpan.FromMilliseconds(2 * windowMs), timeouts.KeyTable!.JudgingWindow);
        Assert.True(timeouts.Refresh.DealingWindow + timeouts.Refresh.ComplaintWindow < TimeSpan.FromSeconds(periodSeconds) || periodSeconds < 1);
    }

    [Fact]
    public void Own_keys_and_tls_certificates_survive_their_stored_form_and_malformed_bytes_are_refused()
    {
        using var keys = PeriodKeys.Generate(3, 7, SystemRandomSource.Instance);
        var stored = NodeKeyCodec.EncodeOwnKeys(keys);
        Assert.True(NodeKeyCodec.TryDecodeOwnKeys(stored, 3, 7, out var back));
        using (back)
        {
            Assert.Equal(keys.PublicKeys, back.PublicKeys);
        }

        Assert.False(NodeKeyCodec.TryDecodeOwnKeys(stored.AsSpan(1), 3, 7, out _));
        Assert.False(NodeKeyCodec.TryDecodeOwnKeys([], 3, 7, out _));

        using var tls = PeerCertificate.Create(3, 7, DateTimeOffset.UtcNow);
        var storedTls = NodeKeyCodec.EncodeTls(tls);
        Assert.True(NodeKeyCodec.TryDecodeTls(storedTls, 7, out var tlsBack));
        using (tlsBack)
        {
            Assert.Equal(tls.Fingerprint.ToArray(), tlsBack.Fingerprint.ToArray());
            Assert.Equal(3, tlsBack.ServerId);
        }

        Assert.False(NodeKeyCodec.TryDecodeTls(storedTls.AsSpan(0, 10), 7, out _));
        Assert.False(NodeKeyCodec.TryDecodeTls([0xFF, 0xFF, 0xFF, 0xFF, 1, 2], 7, out _));
        Assert.False(NodeKeyCodec.TryDecodeTls([], 7, out _));
    }
}
