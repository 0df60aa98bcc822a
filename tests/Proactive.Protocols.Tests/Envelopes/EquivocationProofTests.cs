using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Envelopes;

public sealed class EquivocationProofTests : IDisposable
{
    private const ulong Period = EnvelopeTestNetwork.Period;
    private static readonly InstanceId Instance = EnvelopeTestNetwork.Instance;
    private static readonly PrimeOrderGroup Suite = EnvelopeTestNetwork.Suite;

    private readonly EnvelopeTestNetwork _net = new();

    public void Dispose() => _net.Dispose();

    private byte[] Vote(byte[] payload, int? recipient = null, byte round = 1, bool confidential = false, int sender = 1) =>
        _net.Sealer(sender).Seal(Instance, new OutboundMessage(recipient, 0, round, 2, payload, confidential));

    [Fact]
    public void Two_broadcasts_with_different_payloads_for_one_slot_prove_equivocation()
    {
        var a = Vote([0xaa]);
        var b = Vote([0xbb]);

        Assert.True(EquivocationProof.TryCreate(a, b, Suite, _net.Directory, out var proof));

        Assert.Equal(1, proof.Culprit);
        Assert.Equal(Instance, proof.Instance);
        Assert.Equal(Period, proof.Period);
        Assert.True(proof.Verify(_net.Directory));
        var alert = proof.ToAlert();
        Assert.Equal(AlertType.Equivocation, alert.Type);
        Assert.Equal(1, alert.Culprit);
        Assert.Equal(Instance, alert.Instance);
        Assert.Equal(proof.Encode(), alert.Evidence);
    }

    [Fact]
    public void Proof_round_trips_and_has_one_encoding_whatever_the_argument_order()
    {
        var a = Vote([0xaa]);
        var b = Vote([0xbb]);
        Assert.True(EquivocationProof.TryCreate(a, b, Suite, _net.Directory, out var ab));
        Assert.True(EquivocationProof.TryCreate(b, a, Suite, _net.Directory, out var ba));
        var bytes = ab.Encode();

        Assert.Equal(bytes, ba.Encode());
        Assert.True(EquivocationProof.TryDecode(bytes, Suite, out var decoded, out var failure), failure.ToString());
        Assert.Equal(bytes, decoded.Encode());
        Assert.True(decoded.Verify(_net.Directory));
        Assert.Equal(ab.First.ToArray(), decoded.First.ToArray());
    }

    [Fact]
    public void Different_messages_addressed_to_different_servers_in_one_slot_are_equivocation()
    {
        var toTwo = Vote([0xaa], recipient: 2);
        var toThree = Vote([0xbb], recipient: 3);

        Assert.True(EquivocationProof.TryCreate(toTwo, toThree, Suite, _net.Directory, out var proof));
        Assert.True(proof.Verify(_net.Directory));
    }

    [Fact]
    public void The_same_payload_twice_is_not_equivocation()
    {
        var a = Vote([0xaa]);
        var toTwo = Vote([0xaa], recipient: 2);

        Assert.False(EquivocationProof.TryCreate(a, a, Suite, _net.Directory, out _));
        Assert.False(EquivocationProof.TryCreate(a, toTwo, Suite, _net.Directory, out _));
    }

    [Fact]
    public void Messages_of_different_slots_or_senders_are_not_equivocation()
    {
        var a = Vote([0xaa]);

        Assert.False(EquivocationProof.TryCreate(a, Vote([0xbb], round: 2), Suite, _net.Directory, out _));
        Assert.False(EquivocationProof.TryCreate(a, Vote([0xbb], sender: 2), Suite, _net.Directory, out _));
    }

    [Fact]
    public void Confidential_messages_never_make_a_proof_because_resealing_is_randomized()
    {
        var sealer = _net.Sealer(1);
        var message = new OutboundMessage(2, 0, 1, 2, [0xaa], Confidential: true);
        var a = sealer.Seal(Instance, message);
        var b = sealer.Seal(Instance, message);

        Assert.NotEqual(a, b);
        Assert.False(EquivocationProof.TryCreate(a, b, Suite, _net.Directory, out _));
    }

    [Fact]
    public void A_forged_signature_makes_no_proof_and_a_tampered_proof_does_not_verify()
    {
        var a = Vote([0xaa]);
        var b = Vote([0xbb]);
        var forged = (byte[])b.Clone();
        forged[^1] ^= 1;

        Assert.False(EquivocationProof.TryCreate(a, forged, Suite, _net.Directory, out _));

        Assert.True(EquivocationProof.TryCreate(a, b, Suite, _net.Directory, out var proof));
        var bytes = proof.Encode();
        bytes[^1] ^= 1;
        Assert.True(EquivocationProof.TryDecode(bytes, Suite, out var tampered, out _));
        Assert.False(tampered.Verify(_net.Directory));
    }

    [Fact]
    public void Proof_does_not_verify_without_the_culprits_keys()
    {
        Assert.True(EquivocationProof.TryCreate(Vote([0xaa]), Vote([0xbb]), Suite, _net.Directory, out var proof));

        Assert.False(proof.Verify(new PeriodKeyDirectory()));
    }

    [Fact]
    public void Decoding_refuses_envelopes_out_of_order_and_other_suites()
    {
        Assert.True(EquivocationProof.TryCreate(Vote([0xaa]), Vote([0xbb]), Suite, _net.Directory, out var proof));
        var swapped = new byte[proof.Encode().Length];
        var writer = new CanonicalWriter(swapped);
        writer.WriteHeader(EquivocationProof.FormatVersion, Suite);
        writer.WriteBytes(proof.Second.Span, Envelope.MaxEncodedLength);
        writer.WriteBytes(proof.First.Span, Envelope.MaxEncodedLength);

        Assert.False(EquivocationProof.TryDecode(swapped, Suite, out _, out var failure));
        Assert.Equal(CodecError.NonCanonical, failure.Error);
        Assert.False(EquivocationProof.TryDecode(proof.Encode(), PrimeOrderGroup.P256, out _, out var wrongSuite));
        Assert.Equal(CodecError.WrongSuite, wrongSuite.Error);
    }

    [Fact]
    public void Truncated_proofs_and_mutated_proofs_are_refused_without_exceptions()
    {
        Assert.True(EquivocationProof.TryCreate(Vote([0xaa]), Vote([0xbb]), Suite, _net.Directory, out var proof));
        var bytes = proof.Encode();

        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.False(EquivocationProof.TryDecode(bytes.AsSpan(0, length), Suite, out _, out _));
        }

        var rng = new Random(11);
        for (var i = 0; i < 300; i++)
        {
            var copy = (byte[])bytes.Clone();
            copy[rng.Next(copy.Length)] ^= (byte)(1 << rng.Next(8));
            if (EquivocationProof.TryDecode(copy, Suite, out var decoded, out _))
            {
                Assert.False(decoded.Verify(_net.Directory), $"mutant {i} verified");
            }
        }
    }
}
