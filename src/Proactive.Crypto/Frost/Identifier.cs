// References: RFC 9591 section 3.1 (identifiers are nonzero scalars, serialized with SerializeScalar)
// and section 5 (commitment lists are sorted by identifier in ascending numeric order).
using System.Buffers.Binary;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Frost;

/// <summary>
/// A participant's identifier: a nonzero scalar of the suite's group (RFC 9591 section 3.1).
/// Identifiers are public. They order by numeric value, the order RFC 9591 requires for commitment lists.
/// </summary>
public readonly struct Identifier : IEquatable<Identifier>, IComparable<Identifier>
{
    private readonly Scalar _value;

    private Identifier(PrimeOrderGroup group, Scalar value)
    {
        Group = group;
        _value = value;
    }

    public PrimeOrderGroup Group { get; }

    /// <summary>The identifier as a field element: the x at which the participant's share is f(x).</summary>
    public Scalar Value => _value;

    /// <summary>The identifier for participant number <paramref name="index"/> (1, 2, ...).</summary>
    public static Identifier FromInt(Ciphersuite suite, int index)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        return new Identifier(suite.Group, suite.Group.FromUInt64((ulong)index));
    }

    /// <summary>An identifier from any nonzero scalar (for example one derived by hashing a name).</summary>
    public static Identifier FromScalar(Ciphersuite suite, Scalar value)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (value.IsZero)
        {
            throw new ArgumentException("Zero is not an identifier: it is where the secret lives.", nameof(value));
        }

        return new Identifier(suite.Group, value);
    }

    /// <summary>Decodes SerializeScalar(identifier); false unless canonical and nonzero.</summary>
    public static bool TryDecode(Ciphersuite suite, ReadOnlySpan<byte> encoding, out Identifier identifier)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (!suite.Group.TryDecodeScalar(encoding, out var value) || value.IsZero)
        {
            identifier = default;
            return false;
        }

        identifier = new Identifier(suite.Group, value);
        return true;
    }

    /// <summary>Writes SerializeScalar(identifier) (RFC 9591 section 3.1).</summary>
    public void Encode(Span<byte> destination) => Group.EncodeScalar(Value, destination);

    public byte[] Encode() => Group.EncodeScalar(Value);

    public bool Equals(Identifier other) => Group == other.Group && _value.Bytes.SequenceEqual(other._value.Bytes);

    public override bool Equals(object? obj) => obj is Identifier other && Equals(other);

    /// <summary>Identifiers are public, so hashing their bytes leaks nothing.</summary>
    public override int GetHashCode()
    {
        var b = _value.Bytes;
        return BinaryPrimitives.ReadInt32LittleEndian(b) ^ BinaryPrimitives.ReadInt32LittleEndian(b[28..]);
    }

    /// <summary>Numeric order: the scalar encodings are little-endian for the libsodium groups, big-endian for P-256.</summary>
    public int CompareTo(Identifier other)
    {
        if (Group != other.Group)
        {
            throw new ArgumentException("Identifiers of different groups do not compare.", nameof(other));
        }

        var a = _value.Bytes;
        var b = other._value.Bytes;
        if (Group.Id == GroupId.P256)
        {
            return a.SequenceCompareTo(b);
        }

        for (var k = a.Length - 1; k >= 0; k--)
        {
            if (a[k] != b[k])
            {
                return a[k].CompareTo(b[k]);
            }
        }

        return 0;
    }

    /// <summary>Small identifiers print as their number; others as hex of the encoding (they are public).</summary>
    public override string ToString()
    {
        if (Group is null)
        {
            return "Identifier(<none>)";
        }

        var encoding = Encode();
        var small = Group.Id == GroupId.P256 ? encoding.AsSpan(0, 24) : encoding.AsSpan(8);
        if (small.IndexOfAnyExcept((byte)0) < 0)
        {
            var number = Group.Id == GroupId.P256
                ? BinaryPrimitives.ReadUInt64BigEndian(encoding.AsSpan(24))
                : BinaryPrimitives.ReadUInt64LittleEndian(encoding);
            return $"Identifier({number})";
        }

        return $"Identifier(0x{Convert.ToHexStringLower(encoding)})";
    }

    public static bool operator ==(Identifier left, Identifier right) => left.Equals(right);

    public static bool operator !=(Identifier left, Identifier right) => !left.Equals(right);

    public static bool operator <(Identifier left, Identifier right) => left.CompareTo(right) < 0;

    public static bool operator >(Identifier left, Identifier right) => left.CompareTo(right) > 0;

    public static bool operator <=(Identifier left, Identifier right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Identifier left, Identifier right) => left.CompareTo(right) >= 0;
}
