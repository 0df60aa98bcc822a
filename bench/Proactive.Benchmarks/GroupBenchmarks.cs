using BenchmarkDotNet.Attributes;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;

namespace Proactive.Benchmarks;

/// <summary>Group and scalar operations per suite, to compare with CRYPTO-COSTS.md.</summary>
[MemoryDiagnoser]
public class GroupBenchmarks
{
    private PrimeOrderGroup _group = PrimeOrderGroup.Ed25519;
    private Scalar _a;
    private Scalar _b;
    private Element _p;
    private Element _q;
    private byte[] _encoded = [];
    private Scalar[] _scalars3 = [];
    private Element[] _points3 = [];

    [Params("Ed25519", "ristretto255", "P-256")]
    public string Suite { get; set; } = "Ed25519";

    [GlobalSetup]
    public void Setup()
    {
        _group = Suites.Group(Suite);
        var rng = new DeterministicRandomSource(42);
        _a = _group.RandomNonzeroScalar(rng);
        _b = _group.RandomNonzeroScalar(rng);
        _p = _group.MultiplyBase(_group.RandomNonzeroScalar(rng));
        _q = _group.MultiplyBase(_group.RandomNonzeroScalar(rng));
        _encoded = _group.EncodeElement(_p);
        _scalars3 = [_a, _b, _group.Add(_a, _b)];
        _points3 = [_p, _q, _group.Add(_p, _q)];
    }

    [Benchmark(Description = "k*G")]
    public Element BaseMultiply() => _group.MultiplyBase(_a);

    [Benchmark(Description = "k*P")]
    public Element Multiply() => _group.Multiply(_p, _a);

    [Benchmark(Description = "P+Q")]
    public Element Add() => _group.Add(_p, _q);

    [Benchmark(Description = "decode+validate P")]
    public bool Decode() => _group.TryDecodeElement(_encoded, out _);

    [Benchmark(Description = "a1*P1+a2*P2+a3*P3")]
    public Element MultiScalar3() => _group.MultiplyMany(_scalars3, _points3);

    [Benchmark(Description = "scalar mul")]
    public Scalar ScalarMultiply() => _group.Multiply(_a, _b);

    [Benchmark(Description = "scalar add")]
    public Scalar ScalarAdd() => _group.Add(_a, _b);

    [Benchmark(Description = "scalar invert")]
    public Scalar ScalarInvert() => _group.Invert(_a);
}

internal static class Suites
{
    internal static PrimeOrderGroup Group(string name) => name switch
    {
        "Ed25519" => PrimeOrderGroup.Ed25519,
        "ristretto255" => PrimeOrderGroup.Ristretto255,
        "P-256" => PrimeOrderGroup.P256,
        _ => throw new ArgumentException($"Unknown suite {name}", nameof(name)),
    };
}
