// References: docs/BRIEF.md section 3 ("each message names network, period, protocol instance,
// round, sender").

using System.Buffers.Binary;

namespace Proactive.Protocols.Envelopes;

/// <summary>
/// The 16-byte identity of one network (one configuration C). Every envelope carries it, so a
/// message signed for a test network, or for another deployment whose servers happen to reuse a
/// key, is never accepted here.
/// </summary>
/// <remarks>Held as two big-endian halves so that equality is a value comparison and the bytes
/// round-trip exactly.</remarks>
public readonly record struct NetworkId
{
    /// <summary>Length of the encoding.</summary>
    public const int Length = 16;

    private readonly ulong _high;
    private readonly ulong _low;

    private NetworkId(ulong high, ulong low)
    {
        _high = high;
        _low = low;
    }

    /// <summary>The id from its 16 bytes (configuration, storage, a decoded envelope).</summary>
    /// <exception cref="ArgumentException"><paramref name="bytes"/> is not 16 bytes.</exception>
    public static NetworkId FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"A network id is {Length} bytes, got {bytes.Length}.", nameof(bytes));
        }

        return new NetworkId(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
    }

    /// <summary>Writes the 16 bytes into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not 16 bytes.</exception>
    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length != Length)
        {
            throw new ArgumentException($"The destination must be {Length} bytes.", nameof(destination));
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _low);
    }

    /// <summary>A new array holding the 16 bytes.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>The hex of the id: it is public, and logs of different nodes must agree on it.</summary>
    public override string ToString() => Convert.ToHexStringLower(ToArray());
}
