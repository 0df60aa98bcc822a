using System.Text.Json;
using Proactive.Cli.Commands.Cluster;
using Proactive.Node.Storage;
using Proactive.Protocols.Controller;

namespace Proactive.Cli.Tests.Cluster;

/// <summary>The break-in attacks on real stores that <see cref="NodeStore"/> created, read back through <see cref="NodeStore"/>.</summary>
public sealed class StoreAttacksTests : IDisposable
{
    private readonly OfflineCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    private ServerDirectory Server(int id) => _cluster.Layout.Server(id);

    private byte[] Read(int id, DataSpace space, string key)
    {
        using var store = NodeStore.Open(Server(id));
        Assert.True(store.TryGet(space, key, out var value), $"{key} missing");
        return value;
    }

    [Fact]
    public void Corrupt_public_flips_every_byte_of_the_public_state_and_nothing_else()
    {
        _cluster.CommitPeriod(3, 1);
        var publicState = Read(1, DataSpace.Public, ServerController.PublicStateKey);
        var shares = Read(1, DataSpace.Private, ServerController.SharesKey);

        Assert.Equal(1, StoreAttacks.CountPublicState(Server(1)));
        Assert.Equal(1, StoreAttacks.CorruptPublicState(Server(1)));

        Assert.Equal(publicState.Select(b => (byte)~b), Read(1, DataSpace.Public, ServerController.PublicStateKey));
        Assert.Equal(shares, Read(1, DataSpace.Private, ServerController.SharesKey));
    }

    [Fact]
    public void Corrupt_shares_flips_the_private_shares_and_nothing_else()
    {
        _cluster.CommitPeriod(3, 2);
        var publicState = Read(2, DataSpace.Public, ServerController.PublicStateKey);
        var shares = Read(2, DataSpace.Private, ServerController.SharesKey);

        Assert.Equal(1, StoreAttacks.CorruptShares(Server(2)));

        Assert.Equal(shares.Select(b => (byte)~b), Read(2, DataSpace.Private, ServerController.SharesKey));
        Assert.Equal(publicState, Read(2, DataSpace.Public, ServerController.PublicStateKey));
    }

    [Fact]
    public void A_store_without_data_has_nothing_to_corrupt()
    {
        Assert.Equal(0, StoreAttacks.CountPublicState(Server(3)));
        Assert.Equal(0, StoreAttacks.CountShares(Server(3)));
        Assert.Equal(0, StoreAttacks.CorruptShares(Server(3)));
    }

    [Fact]
    public void Wipe_erases_store_keys_and_alerts_but_keeps_the_rom()
    {
        var server = Server(4);
        var alerts = _cluster.Layout.AlertsPath(4);
        File.WriteAllText(alerts, "alert log");
        File.WriteAllText(alerts + "-wal", "alert wal");
        Assert.True(File.Exists(server.StartKeyPath));
        var rom = File.ReadAllBytes(server.RomPath);

        var deleted = StoreAttacks.Wipe(server, alerts);

        Assert.False(File.Exists(server.StorePath));
        Assert.False(File.Exists(server.StoreWalPath));
        Assert.False(File.Exists(server.StoreSharedMemoryPath));
        Assert.False(Directory.Exists(server.KeysDirectory));
        Assert.False(File.Exists(alerts));
        Assert.False(File.Exists(alerts + "-wal"));
        Assert.Equal(rom, File.ReadAllBytes(server.RomPath));
        Assert.Contains(server.StorePath, deleted);
        Assert.Contains(server.KeysDirectory, deleted);

        // What the restarted node does: an empty store, to be refilled by recovery.
        NodeStore.Open(server, StoreOpenMode.CreateIfMissing).Dispose();
    }

    [Fact]
    public void Steal_copies_the_shares_and_period_while_the_store_is_open()
    {
        _cluster.CommitPeriod(12, 5);
        var shares = Read(5, DataSpace.Private, ServerController.SharesKey);
        var when = new DateTimeOffset(2030, 5, 6, 7, 8, 9, TimeSpan.Zero);

        // The node keeps its store open while it is robbed.
        using var running = NodeStore.Open(Server(5));
        var stolen = StoreAttacks.Steal(Server(5), 5, _cluster.Layout.StolenDirectory, when);

        Assert.NotNull(stolen);
        Assert.Equal(12UL, stolen.Period);
        Assert.Equal(Path.Combine(_cluster.Layout.StolenDirectory, "server-5-period-12.bin"), stolen.Path);
        Assert.Equal(shares, File.ReadAllBytes(stolen.Path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(stolen.Path));
        }

        using var description = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(stolen.Path, ".json")));
        Assert.Equal(5, description.RootElement.GetProperty("server").GetInt32());
        Assert.Equal(12UL, description.RootElement.GetProperty("period").GetUInt64());
        Assert.Equal("2030-05-06T07:08:09.000Z", description.RootElement.GetProperty("stolenAt").GetString());

        // The victim did not notice: its data is unchanged and it can still write.
        Assert.True(running.TryGet(DataSpace.Private, ServerController.SharesKey, out var after));
        Assert.Equal(shares, after);
        using var batch = new StoreBatch().Put(DataSpace.Private, "test/after-theft", [1]);
        running.Commit(batch);
    }

    [Fact]
    public void Steal_from_a_server_without_shares_takes_nothing()
    {
        Assert.Null(StoreAttacks.Steal(Server(1), 1, _cluster.Layout.StolenDirectory, DateTimeOffset.UtcNow));
        Assert.False(Directory.Exists(_cluster.Layout.StolenDirectory));
    }
}
