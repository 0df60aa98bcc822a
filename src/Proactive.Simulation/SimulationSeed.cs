using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Proactive.Crypto.Random;

namespace Proactive.Simulation;

/// <summary>
/// Turns the one seed of a run into independent streams, one per purpose, so that adding a draw in
/// one place (say, a protocol asking for one more scalar) does not shift every network decision
/// after it. Each stream is SHA-256("proactive-simulation-seed-v1" || seed || label).
/// </summary>
/// <remarks>Security: these streams are predictable by design; they exist only in tests.</remarks>
internal static class SimulationSeed
{
    private static readonly byte[] Domain = "proactive-simulation-seed-v1"u8.ToArray();

    /// <summary>A byte stream for one purpose, e.g. "network" or "server 3 incarnation 0".</summary>
    public static DeterministicRandomSource Source(ulong seed, string purpose) => new(Derive(seed, purpose));

    /// <summary>An integer generator for one purpose; System.Random's seeded algorithm is fixed across .NET versions.</summary>
    public static System.Random Integers(ulong seed, string purpose) =>
        new(BinaryPrimitives.ReadInt32BigEndian(Derive(seed, purpose)) & int.MaxValue);

    private static byte[] Derive(ulong seed, string purpose)
    {
        var label = Encoding.UTF8.GetBytes(purpose);
        var input = new byte[Domain.Length + 8 + label.Length];
        Domain.CopyTo(input, 0);
        BinaryPrimitives.WriteUInt64BigEndian(input.AsSpan(Domain.Length), seed);
        label.CopyTo(input, Domain.Length + 8);
        return SHA256.HashData(input);
    }

    /// <summary>A uniform double in [0, 1) from 53 random bits.</summary>
    public static double NextUnit(IRandomSource random)
    {
        Span<byte> bytes = stackalloc byte[8];
        random.Fill(bytes);
        return (BinaryPrimitives.ReadUInt64BigEndian(bytes) >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>A uniform integer in [0, bound], by rejection so that no value is favoured.</summary>
    public static long NextInclusive(IRandomSource random, long bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bound);
        if (bound == 0)
        {
            return 0;
        }

        var range = (ulong)bound + 1;
        var limit = ulong.MaxValue - (ulong.MaxValue % range);
        Span<byte> bytes = stackalloc byte[8];
        while (true)
        {
            random.Fill(bytes);
            var value = BinaryPrimitives.ReadUInt64BigEndian(bytes);
            if (value < limit)
            {
                return (long)(value % range);
            }
        }
    }
}
