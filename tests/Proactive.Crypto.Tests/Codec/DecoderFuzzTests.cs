using System.Reflection;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Dprf;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Secrets;
using Proactive.Crypto.Sharing;
using Proactive.Crypto.Signing;
using static Proactive.Crypto.Tests.Codec.CodecTestData;

namespace Proactive.Crypto.Tests.Codec;

/// <summary>
/// Feeds random and mutated bytes to every decoder. A decoder may refuse, but must never throw,
/// must say why (when it can report a reason), and whatever it accepts must re-encode to exactly
/// the input (one encoding per value). A failing seed becomes a permanent InlineData.
/// </summary>
/// <remarks>
/// Decoders that follow the codec convention are found by reflection (<see cref="ICanonicalDecodable{TSelf}"/>)
/// and need an entry in <see cref="Samples"/>; every other decoder (fixed RFC encodings, keys,
/// group elements and scalars) is in <see cref="OtherDecoders"/>. A reflection test fails for any
/// public static TryDecode*/TryImport*/TryRead* method that is in neither, so a new decoder cannot
/// escape fuzzing.
/// </remarks>
public class DecoderFuzzTests
{
    private const int Iterations = 2000;

    /// <summary>Valid encodings to mutate, per decodable type. Every decoder needs an entry.</summary>
    private static readonly Dictionary<Type, Func<IEnumerable<byte[]>>> Samples = new()
    {
        [typeof(FeldmanCommitment)] = () => AllGroups.SelectMany(g => new[] { Vector(g).Encode(), ZeroConstantVector(g).Encode() }),
        [typeof(ExampleMessage)] = () => AllGroups.Select(g => ExampleMessage.Sample(g).Encode()),
        [typeof(SigningCommitments)] = () => Ciphersuite.All.Select(s => WireSamples.Commitments(s).Encode()),
        [typeof(SignatureShare)] = () => Ciphersuite.All.Select(s => WireSamples.Share(s).Encode()),
        [typeof(DprfPartialEvaluation)] = () => AllGroups.Select(g => WireSamples.Partial(g).Encode()),
        [typeof(DprfOutput)] = () => AllGroups.Select(g => WireSamples.Output(g).Encode()),
    };

    /// <summary>
    /// The decoders outside the codec convention: a name, the public static methods the entry
    /// exercises (Type.Method, for the coverage test), valid encodings to mutate, and a delegate
    /// that decodes, checks the re-encoding of what it accepts, and returns whether it accepted.
    /// </summary>
    private static readonly OtherDecoder[] OtherDecoders =
    [
        new("Frost Signature", ["Signature.TryDecode"],
            () => Ciphersuite.All.Select(s => WireSamples.FrostSignature(s).Encode()),
            input => EveryOne(Ciphersuite.All, s => Signature.TryDecode(s, input, out var v) && Canonical(input, v!.Encode()))),
        new("Frost Identifier", ["Identifier.TryDecode"],
            () => Ciphersuite.All.Select(s => Identifier.FromInt(s, 3).Encode()),
            input => EveryOne(Ciphersuite.All, s => Identifier.TryDecode(s, input, out var v) && Canonical(input, v.Encode()))),
        new("Frost GroupPublicKey", ["GroupPublicKey.TryDecode"],
            () => Ciphersuite.All.Select(s => s.Group.EncodeElement(WireSamples.Point(s.Group, 7))),
            input => EveryOne(Ciphersuite.All, s => GroupPublicKey.TryDecode(s, input, out var v) && Canonical(input, v!.Encode()))),
        new("DleqProof", ["DleqProof.TryDecode"],
            () => AllGroups.Select(g => WireSamples.Proof(g).Encode()),
            input => EveryOne(AllGroups, g => DleqProof.TryDecode(g, input, out var v) && Canonical(input, v.Encode()))),
        new("SecretScalar", ["SecretScalar.TryDecode"],
            () => AllGroups.Select(g => g.EncodeScalar(g.FromUInt64(11))),
            input => EveryOne(AllGroups, g => DecodeSecretScalar(g, input))),
        new("Ed25519PublicKey", ["Ed25519PublicKey.TryDecode"],
            () => [Ed25519PrivateKey.FromSeed(new byte[32]).PublicKey.Bytes.ToArray()],
            input => Ed25519PublicKey.TryDecode(input, out var v) && Canonical(input, v.Bytes.ToArray())),
        new("HpkePublicKey", ["HpkePublicKey.TryDecode"],
            () => [WireSamples.Sealed(HpkeSuite.X25519Sha256ChaCha20Poly1305).EncapsulatedKey.ToArray()],
            input => HpkePublicKey.TryDecode(input, out var v) && Canonical(input, v.ToArray())),
        new("HpkePrivateKey", ["HpkePrivateKey.TryImport"],
            () => [Enumerable.Range(1, HpkeSuite.PrivateKeyLength).Select(i => (byte)i).ToArray()],
            DecodeHpkePrivateKey),
        new("HpkeSealedMessage", ["HpkeSealedMessage.TryDecode", "HpkeSealedMessage.TryRead"],
            () => HpkeSuite.All.Select(s => WireSamples.Sealed(s).Encode()),
            DecodeHpkeSealedMessage),
        new("PrimeOrderGroup.TryDecodeElement", [],
            () => AllGroups.SelectMany(g => new[] { g.EncodeElement(WireSamples.Point(g, 5)), g.EncodeElement(g.Identity, allowIdentity: true) }),
            input => EveryOne(AllGroups, g => DecodeElement(g, input, allowIdentity: false) | DecodeElement(g, input, allowIdentity: true))),
        new("PrimeOrderGroup.TryDecodeScalar", [],
            () => AllGroups.SelectMany(g => new[] { g.EncodeScalar(g.FromUInt64(5)), g.EncodeScalar(g.Negate(g.One)) }),
            input => EveryOne(AllGroups, g => g.TryDecodeScalar(input, out var v) && Canonical(input, g.EncodeScalar(v)))),
    ];

    public static TheoryData<int> Seeds => new() { 1, 2, 20261120 };

    public static TheoryData<string> OtherDecoderNames => new(OtherDecoders.Select(d => d.Name));

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
        foreach (var decoder in OtherDecoders)
        {
            FuzzOther(decoder, seed);
        }
    }

    [Fact]
    public void Every_decoder_in_the_crypto_assembly_has_fuzz_samples()
    {
        var missing = DecodableTypes(CryptoAssembly).Where(t => !Samples.ContainsKey(t)).Select(t => t.FullName).ToList();
        Assert.True(missing.Count == 0, "add fuzz samples for: " + string.Join(", ", missing));
    }

    /// <summary>
    /// Every public static TryDecode*/TryImport*/TryRead* method is fuzzed: either its type follows
    /// the codec convention (found by reflection above, and <see cref="CanonicalEncoding"/> is that
    /// harness itself) or an entry of <see cref="OtherDecoders"/> names it.
    /// </summary>
    [Fact]
    public void Every_public_static_decoder_method_is_fuzzed()
    {
        var listed = OtherDecoders.SelectMany(d => d.Covers).ToHashSet();
        var codecTypes = DecodableTypes(CryptoAssembly).ToHashSet();
        var decoders = CryptoAssembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => !m.IsAbstract) // ICanonicalDecodable<T>.TryRead itself: its implementations are the decoders
            .Where(m => m.Name.StartsWith("TryDecode", StringComparison.Ordinal)
                || m.Name.StartsWith("TryImport", StringComparison.Ordinal)
                || m.Name.StartsWith("TryRead", StringComparison.Ordinal))
            .ToList();
        var unfuzzed = decoders
            .Where(m => !codecTypes.Contains(m.DeclaringType!) && m.DeclaringType != typeof(CanonicalEncoding))
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}")
            .Where(name => !listed.Contains(name))
            .Distinct()
            .ToList();
        Assert.True(unfuzzed.Count == 0, "fuzz these decoders (Samples or OtherDecoders): " + string.Join(", ", unfuzzed));

        // The list names only methods that exist, so a rename cannot leave a stale entry behind.
        var existing = decoders.Select(m => $"{m.DeclaringType!.Name}.{m.Name}").ToHashSet();
        Assert.All(listed, name => Assert.Contains(name, existing));
    }

    [Theory]
    [MemberData(nameof(OtherDecoderNames))]
    public void Other_decoders_never_throw_and_accept_only_canonical_inputs(string name)
    {
        var decoder = OtherDecoders.Single(d => d.Name == name);
        foreach (var seed in new[] { 1, 2, 20261120 })
        {
            FuzzOther(decoder, seed);
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_and_mutated_inputs_never_throw_and_accepted_inputs_are_canonical(int seed)
    {
        var types = DecodableTypes(CryptoAssembly).Append(typeof(ExampleMessage)).Distinct().ToList();
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
                var input = NextInput(random, i, samples);
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

    private static Assembly CryptoAssembly => typeof(PrimeOrderGroup).Assembly;

    private static void FuzzOther(OtherDecoder decoder, int seed)
    {
        var samples = decoder.Samples().ToList();
        foreach (var sample in samples)
        {
            Assert.True(decoder.Decode(sample), $"{decoder.Name}: an unmutated sample must decode");
        }

        var random = new System.Random(seed);
        for (var i = 0; i < Iterations; i++)
        {
            var input = NextInput(random, i, samples);
            try
            {
                _ = decoder.Decode(input);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"seed {seed}, {decoder.Name}, iteration {i}, input {Convert.ToHexStringLower(input)}: {e}");
            }
        }
    }

    /// <summary>Random bytes of any length, random bytes of a sample's length (fixed-length decoders), or a mutated sample.</summary>
    private static byte[] NextInput(System.Random random, int iteration, List<byte[]> samples)
    {
        switch (iteration % 4)
        {
            case 0:
                return RandomBytes(random);
            case 1:
                var bytes = new byte[samples[random.Next(samples.Count)].Length];
                random.NextBytes(bytes);
                return bytes;
            default:
                return Mutate(random, samples[random.Next(samples.Count)]);
        }
    }

    /// <summary>Runs <paramref name="decode"/> for every suite (no short cut) and says whether any accepted.</summary>
    private static bool EveryOne<T>(IEnumerable<T> suites, Func<T, bool> decode)
    {
        var accepted = false;
        foreach (var suite in suites)
        {
            accepted |= decode(suite);
        }

        return accepted;
    }

    /// <summary>What a decoder accepted must re-encode to exactly its input.</summary>
    private static bool Canonical(byte[] input, byte[] reencoded)
    {
        Assert.Equal(Convert.ToHexStringLower(input), Convert.ToHexStringLower(reencoded));
        return true;
    }

    private static bool DecodeElement(PrimeOrderGroup group, byte[] input, bool allowIdentity) =>
        group.TryDecodeElement(input, out var element, allowIdentity) && Canonical(input, group.EncodeElement(element, allowIdentity));

    private static bool DecodeSecretScalar(PrimeOrderGroup group, byte[] input)
    {
        if (!SecretScalar.TryDecode(group, input, out var secret))
        {
            return false;
        }

        using (secret)
        {
            var bytes = new byte[group.ScalarLength];
            secret!.WriteTo(bytes);
            return Canonical(input, bytes);
        }
    }

    private static bool DecodeHpkePrivateKey(byte[] input)
    {
        if (!HpkePrivateKey.TryImport(input, out var key))
        {
            return false;
        }

        using (key)
        {
            var bytes = new byte[HpkeSuite.PrivateKeyLength];
            key.WriteTo(bytes);
            return Canonical(input, bytes);
        }
    }

    /// <summary>Both overloads and the reader entry point agree, and a refusal names a reason inside the input.</summary>
    private static bool DecodeHpkeSealedMessage(byte[] input)
    {
        var accepted = HpkeSealedMessage.TryDecode(input, out var message, out var failure);
        Assert.Equal(accepted, HpkeSealedMessage.TryDecode(input, out _));
        var reader = new CanonicalReader(input);
        Assert.Equal(accepted, HpkeSealedMessage.TryRead(ref reader, out _) && reader.TryReadEnd());
        if (!accepted)
        {
            Assert.NotEqual(CodecError.None, failure.Error);
            Assert.InRange(failure.Offset, 0, input.Length);
            return false;
        }

        return Canonical(input, message!.Encode());
    }

    private static IEnumerable<Type> DecodableTypes(Assembly assembly) =>
        assembly.GetTypes().Where(t => !t.IsAbstract && t.GetInterfaces().Any(i =>
            i.IsGenericType && i.GetGenericTypeDefinition() == typeof(ICanonicalDecodable<>)));

    private static byte[] RandomBytes(System.Random random)
    {
        var bytes = new byte[random.Next(0, 160)];
        random.NextBytes(bytes);

        // Often start with a plausible header (the format versions in use: 1, DprfOutput's 2, the
        // example's 7) so the fuzz reaches the fields.
        if (bytes.Length >= 2 && random.Next(2) == 0)
        {
            bytes[0] = random.Next(3) switch { 0 => 1, 1 => DprfOutput.FormatVersion, _ => ExampleMessage.FormatVersion };
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

/// <summary>A decoder outside the codec convention, as <see cref="DecoderFuzzTests"/> fuzzes it.</summary>
/// <param name="Name">Shown in failures and test names.</param>
/// <param name="Covers">The public static methods (Type.Method) this entry exercises.</param>
/// <param name="Samples">Valid encodings to mutate; each must decode.</param>
/// <param name="Decode">Decodes; asserts that an accepted input re-encodes to itself; returns whether it was accepted.</param>
internal sealed record OtherDecoder(string Name, string[] Covers, Func<IEnumerable<byte[]>> Samples, Func<byte[], bool> Decode);
