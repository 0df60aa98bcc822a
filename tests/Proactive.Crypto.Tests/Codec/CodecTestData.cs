using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;

namespace Proactive.Crypto.Tests.Codec;

internal static class CodecTestData
{
    public static TheoryData<string> Suites => new() { "Ed25519", "ristretto255", "P-256" };

    public static PrimeOrderGroup Group(string name) => name switch
    {
        "Ed25519" => PrimeOrderGroup.Ed25519,
        "ristretto255" => PrimeOrderGroup.Ristretto255,
        "P-256" => PrimeOrderGroup.P256,
        _ => throw new ArgumentException(name),
    };

    public static IEnumerable<PrimeOrderGroup> AllGroups =>
        [PrimeOrderGroup.Ed25519, PrimeOrderGroup.Ristretto255, PrimeOrderGroup.P256];

    /// <summary>k*G, deterministic so that snapshots can pin the bytes.</summary>
    public static Element Point(PrimeOrderGroup g, ulong k) => g.MultiplyBase(g.FromUInt64(k));

    /// <summary>The Feldman commitment G, 2G, 3G (the pinned sample of the commitment wire format).</summary>
    public static FeldmanCommitment Vector(PrimeOrderGroup g) => new(g, [Point(g, 1), Point(g, 2), Point(g, 3)]);

    /// <summary>A zero-constant-term (refresh) commitment: identity, G.</summary>
    public static FeldmanCommitment ZeroConstantVector(PrimeOrderGroup g) => new(g, [g.Identity, Point(g, 1)], hasZeroConstantTerm: true);

    /// <summary>Encodes with a writer over a growable buffer and returns the bytes.</summary>
    public static byte[] Write(Action<ArrayBufferWriterHolder> write)
    {
        var holder = new ArrayBufferWriterHolder();
        write(holder);
        return holder.Buffer.WrittenSpan.ToArray();
    }
}

/// <summary>Lets a lambda make a ref-struct writer over a buffer it does not own.</summary>
internal sealed class ArrayBufferWriterHolder
{
    public System.Buffers.ArrayBufferWriter<byte> Buffer { get; } = new();

    public CanonicalWriter Writer() => new(Buffer);
}
