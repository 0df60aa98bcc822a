using System.Security.Cryptography;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Random;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Signing;

namespace Proactive.Protocols.Tests.KeyTable;

/// <summary>
/// <see cref="PeriodCertificateMachine"/> on its own (n = 4): the network key is a dealt FROST key, the
/// root is a decided KeyTable of <see cref="KeyTableFixture.Period"/> and a state hash, and the test
/// plays the controller and the peers.
/// </summary>
public sealed class PeriodCertificateMachineTests : IDisposable
{
    private const ulong Period = KeyTableFixture.Period;

    private static readonly ClusterParameters FourServers = ClusterParameters.Create(4, 1, 1);

    private static readonly byte[] Table = PeriodCertificateTests.DecidedTable(51);

    private static readonly byte[] StateHash = SHA256.HashData("the committed public state of period 8"u8);

    private static readonly PeriodCertificateTimeouts Timeouts = new(TimeSpan.FromSeconds(4), TimeSpan.FromMilliseconds(500), SigningTimeouts.Default);

    private readonly TrustedDealerOutput _dealt = TrustedDealer.Generate(Ciphersuite.Ed25519, null, 2, 4, new DeterministicRandomSource(52));

    private GroupPublicKey NetworkKey => _dealt.PublicKeyPackage.GroupPublicKey;

    /// <summary>The scheduled coordinator of counter 1 in period 8 at n = 4: (8 mod 4) + 1.</summary>
    private const int FirstCoordinator = 1;

    public void Dispose() => _dealt.Dispose();

    /// <summary>A valid certificate of <paramref name="table"/> (this test's root by default), signed with fresh nonces drawn from <paramref name="seed"/>.</summary>
    private PeriodCertificate Sign(ulong seed, byte[]? table = null, byte[]? hash = null)
    {
        var random = new DeterministicRandomSource(seed);
        var signers = _dealt.KeyPackages.Take(2).ToArray();
        var nonces = signers.Select(k => Round1.Commit(k.SigningShare, random)).ToArray();
        var message = PeriodCertificate.SigningMessage(Period, table ?? Table, hash ?? StateHash);
        var package = SigningPackage.Create(Ciphersuite.Ed25519, nonces.Select(n => n.Commitments), message);
        var shares = signers.Select((k, i) => Round2.Sign(package, nonces[i], k).Value!).ToArray();
        foreach (var n in nonces)
        {
            n.Dispose();
        }

        return new PeriodCertificate(Period, table ?? Table, hash ?? StateHash, Aggregation.Aggregate(package, shares, _dealt.PublicKeyPackage).Value!);
    }

    private static ProtocolContext Context(int self, TimeSpan now) => new(self, FourServers, now, new DeterministicRandomSource(53));

    private static InboundMessage CertificateFrom(int sender, byte[] payload, uint attempt = 0) =>
        new(sender, attempt, PeriodCertificateWire.Round, PeriodCertificateWire.CertificateType, payload, false, new byte[] { (byte)sender }.Concat(payload).ToArray());

    private static InboundMessage RequestFrom(int sender, uint attempt, byte[]? payload = null) =>
        new(sender, attempt, PeriodCertificateWire.Round, PeriodCertificateWire.RequestType, payload ?? [], false, new byte[] { (byte)sender });

    private PeriodCertificateMachine Started(int self, bool catchingUp = false, PeriodCertificate? held = null)
    {
        var machine = new PeriodCertificateMachine(Period, FourServers, self, NetworkKey, catchingUp, held, Timeouts);
        machine.Start(Context(self, TimeSpan.Zero), new Outbox());
        return machine;
    }

    private static Outbox Step(Action<Outbox> action)
    {
        var outbox = new Outbox();
        action(outbox);
        return outbox;
    }

    /// <summary>A machine whose root became known at t = 10 s (table, then commit), with that step's outbox.</summary>
    private (PeriodCertificateMachine Machine, Outbox ReadyStep) Ready(int self)
    {
        var machine = Started(self);
        machine.OnTableDecided(Context(self, TimeSpan.FromSeconds(9)), Table, new Outbox());
        var outbox = Step(o => machine.OnCommitted(Context(self, TimeSpan.FromSeconds(10)), StateHash, o));
        return (machine, outbox);
    }

    public static TheoryData<ulong, uint, int> Schedule => new()
    {
        { 8, 1, 1 },
        { 8, 2, 2 },
        { 8, 4, 4 },
        { 8, 5, 1 },
        { 1, 1, 2 },
        { 3, 2, 1 },
        { ulong.MaxValue, 1, 4 }, // 2^64 - 1 = 3 mod 4
        { ulong.MaxValue, 2, 1 },
    };

    [Theory]
    [MemberData(nameof(Schedule))]
    public void The_coordinator_of_session_counter_c_in_period_p_is_p_plus_c_minus_one_mod_n_plus_one(ulong period, uint counter, int coordinator) =>
        Assert.Equal(coordinator, PeriodCertificateMachine.CoordinatorOf(period, counter, 4));

    public static TheoryData<string, int, bool, bool> RootArrivals => new()
    {
        // actor, self, table first, is the coordinator of counter 1
        { "coordinator, table then commit", FirstCoordinator, true, true },
        { "coordinator, commit then table", FirstCoordinator, false, true },
        { "signer, table then commit", 3, true, false },
        { "signer, commit then table", 3, false, false },
    };

    [Theory]
    [MemberData(nameof(RootArrivals))]
    public void The_root_becomes_known_with_the_table_and_the_commit_in_either_order(string actor, int self, bool tableFirst, bool coordinates)
    {
        var machine = Started(self);
        var now = TimeSpan.FromSeconds(10);
        var first = Step(o =>
        {
            if (tableFirst)
            {
                machine.OnTableDecided(Context(self, now), Table, o);
            }
            else
            {
                machine.OnCommitted(Context(self, now), StateHash, o);
            }
        });
        Assert.True(first.Events.Count == 0 && machine.Status == PeriodCertificateStatus.Waiting, actor);

        var ready = Step(o =>
        {
            if (tableFirst)
            {
                machine.OnCommitted(Context(self, now), StateHash, o);
            }
            else
            {
                machine.OnTableDecided(Context(self, now), Table, o);
            }
        });
        Assert.Equal(PeriodCertificateStatus.Ready, machine.Status);
        var root = PeriodCertificate.SigningMessage(Period, Table, StateHash);
        Assert.Equal(root, Assert.IsType<PeriodRootReady>(ready.Events[0]).MessageToSign);
        Assert.Equal(root, machine.RootMessage);
        Assert.Equal(coordinates, ready.Events.OfType<PeriodCertificateCoordinationDue>().Any(d => d.Session == SigningSessionIds.Session(Period, self, 1)));
        Assert.Equal(new TimerRequest(PeriodCertificateMachine.StepTimerBase + 1, now + Timeouts.Deadline), Assert.Single(ready.Timers));
        Assert.Empty(ready.Messages);
    }

    [Fact]
    public void A_catching_up_server_asks_for_the_certificate_at_once_and_never_coordinates()
    {
        var machine = Started(FirstCoordinator, catchingUp: true);
        var ready = Step(o => machine.OnCommitted(Context(FirstCoordinator, TimeSpan.FromSeconds(3)), StateHash, o));

        Assert.Equal(PeriodCertificateStatus.Ready, machine.Status);
        Assert.Empty(ready.Events);
        Assert.Null(machine.RootMessage);
        var request = Assert.Single(ready.Messages);
        Assert.Equal((null, 0u, PeriodCertificateWire.RequestType), (request.Recipient, request.Attempt, request.Type));
        Assert.Empty(request.Payload);

        // A valid certificate of the committed state is kept without a table to compare.
        var certificate = Sign(54);
        var kept = Step(o => machine.Receive(Context(FirstCoordinator, TimeSpan.FromSeconds(4)), CertificateFrom(2, certificate.Encode()), o));
        Assert.Equal(certificate.Encode(), Assert.IsType<PeriodCertified>(Assert.Single(kept.Events)).EncodedCertificate);
        Assert.False(machine.AcceptsForSigning(SigningSessionIds.Session(Period, FirstCoordinator, 1), FirstCoordinator, PeriodCertificate.SigningMessage(Period, Table, StateHash)));
    }

    [Fact]
    public void A_certificate_that_arrives_before_the_root_waits_and_is_kept_when_the_root_is_known()
    {
        var machine = Started(3);
        var certificate = Sign(55);
        var early = Step(o => machine.Receive(Context(3, TimeSpan.FromSeconds(1)), CertificateFrom(FirstCoordinator, certificate.Encode()), o));
        Assert.Empty(early.Events);
        Assert.Equal(PeriodCertificateStatus.Waiting, machine.Status);

        machine.OnTableDecided(Context(3, TimeSpan.FromSeconds(2)), Table, new Outbox());
        var ready = Step(o => machine.OnCommitted(Context(3, TimeSpan.FromSeconds(3)), StateHash, o));

        Assert.Equal(PeriodCertificateStatus.Certified, machine.Status);
        Assert.Equal(certificate.Encode(), ready.Events.OfType<PeriodCertified>().Single().EncodedCertificate);
        Assert.Empty(ready.Timers); // nothing left to wait for
        Assert.Empty(ready.Messages);
    }

    public static TheoryData<string, int, string, AlertType> Forgeries => new()
    {
        // actor, sender, what is wrong, alert
        { "bad signature", 2, "signature", AlertType.InvalidSignature },
        { "valid signature on another table", 2, "table", AlertType.InvalidSignature },
        { "valid signature on another public state", 4, "state", AlertType.InvalidSignature },
        { "signed with another key", 2, "key", AlertType.InvalidSignature },
        { "undecodable bytes", 4, "bytes", AlertType.MalformedMessage },
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public void A_certificate_that_does_not_certify_this_servers_root_raises_an_alert_naming_its_sender_and_is_not_kept(string actor, int sender, string wrong, AlertType expected)
    {
        var (machine, _) = Ready(3);
        var valid = Sign(56);
        var otherTable = (byte[])Table.Clone();
        otherTable[^1] ^= 1;
        var otherHash = (byte[])StateHash.Clone();
        otherHash[0] ^= 1;
        using var otherDealer = TrustedDealer.Generate(Ciphersuite.Ed25519, null, 2, 4, new DeterministicRandomSource(57));
        var payload = wrong switch
        {
            "signature" => new PeriodCertificate(Period, Table, StateHash, new Signature(Ciphersuite.Ed25519, valid.Signature.R, Ciphersuite.Ed25519.Group.Add(valid.Signature.Z, Ciphersuite.Ed25519.Group.One))).Encode(),
            "table" => Sign(58, table: otherTable).Encode(),
            "state" => Sign(59, hash: otherHash).Encode(),
            "key" => PeriodCertificateTests.Certify(Ciphersuite.Ed25519, Period, Table, StateHash, 60).Certificate.Encode(),
            _ => valid.Encode()[..20],
        };

        var step = Step(o => machine.Receive(Context(3, TimeSpan.FromSeconds(11)), CertificateFrom(sender, payload), o));

        var alert = Assert.IsType<Alert>(Assert.Single(step.Events));
        Assert.True((alert.Type, alert.Culprit) == (expected, sender), $"{actor}: {alert.Type} naming {alert.Culprit}");
        Assert.Equal(PeriodCertificateMachine.InstanceOf(Period), alert.Instance);
        Assert.Equal([(byte)sender, .. payload], alert.Evidence);
        Assert.Equal(PeriodCertificateStatus.Ready, machine.Status);
        Assert.Null(machine.Certificate);
    }

    [Fact]
    public void Without_a_certificate_each_deadline_asks_everyone_and_the_next_coordinator_signs_after_the_request_window()
    {
        const int SecondCoordinator = 2; // counter 2 in period 8
        var (machine, ready) = Ready(SecondCoordinator);
        Assert.Empty(ready.Events.OfType<PeriodCertificateCoordinationDue>());

        var deadline = TimeSpan.FromSeconds(10) + Timeouts.Deadline;
        var step1 = Step(o => machine.Timeout(Context(SecondCoordinator, deadline), PeriodCertificateMachine.StepTimerBase + 1, o));
        var request = Assert.Single(step1.Messages);
        Assert.Equal((null, 1u, PeriodCertificateWire.RequestType), (request.Recipient, request.Attempt, request.Type));
        Assert.Contains(new TimerRequest(PeriodCertificateMachine.CoordinationTimerBase + 1, deadline + Timeouts.RequestWindow), step1.Timers);
        Assert.Contains(new TimerRequest(PeriodCertificateMachine.StepTimerBase + 2, deadline + Timeouts.Deadline), step1.Timers);
        Assert.Empty(step1.Events);

        var coordinate = Step(o => machine.Timeout(Context(SecondCoordinator, deadline + Timeouts.RequestWindow), PeriodCertificateMachine.CoordinationTimerBase + 1, o));
        Assert.Equal(SigningSessionIds.Session(Period, SecondCoordinator, 2), Assert.IsType<PeriodCertificateCoordinationDue>(Assert.Single(coordinate.Events)).Session);

        // A server that is not the next coordinator only asks.
        var (other, _) = Ready(3);
        var otherStep = Step(o => other.Timeout(Context(3, deadline), PeriodCertificateMachine.StepTimerBase + 1, o));
        Assert.Single(otherStep.Messages);
        Assert.DoesNotContain(otherStep.Timers, t => t.TimerId >= PeriodCertificateMachine.CoordinationTimerBase);

        // Once certified, the timers do nothing.
        machine.Receive(Context(SecondCoordinator, deadline), CertificateFrom(4, Sign(61).Encode()), new Outbox());
        var late = Step(o => machine.Timeout(Context(SecondCoordinator, deadline + Timeouts.Deadline), PeriodCertificateMachine.StepTimerBase + 2, o));
        Assert.Empty(late.Messages);
        Assert.Empty(late.Events);
        Assert.Empty(late.Timers);
    }

    [Fact]
    public void The_coordinators_signature_becomes_the_certificate_it_broadcasts_and_a_holder_answers_each_request_once()
    {
        var (machine, _) = Ready(FirstCoordinator);
        var signature = Sign(62).Signature.Encode();
        var ignored = Step(o => machine.OnSignatureProduced(Context(FirstCoordinator, TimeSpan.FromSeconds(11)), new SignatureProduced(SigningSessionIds.Session(Period, FirstCoordinator, 1), [1, 2, 3], signature, [1, 2]), o));
        Assert.Empty(ignored.Events);

        var produced = Step(o => machine.OnSignatureProduced(Context(FirstCoordinator, TimeSpan.FromSeconds(11)), new SignatureProduced(SigningSessionIds.Session(Period, FirstCoordinator, 1), machine.RootMessage!, signature, [1, 2]), o));
        Assert.Equal(PeriodCertificateStatus.Certified, machine.Status);
        var encoded = Assert.IsType<PeriodCertified>(Assert.Single(produced.Events)).EncodedCertificate;
        var broadcast = Assert.Single(produced.Messages);
        Assert.Equal((null, 0u, PeriodCertificateWire.CertificateType), (broadcast.Recipient, broadcast.Attempt, broadcast.Type));
        Assert.Equal(encoded, broadcast.Payload);
        Assert.True(machine.Certificate!.Verify(NetworkKey));

        var answer = Assert.Single(Step(o => machine.Receive(Context(FirstCoordinator, TimeSpan.FromSeconds(15)), RequestFrom(3, 1), o)).Messages);
        Assert.Equal(3, answer.Recipient);
        Assert.Equal(encoded, answer.Payload);
        Assert.Empty(Step(o => machine.Receive(Context(FirstCoordinator, TimeSpan.FromSeconds(15)), RequestFrom(3, 1), o)).Messages);
        Assert.Single(Step(o => machine.Receive(Context(FirstCoordinator, TimeSpan.FromSeconds(19)), RequestFrom(3, 2), o)).Messages);

        var malformed = Step(o => machine.Receive(Context(FirstCoordinator, TimeSpan.FromSeconds(19)), RequestFrom(4, 1, [7]), o));
        var alert = Assert.IsType<Alert>(Assert.Single(malformed.Events));
        Assert.Equal((AlertType.MalformedMessage, 4), (alert.Type, alert.Culprit));
    }

    [Fact]
    public void Two_valid_certificates_of_one_root_converge_on_the_smaller_encoding()
    {
        var one = Sign(63);
        var two = Sign(64);
        var (small, large) = one.Encode().AsSpan().SequenceCompareTo(two.Encode()) < 0 ? (one, two) : (two, one);

        // The coordinator broadcast the larger one, then hears of the smaller: it adopts it and spreads it.
        var (coordinator, _) = Ready(FirstCoordinator);
        coordinator.OnSignatureProduced(Context(FirstCoordinator, TimeSpan.FromSeconds(11)), new SignatureProduced(SigningSessionIds.Session(Period, FirstCoordinator, 1), coordinator.RootMessage!, large.Signature.Encode(), [1, 2]), new Outbox());
        var adopted = Step(o => coordinator.Receive(Context(FirstCoordinator, TimeSpan.FromSeconds(12)), CertificateFrom(3, small.Encode()), o));
        Assert.Equal(small.Encode(), Assert.IsType<PeriodCertified>(Assert.Single(adopted.Events)).EncodedCertificate);
        var spread = Assert.Single(adopted.Messages);
        Assert.Equal((null, 1u), (spread.Recipient, spread.Attempt));
        Assert.Equal(small.Encode(), spread.Payload);

        // A holder of the smaller one sends it back to whoever sends it the larger one, once.
        var (holder, _) = Ready(3);
        holder.Receive(Context(3, TimeSpan.FromSeconds(11)), CertificateFrom(4, small.Encode()), new Outbox());
        var back = Step(o => holder.Receive(Context(3, TimeSpan.FromSeconds(12)), CertificateFrom(2, large.Encode()), o));
        Assert.Empty(back.Events);
        var sent = Assert.Single(back.Messages);
        Assert.Equal(2, sent.Recipient);
        Assert.Equal(small.Encode(), sent.Payload);
        Assert.Empty(Step(o => holder.Receive(Context(3, TimeSpan.FromSeconds(13)), CertificateFrom(2, large.Encode(), 1), o)).Messages);
        Assert.Equal(small.Encode(), holder.Certificate!.Encode());
    }

    public static TheoryData<string, int, uint, bool, bool> SigningRequests => new()
    {
        // actor, coordinator named by the session, counter, own root, accepted
        { "scheduled coordinator of counter 1, own root", 1, 1, true, true },
        { "scheduled coordinator of counter 3, own root", 3, 3, true, true },
        { "coordinator not scheduled for counter 1", 2, 1, true, false },
        { "another root", 1, 1, false, false },
        { "counter beyond two turns each", 1, 9, true, false },
    };

    [Theory]
    [MemberData(nameof(SigningRequests))]
    public void Signers_sign_only_their_own_root_for_the_scheduled_coordinator(string actor, int coordinator, uint counter, bool ownRoot, bool accepted)
    {
        var (machine, _) = Ready(4);
        var message = ownRoot ? machine.RootMessage! : PeriodCertificate.SigningMessage(Period, Table, new byte[32]);
        Assert.True(accepted == machine.AcceptsForSigning(SigningSessionIds.Session(Period, coordinator, counter), coordinator, message), actor);
    }

    [Fact]
    public void A_server_that_holds_a_certificate_signs_nothing_more_and_one_held_from_before_a_restart_is_answered_at_once()
    {
        var certificate = Sign(65);
        var (machine, _) = Ready(4);
        var root = machine.RootMessage!;
        machine.Receive(Context(4, TimeSpan.FromSeconds(11)), CertificateFrom(2, certificate.Encode()), new Outbox());
        Assert.False(machine.AcceptsForSigning(SigningSessionIds.Session(Period, 2, 2), 2, root));

        var restored = Started(4, held: certificate);
        Assert.Equal(PeriodCertificateStatus.Certified, restored.Status);
        var answer = Step(o => restored.Receive(Context(4, TimeSpan.Zero), RequestFrom(1, 0), o));
        Assert.Equal(certificate.Encode(), Assert.Single(answer.Messages).Payload);
    }

    [Fact]
    public void Every_transition_is_in_the_table()
    {
        Assert.Equal(Enum.GetValues<PeriodCertificateStatus>(), PeriodCertificateMachine.ValidTransitions.Keys.Order());
        Assert.Empty(PeriodCertificateMachine.ValidTransitions[PeriodCertificateStatus.Certified]);
    }
}
