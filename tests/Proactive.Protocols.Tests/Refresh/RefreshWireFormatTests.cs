using System.Reflection;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Tests.Refresh;

/// <summary>
/// Pins the bytes of the signed refresh complaint (a change needs a new format version, never an
/// edited snapshot: peers sign and echo these bytes) and fuzzes every refresh decoder: random
/// mutations of valid encodings are refused or accepted without throwing, and whatever is accepted
/// re-encodes to exactly the input. A reflection test fails for a public static TryDecode in the
/// Refresh namespace that is not fuzzed here.
/// </summary>
public sealed class RefreshWireFormatTests
{
    private const int Mutations = 300;
    private static readonly PrimeOrderGroup Group = PrimeOrderGroup.Ristretto255;
    private static readonly InstanceId Instance = new(ProtocolKind.Refresh, 7, 0);

    [Fact]
    public void Signed_complaint_bytes_are_pinned()
    {
        using var key = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)6, Ed25519PrivateKey.SeedLength).ToArray());
        var complaint = RefreshComplaint.Sign(Group, key, Instance, "ctx"u8, 6, 2, RefreshComplaintReason.Invalid);
        var expected =
            "0302" // version 3, suite ristretto255
            + "0006" + "0002" + "02" // complainer 6, dealer 2, reason Invalid
            + "5703bfd2e396a7f2ad50db38e401c6d99afec03aeb0bc9fe5aa2193443445f4b"
            + "154d4520bcf3a957f84d1143ce1aec708bcc6f474f022ba73f692f4f10c40d07"; // Ed25519 signature (deterministic)
        Assert.Equal(expected, Convert.ToHexStringLower(complaint.Encode()));
        Assert.True(complaint.Verify(key.PublicKey, Instance, "ctx"u8));
    }

    [Fact]
    public void Complaint_signature_covers_label_suite_instance_context_complainer_dealer_and_reason()
    {
        var signed = RefreshComplaint.SigningBytes(GroupId.Ristretto255, Instance, "ctx"u8, 6, 2, RefreshComplaintReason.Invalid);
        var expected = Convert.ToHexStringLower("proactive-refresh-complaint-v1"u8)
            + "02" + "03" // suite, protocol Refresh
            + "0000000000000007" + "0000000000000000" // period, sequence
            + "00000003" + Convert.ToHexStringLower("ctx"u8) // instance context, length-prefixed
            + "0006" + "0002" + "02";
        Assert.Equal(expected, Convert.ToHexStringLower(signed));
    }

    [Fact]
    public void Random_mutations_of_every_refresh_encoding_are_refused_or_re_encode_exactly()
    {
        var random = new Random(20240611);
        foreach (var decoder in Decoders())
        {
            foreach (var sample in decoder.Samples)
            {
                Assert.True(decoder.DecodesCanonically(sample), $"{decoder.Name}: a valid sample is refused or re-encodes differently");
                for (var i = 0; i < Mutations; i++)
                {
                    var mutated = Mutate(sample, random);
                    try
                    {
                        if (decoder.Accepts(mutated))
                        {
                            Assert.True(decoder.DecodesCanonically(mutated), $"{decoder.Name}: accepted {Convert.ToHexStringLower(mutated)} re-encodes differently");
                        }
                    }
                    catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                    {
                        Assert.Fail($"{decoder.Name} threw {e.GetType().Name} on {Convert.ToHexStringLower(mutated)}: {e.Message}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Every_refresh_decoder_is_fuzzed()
    {
        var decoders = typeof(RefreshMachine).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(RefreshMachine).Namespace && t.IsPublic)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.Name.StartsWith("TryDecode", StringComparison.Ordinal)))
            .Select(m => m.DeclaringType!.Name)
            .Distinct()
            .Order()
            .ToArray();
        Assert.Equal(decoders, Decoders().Select(d => d.Name).Order().ToArray());
    }

    private sealed record Decoder(string Name, byte[][] Samples, Func<byte[], bool> Accepts, Func<byte[], bool> DecodesCanonically);

    private static Decoder[] Decoders()
    {
        var random = new DeterministicRandomSource(77);
        using var key = Ed25519PrivateKey.FromSeed(new byte[Ed25519PrivateKey.SeedLength]);
        var values = new[] { Group.FromUInt64(3), Group.FromUInt64(5) };
        var subShares = SubShareVectorCodec.Encode(Group, 4, values);
        var polynomialCommitment = Enumerable.Range(0, 3).Select(_ => Group.MultiplyBase(Group.RandomScalar(random))).ToArray();
        polynomialCommitment[0] = Group.Identity;
        var feldman = new Proactive.Crypto.Sharing.FeldmanCommitment(Group, polynomialCommitment, hasZeroConstantTerm: true);
        var hashes = Enumerable.Range(1, 3).Select(i => Enumerable.Repeat((byte)i, RefreshTranscript.HashLength).ToArray()).ToArray();
        var commitments = RefreshDealingCommitments.Encode(Group, [feldman], hashes, feldman);
        using var vector = new ShareVector(Group, 2, values);
        var state = new RefreshPublicState(Group, 2, [feldman]);

        return
        [
            new("RefreshComplaint",
                [RefreshComplaint.Sign(Group, key, Instance, [], 1, 3, RefreshComplaintReason.Invalid).Encode(), RefreshComplaint.Sign(Group, key, Instance, [], 9, 2, RefreshComplaintReason.Missing).Encode()],
                b => RefreshComplaint.TryDecode(b, Group, out _),
                b => RefreshComplaint.TryDecode(b, Group, out var c) && c.Encode().AsSpan().SequenceEqual(b)),
            new("RefreshReveal",
                [RefreshReveal.Encode(Group, 4, subShares)],
                b => RefreshReveal.TryDecode(b, Group, out _, out _),
                b => RefreshReveal.TryDecode(b, Group, out var c, out var m) && RefreshReveal.Encode(Group, c, m).AsSpan().SequenceEqual(b)),
            new("RefreshDealingRequest",
                [RefreshDealingRequest.Encode(Group, 3)],
                b => RefreshDealingRequest.TryDecode(b, Group, out _),
                b => RefreshDealingRequest.TryDecode(b, Group, out var d) && RefreshDealingRequest.Encode(Group, d).AsSpan().SequenceEqual(b)),
            new("RefreshRelayedCommitments",
                [RefreshRelayedCommitments.Encode(Group, 2, commitments)],
                b => RefreshRelayedCommitments.TryDecode(b, Group, out _, out _),
                b => RefreshRelayedCommitments.TryDecode(b, Group, out var d, out var m) && RefreshRelayedCommitments.Encode(Group, d, m).AsSpan().SequenceEqual(b)),
            new("SubShareVectorCodec",
                [subShares],
                b => SubShareVectorCodec.TryDecode(b, Group, out _, out _),
                b => SubShareVectorCodec.TryDecode(b, Group, out var r, out var v) && (r == 0 || SubShareVectorCodec.Encode(Group, r, v).AsSpan().SequenceEqual(b))),
            new("RefreshDealingCommitments",
                [commitments, RefreshDealingCommitments.Encode(Group, [], hashes, null)],
                b => RefreshDealingCommitments.TryDecode(b, Group, out _),
                b => RefreshDealingCommitments.TryDecode(b, Group, out var c)
                    && RefreshDealingCommitments.Encode(Group, c.SigningKeyCommitments, c.RecipientHashes, c.CombinedCommitment).AsSpan().SequenceEqual(b)),
            new("QualifiedSetCodec",
                [QualifiedSetCodec.Encode(Group, hashes.Select((h, i) => KeyValuePair.Create(i + 1, h)))],
                b => QualifiedSetCodec.TryDecode(b, Group, 7, out _),
                b => QualifiedSetCodec.TryDecode(b, Group, 7, out var s) && QualifiedSetCodec.Encode(Group, s).AsSpan().SequenceEqual(b)),
            new("ShareVector",
                [vector.Encode()],
                b => Dispose(ShareVector.TryDecode(b, Group, out var v), v),
                b => ShareVector.TryDecode(b, Group, out var v) && Dispose(v.Encode().AsSpan().SequenceEqual(b), v)),
            new("ShareVectorDigest",
                [ShareVectorDigest.Compute(vector, random).Encode()],
                b => ShareVectorDigest.TryDecode(b, out _),
                b => ShareVectorDigest.TryDecode(b, out var d) && d.Encode().AsSpan().SequenceEqual(b)),
            new("RefreshPublicState",
                [state.Encode()],
                b => RefreshPublicState.TryDecode(b, Group, out _),
                b => RefreshPublicState.TryDecode(b, Group, out var s) && s.Encode().AsSpan().SequenceEqual(b)),
        ];
    }

    private static bool Dispose(bool result, ShareVector? disposable)
    {
        disposable?.Dispose();
        return result;
    }

    /// <summary>One to three byte flips, a truncation or an extension.</summary>
    private static byte[] Mutate(byte[] sample, Random random)
    {
        switch (random.Next(4))
        {
            case 0:
                return sample[..random.Next(sample.Length)];
            case 1:
                var longer = new byte[sample.Length + 1 + random.Next(8)];
                sample.CopyTo(longer, 0);
                random.NextBytes(longer.AsSpan(sample.Length));
                return longer;
            default:
                var copy = sample.ToArray();
                for (var flips = 1 + random.Next(3); flips > 0; flips--)
                {
                    copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                }

                return copy;
        }
    }
}
