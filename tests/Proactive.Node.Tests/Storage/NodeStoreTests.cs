using System.Text;
using Proactive.Node.Storage;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Tests.Storage;

/// <summary>The store on real SQLite files: round trips, the two spaces, the controller's write semantics, atomicity.</summary>
public sealed class NodeStoreTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_provisioned_store_opens_with_the_rom_identity_and_empty_spaces()
    {
        var directory = _temp.Provision(serverId: 3);
        using var store = NodeStore.Open(directory);
        Assert.Equal(3, store.Rom.ServerId);
        Assert.Equal(new StoreUsage(0, 0, 0, 0, store.Usage().FileBytes), store.Usage());
        Assert.Empty(store.ReadAll().Entries);
    }

    [Fact]
    public void Values_round_trip_in_each_space_and_the_spaces_are_separate()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        using (var batch = new StoreBatch())
        {
            store.Commit(batch.Put(DataSpace.Private, "a", [1, 2, 3]).Put(DataSpace.Public, "b", [4, 5]));
        }

        Assert.True(store.TryGet(DataSpace.Private, "a", out var a));
        Assert.Equal([1, 2, 3], a);
        Assert.True(store.TryGet(DataSpace.Public, "b", out var b));
        Assert.Equal([4, 5], b);
        Assert.False(store.TryGet(DataSpace.Public, "a", out _));
        Assert.False(store.TryGet(DataSpace.Private, "b", out _));
        Assert.Equal(new StoreUsage(1, 2, 1, 3, store.Usage().FileBytes), store.Usage());
    }

    [Fact]
    public void An_empty_value_and_a_large_value_round_trip()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        var large = new byte[300_000];
        new SeededRandom(5).Fill(large);
        using (var batch = new StoreBatch())
        {
            store.Commit(batch.Put(DataSpace.Private, "empty", []).Put(DataSpace.Public, "large", large));
        }

        Assert.True(store.TryGet(DataSpace.Private, "empty", out var empty));
        Assert.Empty(empty);
        Assert.True(store.TryGet(DataSpace.Public, "large", out var read));
        Assert.Equal(large, read);
    }

    [Fact]
    public void Committed_values_are_there_after_the_store_is_reopened()
    {
        var directory = _temp.Provision();
        using (var store = NodeStore.Open(directory))
        using (var batch = new StoreBatch())
        {
            store.Commit(batch.Put(DataSpace.Private, "controller/shares", [9, 9]).Put(DataSpace.Public, "controller/public-state", [7]));
        }

        using var reopened = NodeStore.Open(directory);
        Assert.True(reopened.TryGet(DataSpace.Private, "controller/shares", out var shares));
        Assert.Equal([9, 9], shares);
        Assert.True(reopened.TryGet(DataSpace.Public, "controller/public-state", out var state));
        Assert.Equal([7], state);
    }

    [Fact]
    public void A_put_replaces_the_value_and_moves_the_key_out_of_the_other_space()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        using (var batch = new StoreBatch())
        {
            store.Commit(batch.Put(DataSpace.Private, "k", [1]).Put(DataSpace.Private, "k", [2]));
        }

        Assert.True(store.TryGet(DataSpace.Private, "k", out var replaced));
        Assert.Equal([2], replaced);

        using (var batch = new StoreBatch())
        {
            var result = store.Commit(batch.Put(DataSpace.Public, "k", [3]));
            Assert.Equal(1, result.ErasedPrivate);
        }

        Assert.False(store.TryGet(DataSpace.Private, "k", out _));
        Assert.True(store.TryGet(DataSpace.Public, "k", out var moved));
        Assert.Equal([3], moved);
    }

    [Fact]
    public void Read_by_prefix_returns_exactly_the_keys_under_it_in_order()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        using (var batch = new StoreBatch())
        {
            foreach (var key in new[] { "refresh/2/0/shares", "refresh/1/0/digest", "refresh/1/0/shares", "refresh/10/0/shares", "recovery/1/2/shares", "refresh/1", "refresh/1/0/sharesX" })
            {
                batch.Put(DataSpace.Private, key, Encoding.UTF8.GetBytes(key));
            }

            batch.Put(DataSpace.Public, "refresh/1/0/public-state", [1]);
            store.Commit(batch);
        }

        var entries = store.ReadPrefix(DataSpace.Private, "refresh/1/");
        Assert.Equal(["refresh/1/0/digest", "refresh/1/0/shares", "refresh/1/0/sharesX"], entries.Select(e => e.Key));
        Assert.All(entries, e => Assert.Equal(e.Key, Encoding.UTF8.GetString(e.Value)));
        Assert.Empty(store.ReadPrefix(DataSpace.Private, "zzz"));
        Assert.Equal(["refresh/1/0/public-state"], store.ReadPrefix(DataSpace.Public, "refresh/").Select(e => e.Key));
    }

    [Fact]
    public void Erase_prefix_deletes_only_the_keys_under_it()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        using (var batch = new StoreBatch())
        {
            store.Commit(batch.Put(DataSpace.Public, "alerts/1", [1]).Put(DataSpace.Public, "alerts/2", [2]).Put(DataSpace.Public, "alertsX", [3]).Put(DataSpace.Private, "alerts/3", [4]));
        }

        using (var batch = new StoreBatch())
        {
            var result = store.Commit(batch.ErasePrefix(DataSpace.Public, "alerts/"));
            Assert.Equal(2, result.ErasedPublic);
            Assert.Equal(0, result.ErasedPrivate);
        }

        Assert.Equal(["alertsX"], store.ReadPrefix(DataSpace.Public, "alerts").Select(e => e.Key));
        Assert.True(store.TryGet(DataSpace.Private, "alerts/3", out _));
    }

    [Fact]
    public void A_controller_step_is_applied_with_the_simulator_semantics()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        var first = new Outbox();
        first.Persist("refresh/1/0/shares", [1, 1]);
        first.Persist("refresh/1/0/public-state", [2, 2]);
        first.Persist("agreement/1/refresh/0/state", [3]);
        store.ApplyPersisted(first.Persisted);

        // The commit step: new shares, state, digest and period, then tombstones for the staging copies
        // and for a key written in this very step (erased after the writes, as in Simulator.ApplyOutputs).
        var commit = new Outbox();
        commit.Persist(ServerController.SharesKey, [5, 5]);
        commit.Persist(ServerController.PublicStateKey, [6]);
        commit.Persist(ServerController.DigestKey, [7]);
        commit.Persist(ServerController.CommittedPeriodKey, [0, 0, 0, 0, 0, 0, 0, 1]);
        commit.Persist(ServerController.EraseKey("refresh/1/0/shares"), []);
        commit.Persist(ServerController.EraseKey("refresh/1/0/public-state"), []);
        commit.Persist("scratch", [8]);
        commit.Persist(ServerController.EraseKey("scratch"), []);
        commit.Persist(ServerController.EraseKey("never-written"), []);
        var result = store.ApplyPersisted(commit.Persisted);

        Assert.Equal(5, result.Written);
        Assert.Equal(3, result.ErasedPrivate); // refresh/1/0/shares, refresh/1/0/public-state (private by default), scratch
        Assert.False(result.ResiduePending);

        using var snapshot = store.ReadAll();
        Assert.Equal(
            ["agreement/1/refresh/0/state", ServerController.DigestKey, ServerController.CommittedPeriodKey, ServerController.PublicStateKey, ServerController.SharesKey],
            snapshot.Entries.Keys.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(snapshot.Entries.Keys, k => k.StartsWith(ServerController.ErasePrefix, StringComparison.Ordinal));

        // The default policy: public state and digest are public, the rest private.
        Assert.True(store.TryGet(DataSpace.Public, ServerController.PublicStateKey, out _));
        Assert.True(store.TryGet(DataSpace.Public, ServerController.DigestKey, out _));
        Assert.True(store.TryGet(DataSpace.Private, ServerController.SharesKey, out _));
        Assert.True(store.TryGet(DataSpace.Private, ServerController.CommittedPeriodKey, out _));
    }

    [Fact]
    public void The_node_keeps_agreement_states_public_so_retiring_one_needs_no_checkpoint_while_a_dealt_share_stays_private()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory, policy: Proactive.Node.Hosting.NodeKeySpace.Policy);
        var state = Proactive.Protocols.Agreement.TendermintAgreement.StateKey(new InstanceId(ProtocolKind.Agreement, 3, 42));
        var dealt = ServerController.DealtSharePrefix + "00ff/0011";
        var write = new Outbox();
        write.Persist(state, [1, 2, 3]);
        write.Persist(dealt, new byte[32]);
        store.ApplyPersisted(write.Persisted);
        Assert.True(store.TryGet(DataSpace.Public, state, out _));
        Assert.True(store.TryGet(DataSpace.Private, dealt, out _));

        // What every ledger decision does: retire the agreement state of an old instance. No scrub is owed for it.
        var retire = new Outbox();
        retire.Persist(ServerController.EraseKey(state), []);
        var result = store.ApplyPersisted(retire.Persisted);
        Assert.Equal((0, 1), (result.ErasedPrivate, result.ErasedPublic));
        Assert.NotEqual(0, new FileInfo(directory.StoreWalPath).Length);

        // A step that persists nothing opens no transaction.
        Assert.Equal(default, store.ApplyPersisted([]));
    }

    [Fact]
    public void A_tombstone_erases_its_key_from_whichever_space_holds_it()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        using (var batch = new StoreBatch())
        {
            store.Commit(batch.Put(DataSpace.Public, "node/keytable/1", [1]));
        }

        var step = new Outbox();
        step.Persist(ServerController.EraseKey("node/keytable/1"), []);
        var result = store.ApplyPersisted(step.Persisted);
        Assert.Equal(1, result.ErasedPublic);
        Assert.False(store.TryGet(DataSpace.Public, "node/keytable/1", out _));
    }

    [Fact]
    public void A_snapshot_restores_a_controller_and_is_wiped_when_disposed()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        var period = new byte[] { 0, 0, 0, 0, 0, 0, 0, 4 };
        using (var batch = new StoreBatch())
        {
            store.Commit(batch.Put(DataSpace.Private, ServerController.CommittedPeriodKey, period));
        }

        var snapshot = store.ReadAll();
        var value = snapshot.Entries[ServerController.CommittedPeriodKey];
        using (var controller = ServerController.Restore(1, Protocols.Cluster.ClusterParameters.Create(4, 1, 1), Crypto.Groups.PrimeOrderGroup.Ed25519, Protocols.Envelopes.NetworkId.FromBytes(new byte[16]), null, snapshot.Entries))
        {
            Assert.Equal(4UL, controller.CommittedPeriod);
        }

        snapshot.Dispose();
        Assert.All(value, b => Assert.Equal(0, b));
        Assert.Empty(snapshot.Entries);
    }

    [Fact]
    public void A_failure_in_the_middle_of_a_batch_leaves_nothing_of_it()
    {
        var directory = _temp.Provision();
        using (var store = NodeStore.Open(directory))
        {
            using (var before = new StoreBatch())
            {
                store.Commit(before.Put(DataSpace.Private, "kept", [1]).Put(DataSpace.Private, "erased-by-the-failed-batch", [2]));
            }

            store.BeforeOperation = index =>
            {
                if (index == 3)
                {
                    throw new IOException("disk failure injected before operation 3");
                }
            };
            using (var failing = new StoreBatch())
            {
                failing.Put(DataSpace.Private, "kept", [9]).Put(DataSpace.Public, "new", [9]).Erase(DataSpace.Private, "erased-by-the-failed-batch").Put(DataSpace.Private, "never", [9]);
                Assert.Throws<IOException>(() => store.Commit(failing));
            }

            store.BeforeOperation = null;
            AssertUnchanged(store);

            // The store stays usable after the rollback.
            using var after = new StoreBatch();
            store.Commit(after.Put(DataSpace.Public, "after", [3]));
            Assert.True(store.TryGet(DataSpace.Public, "after", out _));
        }

        using var reopened = NodeStore.Open(directory);
        AssertUnchanged(reopened);

        static void AssertUnchanged(NodeStore store)
        {
            Assert.True(store.TryGet(DataSpace.Private, "kept", out var kept));
            Assert.Equal([1], kept);
            Assert.True(store.TryGet(DataSpace.Private, "erased-by-the-failed-batch", out _));
            Assert.False(store.TryGet(DataSpace.Public, "new", out _));
            Assert.False(store.TryGet(DataSpace.Private, "never", out _));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("erase:controller/shares")]
    [InlineData("a\0b")]
    public void Invalid_keys_are_caller_errors(string key)
    {
        using var batch = new StoreBatch();
        Assert.ThrowsAny<ArgumentException>(() => batch.Put(DataSpace.Private, key, [1]));
        Assert.ThrowsAny<ArgumentException>(() => batch.Erase(DataSpace.Private, key));
    }

    [Fact]
    public void A_key_longer_than_the_limit_is_a_caller_error()
    {
        using var batch = new StoreBatch();
        Assert.Throws<ArgumentException>(() => batch.Put(DataSpace.Public, new string('k', StoreBatch.MaxKeyLength + 1), [1]));
        batch.Put(DataSpace.Public, new string('k', StoreBatch.MaxKeyLength), [1]);
    }

    [Fact]
    public void A_tombstone_without_a_key_is_a_caller_error_and_nothing_is_written()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        var step = new Outbox();
        step.Persist("first", [1]);
        step.Persist(ServerController.ErasePrefix, []);
        Assert.Throws<ArgumentException>(() => store.ApplyPersisted(step.Persisted));
        Assert.False(store.TryGet(DataSpace.Private, "first", out _));
    }

    [Fact]
    public void The_batch_copies_values_in_and_wipes_them_when_disposed()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        var value = new byte[] { 1, 2, 3 };
        var batch = new StoreBatch().Put(DataSpace.Private, "k", value);
        value[0] = 99;
        store.Commit(batch);
        batch.Dispose();
        Assert.Equal(0, batch.Count);
        Assert.True(store.TryGet(DataSpace.Private, "k", out var stored));
        Assert.Equal([1, 2, 3], stored);
    }

    [Fact]
    public void The_default_policy_makes_only_the_listed_controller_keys_public()
    {
        var policy = KeySpacePolicy.Default;
        Assert.Equal(DataSpace.Public, policy.Classify(ServerController.PublicStateKey));
        Assert.Equal(DataSpace.Public, policy.Classify(ServerController.DigestKey));
        Assert.Equal(DataSpace.Private, policy.Classify(ServerController.SharesKey));
        Assert.Equal(DataSpace.Private, policy.Classify(ServerController.CommittedPeriodKey));
        Assert.Equal(DataSpace.Private, policy.Classify("refresh/3/0/public-state"));
        Assert.Equal(DataSpace.Private, policy.Classify("something/new"));

        var extended = new KeySpacePolicy([ServerController.PublicStateKey], ["node/public/"]);
        Assert.Equal(DataSpace.Public, extended.Classify("node/public/keytable/4"));
        Assert.Equal(DataSpace.Private, extended.Classify("node/private/period-key/4"));
        Assert.Throws<ArgumentException>(() => new KeySpacePolicy([], [""]));
    }

    [Fact]
    public void Store_files_are_owner_only()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        using (var batch = new StoreBatch())
        {
            store.Commit(batch.Put(DataSpace.Private, "k", [1]));
        }

        var ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(ownerOnly, File.GetUnixFileMode(directory.StorePath));
        Assert.Equal(ownerOnly, File.GetUnixFileMode(directory.StoreWalPath));
        Assert.Equal(ownerOnly | UnixFileMode.UserExecute, File.GetUnixFileMode(directory.Root));
    }

    [Fact]
    public void Commits_and_reads_from_several_threads_are_serialized()
    {
        var directory = _temp.Provision();
        using var store = NodeStore.Open(directory);
        Parallel.For(0, 8, worker =>
        {
            for (var i = 0; i < 10; i++)
            {
                using var batch = new StoreBatch();
                store.Commit(batch.Put(DataSpace.Public, $"w{worker}/{i}", [(byte)worker, (byte)i]));
                Assert.True(store.TryGet(DataSpace.Public, $"w{worker}/{i}", out var value));
                Assert.Equal([(byte)worker, (byte)i], value);
                Assert.Equal(i + 1, store.ReadPrefix(DataSpace.Public, $"w{worker}/").Count);
            }
        });

        Assert.Equal(80, store.Usage().PublicEntries);
    }

    [Fact]
    public void A_disposed_store_refuses_further_use()
    {
        var directory = _temp.Provision();
        var store = NodeStore.Open(directory);
        store.Dispose();
        store.Dispose();
        using var batch = new StoreBatch();
        Assert.Throws<ObjectDisposedException>(() => store.Commit(batch.Put(DataSpace.Public, "k", [1])));
        Assert.Throws<ObjectDisposedException>(() => store.TryGet(DataSpace.Public, "k", out _));
    }
}
