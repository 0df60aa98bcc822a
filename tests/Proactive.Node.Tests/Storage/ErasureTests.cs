using Proactive.Node.Storage;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Tests.Storage;

/// <summary>
/// Private data erased for real: after the erasing commit, not one copy of the secret's bytes remains
/// in the database file, its WAL or its WAL index, and key files read zeros through a kept hard link.
/// </summary>
public sealed class ErasureTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(48)] // fits in a page
    [InlineData(20_000)] // spills into overflow pages
    public void An_erased_private_value_leaves_no_bytes_in_the_database_or_the_wal(int length)
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        var secret = Secret(length, seed: 11);
        using (var batch = new StoreBatch())
        {
            store.Commit(batch.Put(DataSpace.Private, "dkg/0/0/share", secret).Put(DataSpace.Private, "other", [1, 2, 3]));
        }

        // The scan sees the secret while it is stored (so its absence later means something).
        Assert.True(Stored(directory, secret));

        using (var batch = new StoreBatch())
        {
            var result = store.Commit(batch.Erase(DataSpace.Private, "dkg/0/0/share"));
            Assert.Equal(1, result.ErasedPrivate);
            Assert.False(result.ResiduePending);
        }

        Assert.False(Stored(directory, secret));
        Assert.Equal(0, new FileInfo(directory.StoreWalPath).Length);
        Assert.True(store.TryGet(DataSpace.Private, "other", out _));
    }

    [Fact]
    public void The_refresh_commit_step_leaves_no_trace_of_the_old_shares_or_the_staging_copy()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        var oldShares = Secret(4000, seed: 21);
        var staged = Secret(4000, seed: 22);
        var setup = new Outbox();
        setup.Persist(ServerController.SharesKey, oldShares);
        store.ApplyPersisted(setup.Persisted);
        var refresh = new Outbox();
        refresh.Persist("refresh/1/0/shares", staged);
        store.ApplyPersisted(refresh.Persisted);

        // New shares overwrite the old ones in place; the staging copy goes by tombstone.
        var newShares = Secret(4000, seed: 23);
        var commit = new Outbox();
        commit.Persist(ServerController.SharesKey, newShares);
        commit.Persist(ServerController.EraseKey("refresh/1/0/shares"), []);
        store.ApplyPersisted(commit.Persisted);

        Assert.False(Stored(directory, oldShares));
        Assert.False(Stored(directory, staged));
        Assert.True(store.TryGet(DataSpace.Private, ServerController.SharesKey, out var current));
        Assert.Equal(newShares, current);
    }

    [Fact]
    public void Scrubbing_removes_an_overwritten_private_value()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        var old = Secret(64, seed: 31);
        using (var batch = new StoreBatch())
        {
            store.Commit(batch.Put(DataSpace.Private, "agreement/1/refresh/0/state", old));
        }

        using (var batch = new StoreBatch())
        {
            store.Commit(batch.Put(DataSpace.Private, "agreement/1/refresh/0/state", Secret(64, seed: 32)));
        }

        Assert.True(store.ScrubResidue());
        Assert.False(Stored(directory, old));
    }

    [Fact]
    public void An_erased_prefix_leaves_no_bytes_either()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        var secrets = Enumerable.Range(0, 5).Select(i => Secret(200, seed: 40 + (ulong)i)).ToArray();
        using (var batch = new StoreBatch())
        {
            for (var i = 0; i < secrets.Length; i++)
            {
                batch.Put(DataSpace.Private, $"signing/p3/used/{i}", secrets[i]);
            }

            store.Commit(batch);
        }

        using (var batch = new StoreBatch())
        {
            Assert.Equal(5, store.Commit(batch.ErasePrefix(DataSpace.Private, "signing/p3/")).ErasedPrivate);
        }

        Assert.All(secrets, s => Assert.False(Stored(directory, s)));
    }

    [Fact]
    public void An_erased_key_file_is_overwritten_with_zeros_before_it_is_deleted()
    {
        var path = _temp.Combine("keys", "tls.key");
        var secret = Secret(200, seed: 51);
        KeyFile.WriteNew(path, secret);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(secret, KeyFile.Read(path));

        // A second name for the same inode, as an attacker who linked the file earlier would keep.
        var link = _temp.Combine("kept-link");
        TempDirectory.HardLink(path, link);

        Assert.True(KeyFile.Erase(path));
        Assert.False(File.Exists(path));
        var left = File.ReadAllBytes(link);
        Assert.Equal(secret.Length, left.Length);
        Assert.All(left, b => Assert.Equal(0, b));
        Assert.False(KeyFile.Erase(path));
    }

    [Fact]
    public void A_key_file_is_never_overwritten_by_a_new_one()
    {
        var path = _temp.Combine("keys", "start.key");
        KeyFile.WriteNew(path, [1, 2, 3]);
        Assert.Throws<IOException>(() => KeyFile.WriteNew(path, [4, 5, 6]));
        Assert.Equal([1, 2, 3], KeyFile.Read(path));
    }

    [Fact]
    public void The_start_key_loads_until_it_is_erased_and_then_is_gone()
    {
        var directory = _temp.Provision(serverId: 2);
        using var store = NodeStore.Open(directory);
        using (var key = store.LoadStartKey())
        {
            Assert.NotNull(key);
            Assert.Equal(store.Rom.StartPublicKey, key.PublicKey);
        }

        var seed = KeyFile.Read(directory.StartKeyPath);
        var link = _temp.Combine("start-key-link");
        TempDirectory.HardLink(directory.StartKeyPath, link);

        Assert.True(store.EraseStartKey());
        Assert.False(File.Exists(directory.StartKeyPath));
        Assert.Null(store.LoadStartKey());
        Assert.All(File.ReadAllBytes(link), b => Assert.Equal(0, b));
        Assert.NotEqual(seed, File.ReadAllBytes(link));
        Assert.False(store.EraseStartKey());
    }

    [Fact]
    public void A_start_key_file_of_another_server_is_refused()
    {
        var one = _temp.Provision(serverId: 1);
        var two = _temp.Provision(serverId: 2);
        File.Delete(one.StartKeyPath);
        File.Copy(two.StartKeyPath, one.StartKeyPath);
        using var store = NodeStore.Open(one);
        var error = Assert.Throws<NodeStoreException>(store.LoadStartKey);
        Assert.Equal(StoreError.IdentityMismatch, error.Error);
    }

    private static byte[] Secret(int length, ulong seed)
    {
        var bytes = new byte[length];
        new SeededRandom(seed).Fill(bytes);
        return bytes;
    }

    /// <summary>
    /// True when any 32-byte piece of <paramref name="secret"/> (one every 256 bytes, so every page
    /// and overflow page that held part of it) is in the database, the WAL or the WAL index. 32 random
    /// bytes never occur by chance.
    /// </summary>
    private static bool Stored(ServerDirectory directory, byte[] secret)
    {
        var files = new[] { directory.StorePath, directory.StoreWalPath, directory.StoreSharedMemoryPath }.Select(RawFiles.Read).ToArray();
        for (var offset = 0; offset + 32 <= secret.Length; offset += 256)
        {
            var piece = secret.AsSpan(offset, 32);
            foreach (var file in files)
            {
                if (file.AsSpan().IndexOf(piece) >= 0)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
