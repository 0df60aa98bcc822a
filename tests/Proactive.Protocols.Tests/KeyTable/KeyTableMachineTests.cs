using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.KeyTable;

public sealed class KeyTableMachineTests
{
    private static readonly ClusterParameters FourServers = ClusterParameters.Create(4, 1, 1);

    private static KeyTableDocument Proposal(FifoTestBus bus, int server)
    {
        var proposal = Assert.Single(bus.EventsOf<KeyTableProposal>(server));
        Assert.True(KeyTableDocument.TryDecode(proposal.EncodedTable, 4, out var table));
        return table;
    }

    private static void DecideEverywhere(FifoTestBus bus, Dictionary<int, KeyTableMachine> machines, byte[] table)
    {
        foreach (var (j, machine) in machines)
        {
            bus.Step(j, (context, outbox) => machine.OnKeyTableDecided(context, table, outbox));
        }
    }

    [Fact]
    public void All_honest_servers_propose_the_same_table_of_doubly_signed_entries_before_the_deadline()
    {
        using var fixture = new KeyTableFixture(FourServers, seed: 1);
        var machines = fixture.Machines();
        var bus = KeyTableFixture.Bus(FourServers, machines, seed: 2);
        bus.Start();

        var first = bus.EventsOf<KeyTableProposal>(1).Single().EncodedTable;
        foreach (var j in FourServers.Servers)
        {
            Assert.Equal(KeyTableStatus.Proposed, machines[j].Status);
            Assert.Equal(first, bus.EventsOf<KeyTableProposal>(j).Single().EncodedTable);
            Assert.Empty(bus.EventsOf<Alert>(j));
            Assert.True(machines[j].IsAcceptableKeyTable(first));
            Assert.Equal(machines[j].OwnEntry.Encode(), Assert.Single(bus.Persisted[j]).Value);
        }

        Assert.Equal(TimeSpan.Zero, bus.Now); // settled without waiting for the deadline
        var table = Proposal(bus, 1);
        Assert.Equal(FourServers.Servers, table.Entries.Select(e => e.ServerId));
        Assert.All(table.Entries, e => Assert.True(e.HasPreviousKeySignature));
        Assert.All(table.Entries, e => Assert.Equal(fixture.New[e.ServerId].PublicKeys, e.Entry.Keys));

        DecideEverywhere(bus, machines, first);
        foreach (var j in FourServers.Servers)
        {
            Assert.True(machines[j].IsFinished);
            Assert.True(machines[j].OwnEntryInDecidedTable);
            Assert.Empty(bus.EventsOf<Alert>(j));
            var decided = Assert.Single(bus.EventsOf<KeyTableDecided>(j));
            Assert.Equal(first, decided.EncodedTable);
        }
    }

    [Fact]
    public void An_impostor_entry_in_the_clear_loses_to_the_servers_doubly_signed_entry()
    {
        using var fixture = new KeyTableFixture(FourServers, seed: 3);
        var machines = fixture.Machines();
        var bus = KeyTableFixture.Bus(FourServers, machines, seed: 4);
        const int victim = 2;
        var impostor = fixture.Impostor(victim);

        // The adversary gets its K_2 everywhere first, as if server 2 had sent it.
        bus.Enqueue(victim, null, KeyTableWire.EntryRound, KeyTableWire.EntryType, impostor.Encode());
        bus.Run();
        bus.Start();

        foreach (var j in FourServers.Servers)
        {
            var table = Proposal(bus, j);
            Assert.True(table.TryGet(victim, out var chosen));
            Assert.Equal(fixture.New[victim].PublicKeys, chosen.Entry.Keys);
            Assert.True(chosen.HasPreviousKeySignature);
        }

        // A table carrying the impostor is refused by every server that holds the real entry.
        var forged = new KeyTableDocument(KeyTableFixture.Period,
            Proposal(bus, 1).Entries.Where(e => e.ServerId != victim).Append(impostor)).Encode();
        Assert.All(FourServers.Servers, j => Assert.False(machines[j].IsAcceptableKeyTable(forged)));
        Assert.Single(bus.EventsOf<Alert>(victim), a => a.Type == AlertType.ImpersonationDetected); // server 2 saw its own impostor
    }

    [Fact]
    public void A_server_whose_impostor_entry_was_decided_raises_impersonation_detected()
    {
        using var fixture = new KeyTableFixture(FourServers, seed: 5);
        const int victim = 3;
        var machines = fixture.Machines();
        var bus = KeyTableFixture.Bus(FourServers, machines, seed: 6);
        bus.Start();

        // Agreement (played by the test) decides a table with an impostor K_3.
        var decided = new KeyTableDocument(KeyTableFixture.Period,
            Proposal(bus, 1).Entries.Where(e => e.ServerId != victim).Append(fixture.Impostor(victim))).Encode();
        DecideEverywhere(bus, machines, decided);

        var alert = Assert.Single(bus.EventsOf<Alert>(victim));
        Assert.Equal(AlertType.ImpersonationDetected, alert.Type);
        Assert.Equal(0, alert.Culprit);
        Assert.Equal(decided, alert.Evidence);
        Assert.False(machines[victim].OwnEntryInDecidedTable);
        Assert.Single(bus.EventsOf<KeyTableDecided>(victim));
        foreach (var j in FourServers.Servers.Where(j => j != victim))
        {
            Assert.Empty(bus.EventsOf<Alert>(j));
            Assert.True(machines[j].OwnEntryInDecidedTable);
        }
    }

    [Fact]
    public void A_server_left_out_of_the_decided_table_raises_impersonation_detected()
    {
        using var fixture = new KeyTableFixture(FourServers, seed: 7);
        var machines = fixture.Machines();
        var bus = KeyTableFixture.Bus(FourServers, machines, seed: 8);
        bus.Start();
        var decided = new KeyTableDocument(KeyTableFixture.Period, Proposal(bus, 1).Entries.Where(e => e.ServerId != 4)).Encode();

        Assert.True(machines[4].IsAcceptableKeyTable(decided)); // an omission is not refused (the proposer may lack the entry)
        DecideEverywhere(bus, machines, decided);

        Assert.Equal(AlertType.ImpersonationDetected, Assert.Single(bus.EventsOf<Alert>(4)).Type);
        Assert.False(machines[4].OwnEntryInDecidedTable);
    }

    [Fact]
    public void A_recovering_servers_entry_in_the_clear_is_accepted_without_waiting()
    {
        using var fixture = new KeyTableFixture(FourServers, seed: 9);
        const int recovering = 3;
        var machines = fixture.Machines(lostPreviousKey: [recovering], believedRecovering: [recovering]);
        var bus = KeyTableFixture.Bus(FourServers, machines, seed: 10);
        bus.Start();

        Assert.Equal(TimeSpan.Zero, bus.Now);
        var first = bus.EventsOf<KeyTableProposal>(1).Single().EncodedTable;
        foreach (var j in FourServers.Servers)
        {
            Assert.Equal(first, bus.EventsOf<KeyTableProposal>(j).Single().EncodedTable);
            Assert.Empty(bus.EventsOf<Alert>(j));
            Assert.True(machines[j].IsAcceptableKeyTable(first));
        }

        Assert.True(Proposal(bus, 1).TryGet(recovering, out var entry));
        Assert.False(entry.HasPreviousKeySignature);
        Assert.Equal(fixture.New[recovering].PublicKeys, entry.Entry.Keys);
        DecideEverywhere(bus, machines, first);
        Assert.True(machines[recovering].OwnEntryInDecidedTable);
    }

    [Fact]
    public void An_entry_in_the_clear_for_a_server_not_known_to_recover_is_accepted_only_after_the_deadline()
    {
        using var fixture = new KeyTableFixture(FourServers, seed: 11);
        const int silent = 4;
        var timeouts = new KeyTableTimeouts(TimeSpan.FromSeconds(2));
        var machines = fixture.Machines(servers: [1, 2, 3], timeouts: timeouts);
        var bus = KeyTableFixture.Bus(FourServers, machines, seed: 12);
        var clear = fixture.Impostor(silent);
        bus.Enqueue(silent, null, KeyTableWire.EntryRound, KeyTableWire.EntryType, clear.Encode());
        bus.Start();

        var withClear = new KeyTableDocument(KeyTableFixture.Period, [machines[1].OwnEntry, machines[2].OwnEntry, machines[3].OwnEntry, clear]).Encode();
        foreach (var j in new[] { 1, 2, 3 })
        {
            Assert.Empty(bus.EventsOf<KeyTableProposal>(j));
            Assert.False(machines[j].IsAcceptableKeyTable(withClear));
        }

        bus.AdvanceTo(TimeSpan.FromSeconds(2));
        foreach (var j in new[] { 1, 2, 3 })
        {
            Assert.Equal(withClear, bus.EventsOf<KeyTableProposal>(j).Single().EncodedTable);
            Assert.True(machines[j].IsAcceptableKeyTable(withClear));
        }

        // Rule [ii]: an authenticated entry arriving late still wins in the table this server would propose.
        var real = SignedKeyTableEntry.Create(new KeyTableEntry(fixture.New[silent].PublicKeys, KeyTableFixture.Fingerprint(silent)),
            KeyTableFixture.Network, fixture.New[silent].Signing, fixture.Previous[silent].Signing);
        bus.Enqueue(silent, null, KeyTableWire.EntryRound, KeyTableWire.EntryType, real.Encode());
        bus.Run();
        Assert.True(KeyTableDocument.TryDecode(machines[1].CurrentTable(), 4, out var current));
        Assert.True(current.TryGet(silent, out var now));
        Assert.True(now.HasPreviousKeySignature);
        Assert.False(machines[1].IsAcceptableKeyTable(withClear));
    }

    [Fact]
    public void Two_different_doubly_signed_entries_from_one_server_are_reported_as_its_equivocation_and_both_discarded()
    {
        using var fixture = new KeyTableFixture(FourServers, seed: 13);
        const int liar = 2;
        var machines = fixture.Machines(servers: [1, 3, 4]);
        var bus = KeyTableFixture.Bus(FourServers, machines, seed: 14);
        var honestLooking = SignedKeyTableEntry.Create(new KeyTableEntry(fixture.New[liar].PublicKeys, KeyTableFixture.Fingerprint(liar)),
            KeyTableFixture.Network, fixture.New[liar].Signing, fixture.Previous[liar].Signing);
        var second = fixture.SecondAuthenticatedEntry(liar);
        bus.Enqueue(liar, null, KeyTableWire.EntryRound, KeyTableWire.EntryType, honestLooking.Encode());
        bus.Enqueue(liar, null, KeyTableWire.EntryRound, KeyTableWire.EntryType, second.Encode());
        bus.Start();
        bus.AdvanceTo(TimeSpan.FromSeconds(10));

        foreach (var j in new[] { 1, 3, 4 })
        {
            var alert = Assert.Single(bus.EventsOf<Alert>(j));
            Assert.Equal(AlertType.Equivocation, alert.Type);
            Assert.Equal(liar, alert.Culprit);
            Assert.NotEmpty(alert.Evidence);
            var table = Proposal(bus, j);
            Assert.False(table.TryGet(liar, out _));
            Assert.Equal(3, table.Entries.Count);

            // Either of the liar's authenticated entries in a proposal is acceptable: it impersonates nobody honest.
            var withSecond = new KeyTableDocument(KeyTableFixture.Period, table.Entries.Append(second)).Encode();
            Assert.True(machines[j].IsAcceptableKeyTable(withSecond));
        }
    }

    [Fact]
    public void Two_different_entries_in_the_clear_for_one_server_are_both_discarded()
    {
        using var fixture = new KeyTableFixture(FourServers, seed: 15);
        const int recovering = 4;
        var machines = fixture.Machines(servers: [1, 2, 3], believedRecovering: [recovering]);
        var bus = KeyTableFixture.Bus(FourServers, machines, seed: 16);
        bus.Enqueue(recovering, null, KeyTableWire.EntryRound, KeyTableWire.EntryType, fixture.Impostor(recovering).Encode());
        bus.Enqueue(recovering, null, KeyTableWire.EntryRound, KeyTableWire.EntryType, fixture.Impostor(recovering).Encode());
        bus.Start();

        foreach (var j in new[] { 1, 2, 3 })
        {
            var alert = Assert.Single(bus.EventsOf<Alert>(j));
            Assert.Equal(AlertType.Equivocation, alert.Type);
            Assert.Equal(0, alert.Culprit); // anyone can make an entry in the clear
            Assert.False(Proposal(bus, j).TryGet(recovering, out _));
        }
    }

    public static TheoryData<string, AlertType> BadMessages => new()
    {
        { "garbage", AlertType.MalformedMessage },
        { "empty", AlertType.MalformedMessage },
        { "truncated", AlertType.MalformedMessage },
        { "trailing byte", AlertType.MalformedMessage },
        { "three signatures", AlertType.MalformedMessage },
        { "bad new-key signature", AlertType.InvalidSignature },
        { "bad previous-key signature", AlertType.InvalidSignature },
        { "previous key of another server", AlertType.InvalidSignature },
        { "server outside 1..n", AlertType.MalformedMessage },
        { "entry of an earlier period", AlertType.Replay },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public void A_bad_entry_raises_an_alert_naming_the_sender_and_never_throws(string name, AlertType expected)
    {
        const int sender = 4;
        using var fixture = new KeyTableFixture(FourServers, seed: 17);
        var payload = name switch
        {
            "garbage" => [1, 2, 3],
            "empty" => [],
            "truncated" => Honest(fixture, 4).Encode()[..100],
            "trailing byte" => [.. Honest(fixture, 4).Encode(), 0],
            "three signatures" => WithByte(Honest(fixture, 4).Encode(), 1 + KeyTableEntry.EncodedLength, 1),
            "bad new-key signature" => WithByte(Honest(fixture, 4).Encode(), SignedKeyTableEntry.MinEncodedLength - 1, 0x55),
            "bad previous-key signature" => WithByte(Honest(fixture, 4).Encode(), SignedKeyTableEntry.MaxEncodedLength - 1, 0x55),
            "previous key of another server" => Signed(fixture, 4, fixture.Previous[3].Signing).Encode(),
            "server outside 1..n" => OtherServer(9),
            "entry of an earlier period" => OtherPeriod(fixture, 4, KeyTableFixture.Period - 1).Encode(),
            _ => throw new ArgumentException(name),
        };
        var machines = fixture.Machines(servers: [1]);
        var bus = KeyTableFixture.Bus(FourServers, machines, seed: 18);
        bus.Start();
        bus.Enqueue(sender, 1, KeyTableWire.EntryRound, KeyTableWire.EntryType, payload);
        bus.Run();

        var alert = Assert.Single(bus.EventsOf<Alert>(1));
        Assert.True(alert.Type == expected, $"{name}: {alert.Type} {alert.Detail}");
        Assert.Equal(sender, alert.Culprit);
        Assert.NotEmpty(alert.Evidence);
        Assert.Equal(KeyTableStatus.Collecting, machines[1].Status);
    }

    [Fact]
    public void A_message_of_an_unknown_round_or_type_raises_an_alert()
    {
        using var fixture = new KeyTableFixture(FourServers, seed: 19);
        var machines = fixture.Machines(servers: [1]);
        var bus = KeyTableFixture.Bus(FourServers, machines, seed: 20);
        bus.Enqueue(2, 1, 3, 9, Honest(fixture, 2).Encode());
        bus.Run();
        Assert.Equal(AlertType.MalformedMessage, Assert.Single(bus.EventsOf<Alert>(1)).Type);
    }

    public static TheoryData<string> UnacceptableTables => new()
    {
        "garbage",
        "fewer than n - f entries",
        "another period",
        "an impostor for the judging server itself",
        "a broken self-signature",
        "a previous-key signature that does not verify",
    };

    [Theory]
    [MemberData(nameof(UnacceptableTables))]
    public void The_validity_predicate_refuses(string name)
    {
        using var fixture = new KeyTableFixture(FourServers, seed: 21);
        var m = fixture.Machines();
        var bus = KeyTableFixture.Bus(FourServers, m, seed: 22);
        bus.Start();
        var table = name switch
        {
            "garbage" => [0, 1, 2],
            "fewer than n - f entries" => Table(m[1].OwnEntry, m[2].OwnEntry),
            "another period" => new KeyTableDocument(KeyTableFixture.Period + 1, [OtherPeriod(fixture, 1), OtherPeriod(fixture, 2), OtherPeriod(fixture, 3)]).Encode(),
            "an impostor for the judging server itself" => Table(fixture.Impostor(1), m[2].OwnEntry, m[3].OwnEntry),
            "a broken self-signature" => Table(m[1].OwnEntry, m[2].OwnEntry, Tampered(m[3].OwnEntry)),
            "a previous-key signature that does not verify" => Table(m[1].OwnEntry, m[2].OwnEntry, Signed(fixture, 3, fixture.Previous[2].Signing)),
            _ => throw new ArgumentException(name),
        };
        Assert.True(m[1].IsAcceptableKeyTable(Table(m[1].OwnEntry, m[2].OwnEntry, m[3].OwnEntry)), name);
        Assert.False(m[1].IsAcceptableKeyTable(table), name);
    }

    [Fact]
    public void A_stripped_copy_of_an_authenticated_entry_is_the_same_entry()
    {
        using var fixture = new KeyTableFixture(FourServers, seed: 23);
        var machines = fixture.Machines();
        var bus = KeyTableFixture.Bus(FourServers, machines, seed: 24);
        bus.Start();
        var table = Table(machines[1].OwnEntry, machines[2].OwnEntry.WithoutPreviousKeySignature(), machines[3].OwnEntry);
        Assert.True(machines[1].IsAcceptableKeyTable(table));
        Assert.True(machines[2].IsAcceptableKeyTable(table));
    }

    [Fact]
    public void An_undecodable_decision_raises_an_alert_and_leaves_the_machine_waiting()
    {
        using var fixture = new KeyTableFixture(FourServers, seed: 25);
        var machines = fixture.Machines(servers: [1]);
        var bus = KeyTableFixture.Bus(FourServers, machines, seed: 26);
        bus.Start();
        bus.Step(1, (context, outbox) => machines[1].OnKeyTableDecided(context, [9, 9, 9], outbox));
        Assert.Equal(AlertType.MalformedMessage, Assert.Single(bus.EventsOf<Alert>(1)).Type);
        Assert.False(machines[1].IsFinished);
    }

    [Fact]
    public void Transitions_follow_the_table_and_decided_is_final()
    {
        Assert.Empty(KeyTableMachine.ValidTransitions[KeyTableStatus.Decided]);
        foreach (var (from, targets) in KeyTableMachine.ValidTransitions)
        {
            Assert.DoesNotContain(from, targets);
        }

        using var fixture = new KeyTableFixture(FourServers, seed: 27);
        var machines = fixture.Machines();
        var bus = KeyTableFixture.Bus(FourServers, machines, seed: 28);
        Assert.Equal(KeyTableStatus.Created, machines[1].Status);
        bus.Start();
        Assert.Equal(KeyTableStatus.Proposed, machines[1].Status);
        Assert.Throws<InvalidOperationException>(() => bus.Step(1, (context, outbox) => machines[1].Start(context, outbox)));
        var table = bus.EventsOf<KeyTableProposal>(1).Single().EncodedTable;
        bus.Step(1, (context, outbox) => machines[1].OnKeyTableDecided(context, table, outbox));
        bus.Step(1, (context, outbox) => machines[1].OnKeyTableDecided(context, table, outbox));
        Assert.Single(bus.EventsOf<KeyTableDecided>(1));
        Assert.Equal(KeyTableStatus.Decided, machines[1].Status);
    }

    [Fact]
    public void The_constructor_refuses_keys_of_another_server_or_a_wrong_previous_key()
    {
        using var fixture = new KeyTableFixture(FourServers, seed: 29);
        Assert.Throws<ArgumentException>(() => new KeyTableMachine(KeyTableFixture.Instance, FourServers, 1, KeyTableFixture.Network,
            fixture.New[2], fixture.Previous[1].Signing, KeyTableFixture.Fingerprint(1), fixture.PreviousKeyOf, []));
        Assert.Throws<ArgumentException>(() => new KeyTableMachine(KeyTableFixture.Instance, FourServers, 1, KeyTableFixture.Network,
            fixture.New[1], fixture.Previous[2].Signing, KeyTableFixture.Fingerprint(1), fixture.PreviousKeyOf, []));
        Assert.Throws<ArgumentException>(() => new KeyTableMachine(new InstanceId(ProtocolKind.Refresh, KeyTableFixture.Period, 0), FourServers, 1,
            KeyTableFixture.Network, fixture.New[1], fixture.Previous[1].Signing, KeyTableFixture.Fingerprint(1), fixture.PreviousKeyOf, []));
    }

    private static byte[] Table(params SignedKeyTableEntry[] entries) => new KeyTableDocument(KeyTableFixture.Period, entries).Encode();

    private static SignedKeyTableEntry Honest(KeyTableFixture f, int server) => SignedKeyTableEntry.Create(
        new KeyTableEntry(f.New[server].PublicKeys, KeyTableFixture.Fingerprint(server)), KeyTableFixture.Network, f.New[server].Signing, f.Previous[server].Signing);

    private static SignedKeyTableEntry Signed(KeyTableFixture f, int server, Ed25519PrivateKey previous) => SignedKeyTableEntry.Create(
        new KeyTableEntry(f.New[server].PublicKeys, KeyTableFixture.Fingerprint(server)), KeyTableFixture.Network, f.New[server].Signing, previous);

    private static SignedKeyTableEntry Tampered(SignedKeyTableEntry entry)
    {
        var signature = entry.NewKeySignature.ToArray();
        signature[0] ^= 1;
        return SignedKeyTableEntry.FromParts(entry.Entry, signature, entry.PreviousKeySignature);
    }

    private static byte[] WithByte(byte[] bytes, int index, byte value)
    {
        bytes[index] ^= value;
        return bytes;
    }

    private static byte[] OtherServer(int server)
    {
        using var keys = PeriodKeys.Generate(server, KeyTableFixture.Period, new DeterministicRandomSource(5));
        return SignedKeyTableEntry.Create(new KeyTableEntry(keys.PublicKeys, KeyTableFixture.Fingerprint(server)), KeyTableFixture.Network, keys.Signing, null).Encode();
    }

    private static SignedKeyTableEntry OtherPeriod(KeyTableFixture f, int server, ulong period = KeyTableFixture.Period + 1)
    {
        using var keys = PeriodKeys.Generate(server, period, new DeterministicRandomSource((ulong)server));
        return SignedKeyTableEntry.Create(new KeyTableEntry(keys.PublicKeys, KeyTableFixture.Fingerprint(server)), KeyTableFixture.Network, keys.Signing, f.Previous[server].Signing);
    }
}
