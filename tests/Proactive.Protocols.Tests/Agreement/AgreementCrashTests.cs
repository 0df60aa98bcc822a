using System.Text;
using Proactive.Crypto.Random;
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Agreement;

public class AgreementCrashTests
{
    private static readonly string Key = TendermintAgreement.StateKey(AgreementTestBus.Instance);

    /// <summary>
    /// n = 4, seed 0 (server 1 proposes "ok:server-1" in round 0); server 3 is silent, so servers 1
    /// and 2 need server 4 back to reach n - f = 3. Server 4 crashes right after the step in which
    /// it sent its first vote of the given kind, stays down 2 s, and is restored from its disk.
    /// </summary>
    [Theory]
    [InlineData("after prevoting", AgreementMessageType.Prevote)]
    [InlineData("after precommitting", AgreementMessageType.Precommit)]
    public void A_server_restored_after_voting_resends_the_same_signed_vote_is_not_reported_and_the_value_is_decided(string name, AgreementMessageType crashAfter)
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1), instanceSeed: 0);
        bus.MakeByzantine(3, new SilentActor());
        bus.Start();
        bus.Run(TimeSpan.FromSeconds(30), () => SentBy(bus, 4, crashAfter).Any());
        var before = SentBy(bus, 4, crashAfter).Single();
        var lockedRound = bus.Machines[4].LockedRound;
        bus.Crash(4);
        bus.Run(bus.Now + TimeSpan.FromSeconds(2));

        bus.Restart(4);
        Assert.Equal(before.Attempt, (uint)bus.Machines[4].Round);
        Assert.Equal(lockedRound, bus.Machines[4].LockedRound);
        bus.RunUntilAllDecided();

        Assert.True(bus.Honest.All(i => bus.Machines[i].IsFinished), name);
        var decided = bus.Decisions.Select(d => Encoding.ASCII.GetString(d.Decision.Value)).Distinct().ToList();
        Assert.Equal(["ok:server-1"], decided);
        Assert.Empty(bus.Alerts);

        // The restored server re-sent its vote byte for byte, and never signed two statements for one slot.
        var after = bus.Sent.Skip(bus.Sent.IndexOf((4, before)) + 1).Where(s => s.From == 4).Select(s => s.Message).ToList();
        Assert.Contains(after, m => m.Type == before.Type && m.Payload.AsSpan().SequenceEqual(before.Payload));
        AssertNoTwoStatementsPerSlot(bus, 4);
    }

    /// <summary>The control: the same crash after prevoting, but the server is started afresh instead of restored: it is reported.</summary>
    [Fact]
    public void A_server_started_afresh_after_prevoting_equivocates_and_is_reported()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1), instanceSeed: 0);
        bus.MakeByzantine(3, new SilentActor());
        bus.Start();
        bus.Run(TimeSpan.FromSeconds(30), () => SentBy(bus, 4, AgreementMessageType.Prevote).Any());
        bus.Crash(4);
        bus.Run(bus.Now + TimeSpan.FromSeconds(2));

        bus.Restart(4, fresh: true);
        bus.Run(bus.Now + TimeSpan.FromSeconds(10));

        Assert.Contains(bus.Alerts, a => a.Alert.Type == AlertType.Equivocation && a.Alert.Culprit == 4);
    }

    /// <summary>Server 1 proposes in round 0, crashes at once, and comes back with getValue now returning something else.</summary>
    [Fact]
    public void A_restored_proposer_resends_its_persisted_proposal_even_when_getValue_now_differs()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1), instanceSeed: 0);
        bus.Start();
        var proposal = SentBy(bus, 1, AgreementMessageType.Proposal).Single();
        bus.Crash(1);
        bus.Values = i => Encoding.ASCII.GetBytes($"ok:after-restart-{i}");
        bus.Run(bus.Now + TimeSpan.FromMilliseconds(5));

        bus.Restart(1);
        bus.RunUntilAllDecided();

        Assert.All(SentBy(bus, 1, AgreementMessageType.Proposal).Where(m => m.Attempt == 0), m => Assert.Equal(proposal.Payload, m.Payload));
        Assert.Equal(2, SentBy(bus, 1, AgreementMessageType.Proposal).Count(m => m.Attempt == 0));
        Assert.All(bus.Decisions, d => Assert.Equal("ok:server-1", Encoding.ASCII.GetString(d.Decision.Value)));
        Assert.Empty(bus.Alerts);
        AssertNoTwoStatementsPerSlot(bus, 1);
    }

    [Fact]
    public void The_persisted_state_of_a_decided_instance_restores_as_decided_with_the_same_certificate()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1), instanceSeed: 2);
        bus.Start();
        bus.RunUntilAllDecided();

        foreach (var i in bus.Honest)
        {
            var certificate = bus.Machines[i].Decision!.Encode();
            var restored = Restore(bus, i, bus.Stores[i][Key]);
            Assert.True(restored.IsFinished);
            Assert.Equal(AgreementStep.Decided, restored.Step);
            Assert.Equal(certificate, restored.Decision!.Encode());

            // Start reports the decision again (the controller's handling must be idempotent) and re-broadcasts the certificate.
            var outbox = new Outbox();
            restored.Start(new ProtocolContext(i, bus.Parameters, bus.Now, new DeterministicRandomSource(1)), outbox);
            var decided = Assert.IsType<AgreementDecided>(Assert.Single(outbox.Events));
            Assert.Equal(certificate, decided.Certificate.Encode());
            Assert.Contains(outbox.Messages, m => m.Type == (byte)AgreementMessageType.Decision && m.Payload.AsSpan().SequenceEqual(certificate));
            Assert.Empty(outbox.Timers);
        }
    }

    [Fact]
    public void Every_step_that_signs_persists_its_state_before_its_messages_and_the_state_round_trips()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1), instanceSeed: 0);
        bus.Start();
        bus.RunUntilAllDecided();

        foreach (var i in bus.Honest)
        {
            var bytes = bus.Stores[i][Key];
            Assert.True(AgreementPersistedState.TryDecode(bytes, out var state, out _));
            Assert.Equal(bytes, state.Encode());
            Assert.Equal(i, state.Self);

            // Every vote the server sent is in its final persisted state.
            var sent = bus.Sent.Where(s => s.From == i && s.Message.Type is (byte)AgreementMessageType.Prevote or (byte)AgreementMessageType.Precommit)
                .Select(s => Convert.ToHexString(s.Message.Payload)).ToHashSet();
            var persisted = state.OwnVotes.Select(v => Convert.ToHexString(v.Encode())).ToHashSet();
            Assert.Subset(persisted, sent);
        }
    }

    /// <summary>What the controller meets on disk, and the named refusal it gets (never a fresh machine).</summary>
    public static TheoryData<string, AgreementRestoreError> CorruptionCases => new()
    {
        { "truncated", AgreementRestoreError.Undecodable },
        { "trailing byte", AgreementRestoreError.Undecodable },
        { "unknown version", AgreementRestoreError.Undecodable },
        { "another server's state", AgreementRestoreError.WrongInstance },
        { "another instance context", AgreementRestoreError.WrongInstance },
        { "own vote signature flipped", AgreementRestoreError.InvalidSignature },
        { "lock without its precommit", AgreementRestoreError.Inconsistent },
        { "certificate short of n - f", AgreementRestoreError.InvalidCertificate },
    };

    [Theory]
    [MemberData(nameof(CorruptionCases))]
    public void A_corrupted_or_foreign_persisted_state_is_refused_with_a_named_error(string name, AgreementRestoreError expected)
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1), instanceSeed: 0);
        bus.Start();
        bus.RunUntilAllDecided();
        var bytes = bus.Stores[4][Key];
        Assert.True(AgreementPersistedState.TryDecode(bytes, out var state, out _));
        var context = bus.Context;
        var server = 4;

        switch (name)
        {
            case "truncated":
                bytes = bytes[..^1];
                break;
            case "trailing byte":
                bytes = [.. bytes, 0];
                break;
            case "unknown version":
                bytes = [2, .. bytes[1..]];
                break;
            case "another server's state":
                bytes = bus.Stores[3][Key];
                break;
            case "another instance context":
                context = Encoding.ASCII.GetBytes("test-network/p7/agreement#4");
                break;
            case "own vote signature flipped":
                var vote = state.OwnVotes[0].Encode();
                var at = bytes.AsSpan().IndexOf(vote) + state.OwnVotes[0].Vote.Encode().Length - 1;
                bytes = [.. bytes];
                bytes[at] ^= 1;
                break;
            case "lock without its precommit":
                bytes = Rebuild(state, votes: state.OwnVotes.Where(v => v.Vote.Step != VoteStep.Precommit)).Encode();
                break;
            case "certificate short of n - f":
                var certificate = state.Decision!;
                var shortCertificate = new Certificate(certificate.Round, certificate.ValueId, certificate.Value, certificate.Signatures.Take(2));
                bytes = Rebuild(state, decision: shortCertificate).Encode();
                break;
            default:
                throw new ArgumentException(name);
        }

        Assert.False(
            TendermintAgreement.TryRestore(AgreementTestBus.Instance, bus.Parameters, server, bus.Key(server), bus.PublicKey, context, () => [], bus.IsValid, bus.InstanceSeed, bytes, out var machine, out var failure, AgreementTestBus.TestTimeouts),
            name);
        Assert.Null(machine);
        Assert.Equal(expected, failure.Error);
        Assert.False(string.IsNullOrEmpty(failure.Detail));
        var thrown = Assert.Throws<AgreementStateCorruptedException>(() =>
            TendermintAgreement.Restore(AgreementTestBus.Instance, bus.Parameters, server, bus.Key(server), bus.PublicKey, context, () => [], bus.IsValid, bus.InstanceSeed, bytes, AgreementTestBus.TestTimeouts));
        Assert.Equal(expected, thrown.Failure.Error);
    }

    /// <summary>
    /// 50 seeds; even seeds n = 4 (f = 1), odd seeds n = 7 (f = 2). Every time a server enters a
    /// round it had not been reached before (and at the start), f servers chosen at random crash at a
    /// random moment of that round and are restored from their disks 50-900 ms later (never more
    /// than f down at once); crashes go on until 20 s. Before the stabilization time (10 s) messages
    /// take up to 1.5 s, afterwards up to 100 ms. Every server, the restored ones included, decides
    /// the same valid value, and nobody is ever reported. Run with certificates broadcast on deciding and
    /// with certificates sent to non-signers only (ledger instances), where a restored signer must ask.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Over_50_seeds_crashing_f_servers_in_every_round_keeps_agreement_and_termination_without_equivocation(bool certifiesNonSignersOnly)
    {
        var gst = TimeSpan.FromSeconds(10);
        var crashesEnd = TimeSpan.FromSeconds(20);
        for (var seed = 0; seed < 50; seed++)
        {
            var n = seed % 2 == 0 ? 4 : 7;
            var f = (n - 1) / 3;
            var random = new Random(seed);
            using var bus = new AgreementTestBus(ClusterParameters.Create(n, f, f), instanceSeed: (ulong)seed) { CertifiesNonSignersOnly = certifiesNonSignersOnly };
            bus.Latency = (_, _, _, now) =>
                now >= gst ? TimeSpan.FromMilliseconds(random.Next(1, 100)) : TimeSpan.FromMilliseconds(random.Next(1, 1500));

            var lastCrashRound = -1;
            void CrashRound()
            {
                var crashAt = bus.Now + TimeSpan.FromMilliseconds(random.Next(0, 800));
                bus.At(crashAt, () =>
                {
                    if (bus.Now >= crashesEnd || bus.Down.Count > 0)
                    {
                        return;
                    }

                    foreach (var victim in bus.Parameters.Servers.OrderBy(_ => random.Next()).Take(f).ToList())
                    {
                        bus.Crash(victim);
                        bus.At(bus.Now + TimeSpan.FromMilliseconds(random.Next(50, 900)), () => bus.Restart(victim));
                    }
                });
            }

            bus.Start();
            while (!AllDecided(bus))
            {
                var reached = MaxRound(bus);
                if (reached > lastCrashRound)
                {
                    lastCrashRound = reached;
                    if (bus.Now < crashesEnd)
                    {
                        CrashRound();
                    }
                }

                bus.Run(TimeSpan.FromMinutes(3), () => AllDecided(bus) || MaxRound(bus) > lastCrashRound);
                if (MaxRound(bus) <= lastCrashRound)
                {
                    break;
                }
            }

            var context = $"seed {seed}, n = {n}, crashes [{string.Join(", ", bus.CrashLog.Where(c => c.Crash).Select(c => $"{c.Server}@{c.At.TotalMilliseconds}ms"))}]";
            Assert.True(bus.CrashLog.Any(c => c.Crash), $"no crash happened: {context}");
            Assert.True(AllDecided(bus), $"termination failed: {context}");
            var values = bus.Honest.Select(i => Convert.ToHexString(bus.Machines[i].Decision!.Value)).Distinct().ToList();
            Assert.True(values.Count == 1, $"agreement failed: {context}");
            Assert.True(bus.IsValid(bus.Machines[1].Decision!.Value.ToArray()), $"validity failed: {context}");
            Assert.True(bus.Machines[1].Decision!.Verify(bus.Parameters, bus.PublicKey, bus.Context).IsValid, context);
            Assert.True(!bus.Alerts.Any(), $"alert raised: {context}: {string.Join("; ", bus.Alerts.Select(a => a.Alert.Detail))}");
            foreach (var i in bus.Honest)
            {
                AssertNoTwoStatementsPerSlot(bus, i);
            }
        }
    }

    private static bool AllDecided(AgreementTestBus bus) =>
        bus.Down.Count == 0 && bus.Honest.All(i => bus.Machines[i].IsFinished);

    private static int MaxRound(AgreementTestBus bus) =>
        bus.Machines.Where(m => !bus.Down.Contains(m.Key)).Select(m => m.Value.Round).DefaultIfEmpty(0).Max();

    private static IEnumerable<OutboundMessage> SentBy(AgreementTestBus bus, int server, AgreementMessageType type) =>
        bus.Sent.Where(s => s.From == server && s.Message.Type == (byte)type).Select(s => s.Message);

    /// <summary>Every statement the server ever sent: one per (round, step), signature included.</summary>
    private static void AssertNoTwoStatementsPerSlot(AgreementTestBus bus, int server)
    {
        var statements = new List<SignedVote>();
        foreach (var message in bus.Sent.Where(s => s.From == server).Select(s => s.Message))
        {
            if (message.Type == (byte)AgreementMessageType.Proposal && ProposalMessage.TryDecode(message.Payload, out var proposal, out _))
            {
                statements.Add(proposal.Header);
            }
            else if (message.Type is (byte)AgreementMessageType.Prevote or (byte)AgreementMessageType.Precommit && VoteMessage.TryDecode(message.Payload, out var vote, out _))
            {
                statements.Add(vote.Vote);
            }
        }

        foreach (var slot in statements.GroupBy(v => (v.Round, v.Step)))
        {
            Assert.Single(slot.Select(v => Convert.ToHexString(v.Encode())).Distinct());
        }
    }

    private static TendermintAgreement Restore(AgreementTestBus bus, int server, byte[] state) =>
        TendermintAgreement.Restore(AgreementTestBus.Instance, bus.Parameters, server, bus.Key(server), bus.PublicKey, bus.Context, () => bus.Values(server), bus.IsValid, bus.InstanceSeed, state, AgreementTestBus.TestTimeouts);

    private static AgreementPersistedState Rebuild(AgreementPersistedState state, IEnumerable<VoteMessage>? votes = null, Certificate? decision = null) => new(
        state.Instance,
        state.Self,
        state.ServerCount,
        state.InstanceContext,
        state.InstanceSeed,
        state.Round,
        state.Step,
        state.LockedRound,
        state.LockedValue,
        state.ValidRound,
        state.ValidValue,
        state.ValidJustification,
        state.OwnProposals,
        votes ?? state.OwnVotes,
        decision ?? state.Decision);
}
