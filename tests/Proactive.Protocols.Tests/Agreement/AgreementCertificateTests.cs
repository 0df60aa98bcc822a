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
}
