using System.Text;
using Proactive.Crypto.Codec;
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Agreement;

public class AgreementCertificateTests
{
    private static Certificate Decide(AgreementTestBus bus)
    {
        bus.Start();
        bus.RunUntilAllDecided();
        return bus.Decisions.First().Decision.Certificate;
    }

    [Fact]
    public void A_decided_certificate_verifies_and_round_trips()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(7, 2, 2));
        var certificate = Decide(bus);
        Assert.True(certificate.Verify(bus.Parameters, bus.PublicKey, bus.Context).IsValid);
        Assert.True(Certificate.TryDecode(certificate.Encode(), out var decoded, out _));
        Assert.Equal(certificate.Encode(), decoded.Encode());
        Assert.True(decoded.Verify(bus.Parameters, bus.PublicKey, bus.Context).IsValid);
    }

    public static TheoryData<string, CertificateError> Forgeries => new()
    {
        { "n-f-1 signatures", CertificateError.TooFewSignatures },
        { "duplicate signer", CertificateError.DuplicateSigner },
        { "signer outside 1..n", CertificateError.UnknownSigner },
        { "another instance context", CertificateError.InvalidSignature },
        { "value id of another value", CertificateError.ValueIdMismatch },
        { "another value with its own id", CertificateError.InvalidSignature },
        { "another round", CertificateError.InvalidSignature },
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public void Forged_certificates_are_rejected(string forgery, CertificateError expected)
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1));
        var c = Decide(bus);
        var quorum = c.Signatures.Take(bus.Parameters.Quorum).ToList();
        var other = Encoding.ASCII.GetBytes("ok:other");
        var context = bus.Context;
        var forged = forgery switch
        {
            "n-f-1 signatures" => new Certificate(c.Round, c.ValueId, c.Value, quorum.Skip(1)),
            "duplicate signer" => new Certificate(c.Round, c.ValueId, c.Value, quorum.Take(quorum.Count - 1).Append(quorum[0]).OrderBy(s => s.Signer)),
            "signer outside 1..n" => new Certificate(c.Round, c.ValueId, c.Value, quorum.Append(new PrecommitSignature(9, quorum[0].Signature))),
            "another instance context" => c,
            "value id of another value" => new Certificate(c.Round, c.ValueId, other, quorum),
            "another value with its own id" => new Certificate(c.Round, AgreementDomain.ValueId(other), other, quorum),
            "another round" => new Certificate(c.Round + 1, c.ValueId, c.Value, quorum),
            _ => throw new ArgumentException(forgery),
        };
        if (forgery == "another instance context")
        {
            context = "test-network/p7/agreement#4"u8.ToArray();
        }

        var result = forged.Verify(bus.Parameters, bus.PublicKey, context);
        Assert.Equal(expected, result.Error);
        Assert.False(result.IsValid);
    }

    [Fact]
    public void Decoding_refuses_unsorted_signers_and_trailing_bytes()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1));
        var c = Decide(bus);
        var reversed = new Certificate(c.Round, c.ValueId, c.Value, c.Signatures.Reverse()).Encode();
        Assert.False(Certificate.TryDecode(reversed, out _, out var failure));
        Assert.Equal(CodecError.NonCanonical, failure.Error);
        Assert.False(Certificate.TryDecode([.. c.Encode(), 0], out _, out failure));
        Assert.Equal(CodecError.TrailingBytes, failure.Error);
    }

    [Fact]
    public void A_server_that_missed_every_vote_decides_from_a_peers_certificate()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1), instanceSeed: 1);
        const int Lagger = 4;
        bus.Latency = (_, to, message, _) =>
            to == Lagger && message.Type != (byte)AgreementMessageType.Decision ? null : TimeSpan.FromMilliseconds(10);
        bus.Start();
        bus.RunUntilAllDecided();

        var decisions = bus.Decisions.ToList();
        Assert.Equal(4, decisions.Count);
        Assert.Single(decisions.Select(d => Convert.ToHexString(d.Decision.Value)).Distinct());
        Assert.Single(decisions, d => d.Server == Lagger);
        Assert.Equal(AgreementStep.Decided, bus.Machines[Lagger].Step);
    }

    [Fact]
    public void A_catch_up_certificate_that_does_not_verify_is_refused_and_reported()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1));
        var c = Decide(bus);

        using var fresh = new AgreementTestBus(ClusterParameters.Create(4, 1, 1));
        foreach (var i in new[] { 1, 2, 3 })
        {
            fresh.MakeByzantine(i, new SilentActor());
        }

        fresh.Start();
        var machine = fresh.Machines[4];
        var tooFew = new Certificate(c.Round, c.ValueId, c.Value, c.Signatures.Take(2));
        fresh.DeliverNow(2, 4, AgreementMessageType.Decision, 0, tooFew.Encode());
        fresh.DeliverNow(3, 4, AgreementMessageType.Decision, 0, [.. c.Encode(), 1]);
        Assert.False(machine.IsFinished);
        Assert.Equal([(AlertType.MalformedMessage, 2), (AlertType.MalformedMessage, 3)], fresh.Alerts.Select(a => (a.Alert.Type, a.Alert.Culprit)));

        fresh.DeliverNow(3, 4, AgreementMessageType.Decision, 0, c.Encode());
        Assert.True(machine.IsFinished);
        Assert.Equal(c.Value.ToArray(), Assert.Single(fresh.Decisions).Decision.Value);

        // Decided once: a second valid certificate changes nothing and emits nothing.
        fresh.DeliverNow(1, 4, AgreementMessageType.Decision, 0, c.Encode());
        Assert.Single(fresh.Decisions);
    }

    /// <summary>
    /// A decided server answers a laggard once per round the laggard speaks in, and each answer is a
    /// different message (its attempt is the round it answers): the envelope layer accepts identical
    /// signed bytes once and reports a second copy as a replay by the server that delivered it.
    /// </summary>
    [Fact]
    public void Answers_to_a_laggard_in_later_rounds_are_distinct_messages()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1));
        Decide(bus);
        var before = bus.Sent.Count;

        bus.DeliverNow(4, 1, AgreementMessageType.Prevote, 5, bus.VotePayload(4, VoteStep.Prevote, 5, null));
        bus.DeliverNow(4, 1, AgreementMessageType.Prevote, 5, bus.VotePayload(4, VoteStep.Prevote, 5, null));
        bus.DeliverNow(4, 1, AgreementMessageType.Precommit, 6, bus.VotePayload(4, VoteStep.Precommit, 6, null));

        var answers = bus.Sent.Skip(before).Where(s => s.From == 1 && s.Message.Recipient == 4 && s.Message.Type == (byte)AgreementMessageType.Decision).ToList();
        Assert.Equal([5u, 6u], answers.Select(a => a.Message.Attempt));
        Assert.All(answers, a => Assert.Equal(answers[0].Message.Payload, a.Message.Payload));
    }

    [Fact]
    public void With_certificates_for_non_signers_only_a_decider_sends_its_certificate_to_the_servers_not_in_it_alone()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(7, 2, 2)) { CertifiesNonSignersOnly = true };
        bus.Start();
        bus.RunUntilAllDecided();

        Assert.All(bus.Machines.Values, m => Assert.True(m.IsFinished));
        var certificates = bus.Sent.Where(s => s.Message.Type == (byte)AgreementMessageType.Decision).ToList();
        Assert.All(certificates, sent =>
        {
            Assert.NotNull(sent.Message.Recipient);
            var signers = bus.Machines[sent.From].Decision!.Signatures.Select(s => s.Signer);
            Assert.DoesNotContain(sent.Message.Recipient!.Value, signers);
        });
        Assert.InRange(certificates.Count, 1, (7 * 6) / 2);
        Assert.DoesNotContain(bus.Sent, s => s.Message.Type == (byte)AgreementMessageType.DecisionRequest);
        Assert.Empty(bus.Alerts);
    }

    /// <summary>
    /// Server 4's precommit reaches the others first, so they decide with it in their certificates and send
    /// it nothing; the others' precommits never reach server 4. After its precommit has waited a precommit
    /// timeout it asks, and a decided server's answer decides it.
    /// </summary>
    [Fact]
    public void A_signer_that_misses_the_others_precommits_asks_for_the_decision_and_decides()
    {
        const int Signer = 4;
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1)) { CertifiesNonSignersOnly = true };
        bus.Latency = (from, to, message, _) => message.Type != (byte)AgreementMessageType.Precommit ? TimeSpan.FromMilliseconds(10)
            : to == Signer ? null
            : from == Signer ? TimeSpan.FromMilliseconds(5)
            : TimeSpan.FromMilliseconds(50);
        bus.Start();
        bus.RunUntilAllDecided(TimeSpan.FromSeconds(30));

        Assert.All(bus.Machines.Values, m => Assert.True(m.IsFinished));
        Assert.All(bus.Machines.Values.Where(m => m != bus.Machines[Signer]), m => Assert.Contains(Signer, m.Decision!.Signatures.Select(s => s.Signer)));
        var request = Assert.Single(bus.Sent, s => s.Message.Type == (byte)AgreementMessageType.DecisionRequest);
        Assert.Equal(Signer, request.From);
        Assert.Null(request.Message.Recipient);
        Assert.True(bus.Now >= AgreementTestBus.TestTimeouts.Precommit, $"decided at {bus.Now} without waiting");
        Assert.Equal(bus.Machines[1].Decision!.Value.ToArray(), bus.Machines[Signer].Decision!.Value.ToArray());
        Assert.Empty(bus.Alerts);
    }

    [Fact]
    public void A_decision_request_is_ignored_before_the_decision_and_answered_once_per_round_after_it_and_late_precommits_are_not_answered()
    {
        using var bus = new AgreementTestBus(ClusterParameters.Create(4, 1, 1)) { CertifiesNonSignersOnly = true };
        foreach (var i in new[] { 2, 3, 4 })
        {
            bus.MakeByzantine(i, new SilentActor());
        }

        bus.Start();
        var undecided = bus.Machines[1];
        bus.DeliverNow(2, 1, AgreementMessageType.DecisionRequest, 0, []);
        Assert.Empty(bus.Alerts);
        Assert.DoesNotContain(bus.Sent, s => s.Message.Type == (byte)AgreementMessageType.Decision);

        using var decided = new AgreementTestBus(ClusterParameters.Create(4, 1, 1)) { CertifiesNonSignersOnly = true };
        Decide(decided);
        var before = decided.Sent.Count;
        decided.DeliverNow(4, 1, AgreementMessageType.DecisionRequest, 3, []);
        decided.DeliverNow(4, 1, AgreementMessageType.DecisionRequest, 3, []);
        decided.DeliverNow(4, 1, AgreementMessageType.DecisionRequest, 4, []);
        var answers = decided.Sent.Skip(before).Where(s => s.Message.Type == (byte)AgreementMessageType.Decision).ToList();
        Assert.Equal([3u, 4u], answers.Select(a => a.Message.Attempt));
        Assert.All(answers, a => Assert.Equal(4, a.Message.Recipient));
        Assert.False(undecided.IsFinished);

        // A late precommit for a value draws nothing (its sender asks if it needs to); a server that missed
        // everything and speaks in round 0 (a prevote for nil) is answered.
        var value = decided.Machines[1].Decision!.Value.ToArray();
        before = decided.Sent.Count;
        decided.DeliverNow(2, 1, AgreementMessageType.Precommit, 0, decided.VotePayload(2, VoteStep.Precommit, 0, value));
        decided.DeliverNow(3, 1, AgreementMessageType.Prevote, 0, decided.VotePayload(3, VoteStep.Prevote, 0, null));
        var answer = Assert.Single(decided.Sent.Skip(before), s => s.Message.Type == (byte)AgreementMessageType.Decision);
        Assert.Equal(3, answer.Message.Recipient);
    }
}
