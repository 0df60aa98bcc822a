using Proactive.Crypto.Groups;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Tests.Refresh;

public sealed class RefreshMachineTests
{
    private static readonly ClusterParameters FiveServers = ClusterParameters.Create(5, 2, 1);
    private static readonly InstanceId Instance = new(ProtocolKind.Refresh, 7, 0);

    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 1)]
    [InlineData(3, 1)]
    [InlineData(1000, 2)]
    public void Refresh_keeps_every_secret_changes_every_share_and_keeps_the_public_keys(int secrets, int signingKeys)
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, secrets, signingKeys, seed: 11);
        using var run = new RefreshRun(fixture, seed: 12);
        run.Execute();

        foreach (var j in FiveServers.Servers)
        {
            Assert.Equal(RefreshStatus.Completed, run.Machines[j].Status);
            Assert.Empty(run.Bus.EventsOf<Alert>(j));
        }

        var newShares = run.TakeNewShares();
        try
        {
            for (var k = 0; k < secrets; k++)
            {
                // Any t + 1 new shares reconstruct the same secret.
                Assert.Equal(fixture.Secrets[k], fixture.Reconstruct(k, (1, newShares[1]), (2, newShares[2]), (3, newShares[3])));
                Assert.Equal(fixture.Secrets[k], fixture.Reconstruct(k, (3, newShares[3]), (4, newShares[4]), (5, newShares[5])));
                Assert.Equal(fixture.Secrets[k], fixture.Reconstruct(k, (1, newShares[1]), (5, newShares[5]), (2, newShares[2])));

                // Old and new shares never combine: t old and one new give garbage.
                Assert.NotEqual(fixture.Secrets[k], fixture.Reconstruct(k, (1, fixture.Shares[1]), (2, fixture.Shares[2]), (3, newShares[3])));
                foreach (var j in FiveServers.Servers)
                {
                    Assert.NotEqual(fixture.Shares[j][k], newShares[j][k]);
                }
            }

            var completed = run.Completed(1);
            for (var k = 0; k < signingKeys; k++)
            {
                var oldCommitment = fixture.State.SigningKeyCommitments[k];
                var newCommitment = completed.NewState.SigningKeyCommitments[k];
                Assert.Equal(oldCommitment.ConstantTerm, newCommitment.ConstantTerm);
                Assert.NotEqual(oldCommitment, newCommitment);
                foreach (var j in FiveServers.Servers)
                {
                    Assert.True(newCommitment.VerifyShare(j, newShares[j][k]));
                    Assert.Equal(completed.NewState.Encode(), run.Completed(j).NewState.Encode());
                }
            }

            foreach (var j in FiveServers.Servers)
            {
                Assert.True(run.Completed(j).NewOwnDigest.Matches(newShares[j]));
                Assert.False(fixture.Digests[j].Matches(newShares[j]));
                Assert.Equal(FiveServers.Servers, run.Completed(j).QualifiedDealers);
            }
        }
        finally
        {
            foreach (var v in newShares.Values)
            {
                v.Dispose();
            }
        }
    }

    [Fact]
    public void Refresh_persists_the_new_shares_before_sending_anything()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 21);
        using var run = new RefreshRun(fixture, seed: 22);
        run.Execute();

        Assert.Equal(0, run.Bus.StepsSendingWithPersist);
        foreach (var j in FiveServers.Servers)
        {
            var persisted = run.Bus.Persisted[j];
            Assert.Equal(RefreshMachine.OwnSubSharesPersistKeyOf(run.Machines[j].Instance), persisted[0].Key); // at dealing
            persisted = persisted.Skip(1).ToList();
            Assert.Equal(run.Machines[j].SharesPersistKey, persisted[0].Key);
            Assert.True(ShareVector.TryDecode(persisted[0].Value, fixture.Group, out var stored));
            using (stored)
            using (var taken = run.Machines[j].TakeNewShares()!)
            {
                Assert.True(stored.ValueEquals(taken));
            }
        }
    }

    [Theory]
    [InlineData(3, 1)]
    [InlineData(3, 0)]
    public void Dealer_with_non_identity_constant_term_is_disqualified_with_NonZeroRefreshConstant(int secrets, int signingKeys)
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, secrets, signingKeys, seed: 31);
        using var run = new RefreshRun(fixture, seed: 32, faulty: new() { [2] = new RefreshDealerFaults { NonZeroConstant = true } });
        run.Execute();

        foreach (var j in FiveServers.Servers)
        {
            Assert.Contains(run.Bus.EventsOf<Alert>(j), a => a.Type == AlertType.NonZeroRefreshConstant && a.Culprit == 2);
            Assert.Contains(2, run.Machines[j].DisqualifiedDealers);
        }

        run.AssertSecretsKept(exceptDealer: 2);
    }

    [Fact]
    public void Bad_sub_share_to_one_server_draws_a_complaint_and_a_good_reveal_keeps_the_dealer()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 41);
        using var run = new RefreshRun(fixture, seed: 42, faulty: new() { [2] = new RefreshDealerFaults { SendWrongSubSharesTo = 3 } });
        run.Execute();

        Assert.Contains(run.Bus.EventsOf<Alert>(3), a => a.Type == AlertType.InvalidShare && a.Culprit == 2);
        foreach (var j in FiveServers.Servers)
        {
            Assert.Empty(run.Machines[j].DisqualifiedDealers);
            Assert.Contains(2, run.Completed(j).QualifiedDealers);
        }

        run.AssertSecretsKept(exceptDealer: 0);
    }

    [Fact]
    public void Bad_sub_share_confirmed_by_the_reveal_disqualifies_the_dealer()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 51);
        using var run = new RefreshRun(fixture, seed: 52, faulty: new() { [2] = new RefreshDealerFaults { CommitToWrongSubSharesFor = 3 } });
        run.Execute();

        foreach (var j in FiveServers.Servers)
        {
            Assert.Contains(run.Bus.EventsOf<Alert>(j), a => a.Type == AlertType.InvalidShare && a.Culprit == 2);
            Assert.Contains(2, run.Machines[j].DisqualifiedDealers);
        }

        run.AssertSecretsKept(exceptDealer: 2);
    }

    [Fact]
    public void Dealer_that_ignores_a_complaint_is_excluded_as_unresponsive()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 61);
        using var run = new RefreshRun(fixture, seed: 62, faulty: new()
        {
            [4] = new RefreshDealerFaults { SendWrongSubSharesTo = 1, IgnoreComplaints = true },
        });
        run.Execute();

        foreach (var j in FiveServers.Servers)
        {
            Assert.Contains(run.Bus.EventsOf<Alert>(j), a => a.Type == AlertType.Unresponsive && a.Culprit == 4);
        }

        run.AssertSecretsKept(exceptDealer: 4);
    }

    [Fact]
    public void Dealer_whose_combined_commitment_does_not_match_is_detected_and_disqualified()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 1000, 1, seed: 71);
        using var run = new RefreshRun(fixture, seed: 72, faulty: new() { [5] = new RefreshDealerFaults { CorruptCombinedCommitment = true } });
        run.Execute();

        foreach (var j in FiveServers.Servers)
        {
            Assert.Contains(run.Bus.EventsOf<Alert>(j), a => a.Type == AlertType.InvalidCommitment && a.Culprit == 5);
            Assert.Contains(5, run.Machines[j].DisqualifiedDealers);
        }

        run.AssertSecretsKept(exceptDealer: 5);
    }

    [Fact]
    public void Dealing_on_P256_refreshes_too()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.P256, FiveServers, 20, 2, seed: 81);
        using var run = new RefreshRun(fixture, seed: 82);
        run.Execute();
        run.AssertSecretsKept(exceptDealer: 0);
    }

    [Fact]
    public void Malformed_payloads_raise_alerts_and_never_throw()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 91);
        using var run = new RefreshRun(fixture, seed: 92);
        run.Bus.StartAll();
        var bus = run.Bus;
        bus.Inject(4, 1, RefreshWire.ComplaintRound, RefreshWire.ComplaintType, [1, 2, 3], confidential: false);
        bus.Inject(4, 1, RefreshWire.RevealRound, RefreshWire.RevealType, [], confidential: false);
        bus.Inject(4, 1, 9, 9, [0xFF], confidential: false);
        bus.Inject(4, 1, RefreshWire.DealingRound, RefreshWire.SubSharesType, [1, 2], confidential: false);
        bus.Inject(4, 1, RefreshWire.DealingRound, RefreshWire.DealingCommitmentsType, new byte[300], confidential: false);
        bus.Run();

        var malformed = bus.EventsOf<Alert>(1).Where(a => a.Type == AlertType.MalformedMessage).ToArray();
        Assert.True(malformed.Length >= 3);
        Assert.All(malformed, a => Assert.Equal(4, a.Culprit));
        Assert.Contains(bus.EventsOf<Alert>(1), a => a.Type == AlertType.Equivocation && a.Culprit == 4);
        Assert.False(run.Machines[1].IsAcceptableQualifiedSet([1, 2, 3]));
        Assert.False(run.Machines[1].IsAcceptableQualifiedSet([]));
    }

    [Fact]
    public void Qualified_set_with_fewer_than_t_plus_one_dealers_or_other_commitments_is_not_acceptable()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 101);
        using var run = new RefreshRun(fixture, seed: 102);
        run.Bus.StartAll();
        run.Bus.AdvanceTo(TimeSpan.FromSeconds(30));
        var proposal = run.Bus.EventsOf<RefreshQualifiedSetProposal>(1).Single();
        Assert.True(run.Machines[2].IsAcceptableQualifiedSet(proposal.EncodedSet));

        Assert.True(QualifiedSetCodec.TryDecode(proposal.EncodedSet, fixture.Group, 5, out var set));
        var tooSmall = QualifiedSetCodec.Encode(fixture.Group, set.Take(2));
        Assert.False(run.Machines[2].IsAcceptableQualifiedSet(tooSmall));
        var altered = set.ToDictionary(p => p.Key, p => p.Value);
        altered[3] = new byte[32];
        Assert.False(run.Machines[2].IsAcceptableQualifiedSet(QualifiedSetCodec.Encode(fixture.Group, altered)));
    }

    [Fact]
    public void Server_with_corrupted_shares_still_deals_and_reports_its_shares_lost()
    {
        using var fixture = new RefreshFixture(PrimeOrderGroup.Ristretto255, FiveServers, 3, 1, seed: 111);
        using var corrupted = new ShareVector(fixture.Group, 3, [fixture.Group.One, fixture.Group.One, fixture.Group.One]);
        using var run = new RefreshRun(fixture, seed: 112, replaceShares: new() { [3] = corrupted });
        run.Execute();

        Assert.Contains(run.Bus.EventsOf<Alert>(3), a => a.Type == AlertType.CorruptedShares && a.Culprit == 3);
        Assert.Equal(RefreshStatus.SharesLost, run.Machines[3].Status);
        Assert.NotNull(run.Bus.EventsOf<RefreshSharesLost>(3).Single().NewState);
        Assert.Equal(RefreshStatus.Completed, run.Machines[1].Status);
    }

    [Fact]
    public void Transition_table_reaches_every_state_and_ends_in_the_final_ones()
    {
        var table = RefreshMachine.ValidTransitions;
        Assert.Equal(Enum.GetValues<RefreshStatus>().Length, table.Count);
        Assert.Empty(table[RefreshStatus.Completed]);
        Assert.Empty(table[RefreshStatus.SharesLost]);
        var reachable = table.Values.SelectMany(v => v).Append(RefreshStatus.Created).ToHashSet();
        Assert.Equal(Enum.GetValues<RefreshStatus>().ToHashSet(), reachable);
    }
}
