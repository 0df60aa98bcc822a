using System.Text;
using BenchmarkDotNet.Attributes;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;

namespace Proactive.Benchmarks;

/// <summary>
/// Single-shot HPKE base mode (RFC 9180 section 6.1) of a 32-byte payload, the size of a wrapped
/// key or sub-share: the sender's Seal followed by the recipient's TryOpen, per AEAD.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 10, id: BenchJobs.Short)]
public class HpkeBenchmarks
{
    private static readonly byte[] Info = Encoding.ASCII.GetBytes("proactive-bench-hpke");

    private readonly byte[] _plaintext = new byte[32];
    private readonly byte[] _aad = new byte[16];
    private HpkeSuite _suite = HpkeSuite.X25519Sha256ChaCha20Poly1305;
    private HpkePrivateKey? _recipient;

    [Params("ChaCha20-Poly1305", "AES-128-GCM")]
    public string Aead { get; set; } = "ChaCha20-Poly1305";

    [GlobalSetup]
    public void Setup()
    {
        _suite = Aead switch
        {
            "ChaCha20-Poly1305" => HpkeSuite.X25519Sha256ChaCha20Poly1305,
            "AES-128-GCM" => HpkeSuite.X25519Sha256Aes128Gcm,
            _ => throw new ArgumentException($"Unknown AEAD {Aead}"),
        };
        var rng = new DeterministicRandomSource(9180);
        rng.Fill(_plaintext);
        rng.Fill(_aad);
        _recipient = HpkeBaseMode.GenerateKeyPair(rng);
    }

    [GlobalCleanup]
    public void Cleanup() => _recipient?.Dispose();

    /// <summary>The ephemeral key comes from the OS CSPRNG, as in production.</summary>
    [Benchmark(Description = "seal + open 32 bytes")]
    public byte[] SealAndOpen()
    {
        var sealedMessage = HpkeBaseMode.Seal(_suite, _recipient!.PublicKey, Info, _aad, _plaintext, SystemRandomSource.Instance);
        return HpkeBaseMode.TryOpen(_suite, _recipient, Info, _aad, sealedMessage, out var opened)
            ? opened
            : throw new InvalidOperationException("A sealed message did not open.");
    }
}
