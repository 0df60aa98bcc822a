using BenchmarkDotNet.Attributes;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;

namespace Proactive.Benchmarks;

/// <summary>Server identity signatures (libsodium Ed25519) over 64 bytes, to compare with CRYPTO-COSTS.md.</summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 10, id: BenchJobs.Short)]
public class Ed25519Benchmarks
{
    private readonly byte[] _message = new byte[64];
    private readonly byte[] _signature = new byte[Ed25519PublicKey.SignatureLength];
    private readonly byte[] _signatureBuffer = new byte[Ed25519PublicKey.SignatureLength];
    private Ed25519PrivateKey? _key;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new DeterministicRandomSource(25519);
        rng.Fill(_message);
        _key = Ed25519PrivateKey.Generate(rng);
        _key.Sign(_message, _signature);
    }

    [GlobalCleanup]
    public void Cleanup() => _key?.Dispose();

    [Benchmark(Description = "sign 64 bytes")]
    public byte[] Sign()
    {
        _key!.Sign(_message, _signatureBuffer);
        return _signatureBuffer;
    }

    [Benchmark(Description = "verify 64 bytes")]
    public bool Verify() =>
        _key!.PublicKey.Verify(_message, _signature)
            ? true
            : throw new InvalidOperationException("A valid signature did not verify.");
}
