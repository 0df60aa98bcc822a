using Proactive.Crypto.Frost;
using Proactive.Crypto.Random;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Signing;

namespace Proactive.Protocols.Tests.Signing;

public sealed class SigningWireAndPoolTests
{
    public static TheoryData<SigningStatus, SigningStatus, bool> SessionTransitions => new()
    {
        { SigningStatus.Created, SigningStatus.AwaitingShares, true },   // coordinator starts
        { SigningStatus.Created, SigningStatus.Signing, true },          // signer starts
        { SigningStatus.Created, SigningStatus.Failed, true },           // coordinator without t+1 commitments
        { SigningStatus.AwaitingShares, SigningStatus.AwaitingShares, true }, // retry without the excluded
        { SigningStatus.AwaitingShares, SigningStatus.Produced, true },
        { SigningStatus.AwaitingShares, SigningStatus.Failed, true },
        { SigningStatus.Signing, SigningStatus.Closed, true },
        { SigningStatus.Signing, SigningStatus.Produced, false },        // a signer never aggregates
        { SigningStatus.Produced, SigningStatus.AwaitingShares, false }, // final
        { SigningStatus.Failed, SigningStatus.AwaitingShares, false },   // final
        { SigningStatus.Closed, SigningStatus.Signing, false },          // final
    };

    [Theory]
    [MemberData(nameof(SessionTransitions))]
    public void Session_transition_table_allows_exactly_the_documented_moves(SigningStatus from, SigningStatus to, bool allowed) =>
        Assert.Equal(allowed, SigningSessionMachine.ValidTransitions[from].Contains(to));

    [Fact]
    public void Every_status_has_a_row_in_the_transition_tables()
    {
        Assert.All(Enum.GetValues<SigningStatus>(), s => Assert.True(SigningSessionMachine.ValidTransitions.ContainsKey(s)));
        Assert.All(Enum.GetValues<NonceChannelStatus>(), s => Assert.True(NonceChannelMachine.ValidTransitions.ContainsKey(s)));
    }

    [Fact]
    public void Session_ids_name_their_coordinator_and_sequence_zero_is_the_nonce_channel()
    {
        var session = SigningSessionIds.Session(3, 4, 17);
        Assert.True(SigningSessionIds.TryGetCoordinator(session, out var coordinator));
        Assert.Equal(4, coordinator);
        Assert.False(SigningSessionIds.TryGetCoordinator(SigningSessionIds.NonceChannel(3), out _));
        Assert.False(SigningSessionIds.TryGetCoordinator(new InstanceId(ProtocolKind.Refresh, 3, session.Sequence), out _));
    }

    [Fact]
    public void Wire_messages_round_trip_and_signing_request_refuses_unsorted_signers()
    {
        var suite = Ciphersuite.Ed25519;
        using var keys = TrustedDealer.Generate(suite, null, 2, 3, new DeterministicRandomSource(1));
        using var pool = NoncePool.Create(keys.KeyPackages[0], 0);
        var outbox = new Outbox();
        var published = pool.Publish(2, 3, new DeterministicRandomSource(2), outbox);

        var batch = new NonceCommitmentBatch(pool.Generation, false, published);
        Assert.True(NonceCommitmentBatch.TryDecode(suite, batch.Encode(suite), out var decodedBatch, out _));
        Assert.Equal(published.Select(p => p.Index), decodedBatch.Entries.Select(p => p.Index));
        Assert.Equal(batch.Encode(suite), decodedBatch.Encode(suite));

        var request = new SigningRequest(suite, "m"u8, [new PackageEntry(1, published[0].Index, published[0].Commitments)]);
        var encoded = request.Encode();
        Assert.True(SigningRequest.TryDecode(suite, 3, encoded, out var decoded, out _));
        Assert.Equal(encoded, decoded.Encode());

        using var other = NoncePool.Create(keys.KeyPackages[1], 0);
        var second = other.Publish(2, 1, new DeterministicRandomSource(3), outbox)[0];
        var twoSigners = new SigningRequest(suite, "m"u8, [new PackageEntry(1, published[0].Index, published[0].Commitments), new PackageEntry(2, second.Index, second.Commitments)]).Encode();
        Assert.True(SigningRequest.TryDecode(suite, 3, twoSigners, out _, out _));

        // Swap the two entries: same content, non-canonical order.
        var headerAndMessage = 2 + 4 + 1 + 4;
        var entryLength = (twoSigners.Length - headerAndMessage) / 2;
        var swapped = twoSigners[..headerAndMessage]
            .Concat(twoSigners[(headerAndMessage + entryLength)..])
            .Concat(twoSigners[headerAndMessage..(headerAndMessage + entryLength)])
            .ToArray();
        Assert.False(SigningRequest.TryDecode(suite, 3, swapped, out _, out var failure));
        Assert.Equal("server", failure.Field);

        // A server id beyond n is refused.
        Assert.False(SigningRequest.TryDecode(suite, 1, twoSigners, out _, out _));
    }

    [Fact]
    public void Restored_pool_holds_no_nonce_keeps_the_used_set_and_never_reissues_an_index()
    {
        var suite = Ciphersuite.Ed25519;
        using var keys = TrustedDealer.Generate(suite, null, 2, 3, new DeterministicRandomSource(4));
        var store = new Dictionary<string, byte[]>();
        var session = SigningSessionIds.Session(0, 2, 1);
        ulong used;
        using (var pool = NoncePool.Create(keys.KeyPackages[0], 0))
        {
            var outbox = new Outbox();
            var published = pool.Publish(2, 4, new DeterministicRandomSource(5), outbox);
            used = published[1].Index;
            Assert.Equal(NonceLookup.Available, pool.Lookup(2, used, published[1].Commitments));
            Assert.Equal(NonceLookup.WrongCoordinator, pool.Lookup(3, used, published[1].Commitments));
            Assert.Equal(NonceLookup.CommitmentMismatch, pool.Lookup(2, used, published[2].Commitments));
            using var nonces = pool.TakeForSigning(used, new NonceUseRecord(used, 2, session, 1), outbox);
            Assert.Equal(NonceLookup.AlreadyUsed, pool.Lookup(2, used, published[1].Commitments));
            foreach (var write in outbox.Persisted)
            {
                store[write.Key] = write.Value;
            }
        }

        using var restored = NoncePool.Restore(keys.KeyPackages[0], 0, store);
        Assert.Equal(2u, restored.Generation);
        Assert.True(restored.IsRestored);
        Assert.Equal(0, restored.HeldCount);
        Assert.Contains(used, restored.UsedIndices);
        var fresh = restored.Publish(2, 4, new DeterministicRandomSource(5), new Outbox());
        Assert.All(fresh, p => Assert.Equal(2u, p.Generation));
        Assert.True(NonceUseRecord.TryDecode(store[NoncePool.UsedKeyFor(0, used)], out var record));
        Assert.Equal((used, 2, session, 1u), (record.Index, record.Coordinator, record.Session, record.Attempt));
    }
}
