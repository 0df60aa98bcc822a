using BenchmarkDotNet.Attributes;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;

namespace Proactive.Benchmarks;

/// <summary>
/// A server checking its shares of many dealings (docs/BRIEF.md section 3 "Refresh at scale"): 10,000
/// shares of server 3 against 10,000 degree-2 Feldman commitments, one by one, batched with random
/// coefficients, and the combined-polynomial check; plus one share for CRYPTO-COSTS.md's
/// "Feldman check of one share".
/// </summary>
/// <remarks>
/// One invocation per iteration: a 10,000-share run is a long operation (about 2 s one by one on
/// Ed25519), so BenchmarkDotNet's pilot and default 15+ iterations would take far too long.
/// </remarks>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 1, iterationCount: 3, invocationCount: 1, id: BenchJobs.Feldman)]
public class FeldmanBenchmarks
{
    private const int DealingCount = 10_000;
    private const int Degree = 2;
    private const int ServerIndex = 3;
    private const int SingleShareRepeats = 1024;
    private const int CombinedCheckRepeats = 16;

    // The (n, t) of CRYPTO-COSTS.md; keep in step with the [Arguments] of VerifyOneShare.
    private static readonly (int N, int T)[] SingleShareConfigurations = [(5, 2), (7, 3), (31, 15)];

    private PrimeOrderGroup _group = PrimeOrderGroup.Ed25519;
    private FeldmanCommitment[] _commitments = [];
    private Scalar[] _shares = [];
    private FeldmanCommitment? _combinedCommitment;
    private Scalar _challenge;
    private readonly Dictionary<(int N, int T), (FeldmanCommitment Commitment, Scalar Share)> _singleShares = [];

    [Params("Ed25519", "ristretto255", "P-256")]
    public string Suite { get; set; } = "Ed25519";

    /// <summary>10,000 random degree-2 dealings, committed, and their values at server 3.</summary>
    [GlobalSetup(Targets = [nameof(OneByOne), nameof(Batched)])]
    public void SetupDealings()
    {
        _group = Suites.Group(Suite);
        var rng = new DeterministicRandomSource(3);
        _commitments = new FeldmanCommitment[DealingCount];
        _shares = new Scalar[DealingCount];
        var x = _group.FromUInt64(ServerIndex);
        for (var k = 0; k < DealingCount; k++)
        {
            using var polynomial = Polynomial.Random(_group, Degree, _group.RandomScalar(rng), rng);
            _commitments[k] = FeldmanCommitment.Commit(polynomial);
            _shares[k] = polynomial.Evaluate(x);
        }
    }

    /// <summary>
    /// 10,000 refresh dealings (zero constant term) and server 3's sub-shares; the dealer's side, the
    /// combined polynomial and its commitment, is done here because only the verifier is measured.
    /// </summary>
    [GlobalSetup(Target = nameof(CombinedShareCheck))]
    public void SetupCombined()
    {
        _group = Suites.Group(Suite);
        var rng = new DeterministicRandomSource(4);
        var dealings = new Polynomial[DealingCount];
        _shares = new Scalar[DealingCount];
        var x = _group.FromUInt64(ServerIndex);
        try
        {
            for (var k = 0; k < DealingCount; k++)
            {
                dealings[k] = Polynomial.Random(_group, Degree, _group.Zero, rng);
                _shares[k] = dealings[k].Evaluate(x);
            }

            // In the protocol rho is hashed from the committed transcript; any nonzero scalar costs the same here.
            _challenge = _group.RandomNonzeroScalar(rng);
            using var combined = Proactive.Crypto.Sharing.CombinedShareCheck.CombinePolynomials(_challenge, dealings);
            _combinedCommitment = FeldmanCommitment.Commit(combined);
        }
        finally
        {
            foreach (var d in dealings)
            {
                d?.Dispose();
            }
        }
    }

    /// <summary>One dealing per (n, t) configuration of <see cref="VerifyOneShare"/>, and server n's share.</summary>
    [GlobalSetup(Target = nameof(VerifyOneShare))]
    public void SetupSingleShares()
    {
        _group = Suites.Group(Suite);
        var rng = new DeterministicRandomSource(5);
        foreach (var (n, t) in SingleShareConfigurations)
        {
            using var polynomial = Polynomial.Random(_group, t, _group.RandomScalar(rng), rng);
            _singleShares[(n, t)] = (FeldmanCommitment.Commit(polynomial), polynomial.Evaluate(_group.FromUInt64((ulong)n)));
        }
    }

    [Benchmark(Description = "10,000 shares one by one")]
    public int OneByOne()
    {
        var valid = 0;
        for (var k = 0; k < DealingCount; k++)
        {
            if (_commitments[k].VerifyShare(ServerIndex, _shares[k]))
            {
                valid++;
            }
        }

        return valid == DealingCount ? valid : throw new InvalidOperationException($"Only {valid} of {DealingCount} shares verified.");
    }

    /// <summary>The verifier draws its batch coefficients from the OS CSPRNG, as in production.</summary>
    [Benchmark(Description = "10,000 shares batched")]
    public bool Batched() =>
        FeldmanBatchVerifier.VerifyAll(ServerIndex, _shares, _commitments, SystemRandomSource.Instance)
            ? true
            : throw new InvalidOperationException("The batch of correct shares failed.");

    /// <summary>
    /// Server 3's work: sum_k rho^k s_k over 10,000 sub-shares, then one Feldman check (deriving rho
    /// from the transcript is not included). A few milliseconds, so repeated; reported per check.
    /// </summary>
    [Benchmark(Description = "10,000 sub-shares combined (refresh)", OperationsPerInvoke = CombinedCheckRepeats)]
    public bool CombinedShareCheck()
    {
        var all = true;
        for (var i = 0; i < CombinedCheckRepeats; i++)
        {
            all &= Proactive.Crypto.Sharing.CombinedShareCheck.Verify(_combinedCommitment!, ServerIndex, _challenge, _shares);
        }

        return all ? all : throw new InvalidOperationException("The combined check of correct sub-shares failed.");
    }

    /// <summary>Repeated so that one invocation is long enough to time; reported per check.</summary>
    [Benchmark(Description = "one share", OperationsPerInvoke = SingleShareRepeats)]
    [Arguments(5, 2)]
    [Arguments(7, 3)]
    [Arguments(31, 15)]
    public bool VerifyOneShare(int n, int t)
    {
        var (commitment, share) = _singleShares[(n, t)];
        var all = true;
        for (var i = 0; i < SingleShareRepeats; i++)
        {
            all &= commitment.VerifyShare(n, share);
        }

        return all ? all : throw new InvalidOperationException($"The share of server {n} did not verify.");
    }
}
