using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Codec;

/// <summary>
/// A Feldman commitment vector C_0..C_t to a degree-t polynomial f(x) = a_0 + a_1 x + ... + a_t x^t,
/// with C_k = a_k * G, in one suite. Dealings in the DKG, refresh and share recovery publish it, so
/// that every server can check its share s_i against sum_k i^k * C_k; it is hashed into transcripts
/// and signed, hence its single canonical encoding.
/// </summary>
/// <remarks>
/// <para>Wire format, version 1 (all integers big-endian):</para>
/// <code>
/// u8    version = 1
/// u8    suite (GroupId)
/// bool  constantTermIsZero   (0 or 1)
/// u32   count                (1..MaxCount; count = t + 1)
/// count x element            (ElementLength bytes each, the group's canonical encoding)
/// </code>
/// <para>The identity is allowed only as C_0 and only when <c>constantTermIsZero</c> is set, and
/// then C_0 must be the identity: a refresh dealing (seed 002, Share Update) commits to a polynomial
/// with zero constant term, and the flag makes that claim explicit and checked at decode time
/// rather than left to every caller. Every other C_k must not be the identity; honest dealers draw
/// nonzero coefficients (<see cref="PrimeOrderGroup.RandomNonzeroScalar"/>), and an identity there
/// would mean a lower-degree polynomial than declared.</para>
/// <para>Nested inside a larger message (whose header fixes version and suite), use
/// <see cref="WriteBodyTo"/> and <see cref="TryReadBody"/>, which omit the header.</para>
/// </remarks>
public sealed class CommitmentVector : ICanonicalEncodable, ICanonicalDecodable<CommitmentVector>, IEquatable<CommitmentVector>
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 1;

    /// <summary>
    /// Most commitments a vector may hold (t + 1 with t &lt;= 1023): far above any cluster we run,
    /// and it bounds what a peer can make us allocate and multiply.
    /// </summary>
    public const int MaxCount = 1024;

    private readonly Element[] _elements;

    /// <summary>
    /// Makes a commitment vector from elements of <paramref name="group"/>. Throws when the vector
    /// could not be encoded: empty, longer than <see cref="MaxCount"/>, or with the identity
    /// where the rules above forbid it (or without it at C_0 when <paramref name="constantTermIsZero"/>).
    /// </summary>
    public CommitmentVector(PrimeOrderGroup group, ReadOnlySpan<Element> elements, bool constantTermIsZero = false)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (elements.IsEmpty || elements.Length > MaxCount)
        {
            throw new ArgumentException($"A commitment vector has 1 to {MaxCount} elements.", nameof(elements));
        }

        for (var k = 0; k < elements.Length; k++)
        {
            var isIdentity = group.IsIdentity(elements[k]);
            var mustBeIdentity = k == 0 && constantTermIsZero;
            if (isIdentity != mustBeIdentity)
            {
                throw new ArgumentException(
                    mustBeIdentity
                        ? "With a zero constant term, C_0 must be the identity."
                        : $"C_{k} is the identity, which this vector does not allow.",
                    nameof(elements));
            }
        }

        Group = group;
        ConstantTermIsZero = constantTermIsZero;
        _elements = elements.ToArray();
    }

    private CommitmentVector(PrimeOrderGroup group, Element[] elements, bool constantTermIsZero)
    {
        Group = group;
        ConstantTermIsZero = constantTermIsZero;
        _elements = elements;
    }

    /// <summary>The suite the commitments live in; it is written as the header's suite id.</summary>
    public PrimeOrderGroup Group { get; }

    /// <summary>True for a polynomial with a_0 = 0 (refresh dealings); then C_0 is the identity.</summary>
    public bool ConstantTermIsZero { get; }

    /// <summary>t + 1, the number of coefficients committed to.</summary>
    public int Count => _elements.Length;

    /// <summary>The commitments C_0..C_t, without copying.</summary>
    public ReadOnlySpan<Element> Elements => _elements;

    /// <summary>C_k.</summary>
    public Element this[int k] => _elements[k];

    /// <inheritdoc />
    public int EncodedLength => CanonicalWriter.HeaderSize + BodyLength;

    private int BodyLength => 1 + CanonicalWriter.CountPrefixSize + (_elements.Length * Group.ElementLength);

    /// <summary>The canonical encoding (header included), the bytes that are hashed and signed.</summary>
    public byte[] Encode() => CanonicalEncoding.Encode(this);

    /// <inheritdoc />
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteHeader(FormatVersion, Group);
        WriteBodyTo(ref writer);
    }

    /// <summary>The fields without the header, for embedding in a message of the same suite.</summary>
    public void WriteBodyTo(ref CanonicalWriter writer)
    {
        writer.WriteBool(ConstantTermIsZero);
        writer.WriteCount(_elements.Length, MaxCount);
        for (var k = 0; k < _elements.Length; k++)
        {
            writer.WriteElement(Group, _elements[k], allowIdentity: k == 0 && ConstantTermIsZero);
        }
    }

    /// <summary>
    /// Decodes a whole buffer. Never throws on bad data.
    /// </summary>
    /// <param name="encoding">The untrusted bytes.</param>
    /// <param name="expectedSuite">The suite the caller expects, or null to accept any known suite.</param>
    /// <param name="value">The vector, when the method returns true.</param>
    /// <param name="error">Why decoding failed, or <see cref="CodecError.None"/>.</param>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup? expectedSuite, [NotNullWhen(true)] out CommitmentVector? value, out CodecError error)
    {
        var ok = TryDecode(encoding, expectedSuite, out value, out CodecFailure failure);
        error = failure.Error;
        return ok;
    }

    /// <summary>As the other overload, but the failure also says at which offset and in which field.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup? expectedSuite, [NotNullWhen(true)] out CommitmentVector? value, out CodecFailure failure) =>
        CanonicalEncoding.TryDecode<CommitmentVector>(encoding, expectedSuite, out value, out failure);

    /// <inheritdoc />
    public static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out CommitmentVector value)
    {
        value = null;
        return reader.TryReadHeader(FormatVersion, expectedSuite, out var group)
            && TryReadBody(ref reader, group, out value);
    }

    /// <summary>Reads the fields without a header, in <paramref name="group"/>; see <see cref="WriteBodyTo"/>.</summary>
    public static bool TryReadBody(ref CanonicalReader reader, PrimeOrderGroup group, [NotNullWhen(true)] out CommitmentVector? value)
    {
        ArgumentNullException.ThrowIfNull(group);
        value = null;
        if (!reader.TryReadBool(out var constantTermIsZero, "constantTermIsZero"))
        {
            return false;
        }

        var countOffset = reader.Offset;
        if (!reader.TryReadCount(MaxCount, group.ElementLength, out var count, "count"))
        {
            return false;
        }

        if (count == 0)
        {
            return reader.Fail(CodecError.InvalidValue, countOffset, "count");
        }

        var elements = new Element[count];
        for (var k = 0; k < count; k++)
        {
            var allowIdentity = k == 0 && constantTermIsZero;
            var elementOffset = reader.Offset;
            if (!reader.TryReadElement(group, out elements[k], allowIdentity, "commitment"))
            {
                return false;
            }

            if (allowIdentity && !group.IsIdentity(elements[k]))
            {
                // The flag claims a zero constant term; a non-identity C_0 contradicts it.
                return reader.Fail(CodecError.InvalidValue, elementOffset, "commitment");
            }
        }

        value = new CommitmentVector(group, elements, constantTermIsZero);
        return true;
    }

    /// <inheritdoc />
    public bool Equals(CommitmentVector? other) =>
        other is not null
        && Group.Id == other.Group.Id
        && ConstantTermIsZero == other.ConstantTermIsZero
        && Elements.SequenceEqual(other.Elements);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as CommitmentVector);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Group.Id, ConstantTermIsZero, _elements.Length, _elements[0]);
}
