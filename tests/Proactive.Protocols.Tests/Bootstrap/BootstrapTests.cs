using Proactive.Crypto.Frost;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Bootstrap;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Bootstrap;

/// <summary>
/// Toolkit Tables 2 and 3: the invariant information M, its certificate [S_cert(M), M], the
/// all-to-all exchange of initialization, and Vcert-recover with named servers.
/// </summary>
public sealed class BootstrapTests : IDisposable
{
    private static readonly ClusterParameters FourServers = ClusterParameters.Create(4, 1, 1);
    private static readonly NetworkId Network = NetworkId.FromBytes([.. Enumerable.Range(1, 16).Select(i => (byte)i)]);
    private static readonly byte[] Constants = "{\"network\":\"test\",\"servers\":4}"u8.ToArray();

    private readonly Ed25519PrivateKey[] _startKeys;

    public BootstrapTests()
    {
        var random = new DeterministicRandomSource(2026);
        _startKeys = [.. FourServers.Servers.Select(_ => Ed25519PrivateKey.Generate(random))];
    }

    private IReadOnlyList<Ed25519PublicKey> StartPublicKeys => [.. _startKeys.Select(k => k.PublicKey)];

    public void Dispose()
    {
        foreach (var key in _startKeys)
        {
            key.Dispose();
        }
    }

    private static (GroupPublicKey Key, Func<byte[], Signature> Sign) NetworkKey(Ciphersuite suite, ulong seed)
    {
        var random = new DeterministicRandomSource(seed);
        var dealt = TrustedDealer.Generate(suite, null, 2, 4, random);
        return (dealt.PublicKeyPackage.GroupPublicKey, Sign);

        Signature Sign(byte[] message)
        {
            var signers = dealt.KeyPackages.Take(2).ToArray();
            var nonces = signers.Select(k => Round1.Commit(k.SigningShare, random)).ToArray();
            var package = SigningPackage.Create(suite, nonces.Select(n => n.Commitments), message);
            var shares = signers.Select((k, i) => Round2.Sign(package, nonces[i], k).Value).ToArray();
            return Aggregation.Aggregate(package, shares, dealt.PublicKeyPackage).Value;
        }
    }

    private InvariantCertificate Certificate(Ciphersuite suite, ulong seed, byte[]? constants = null)
    {
        var (key, sign) = NetworkKey(suite, seed);
        constants ??= Constants;
        var statements = FourServers.Servers.Select(i => InvariantInformation.SignStatement(_startKeys[i - 1], Network, i, key, constants)).ToList();
        var information = InvariantInformation.Create(Network, key, constants, statements);
        return new InvariantCertificate(information, sign(InvariantCertificate.SigningMessage(information)));
    }

    public static TheoryData<string> Suites => new() { "Ed25519", "Ristretto255", "P256" };

    private static Ciphersuite SuiteByName(string name) => name switch
    {
        "Ed25519" => Ciphersuite.Ed25519,
        "Ristretto255" => Ciphersuite.Ristretto255,
        _ => Ciphersuite.P256,
    };

    [Theory]
    [MemberData(nameof(Suites))]
    public void A_certificate_verifies_at_every_server_with_its_own_start_key_and_survives_encoding(string name)
    {
        var suite = SuiteByName(name);
        var certificate = Certificate(suite, 7);

        Assert.True(certificate.Information.VerifyAllStatements(StartPublicKeys));
        foreach (var server in FourServers.Servers)
        {
            Assert.True(certificate.VerifyFor(server, _startKeys[server - 1].PublicKey));
        }

        Assert.True(InvariantCertificate.TryDecode(certificate.Encode(), suite, out var decoded));
        Assert.Equal(certificate.Encode(), decoded.Encode());
        Assert.True(decoded.VerifyFor(3, _startKeys[2].PublicKey));
        Assert.Equal(Constants, decoded.Information.Constants.ToArray());
        Assert.Equal(Network, decoded.Information.Network);
    }

    [Fact]
    public void Another_servers_start_key_or_another_network_key_is_refused()
    {
        var certificate = Certificate(Ciphersuite.Ed25519, 8);
        var other = Certificate(Ciphersuite.Ed25519, 9);

        // Server 2 checking its statement with server 1's V_start: step (i) fails.
        Assert.False(certificate.VerifyFor(2, _startKeys[0].PublicKey));

        // M of one network key with the signature made by another network's key.
        Assert.False(new InvariantCertificate(certificate.Information, other.Signature).Verify());

        // A server that is not in M.
        Assert.False(certificate.VerifyFor(5, _startKeys[0].PublicKey));
    }

    [Fact]
    public void An_attacker_with_its_own_network_key_cannot_make_an_M_a_server_accepts()
    {
        // Everything about M is public except the start keys, erased at initialization: an M
        // for the attacker's own V_cert carries statements it cannot make.
        var genuine = Certificate(Ciphersuite.Ed25519, 10);
        var (attackerKey, attackerSign) = NetworkKey(Ciphersuite.Ed25519, 11);
        var forged = InvariantInformation.Create(Network, attackerKey, Constants, [.. FourServers.Servers.Select(i => genuine.Information.StatementOf(i).ToArray())]);
        var certificate = new InvariantCertificate(forged, attackerSign(InvariantCertificate.SigningMessage(forged)));

        Assert.True(certificate.Verify());
        Assert.False(certificate.VerifyFor(1, _startKeys[0].PublicKey));
    }

    [Fact]
    public void Changing_the_constants_breaks_every_statement()
    {
        var certificate = Certificate(Ciphersuite.Ed25519, 12);
        var altered = InvariantInformation.Create(
            Network, certificate.Information.NetworkKey, "{\"network\":\"evil\"}"u8,
            [.. FourServers.Servers.Select(i => certificate.Information.StatementOf(i).ToArray())]);

        Assert.False(altered.VerifyStatement(1, _startKeys[0].PublicKey));
        Assert.False(altered.VerifyAllStatements(StartPublicKeys));
    }

    [Fact]
    public void Mutated_certificates_never_throw_and_only_canonical_encodings_decode()
    {
        var encoded = Certificate(Ciphersuite.P256, 13).Encode();
        var random = new Random(2026);
        for (var i = 0; i < 2000; i++)
        {
            var mutated = (byte[])encoded.Clone();
            var flips = random.Next(1, 4);
            for (var f = 0; f < flips; f++)
            {
                mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
            }

            var cut = random.Next(3) == 0 ? mutated[..random.Next(mutated.Length)] : mutated;
            if (InvariantCertificate.TryDecode(cut, null, out var decoded, out _))
            {
                Assert.Equal(cut, decoded.Encode());
            }
            else
            {
                Assert.False(InvariantCertificate.TryDecode(cut, null, out _));
            }

            if (InvariantInformation.TryDecode(cut, null, out var information))
            {
                Assert.Equal(cut, information.Encode());
            }
        }

        Assert.False(InvariantCertificate.TryDecode([], null, out _, out var failure));
        Assert.NotEqual(Crypto.Codec.CodecError.None, failure.Error);
    }

    [Fact]
    public void Recover_an_operational_server_pushes_its_copy_and_a_wiped_one_adopts_it()
    {
        var certificate = Certificate(Ciphersuite.Ed25519, 14);
        var stored = certificate.Encode();
        var machines = FourServers.Servers.ToDictionary(
            s => s,
            s => new VcertRecoverMachine(VcertRecoverMachine.InstanceOf(3), FourServers, s, _startKeys[s - 1].PublicKey, Ciphersuite.Ed25519, s == 2 ? null : stored, TimeSpan.FromSeconds(5)));
        var bus = new FifoTestBus(FourServers, machines.ToDictionary(p => p.Key, p => (IProtocolMachine)p.Value), seed: 15);

        bus.Start();

        Assert.All(machines.Values, m => Assert.Equal(VcertRecoverStatus.Operational, m.Status));
        var recovered = Assert.Single(bus.EventsOf<InvariantVerified>(2));
        Assert.True(recovered.Recovered);
        Assert.Equal(stored, Assert.Single(bus.Persisted[2], p => p.Key == VcertRecoverMachine.StorageKey).Value);
        Assert.False(Assert.Single(bus.EventsOf<InvariantVerified>(1)).Recovered);
        Assert.Empty(bus.EventsOf<Alert>(1));
    }

    [Fact]
    public void Recover_a_server_with_nothing_valid_in_time_raises_recovery_failed()
    {
        // Server 1's copy is signed for another set of start keys: nobody is operational.
        using var stranger = Ed25519PrivateKey.Generate(new DeterministicRandomSource(99));
        var certificate = Certificate(Ciphersuite.Ed25519, 16);
        var machine = new VcertRecoverMachine(VcertRecoverMachine.InstanceOf(1), FourServers, 1, stranger.PublicKey, Ciphersuite.Ed25519, certificate.Encode(), TimeSpan.FromSeconds(5));
        var context = new ProtocolContext(1, FourServers, TimeSpan.Zero, new DeterministicRandomSource(1));
        var outbox = new Outbox();

        machine.Start(context, outbox);
        Assert.Equal(VcertRecoverStatus.Recovering, machine.Status);
        Assert.Contains(outbox.Messages, m => m.Type == VcertRecoverWire.RequestType);

        // A copy valid for server 1's real key is still no copy for this server's ROM.
        outbox.Clear();
        machine.Receive(context, new InboundMessage(2, 0, VcertRecoverWire.Round, VcertRecoverWire.PushType, certificate.Encode(), false, default), outbox);
        machine.Receive(context, new InboundMessage(3, 0, VcertRecoverWire.Round, VcertRecoverWire.PushType, new byte[] { 1, 2, 3 }, false, default), outbox);
        Assert.Empty(outbox.Events);

        var timer = Assert.Single(machine.Status == VcertRecoverStatus.Recovering ? new[] { VcertRecoverMachine.DeadlineTimer } : []);
        machine.Timeout(context with { Now = TimeSpan.FromSeconds(5) }, timer, outbox);
        var alert = Assert.IsType<Alert>(Assert.Single(outbox.Events));
        Assert.Equal(AlertType.RecoveryFailed, alert.Type);
        Assert.Equal(0, alert.Culprit);
        Assert.Contains("2 invalid copies", alert.Detail);
        Assert.True(machine.IsFinished);
    }

    [Fact]
    public void Recover_an_operational_server_blames_an_authenticated_sender_of_a_bad_copy_and_answers_requests_a_bounded_number_of_times()
    {
        var certificate = Certificate(Ciphersuite.Ed25519, 17);
        var machine = new VcertRecoverMachine(VcertRecoverMachine.InstanceOf(1), FourServers, 1, _startKeys[0].PublicKey, Ciphersuite.Ed25519, certificate.Encode(), TimeSpan.FromSeconds(5));
        var context = new ProtocolContext(1, FourServers, TimeSpan.Zero, new DeterministicRandomSource(1));
        var outbox = new Outbox();
        machine.Start(context, outbox);
        outbox.Clear();

        var bad = certificate.Encode();
        bad[^1] ^= 1;
        machine.Receive(context, new InboundMessage(4, 0, VcertRecoverWire.Round, VcertRecoverWire.PushType, bad, false, new byte[] { 9 }), outbox);
        var alert = Assert.IsType<Alert>(Assert.Single(outbox.Events));
        Assert.Equal((AlertType.InvalidSignature, 4), (alert.Type, alert.Culprit));

        outbox.Clear();
        for (var i = 0; i < 10; i++)
        {
            machine.Receive(context, new InboundMessage(3, 0, VcertRecoverWire.Round, VcertRecoverWire.RequestType, Array.Empty<byte>(), false, default), outbox);
        }

        Assert.Equal(VcertRecoverMachine.MaxAnswersPerRequester, outbox.Messages.Count(m => m.Recipient == 3 && m.Type == VcertRecoverWire.PushType));
    }

    [Fact]
    public void Exchange_collects_every_servers_start_key_signed_item_even_when_one_starts_late()
    {
        var items = FourServers.Servers.ToDictionary(s => s, s => _startKeys[s - 1].Sign(ItemLabel(s)));
        bool IsValid(int sender, ReadOnlyMemory<byte> item) =>
            item.Length == Ed25519PublicKey.SignatureLength && _startKeys[sender - 1].PublicKey.Verify(ItemLabel(sender), item.Span);
        var machines = FourServers.Servers.ToDictionary(
            s => s,
            s => new ExchangeMachine(new InstanceId(ProtocolKind.Bootstrap, 0, 0), FourServers, s, items[s], IsValid, TimeSpan.FromSeconds(1)));
        var bus = new FifoTestBus(FourServers, machines.ToDictionary(p => p.Key, p => (IProtocolMachine)p.Value), seed: 18);

        bus.Start(1, 2, 3);
        Assert.All(machines.Where(p => p.Key != 4), p => Assert.Equal(ExchangeStatus.Collecting, p.Value.Status));
        Assert.Equal([4], machines[1].Missing);

        bus.Start(4);
        foreach (var server in FourServers.Servers)
        {
            var done = Assert.Single(bus.EventsOf<ExchangeCompleted>(server));
            Assert.Equal(FourServers.Servers.Select(s => items[s]), done.Items);
        }
    }

    [Fact]
    public void Exchange_drops_an_item_that_does_not_verify_and_blames_nobody()
    {
        var item = _startKeys[0].Sign(ItemLabel(1));
        var machine = new ExchangeMachine(
            new InstanceId(ProtocolKind.Bootstrap, 0, 0), FourServers, 1, item,
            (sender, candidate) => _startKeys[sender - 1].PublicKey.Verify(ItemLabel(sender), candidate.Span), TimeSpan.FromSeconds(1));
        var context = new ProtocolContext(1, FourServers, TimeSpan.Zero, new DeterministicRandomSource(1));
        var outbox = new Outbox();
        machine.Start(context, outbox);
        outbox.Clear();

        var forged = new byte[1 + item.Length];
        item.CopyTo(forged, 1);
        machine.Receive(context, new InboundMessage(2, 0, ExchangeWire.Round, ExchangeWire.ItemType, forged, false, default), outbox);
        var alert = Assert.IsType<Alert>(Assert.Single(outbox.Events));
        Assert.Equal((AlertType.InvalidSignature, 0), (alert.Type, alert.Culprit));

        outbox.Clear();
        machine.Receive(context, new InboundMessage(2, 0, ExchangeWire.Round, ExchangeWire.ItemType, new byte[] { 0xF0 }, false, default), outbox);
        Assert.Equal(AlertType.MalformedMessage, Assert.IsType<Alert>(Assert.Single(outbox.Events)).Type);
        Assert.Equal([2, 3, 4], machine.Missing);
    }

    private static byte[] ItemLabel(int server) => [.. "initial-keys-"u8.ToArray(), (byte)server];
}
