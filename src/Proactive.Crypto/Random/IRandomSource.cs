using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Proactive.Crypto.Random;

/// <summary>
/// Where randomness comes from. Production code uses <see cref="SystemRandomSource.Instance"/>
/// (the OS CSPRNG); test vectors and the deterministic simulator inject their own.
/// </summary>
public interface IRandomSource
{
    /// <summary>Fills <paramref name="destination"/> with random bytes.</summary>
    void Fill(Span<byte> destination);
}

/// <summary>The operating system's CSPRNG (<see cref="RandomNumberGenerator"/>).</summary>
public sealed class SystemRandomSource : IRandomSource
{
    public static SystemRandomSource Instance { get; } = new();

    private SystemRandomSource()
    {
    }

    public void Fill(Span<byte> destination) => RandomNumberGenerator.Fill(destination);
}

/// <summary>
/// A reproducible stream from a seed: SHA-512(domain || seed || counter) blocks. For tests and the
/// simulator only: anyone who knows the seed knows every output.
/// </summary>
/// <remarks>
/// Security: internal on purpose. Fed to FROST round one twice with the same seed it would repeat
/// nonces and give away the signing share (RFC 9591 section 7.3), so no product code can reach it;
/// test, benchmark and simulator assemblies see it through InternalsVisibleTo.
/// </remarks>
internal sealed class DeterministicRandomSource : IRandomSource
{
    private static readonly byte[] Domain = "proactive-deterministic-random-v1"u8.ToArray();
    private readonly byte[] _seed;
    private readonly byte[] _block = new byte[64];
    private int _used = 64;
    private ulong _counter;

    public DeterministicRandomSource(ReadOnlySpan<byte> seed) => _seed = seed.ToArray();

    public DeterministicRandomSource(ulong seed)
    {
        _seed = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(_seed, seed);
    }

    public void Fill(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            if (_used == _block.Length)
            {
                Refill();
            }

            var take = Math.Min(destination.Length, _block.Length - _used);
            _block.AsSpan(_used, take).CopyTo(destination);
            _used += take;
            destination = destination[take..];
        }
    }

    private void Refill()
    {
        Span<byte> input = stackalloc byte[Domain.Length + _seed.Length + 8];
        Domain.CopyTo(input);
        _seed.CopyTo(input[Domain.Length..]);
        BinaryPrimitives.WriteUInt64BigEndian(input[(Domain.Length + _seed.Length)..], _counter++);
        SHA512.HashData(input, _block);
        _used = 0;
    }
}

/// <summary>
/// Hands out exactly the bytes it was given, in order, then refuses. Drives published test vectors
/// that specify the randomness (RFC 9591 nonce randomness, RFC 9180 ikm). Internal for the same
/// reason as <see cref="DeterministicRandomSource"/>.
/// </summary>
internal sealed class FixedRandomSource : IRandomSource
{
    private readonly byte[] _bytes;
    private int _position;

    public FixedRandomSource(params byte[][] chunks) => _bytes = chunks.SelectMany(c => c).ToArray();

    public int Remaining => _bytes.Length - _position;

    public void Fill(Span<byte> destination)
    {
        if (destination.Length > Remaining)
        {
            throw new InvalidOperationException(
                $"FixedRandomSource exhausted: {destination.Length} bytes asked, {Remaining} left.");
        }

        _bytes.AsSpan(_position, destination.Length).CopyTo(destination);
        _position += destination.Length;
    }
}
