using Proactive.Crypto.Random;
using Proactive.Node.Transport;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.KeyTable;

namespace Proactive.Node.Tests.Transport;

public sealed class InMemoryPeerPinningTests
{
    private static byte[] Fingerprint(byte fill) => Enumerable.Repeat(fill, PeerCertificate.FingerprintLength).ToArray();

    private static Dictionary<int, IReadOnlyCollection<byte[]>> Pins(params (int Peer, byte Fill)[] pins) =>
        pins.GroupBy(p => p.Peer).ToDictionary(g => g.Key, g => (IReadOnlyCollection<byte[]>)[.. g.Select(p => Fingerprint(p.Fill))]);

    [Fact]
    public void A_fingerprint_is_accepted_only_for_the_peer_it_is_pinned_for()
    {
        var pinning = new InMemoryPeerPinning();
        pinning.Update(0, Pins((1, 0x11), (2, 0x22)));

        Assert.True(pinning.IsPinned(1, Fingerprint(0x11)));
        Assert.False(pinning.IsPinned(2, Fingerprint(0x11)));
        Assert.False(pinning.IsPinned(3, Fingerprint(0x11)));
        Assert.False(pinning.IsPinned(1, Fingerprint(0x11).AsSpan(0, 31)));
        Assert.False(pinning.IsPinned(1, []));
    }

    [Fact]
    public void Pins_of_two_periods_are_both_accepted_until_the_older_is_removed()
    {
        var pinning = new InMemoryPeerPinning();
        pinning.Update(4, Pins((1, 0x40)));
        pinning.Update(5, Pins((1, 0x50), (1, 0x51)));

        Assert.True(pinning.IsPinned(1, Fingerprint(0x40)));
        Assert.True(pinning.IsPinned(1, Fingerprint(0x51)));
        Assert.Equal([4UL, 5UL], pinning.Periods);

        pinning.RemoveBefore(5);

        Assert.False(pinning.IsPinned(1, Fingerprint(0x40)));
        Assert.True(pinning.IsPinned(1, Fingerprint(0x50)));
        Assert.Equal([5UL], pinning.Periods);
        Assert.True(pinning.Remove(5));
        Assert.False(pinning.Remove(5));
        Assert.False(pinning.IsPinned(1, Fingerprint(0x50)));
    }

    [Fact]
    public void Updating_a_period_replaces_its_pins()
    {
        var pinning = new InMemoryPeerPinning();
        pinning.Update(0, Pins((1, 0x01)));
        pinning.Update(0, Pins((1, 0x02)));

        Assert.False(pinning.IsPinned(1, Fingerprint(0x01)));
        Assert.True(pinning.IsPinned(1, Fingerprint(0x02)));
    }

    [Fact]
    public void Pins_come_from_the_entries_of_a_keytable()
    {
        using var keys1 = PeriodKeys.Generate(1, 6, SystemRandomSource.Instance);
        using var keys2 = PeriodKeys.Generate(2, 6, SystemRandomSource.Instance);
        var pinning = new InMemoryPeerPinning();

        pinning.Update(6, [new KeyTableEntry(keys1.PublicKeys, Fingerprint(0x61)), new KeyTableEntry(keys2.PublicKeys, Fingerprint(0x62))]);

        Assert.True(pinning.IsPinned(1, Fingerprint(0x61)));
        Assert.True(pinning.IsPinned(2, Fingerprint(0x62)));
        Assert.False(pinning.IsPinned(2, Fingerprint(0x61)));
    }

    [Fact]
    public void Update_refuses_a_wrong_length_fingerprint_or_peer_id()
    {
        var pinning = new InMemoryPeerPinning();

        Assert.Throws<ArgumentException>(() => pinning.Update(0, new Dictionary<int, IReadOnlyCollection<byte[]>> { [1] = [new byte[31]] }));
        Assert.Throws<ArgumentException>(() => pinning.Update(0, new Dictionary<int, IReadOnlyCollection<byte[]>> { [0] = [Fingerprint(1)] }));
        Assert.Throws<ArgumentException>(() => pinning.Update(0, new Dictionary<int, IReadOnlyCollection<byte[]>> { [256] = [Fingerprint(1)] }));
        Assert.Empty(pinning.Periods);
    }
}
