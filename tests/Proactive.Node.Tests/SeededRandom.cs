using Proactive.Crypto.Random;

namespace Proactive.Node.Tests;

/// <summary>Reproducible bytes for test keys and test secrets (never for anything real).</summary>
internal sealed class SeededRandom(ulong seed) : IRandomSource
{
    private readonly Random _random = new((int)(seed ^ (seed >> 32)));

    public void Fill(Span<byte> destination) => _random.NextBytes(destination);
}
