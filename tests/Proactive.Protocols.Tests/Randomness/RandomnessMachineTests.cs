using Proactive.Crypto.Dprf;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Randomness;
using Proactive.Protocols.Tests.KeyTable;

namespace Proactive.Protocols.Tests.Randomness;

public sealed class RandomnessMachineTests
{
    private static readonly ClusterParameters FiveServers = ClusterParameters.Create(5, 2, 1);
    private static readonly InstanceId Instance = new(ProtocolKind.Randomness, 12, 0);

    public static TheoryData<string> Groups => new() { "Ed25519", "Ristretto255", "P256" };

    private static PrimeOrderGroup GroupByName(string name) => name switch
    {
        "Ed25519" => PrimeOrderGroup.Ed25519,
        "Ristretto255" => PrimeOrderGroup.Ristretto255,
        _ => PrimeOrderGroup.P256,
    };

    /// <summary>A DPRF key shared among the five servers with degree t = 2, and machines for the chosen servers.</summary>
    private sealed class Session : IDisposable
    {
        private readonly SecretShare[] _shares;

        public Session(PrimeOrderGroup group, ulong seed, int[]? servers = null, Func<int, SecretShare, SecretShare?>? shareOf = null)
        {
            var random = new DeterministicRandomSource(seed);
            Prf = new DistributedPrf(group);
            var (shares, polynomial) = Shamir.Split(group, group.RandomNonzeroScalar(random), FiveServers.Threshold, FiveServers.ServerCount, random);
            using (polynomial)
            {
                PublicShares = DprfPublicShares.FromFeldmanCommitments(FeldmanCommitment.Commit(polynomial));
            }

            _shares = shares;
            Message = RandomnessMachine.PeriodMessage(Instance.Period);
            foreach (var j in servers ?? FiveServers.Servers.ToArray())
            {
                var share = shareOf is null ? shares[j - 1] : shareOf(j, shares[j - 1]);
                Machines[j] = new RandomnessMachine(Instance, FiveServers, j, Prf, Message, share, PublicShares);
            }

            Bus = new FifoTestBus(FiveServers, Machines.ToDictionary(kv => kv.Key, kv => (IProtocolMachine)kv.Value), seed + 1);
        }

        public DistributedPrf Prf { get; }

        public DprfPublicShares PublicShares { get; }

        public byte[] Message { get; }

        public Dictionary<int, RandomnessMachine> Machines { get; } = [];

        public FifoTestBus Bus { get; }

        public SecretShare ShareOf(int server) => _shares[server - 1];

        public RandomnessProduced Produced(int server) => Assert.Single(Bus.EventsOf<RandomnessProduced>(server));

        public void Dispose()
        {
            foreach (var share in _shares)
            {
                share.Dispose();
            }
        }
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void All_honest_servers_produce_the_same_publicly_verifiable_value(string name)
    {
        using var session = new Session(GroupByName(name), seed: 41);
        session.Bus.Start();

        var value = session.Produced(1).Value;
        Assert.Equal(DprfOutput.ValueLength, value.Length);
        foreach (var j in FiveServers.Servers)
        {
            var produced = session.Produced(j);
            Assert.Equal(value, produced.Value);
            Assert.Equal(session.Message, produced.Message);
            Assert.Empty(session.Bus.EventsOf<Alert>(j));
            Assert.Equal(RandomnessStatus.Produced, session.Machines[j].Status);
            Assert.True(DprfOutput.TryDecode(session.Prf.Group, produced.EncodedOutput, out var output));
            Assert.True(session.Prf.VerifyOutput(session.PublicShares, session.Message, output));
            Assert.Equal(value, output.Value.ToArray());
        }
    }

    [Fact]
    public void The_value_is_the_same_whichever_t_plus_one_servers_answer()
    {
        using var first = new Session(PrimeOrderGroup.Ristretto255, seed: 43);
        first.Bus.Start(1, 2, 3);
        using var second = new Session(PrimeOrderGroup.Ristretto255, seed: 43);
        second.Bus.Start(5, 4, 3);
        Assert.Equal(first.Produced(4).Value, second.Produced(1).Value);
    }

    [Fact]
    public void A_server_sending_an_invalid_proof_is_named_and_the_value_is_still_produced()
    {
        const int cheater = 2;
        using var session = new Session(PrimeOrderGroup.Ristretto255, seed: 45);
        var group = session.Prf.Group;

        // The cheater answers with its share plus one: a partial its public share does not vouch for.
        using var wrongShare = new SecretShare(group, cheater, group.Add(session.ShareOf(cheater).Value, group.One));
        var forged = session.Prf.Evaluate(wrongShare, session.Message, new DeterministicRandomSource(7));
        session.Bus.Interceptor = (from, _, message) => from == cheater ? message with { Payload = forged.Encode() } : message;
        session.Bus.Start();

        foreach (var j in FiveServers.Servers)
        {
            var alert = Assert.Single(session.Bus.EventsOf<Alert>(j));
            Assert.Equal(AlertType.InvalidProof, alert.Type);
            Assert.Equal(cheater, alert.Culprit);
            Assert.Equal(cheater, alert.Evidence[0]);
            Assert.Equal([cheater], session.Machines[j].Culprits);
            Assert.Equal(session.Produced(1).Value, session.Produced(j).Value);
            Assert.True(session.Prf.VerifyOutput(session.PublicShares, session.Message, session.Machines[j].Output!));
        }
    }

    [Fact]
    public void Fewer_than_t_plus_one_valid_partials_give_no_output_until_enough_arrive()
    {
        using var session = new Session(PrimeOrderGroup.Ed25519, seed: 47);
        session.Bus.Start(1, 2);
        foreach (var j in FiveServers.Servers)
        {
            Assert.Empty(session.Bus.EventsOf<RandomnessProduced>(j));
            Assert.Equal(j <= 2 ? RandomnessStatus.Collecting : RandomnessStatus.Created, session.Machines[j].Status);
        }

        session.Bus.Start(3);
        foreach (var j in FiveServers.Servers)
        {
            Assert.Single(session.Bus.EventsOf<RandomnessProduced>(j));
        }

        // A server that starts after the output was produced contributes nothing more.
        session.Bus.Start(4);
        Assert.Single(session.Bus.EventsOf<RandomnessProduced>(1));
    }

    [Fact]
    public void A_server_without_a_share_still_collects_and_produces_the_value()
    {
        using var session = new Session(PrimeOrderGroup.P256, seed: 49);
        using var observer = new Session(PrimeOrderGroup.P256, seed: 49, servers: [1, 2, 3, 4, 5], shareOf: (j, s) => j == 5 ? null : s);
        observer.Bus.Start();
        session.Bus.Start();
        Assert.Equal(session.Produced(5).Value, observer.Produced(5).Value);
        Assert.DoesNotContain(observer.Bus.Delivered, d => d.From == 5);
    }

    [Fact]
    public void A_tampered_output_does_not_verify()
    {
        using var session = new Session(PrimeOrderGroup.Ristretto255, seed: 51);
        session.Bus.Start();
        var encoded = session.Produced(1).EncodedOutput;
        Assert.False(session.Prf.VerifyOutput(session.PublicShares, RandomnessMachine.PeriodMessage(Instance.Period + 1),
            session.Machines[1].Output!));
        for (var i = 2; i < encoded.Length; i += 11)
        {
            var copy = (byte[])encoded.Clone();
            copy[i] ^= 0x04;
            Assert.False(DprfOutput.TryDecode(session.Prf.Group, copy, out var tampered) &&
                session.Prf.VerifyOutput(session.PublicShares, session.Message, tampered), $"byte {i}");
        }
    }

    public static TheoryData<string> BadPartials => new() { "garbage", "empty", "another server's partial", "wrong group", "unknown round" };

    [Theory]
    [MemberData(nameof(BadPartials))]
    public void A_malformed_partial_raises_an_alert_naming_the_sender_and_never_throws(string name)
    {
        using var session = new Session(PrimeOrderGroup.Ristretto255, seed: 53, servers: [1]);
        var other = session.Prf.Evaluate(session.ShareOf(3), session.Message, new DeterministicRandomSource(3)).Encode();
        using var p256Share = new SecretShare(PrimeOrderGroup.P256, 4, PrimeOrderGroup.P256.One);
        var (round, payload) = name switch
        {
            "garbage" => (RandomnessWire.PartialRound, new byte[] { 1, 2, 3 }),
            "empty" => (RandomnessWire.PartialRound, []),
            "another server's partial" => (RandomnessWire.PartialRound, other),
            "wrong group" => (RandomnessWire.PartialRound, new DistributedPrf(PrimeOrderGroup.P256).Evaluate(p256Share, session.Message, new DeterministicRandomSource(4)).Encode()),
            _ => ((byte)9, other),
        };
        session.Bus.Start();
        session.Bus.Enqueue(4, 1, round, RandomnessWire.PartialType, payload);
        session.Bus.Run();

        var alert = Assert.Single(session.Bus.EventsOf<Alert>(1));
        Assert.Equal(AlertType.MalformedMessage, alert.Type);
        Assert.Equal(4, alert.Culprit);
        Assert.Empty(session.Bus.EventsOf<RandomnessProduced>(1));
    }

    [Fact]
    public void Transitions_follow_the_table_and_arguments_are_checked()
    {
        Assert.Empty(RandomnessMachine.ValidTransitions[RandomnessStatus.Produced]);
        using var session = new Session(PrimeOrderGroup.Ristretto255, seed: 55, servers: [1]);
        session.Bus.Start();
        Assert.Throws<InvalidOperationException>(() => session.Bus.Step(1, (c, o) => session.Machines[1].Start(c, o)));
        Assert.Throws<ArgumentException>(() => new RandomnessMachine(Instance, FiveServers, 2, session.Prf, session.Message, session.ShareOf(1), session.PublicShares));
        Assert.Throws<ArgumentException>(() => new RandomnessMachine(new InstanceId(ProtocolKind.KeyTable, 1, 0), FiveServers, 1, session.Prf, session.Message, session.ShareOf(1), session.PublicShares));
        Assert.NotEqual(RandomnessMachine.PeriodMessage(1), RandomnessMachine.PeriodMessage(2));
    }
}
