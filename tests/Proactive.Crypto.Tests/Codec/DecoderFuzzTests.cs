using System.Reflection;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;
using static Proactive.Crypto.Tests.Codec.CodecTestData;

namespace Proactive.Crypto.Tests.Codec;

/// <summary>
/// Feeds random and mutated bytes to every decoder. A decoder may refuse, but must never throw,
/// must say why, and whatever it accepts must re-encode to exactly the input (one encoding per
/// value). A failing seed becomes a permanent InlineData.
/// </summary>
public class DecoderFuzzTests
{
    private const int Iterations = 2000;

    /// <summary>Valid encodings to mutate, per decodable type. Every decoder needs an entry.</summary>
    private static readonly Dictionary<Type, Func<IEnumerable<byte[]>>> Samples = new()
    {
        [typeof(FeldmanCommitment)] = () => AllGroups.SelectMany(g => new[] { Vector(g).Encode(), ZeroConstantVector(g).Encode() }),
        [typeof(ExampleMessage)] = () => AllGroups.Select(g => ExampleMessage.Sample(g).Encode()),
    };

    public static TheoryData<int> Seeds => new() { 1, 2, 20261120 };

    /// <summary>
    /// A fresh seed each run (or PROACTIVE_FUZZ_SEED to replay one), so that CI keeps exploring;
    /// the seed is in every failure message.
    /// </summary>
    [Fact]
    public void Fresh_seed_never_throws()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("PROACTIVE_FUZZ_SEED"), out var s) ? s : System.Random.Shared.Next();
        Random_and_mutated_inputs_never_throw_and_accepted_inputs_are_canonical(seed);
        Reader_primitives_never_throw_on_random_bytes(seed);
    }

    [Fact]
    public void Every_decoder_in_the_crypto_assembly_has_fuzz_samples()
    {
        var missing = DecodableTypes(typeof(FeldmanCommitment).Assembly).Where(t => !Samples.ContainsKey(t)).Select(t => t.FullName).ToList();
        Assert.True(missing.Count == 0, "add fuzz samples for: " + string.Join(", ", missing));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_and_mutated_inputs_never_throw_and_accepted_inputs_are_canonical(int seed)
    {
        var types = DecodableTypes(typeof(FeldmanCommitment).Assembly).Append(typeof(ExampleMessage)).Distinct().ToList();
        var check = typeof(DecoderFuzzTests).GetMethod(nameof(Check), BindingFlags.NonPublic | BindingFlags.Static)!;
        foreach (var type in types)
        {
            var run = check.MakeGenericMethod(type).CreateDelegate<Func<byte[], PrimeOrderGroup?, bool>>();
            var samples = Samples[type]().ToList();
            var random = new System.Random(seed);
            foreach (var sample in samples)
            {
                Assert.True(run(sample, null), $"{type.Name}: an unmutated sample must decode");
            }

            for (var i = 0; i < Iterations; i++)
            {
                var input = i % 4 == 0 ? RandomBytes(random) : Mutate(random, samples[random.Next(samples.Count)]);
                PrimeOrderGroup? expected = random.Next(4) switch
                {
                    0 => PrimeOrderGroup.Ed25519,
                    1 => PrimeOrderGroup.Ristretto255,
                    2 => PrimeOrderGroup.P256,
                    _ => null,
                };
                try
                {
                    _ = run(input, expected);
                }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                {
                    Assert.Fail($"seed {seed}, {type.Name}, iteration {i}, input {Convert.ToHexStringLower(input)}: {e}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Reader_primitives_never_throw_on_random_bytes(int seed)
    {
        var random = new System.Random(seed);
        for (var i = 0; i < Iterations; i++)
        {
            var input = RandomBytes(random);
            try
            {
                var r = new CanonicalReader(input);
                var g = random.Next(3) switch { 0 => PrimeOrderGroup.Ed25519, 1 => PrimeOrderGroup.Ristretto255, _ => PrimeOrderGroup.P256 };
                while (!r.Failed && r.Remaining > 0)
                {
                    _ = random.Next(9) switch
                    {
                        0 => r.TryReadBool(out _),
                        1 => r.TryReadU16(out _),
                        2 => r.TryReadU64(out _),
                        3 => r.TryReadBytes(random.Next(64), out _),
                        4 => r.TryReadString(random.Next(64), out _),
                        5 => r.TryReadScalar(g, out _),
                        6 => r.TryReadElement(g, out _, random.Next(2) == 0),
                        7 => r.TryReadList(random.Next(8), 2, static (ref CanonicalReader rr, int _, out ushort v) => rr.TryReadU16(out v), out _),
                        _ => r.TryReadHeader((byte)random.Next(3), null, out _),
                    };
                }

                _ = r.TryReadEnd();
                Assert.True(r.Failed == (r.Error != CodecError.None), $"seed {seed}");
                Assert.InRange(r.Failure.Offset, 0, input.Length);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"seed {seed}, iteration {i}, input {Convert.ToHexStringLower(input)}: {e}");
            }
        }
    }

    /// <summary>Decodes; on success re-encodes and demands the same bytes; on failure demands a reason.</summary>
    private static bool Check<T>(byte[] input, PrimeOrderGroup? expectedSuite)
        where T : ICanonicalDecodable<T>, ICanonicalEncodable
    {
        if (CanonicalEncoding.TryDecode<T>(input, expectedSuite, out var value, out var failure))
        {
            Assert.Equal(Convert.ToHexStringLower(input), Convert.ToHexStringLower(CanonicalEncoding.Encode(value)));
            return true;
        }

        Assert.NotEqual(CodecError.None, failure.Error);
        Assert.InRange(failure.Offset, 0, input.Length);
        return false;
    }

    private static IEnumerable<Type> DecodableTypes(Assembly assembly) =>
        assembly.GetTypes().Where(t => !t.IsAbstract && t.GetInterfaces().Any(i =>
            i.IsGenericType && i.GetGenericTypeDefinition() == typeof(ICanonicalDecodable<>)));

    private static byte[] RandomBytes(System.Random random)
    {
        var bytes = new byte[random.Next(0, 160)];
        random.NextBytes(bytes);

        // Often start with a plausible header so the fuzz reaches the fields.
        if (bytes.Length >= 2 && random.Next(2) == 0)
        {
            bytes[0] = random.Next(2) == 0 ? FeldmanCommitment.FormatVersion : ExampleMessage.FormatVersion;
            bytes[1] = (byte)random.Next(0, 5);
        }

        return bytes;
    }

    private static byte[] Mutate(System.Random random, byte[] valid)
    {
        var bytes = valid.ToList();
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits; e++)
        {
            switch (random.Next(5))
            {
                case 0 when bytes.Count > 0: // flip a bit
                    var i = random.Next(bytes.Count);
                    bytes[i] ^= (byte)(1 << random.Next(8));
                    break;
                case 1: // truncate
                    bytes = bytes.Take(random.Next(bytes.Count + 1)).ToList();
                    break;
                case 2: // insert
                    bytes.Insert(random.Next(bytes.Count + 1), (byte)random.Next(256));
                    break;
                case 3 when bytes.Count > 0: // delete
                    bytes.RemoveAt(random.Next(bytes.Count));
                    break;
                default: // overwrite a byte with an edge value
                    if (bytes.Count > 0)
                    {
                        bytes[random.Next(bytes.Count)] = random.Next(3) switch { 0 => 0x00, 1 => 0xff, _ => 0x01 };
                    }

                    break;
            }
        }

        return [.. bytes];
    }
}
