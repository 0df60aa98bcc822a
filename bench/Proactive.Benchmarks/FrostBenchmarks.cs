using BenchmarkDotNet.Attributes;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Random;

namespace Proactive.Benchmarks;

/// <summary>
/// FROST signing per suite for 3-of-5 and 21-of-31, to compare with CRYPTO-COSTS.md "FROST 3-of-5,
/// per signer round 2 / aggregate + final verify": one signer's round two, the coordinator's
/// aggregation with the final verification, and the check of one signature share.
/// </summary>
/// <remarks>
/// <para>Round two consumes its nonces (RFC 9591 section 7.3), so <see cref="Round2Sign"/> cannot
/// repeat one call. Before each iteration, outside the measurement, <see cref="RefillSigningPool"/>
/// draws <see cref="InvocationsPerIteration"/> fresh nonce pairs for signer 1 and builds for each a
/// signing package holding its commitment and the other signers' fixed commitments; every invocation
/// signs the next package with its own nonces. The measured call is exactly Round2.Sign: package
/// checks, binding factors, group commitment, challenge, Lagrange coefficient and z_i; nothing else.
/// Reusing the other signers' commitments is harmless because they never sign here.</para>
/// <para>The job is shortened (one warmup, five iterations of a fixed count) because every
/// suite/config pair is a separate process and a 21-of-31 Ed25519 operation takes milliseconds.</para>
/// </remarks>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 1, iterationCount: 5, invocationCount: InvocationsPerIteration, id: BenchJobs.Frost)]
public class FrostBenchmarks
{
    // Also the size of the nonce pool refilled before each iteration: no iteration may invoke more often.
    private const int InvocationsPerIteration = 256;

    private readonly byte[] _message = new byte[32];
    private readonly DeterministicRandomSource _rng = new(21);
    private TrustedDealerOutput? _keys;
    private KeyPackage? _signer;
    private SigningPackage? _package;
    private SignatureShare[] _signatureShares = [];
    private SignatureShare? _lastShare;
    private Signature? _signature;
    private SigningCommitments[] _otherCommitments = [];
    private readonly SigningNonces[] _noncePool = new SigningNonces[InvocationsPerIteration];
    private readonly SigningPackage[] _packagePool = new SigningPackage[InvocationsPerIteration];
    private int _next;

    [Params("Ed25519", "ristretto255", "P-256")]
    public string Suite { get; set; } = "Ed25519";

    [Params("3-of-5", "21-of-31")]
    public string Config { get; set; } = "3-of-5";

    /// <summary>
    /// Keys from a trusted dealer, then one complete signing session of signers 1..t: its package,
    /// all t valid signature shares, and the commitments of signers 2..t for the pool.
    /// </summary>
    [GlobalSetup]
    public void Setup()
    {
        var suite = Suite switch
        {
            "Ed25519" => Ciphersuite.Ed25519,
            "ristretto255" => Ciphersuite.Ristretto255,
            "P-256" => Ciphersuite.P256,
            _ => throw new ArgumentException($"Unknown suite {Suite}"),
        };
        var (minSigners, maxSigners) = Config switch
        {
            "3-of-5" => (3, 5),
            "21-of-31" => (21, 31),
            _ => throw new ArgumentException($"Unknown config {Config}"),
        };
        _rng.Fill(_message);
        _keys = TrustedDealer.Generate(suite, null, minSigners, maxSigners, _rng);
        var signers = _keys.KeyPackages.Take(minSigners).ToArray();
        _signer = signers[0];

        var nonces = signers.Select(s => Round1.Commit(s.SigningShare, _rng)).ToArray();
        _package = new SigningPackage(suite, nonces.Select(n => n.Commitments), _message);
        _signatureShares = new SignatureShare[minSigners];
        for (var i = 0; i < minSigners; i++)
        {
            _signatureShares[i] = Round2.Sign(_package, nonces[i], signers[i]).Value;
            nonces[i].Dispose();
        }

        _lastShare = _signatureShares[^1];
        _signature = Aggregation.Aggregate(_package, _signatureShares, _keys.PublicKeyPackage).Value;
        _otherCommitments = nonces.Skip(1).Select(n => n.Commitments).ToArray();
        if (!Round2.VerifySignatureShare(_package, _lastShare, _keys.PublicKeyPackage))
        {
            throw new InvalidOperationException("The setup's signature share does not verify.");
        }
    }

    [IterationSetup(Target = nameof(Round2Sign))]
    public void RefillSigningPool()
    {
        var suite = _signer!.Suite;
        for (var i = 0; i < InvocationsPerIteration; i++)
        {
            _noncePool[i]?.Dispose();
            _noncePool[i] = Round1.Commit(_signer.SigningShare, _rng);
            _packagePool[i] = new SigningPackage(suite, [_noncePool[i].Commitments, .. _otherCommitments], _message);
        }

        _next = 0;
    }

    /// <summary>
    /// A copy of the package as a coordinator receives it: a package caches its signing context, and a
    /// benchmark that reused one would measure the cache instead of the binding factors and R.
    /// </summary>
    private SigningPackage FreshPackage() => new(_package!.Suite, _package.Commitments, _package.Message);

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var n in _noncePool)
        {
            n?.Dispose();
        }

        _keys?.Dispose();
    }

    [Benchmark(Description = "round 2 sign (one signer)")]
    public SignatureShare Round2Sign()
    {
        if (_next == InvocationsPerIteration)
        {
            throw new InvalidOperationException($"The job invokes more than {InvocationsPerIteration} times per iteration; raise the pool size.");
        }

        var i = _next++;
        return Round2.Sign(_packagePool[i], _noncePool[i], _signer!).Value;
    }

    /// <summary>
    /// Aggregation already checks the signature against the group key before returning it (and checks
    /// each share only when that fails); the explicit Verify is the relying party's check, so both count.
    /// </summary>
    [Benchmark(Description = "aggregate + verify")]
    public bool AggregateAndVerify()
    {
        var signature = Aggregation.Aggregate(FreshPackage(), _signatureShares, _keys!.PublicKeyPackage).Value;
        return _keys.PublicKeyPackage.GroupPublicKey.Verify(_message, signature)
            ? true
            : throw new InvalidOperationException("The aggregated signature does not verify.");
    }

    /// <summary>Aggregation alone: sums the shares and verifies the result once (z*G == R + c*PK) before
    /// returning it, the same work as the floor's "aggregate + final verify".</summary>
    [Benchmark(Description = "aggregate (with its final verify)")]
    public Signature AggregateOnly() =>
        Aggregation.Aggregate(FreshPackage(), _signatureShares, _keys!.PublicKeyPackage).Value;

    [Benchmark(Description = "verify signature")]
    public bool VerifySignature() =>
        _keys!.PublicKeyPackage.GroupPublicKey.Verify(_message, _signature!)
            ? true
            : throw new InvalidOperationException("The aggregated signature does not verify.");

    [Benchmark(Description = "verify one signature share")]
    public bool VerifyShare() =>
        Round2.VerifySignatureShare(FreshPackage(), _lastShare!, _keys!.PublicKeyPackage)
            ? true
            : throw new InvalidOperationException("A valid signature share did not verify.");
}
