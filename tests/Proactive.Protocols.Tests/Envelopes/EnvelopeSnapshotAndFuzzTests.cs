using Proactive.Crypto.Random;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Envelopes;

public sealed class EnvelopeSnapshotAndFuzzTests : IDisposable
{
    private const ulong Period = EnvelopeTestNetwork.Period;
    private static readonly InstanceId Instance = EnvelopeTestNetwork.Instance;

    // Pinned bytes: a change here is a wire-format change and needs a new FormatVersion.
    // Header: version 01, suite 01 (Ed25519), network, period 7, protocol 03 (Refresh), sequence 3,
    // attempt 2, round 1, type 4, sender 1, recipient, confidential.
    private const string BroadcastSnapshot =
        "010100112233445566778899aabbccddeeff00000000000000070300000000000000030000000201040001000000"
        + "00000004" + "deadbeef"
        + "73ec043dfee221da4e8063ca4f03ddb6bdf8d26548c07494ff99b0570466898b71ca011afe574be6c9a3c57260b6d5ccd9a13c3a2932b0333a939a941ab7e709";

    private const string ConfidentialSnapshot =
        "010100112233445566778899aabbccddeeff00000000000000070300000000000000030000000201040001000201"
        + "00000034"
        + "b1f1b840de7a3241b02748cf9b05b74dc8c5e8451298738817bd76aa8ebe8c2b" // enc
        + "c116b5939abebe9c71d489a9a966ef9a24d79a3f" // ciphertext and tag
        + "4eea4913e8a439a055a8918831ca4761cf2da27d3d9f269f0beb245f8073e648f71b1b735c71405483e11ab822da5497bb383fff6b1ace69f7c52f3925f8ad0e";

    // version 01, server 1, period 7, Ed25519 key, X25519 key.
    private const string PeriodPublicKeysSnapshot =
        "01" + "0001" + "0000000000000007"
        + "1756c4c57b6f7fe968f0ff740e5ab743bd3c27109e07afdfaf5fa010d3bfad68"
        + "5f7aa9e2b8541ab087e67956b1f60db900c20a9de69cfe1681579f3389e2b74e";

    private readonly EnvelopeTestNetwork _net = new();

    public void Dispose() => _net.Dispose();

    [Fact]
    public void Broadcast_envelope_bytes_are_pinned()
    {
        var bytes = _net.Sealer(1).Seal(Instance, new OutboundMessage(null, 2, 1, 4, [0xde, 0xad, 0xbe, 0xef], Confidential: false));

        Assert.Equal(BroadcastSnapshot, Convert.ToHexStringLower(bytes));
    }

    [Fact]
    public void Confidential_envelope_bytes_are_pinned_when_the_hpke_randomness_is_fixed()
    {
        var ikmE = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var sealer = _net.Sealer(1, random: new FixedRandomSource(ikmE));

        var bytes = sealer.Seal(Instance, new OutboundMessage(2, 2, 1, 4, [0xde, 0xad, 0xbe, 0xef], Confidential: true));

        Assert.Equal(ConfidentialSnapshot, Convert.ToHexStringLower(bytes));
        Assert.True(_net.Opener(2).Open(bytes, Period).IsAccepted);
    }

    [Fact]
    public void Period_public_keys_bytes_are_pinned()
    {
        Assert.Equal(PeriodPublicKeysSnapshot, Convert.ToHexStringLower(_net.Keys(1).PublicKeys.Encode()));
    }

    [Fact]
    public void Random_mutations_of_valid_envelopes_are_refused_without_exceptions()
    {
        const int seed = 20250601;
        var rng = new Random(seed);
        var valid = new[]
        {
            _net.Sealer(1).Seal(Instance, new OutboundMessage(null, 2, 1, 4, [1, 2, 3, 4, 5], Confidential: false)),
            _net.Sealer(1).Seal(Instance, new OutboundMessage(2, 0, 3, 1, new byte[40], Confidential: true)),
            _net.Sealer(3).Seal(Instance, new OutboundMessage(2, 7, 0, 0, [], Confidential: false)),
        };
        var opener = _net.Opener(2);
        var reasons = new HashSet<EnvelopeRejection>();

        for (var i = 0; i < 1500; i++)
        {
            var original = valid[rng.Next(valid.Length)];
            var mutant = Mutate(original, rng);
            if (mutant.AsSpan().SequenceEqual(original))
            {
                continue;
            }

            var result = opener.Open(mutant, Period);

            Assert.False(result.IsAccepted, $"seed {seed}, iteration {i}: mutant accepted: {Convert.ToHexStringLower(mutant)}");
            reasons.Add(result.Rejection);
        }

        // The mutations reach the decoder, the header checks and the signature.
        Assert.Contains(EnvelopeRejection.Malformed, reasons);
        Assert.Contains(EnvelopeRejection.BadSignature, reasons);
        Assert.Contains(EnvelopeRejection.WrongNetwork, reasons);
    }

    [Fact]
    public void Random_bytes_are_refused_without_exceptions()
    {
        var rng = new Random(7);
        var opener = _net.Opener(2);

        for (var i = 0; i < 500; i++)
        {
            var bytes = new byte[rng.Next(0, 200)];
            rng.NextBytes(bytes);
            Assert.False(opener.Open(bytes, Period).IsAccepted);
            Assert.False(PeriodPublicKeys.TryDecode(bytes, out _));
            Assert.False(EquivocationProof.TryDecode(bytes, null, out _, out _));
        }
    }

    private static byte[] Mutate(byte[] original, Random rng)
    {
        var bytes = original.ToList();
        var edits = 1 + rng.Next(3);
        for (var e = 0; e < edits; e++)
        {
            var at = bytes.Count == 0 ? 0 : rng.Next(bytes.Count);
            switch (rng.Next(6))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[at] = (byte)rng.Next(256);
                    break;
                case 2:
                    bytes.Insert(at, (byte)rng.Next(256));
                    break;
                case 3 when bytes.Count > 0:
                    bytes.RemoveAt(at);
                    break;
                case 4:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    bytes.Add((byte)rng.Next(256));
                    break;
            }
        }

        return [.. bytes];
    }
}
