using Proactive.Crypto.Frost;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Signing;
using Ed25519PublicKey = Proactive.Crypto.Signing.Ed25519PublicKey;

namespace Proactive.Protocols.Tests.Signing;

public sealed class SigningSessionTests
{
    private static readonly ClusterParameters FiveServers = ClusterParameters.Create(5, 2, 1);

    private static readonly byte[] Message = "period root #7"u8.ToArray();

    public static TheoryData<string> Suites => ["Ed25519", "Ristretto255", "P256"];

    private static Ciphersuite SuiteByName(string name) => name switch
    {
        "Ed25519" => Ciphersuite.Ed25519,
        "Ristretto255" => Ciphersuite.Ristretto255,
        _ => Ciphersuite.P256,
    };

    [Theory]
    [MemberData(nameof(Suites))]
    public void All_honest_signing_takes_one_round_trip_and_the_signature_verifies(string suiteName)
    {
        using var bus = new SigningTestBus(SuiteByName(suiteName), FiveServers, seed: 1);
        bus.StartChannels();
        var before = bus.Delivered.Count;

        var session = bus.Sign(1, Message);

        var produced = Assert.Single(bus.EventsOf<SignatureProduced>(1));
        Assert.Equal(session, produced.Instance);
        Assert.Equal(Message, produced.Message);
        Assert.Equal([1, 2, 3], produced.Signers);
        Assert.True(Signature.TryDecode(bus.Suite, produced.Signature, out var signature));
        Assert.True(bus.PublicKeyPackage.GroupPublicKey.Verify(Message, signature!));

        // One round trip: t+1 packages out, t+1 shares back, nothing else.
        var sessionMessages = bus.Delivered.Skip(before).Where(d => d.Instance == session).ToList();
        Assert.Equal(3, sessionMessages.Count(d => d.Message.Round == SigningWire.PackageRound));
        Assert.Equal(3, sessionMessages.Count(d => d.Message.Round == SigningWire.ShareRound && d.Message.Type == SigningWire.SignatureShareType));
        Assert.Equal(6, sessionMessages.Count);
        Assert.Equal(6, bus.Delivered.Count - before);
        Assert.Empty(bus.AllAlerts);
        Assert.Equal(SigningStatus.Produced, bus.Session(1, session).Status);
        Assert.Equal(1u, bus.Session(1, session).CurrentAttempt);
    }

    [Fact]
    public void Ed25519_suite_signature_verifies_as_a_standard_Ed25519_signature()
    {
        using var bus = new SigningTestBus(Ciphersuite.Ed25519, FiveServers, seed: 2);
        bus.StartChannels();
        bus.Sign(3, Message);

        var produced = Assert.Single(bus.EventsOf<SignatureProduced>(3));
        var key = Ed25519PublicKey.Decode(bus.PublicKeyPackage.GroupPublicKey.Encode());
        Assert.True(key.Verify(Message, produced.Signature));
        Assert.False(key.Verify("another message"u8, produced.Signature));
    }

    [Fact]
    public void Many_sessions_use_each_nonce_once_and_replacements_keep_the_queues_full()
    {
        using var bus = new SigningTestBus(Ciphersuite.Ed25519, FiveServers, seed: 3);
        bus.StartChannels();
        for (var i = 0; i < 3 * SigningTestBus.BatchSize; i++)
        {
            bus.Sign(1, [(byte)i]);
        }

        Assert.Equal(3 * SigningTestBus.BatchSize, bus.EventsOf<SignatureProduced>(1).Count());
        Assert.Equal(SigningTestBus.BatchSize, bus.Nodes[1].Book.Available(2));
        foreach (var node in bus.Nodes.Values)
        {
            var used = node.Store.Keys.Count(k => k.StartsWith("signing/p0/nonce-used/", StringComparison.Ordinal));
            Assert.Equal(node.Pool.UsedIndices.Count, used);
        }

        Assert.Empty(bus.AllAlerts);
    }

    [Fact]
    public void Coordinators_signing_at_the_same_time_never_pick_the_same_nonce()
    {
        using var bus = new SigningTestBus(Ciphersuite.Ed25519, FiveServers, seed: 4);
        bus.StartChannels();
        var sessions = bus.Nodes.Keys.Select(c => (Coordinator: c, Session: bus.BeginSession(c, [(byte)c]))).ToList();
        bus.Run();

        foreach (var (coordinator, session) in sessions)
        {
            var produced = Assert.Single(bus.EventsOf<SignatureProduced>(coordinator));
            Assert.Equal(session, produced.Instance);
            Assert.Equal(1u, bus.Session(coordinator, session).CurrentAttempt);
        }

        Assert.Empty(bus.AllAlerts);
    }

    [Fact]
    public void Signer_returning_a_bad_share_is_named_excluded_and_the_retry_succeeds()
    {
        using var bus = new SigningTestBus(Ciphersuite.Ed25519, FiveServers, seed: 5);
        bus.StartChannels();
        bus.Tamper = (from, _, instance, message) =>
            from == 2 && instance.Sequence != 0 && message.Type == SigningWire.SignatureShareType && message.Round == SigningWire.ShareRound
                ? message with { Payload = CorruptShare(bus.Suite, message.Payload) }
                : message;

        var session = bus.Sign(1, Message);

        var alert = Assert.Single(bus.AlertsOf(1));
        Assert.Equal(AlertType.InvalidSignatureShare, alert.Type);
        Assert.Equal(2, alert.Culprit);
        Assert.Equal(session, alert.Instance);
        Assert.True(InvalidSignatureShareEvidence.TryDecode(alert.Evidence, out var attempt, out var package, out var signedShare));
        Assert.Equal(1u, attempt);
        Assert.True(SigningRequest.TryDecode(bus.Suite, 5, package, out var request, out _));
        Assert.True(SigningResponse.TryDecode(bus.Suite, signedShare, out var response, out _));
        Assert.False(Round2.VerifySignatureShare(request.ToSigningPackage(), response.Share, bus.PublicKeyPackage));

        var produced = Assert.Single(bus.EventsOf<SignatureProduced>(1));
        Assert.DoesNotContain(2, produced.Signers);
        Assert.Equal([1, 3, 4], produced.Signers);
        Assert.True(Signature.TryDecode(bus.Suite, produced.Signature, out var signature));
        Assert.True(bus.PublicKeyPackage.GroupPublicKey.Verify(Message, signature!));
        Assert.True(Ed25519PublicKey.Decode(bus.PublicKeyPackage.GroupPublicKey.Encode()).Verify(Message, produced.Signature));
        Assert.Equal(2u, bus.Session(1, session).CurrentAttempt);
    }

    [Fact]
    public void Silent_signer_times_out_is_reported_unresponsive_and_the_retry_succeeds()
    {
        using var bus = new SigningTestBus(Ciphersuite.Ed25519, FiveServers, seed: 6);
        bus.StartChannels();
        bus.Muted.Add(3);

        var session = bus.Sign(1, Message);

        var alert = Assert.Single(bus.AlertsOf(1));
        Assert.Equal(AlertType.Unresponsive, alert.Type);
        Assert.Equal(3, alert.Culprit);
        var produced = Assert.Single(bus.EventsOf<SignatureProduced>(1));
        Assert.Equal([1, 2, 4], produced.Signers);
        Assert.True(bus.Now >= bus.Timeouts.ShareWindow);
        Assert.Equal("unresponsive", bus.Session(1, session).Excluded[3]);
    }

    [Fact]
    public void Too_many_faulty_signers_end_in_a_clean_failure_event()
    {
        using var bus = new SigningTestBus(Ciphersuite.Ed25519, FiveServers, seed: 7);
        bus.StartChannels();
        bus.Muted.UnionWith([2, 3]);
        bus.Tamper = (from, _, instance, message) =>
            from == 4 && instance.Sequence != 0 && message.Type == SigningWire.SignatureShareType
                ? message with { Payload = CorruptShare(bus.Suite, message.Payload) }
                : message;

        var session = bus.Sign(1, Message);

        Assert.Empty(bus.EventsOf<SignatureProduced>(1));
        var failed = Assert.Single(bus.EventsOf<SigningFailed>(1));
        Assert.Equal(session, failed.Instance);
        Assert.Equal([2, 3, 4], failed.Excluded);
        Assert.Equal(SigningStatus.Failed, bus.Session(1, session).Status);
        Assert.Equal(
            [(AlertType.InvalidSignatureShare, 4), (AlertType.Unresponsive, 2), (AlertType.Unresponsive, 3)],
            bus.AlertsOf(1).Select(a => (a.Type, a.Culprit)).Order().ToArray());
    }

    [Fact]
    public void Signer_refusing_the_message_by_policy_is_excluded_without_an_alert()
    {
        using var bus = new SigningTestBus(Ciphersuite.Ed25519, FiveServers, seed: 8);
        bus.Nodes[2].Policy = static (_, _, message) => message.Length < 4;
        bus.StartChannels();

        var session = bus.Sign(1, Message);

        Assert.Empty(bus.AllAlerts);
        Assert.Equal([1, 3, 4], Assert.Single(bus.EventsOf<SignatureProduced>(1)).Signers);
        Assert.StartsWith("refused: MessageNotAcceptable", bus.Session(1, session).Excluded[2], StringComparison.Ordinal);
        Assert.Empty(bus.Nodes[2].Pool.UsedIndices);
    }

    [Fact]
    public void Replayed_package_reusing_a_used_nonce_gets_no_second_share()
    {
        using var bus = new SigningTestBus(Ciphersuite.Ed25519, FiveServers, seed: 9);
        bus.StartChannels();
        var session = bus.Sign(1, Message);
        var original = bus.Delivered.Single(d => d.Instance == session && d.To == 2 && d.Message.Round == SigningWire.PackageRound);
        var sharesBefore = SharesFrom(bus, 2);

        bus.Inject(1, 2, session, original.Message);

        Assert.Equal(sharesBefore, SharesFrom(bus, 2));
        var alert = Assert.Single(bus.AlertsOf(2));
        Assert.Equal(AlertType.Replay, alert.Type);
        Assert.Equal(1, alert.Culprit);
        var refusal = bus.Delivered.Last();
        Assert.Equal((2, 1, SigningWire.RefusalType), (refusal.From, refusal.To, refusal.Message.Type));
        Assert.True(SigningRefusal.TryDecode(bus.Suite, refusal.Message.Payload, out var decoded));
        Assert.Equal(SigningRefusalReason.NonceAlreadyUsed, decoded.Reason);
    }

    [Fact]
    public void Forged_package_for_another_message_with_a_used_nonce_gets_no_share()
    {
        using var bus = new SigningTestBus(Ciphersuite.Ed25519, FiveServers, seed: 10);
        bus.StartChannels();
        var session = bus.Sign(1, Message);
        var original = bus.Delivered.Single(d => d.Instance == session && d.To == 2 && d.Message.Round == SigningWire.PackageRound);
        Assert.True(SigningRequest.TryDecode(bus.Suite, 5, original.Message.Payload, out var request, out _));
        var forged = new SigningRequest(bus.Suite, "pay the adversary"u8, request.Entries).Encode();
        var sharesBefore = SharesFrom(bus, 2);

        bus.Inject(1, 2, session, original.Message with { Attempt = 7, Payload = forged });

        Assert.Equal(sharesBefore, SharesFrom(bus, 2));
        Assert.Equal(AlertType.Replay, Assert.Single(bus.AlertsOf(2)).Type);
    }

    [Fact]
    public void Package_from_a_server_that_is_not_the_coordinator_is_refused_with_an_alert()
    {
        using var bus = new SigningTestBus(Ciphersuite.Ed25519, FiveServers, seed: 11);
        bus.StartChannels();
        var session = bus.Sign(1, Message);
        var original = bus.Delivered.Single(d => d.Instance == session && d.To == 2 && d.Message.Round == SigningWire.PackageRound);
        var sharesBefore = SharesFrom(bus, 2);

        bus.Inject(4, 2, session, original.Message);

        Assert.Equal(sharesBefore, SharesFrom(bus, 2));
        var alert = Assert.Single(bus.AlertsOf(2));
        Assert.Equal((AlertType.MalformedMessage, 4), (alert.Type, alert.Culprit));
    }

    [Fact]
    public void Signer_crashing_after_persisting_used_and_before_sending_never_uses_that_nonce_again()
    {
        using var bus = new SigningTestBus(Ciphersuite.Ed25519, FiveServers, seed: 12);
        bus.StartChannels();
        bus.CrashWhen = (node, outbox) => node == 2 && outbox.Persisted.Any(p => p.Key.StartsWith("signing/p0/nonce-used/", StringComparison.Ordinal));

        var session = bus.Sign(1, Message);

        // The coordinator saw silence, reported it and signed without server 2.
        Assert.Contains(2, bus.Down);
        Assert.Equal((AlertType.Unresponsive, 2), bus.AlertsOf(1).Select(a => (a.Type, a.Culprit)).Single());
        Assert.Equal([1, 3, 4], Assert.Single(bus.EventsOf<SignatureProduced>(1)).Signers);
        var package = bus.Delivered.Single(d => d.Instance == session && d.To == 2 && d.Message.Round == SigningWire.PackageRound);
        Assert.True(SigningRequest.TryDecode(bus.Suite, 5, package.Message.Payload, out var request, out _));
        var usedIndex = request.Entries.Single(e => e.Server == 2).Index;
        Assert.Equal(0, SharesFrom(bus, 2));

        bus.CrashWhen = null;
        bus.Restart(2);

        var pool = bus.Nodes[2].Pool;
        Assert.Equal(2u, pool.Generation);
        Assert.Contains(usedIndex, pool.UsedIndices);
        Assert.Equal(SigningRefusalReason.NonceAlreadyUsed, RefusalFor(bus, () => bus.Inject(1, 2, session, package.Message)));
        Assert.Equal(0, SharesFrom(bus, 2));

        // The restarted server signs again with fresh nonces, as signer and as coordinator.
        Assert.Equal(SigningTestBus.BatchSize, bus.Nodes[1].Book.Available(2));
        bus.Sign(1, "after restart"u8.ToArray());
        Assert.Equal([1, 2, 3], bus.EventsOf<SignatureProduced>(1).Last().Signers);
        bus.Sign(2, "coordinated by the restarted server"u8.ToArray());
        Assert.Equal([1, 2, 3], Assert.Single(bus.EventsOf<SignatureProduced>(2)).Signers);
        Assert.All(bus.Nodes[2].Pool.UsedIndices.Where(i => i != usedIndex), i => Assert.Equal(2u, (uint)(i >> 32)));
    }

    [Fact]
    public void Coordinator_holding_commitments_a_restarted_signer_discarded_retries_without_it()
    {
        using var bus = new SigningTestBus(Ciphersuite.Ed25519, FiveServers, seed: 13);
        bus.StartChannels();

        // Server 2 restarts, but its new batch to server 1 is lost: 1 still holds generation-1 commitments.
        bus.Tamper = (from, to, instance, message) => from == 2 && to == 1 && instance.Sequence == 0 ? null : message;
        bus.Muted.Add(2);
        bus.Down.Add(2);
        bus.Restart(2);
        bus.Tamper = null;

        var session = bus.Sign(1, Message);

        Assert.Empty(bus.AllAlerts);
        Assert.Equal([1, 3, 4], Assert.Single(bus.EventsOf<SignatureProduced>(1)).Signers);
        Assert.StartsWith("refused: UnknownNonce", bus.Session(1, session).Excluded[2], StringComparison.Ordinal);
        Assert.Equal(0, bus.Nodes[1].Book.Available(2));
    }

    [Fact]
    public void Malformed_payloads_raise_alerts_and_never_throw()
    {
        using var bus = new SigningTestBus(Ciphersuite.Ed25519, FiveServers, seed: 14);
        bus.StartChannels();
        var session = bus.BeginSession(1, Message);
        bus.Run();
        bus.Muted.UnionWith([2, 3, 4, 5]); // the second session waits for shares while garbage arrives
        var liveSession = bus.BeginSession(1, Message);
        byte[][] garbage = [[], [1], [1, 1, 0, 0, 0, 9], new byte[200], [.. Enumerable.Range(0, 97).Select(i => (byte)i)]];

        foreach (var payload in garbage)
        {
            bus.Inject(1, 2, session, new OutboundMessage(2, 1, SigningWire.PackageRound, SigningWire.SigningRequestType, payload, false), fireTimers: false);
            bus.Inject(3, 1, liveSession, new OutboundMessage(1, 1, SigningWire.ShareRound, SigningWire.SignatureShareType, payload, false), fireTimers: false);
            bus.Inject(3, 1, liveSession, new OutboundMessage(1, 1, SigningWire.ShareRound, SigningWire.RefusalType, payload, false), fireTimers: false);
            bus.Inject(4, 5, SigningSessionIds.NonceChannel(SigningTestBus.Period), new OutboundMessage(null, 0, SigningWire.NonceRound, SigningWire.NonceBatchType, payload, false), fireTimers: false);
        }

        bus.Inject(3, 2, session, new OutboundMessage(2, 1, 9, 9, [1, 2, 3], false));
        Assert.Equal(SigningStatus.Failed, bus.Session(1, liveSession).Status);

        Assert.All(bus.AlertsOf(2), a => Assert.Equal(AlertType.MalformedMessage, a.Type));
        Assert.Equal(garbage.Length + 1, bus.AlertsOf(2).Count());
        Assert.Equal(garbage.Length, bus.AlertsOf(5).Count(a => a.Culprit == 4));
        Assert.Contains(bus.AlertsOf(1), a => a is { Type: AlertType.MalformedMessage, Culprit: 3 });
        Assert.Equal(bus.Nodes[2].Pool.UsedIndices.Count, bus.Nodes[2].Store.Keys.Count(k => k.Contains("nonce-used", StringComparison.Ordinal)));
    }

    [Fact]
    public void Mutated_packages_never_throw_and_never_yield_a_share_for_a_used_nonce()
    {
        using var bus = new SigningTestBus(Ciphersuite.Ed25519, FiveServers, seed: 15);
        bus.StartChannels();
        var session = bus.Sign(1, Message);
        var original = bus.Delivered.Single(d => d.Instance == session && d.To == 2 && d.Message.Round == SigningWire.PackageRound);
        var bytes = original.Message.Payload.ToArray();
        var sharesBefore = SharesFrom(bus, 2);
        var random = new Random(15);

        for (var i = 0; i < 60; i++)
        {
            var mutated = (byte[])bytes.Clone();
            mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
            bus.Inject(1, 2, session, original.Message with { Attempt = (uint)(10 + i), Payload = mutated });
        }

        // A flip in the message bytes leaves the used nonce in place: refused. Elsewhere: malformed or mismatched.
        Assert.Equal(sharesBefore, SharesFrom(bus, 2));
    }

    private static int SharesFrom(SigningTestBus bus, int server) =>
        bus.Delivered.Count(d => d.From == server && d.Instance.Sequence != 0 && d.Message.Round == SigningWire.ShareRound && d.Message.Type == SigningWire.SignatureShareType);

    private static SigningRefusalReason RefusalFor(SigningTestBus bus, Action act)
    {
        var before = bus.Delivered.Count;
        act();
        var refusal = bus.Delivered.Skip(before).Single(d => d.Message.Type == SigningWire.RefusalType && d.Message.Round == SigningWire.ShareRound);
        Assert.True(SigningRefusal.TryDecode(bus.Suite, refusal.Message.Payload, out var decoded));
        return decoded.Reason;
    }

    /// <summary>A Byzantine signer's answer: the real response with z_i + 1.</summary>
    private static byte[] CorruptShare(Ciphersuite suite, ReadOnlyMemory<byte> payload)
    {
        Assert.True(SigningResponse.TryDecode(suite, payload.Span, out var response, out _));
        var bad = new SignatureShare(suite, response.Share.Identifier, suite.Group.Add(response.Share.Share, suite.Group.One));
        return (response with { Share = bad }).Encode();
    }
}
