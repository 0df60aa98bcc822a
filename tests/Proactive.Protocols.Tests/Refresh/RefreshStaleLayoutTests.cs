using Proactive.Crypto.Groups;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Tests.Refresh;

/// <summary>
/// A server whose vector layout is behind the network's (wiped, its application state not fetched yet, so a
/// key that joins at this refresh is missing from its view) sees every honest dealing with another number
/// of parts: with <see cref="RefreshMachine.LayoutMayBeStale"/> it accuses nobody.
/// </summary>
public sealed class RefreshStaleLayoutTests
{
    private static readonly ClusterParameters FiveServers = ClusterParameters.Create(5, 2, 1);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_server_with_a_stale_layout_accuses_honest_dealers_only_when_it_does_not_know_its_layout_may_be_stale(bool layoutMayBeStale)
    {
        using var network = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 2, seed: 91);
        using var stale = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 2, 1, seed: 92);
        var keys = FiveServers.Servers.ToDictionary(j => j, j => Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)j, Ed25519PrivateKey.SeedLength).ToArray()));
        var machines = new Dictionary<int, IProtocolMachine>();
        foreach (var j in FiveServers.Servers)
        {
            var fixture = j == 5 ? stale : network;
            machines[j] = new RefreshMachine(
                RefreshRun.Instance, FiveServers, j, fixture.State, fixture.Shares[j], keys[j], s => keys[s].PublicKey, RefreshRun.InstanceContext, fixture.Digests[j])
            {
                LayoutMayBeStale = j == 5 && layoutMayBeStale,
            };
        }

        var bus = new FifoTestBus(FiveServers, machines, seed: 93);
        bus.StartAll();
        bus.AdvanceTo(TimeSpan.FromSeconds(30));

        var accused = bus.EventsOf<Alert>(5).Where(a => a.Type == AlertType.InvalidCommitment && a.Culprit is >= 1 and <= 4).ToList();
        if (layoutMayBeStale)
        {
            Assert.Empty(accused);
            Assert.Equal([1, 2, 3, 4], ((RefreshMachine)machines[5]).DisqualifiedDealers.Order());
        }
        else
        {
            Assert.Equal([1, 2, 3, 4], accused.Select(a => a.Culprit).Distinct().Order());
        }

        // The servers that know the layout judge the stale server's dealing as what it is.
        foreach (var j in new[] { 1, 2, 3, 4 })
        {
            Assert.Contains(bus.EventsOf<Alert>(j), a => a.Type == AlertType.InvalidCommitment && a.Culprit == 5);
        }

        foreach (var key in keys.Values)
        {
            key.Dispose();
        }
    }
}
