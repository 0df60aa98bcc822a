using BenchmarkDotNet.Attributes;
using Proactive.Crypto.Dprf;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;

namespace Proactive.Benchmarks;

/// <summary>
/// The distributed PRF (docs/CRYPTO-DPRF.md) with t = 2 over 5 servers: one server's partial
/// evaluation with its DLEQ proof, and the client's verification of 3 partials and their combination.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 10, id: BenchJobs.Short)]
public class DprfBenchmarks
{
    private const int Threshold = 2;
    private const int ServerCount = 5;

    private readonly byte[] _message = new byte[32];
    private DistributedPrf? _prf;
    private SecretShare[] _shares = [];
    private DprfPublicShares? _publicShares;
    private DprfPartialEvaluation[] _partials = [];

    [Params("Ed25519", "ristretto255", "P-256")]
    public string Suite { get; set; } = "Ed25519";

    /// <summary>Shamir shares of a random key, the public shares from the Feldman commitments, and 3 valid partials.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var group = Suites.Group(Suite);
        var rng = new DeterministicRandomSource(2);
        rng.Fill(_message);
        _prf = new DistributedPrf(group);
        var (shares, polynomial) = Shamir.Split(group, group.RandomNonzeroScalar(rng), Threshold, ServerCount, rng);
        using (polynomial)
        {
            _shares = shares;
            _publicShares = DprfPublicShares.FromFeldmanCommitments(polynomial.CommitFeldman());
        }

        _partials = _shares.Take(Threshold + 1).Select(s => _prf.Evaluate(s, _message, rng)).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var s in _shares)
        {
            s.Dispose();
        }
    }

    /// <summary>The proof's nonce comes from the OS CSPRNG, as in production.</summary>
    [Benchmark(Description = "partial evaluation + DLEQ proof")]
    public DprfPartialEvaluation Evaluate() => _prf!.Evaluate(_shares[0], _message, SystemRandomSource.Instance);

    /// <summary>Public shares come from the Feldman commitments, so each check also evaluates one in the exponent.</summary>
    [Benchmark(Description = "verify + combine 3 partials")]
    public DprfOutput Combine() =>
        _prf!.Combine(_publicShares!, _message, _partials).Output
            ?? throw new InvalidOperationException("Three valid partials did not combine.");
}
