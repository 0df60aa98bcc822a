using System.Buffers.Binary;
using Proactive.Cli.Commands;
using Proactive.Cli.Commands.Cluster;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Node.Configuration;
using Proactive.Node.Provisioning;
using Proactive.Node.Storage;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Refresh;

namespace Proactive.Cli.Tests.Cluster;

/// <summary>
/// A cluster folder as 'cluster up' leaves it, without running nodes: provisioned servers, a real
/// cluster.json, and stores holding what a committed refresh persists (shares of a real Shamir
/// sharing of one network key, the public state with its Feldman commitment, the period).
/// </summary>
internal sealed class OfflineCluster : IDisposable
{
    internal const int Servers = 5;
    internal const int Threshold = 2;

    internal OfflineCluster()
    {
        Layout = new ClusterLayout(Path.Combine(Path.GetTempPath(), "proactive-cluster-" + Guid.NewGuid().ToString("N")));
        var ports = PortAllocator.FreeLoopbackPorts(2 * Servers);
        var servers = new List<ClusterServer>();
        for (var id = 1; id <= Servers; id++)
        {
            var provisioned = Provisioner.Provision(Layout.Server(id), id, SystemRandomSource.Instance);
            servers.Add(new ClusterServer(id, "127.0.0.1", ports[id - 1], ports[Servers + id - 1], provisioned.StartPublicKey));
        }

        Assert.True(ClusterConfig.TryCreate(servers, Threshold, 1, TimeSpan.FromSeconds(30), "ed25519", null, out var config, out var errors), string.Join("; ", errors));
        Config = config;
        AtomicFile.Write(Layout.ConfigPath, config.ToJson(), replace: false);
        Secret = Group.RandomScalar(SystemRandomSource.Instance);
    }

    internal ClusterLayout Layout { get; }

    internal ClusterConfig Config { get; }

    internal PrimeOrderGroup Group => PrimeOrderGroup.Ed25519;

    /// <summary>The network secret key every sharing here shares.</summary>
    internal Scalar Secret { get; }

    internal byte[] NetworkKey => Group.EncodeElement(Group.MultiplyBase(Secret));

    /// <summary>
    /// A fresh degree-t sharing of <see cref="Secret"/> (what one period's refresh leaves: the same
    /// secret on a new random polynomial), written into the stores of <paramref name="ids"/> as
    /// committed in <paramref name="period"/>.
    /// </summary>
    internal void CommitPeriod(ulong period, params int[] ids)
    {
        var (shares, polynomial) = Shamir.Split(Group, Secret, Threshold, Servers, SystemRandomSource.Instance);
        using (polynomial)
        {
            var state = new RefreshPublicState(Group, 2, [FeldmanCommitment.Commit(polynomial)]);
            foreach (var id in ids)
            {
                using var vector = ShareVector(shares[id - 1], Group.RandomScalar(SystemRandomSource.Instance));
                var periodBytes = new byte[8];
                BinaryPrimitives.WriteUInt64BigEndian(periodBytes, period);
                using var store = NodeStore.Open(Layout.Server(id));
                using var batch = new StoreBatch()
                    .Put(DataSpace.Private, ServerController.SharesKey, vector.Encode())
                    .Put(DataSpace.Public, ServerController.PublicStateKey, state.Encode())
                    .Put(DataSpace.Private, ServerController.CommittedPeriodKey, periodBytes);
                store.Commit(batch);
            }
        }

        foreach (var share in shares)
        {
            share.Dispose();
        }
    }

    /// <summary>A server's vector: its network-key share first, then another secret's share.</summary>
    internal ShareVector ShareVector(SecretShare networkKeyShare, Scalar other) =>
        new(Group, networkKeyShare.Index, [networkKeyShare.Value, other]);

    public void Dispose()
    {
        if (Directory.Exists(Layout.Root))
        {
            // The ROM is read-only (0444) but its folder is ours, so it can be removed.
            Directory.Delete(Layout.Root, recursive: true);
        }
    }
}
