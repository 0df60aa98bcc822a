using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Dprf;

/// <summary>
/// Server <see cref="ServerIndex"/>'s contribution Y_i = x_i*H(m) to a DPRF output, with the DLEQ
/// proof that it used the share behind its public share X_i. Safe to send and to publish.
/// </summary>
/// <remarks>
/// <para>Wire format, version 1, in the codec's layout (<see cref="CanonicalWriter"/>), fixed length per group:</para>
/// <code>
/// u8      version = 1
/// u8      suite (GroupId)
/// u32     server index   (1..2^31-1)
/// element Y_i            (never the identity)
/// scalar  c              (DLEQ challenge)
/// scalar  z              (DLEQ response)
/// </code>
/// <para>The message is not carried: the receiver knows what it asked for. Inside a
/// <see cref="DprfOutput"/> the partials are written without the header (<see cref="WriteBodyTo"/>).</para>
/// </remarks>
public sealed class DprfPartialEvaluation : ICanonicalEncodable, ICanonicalDecodable<DprfPartialEvaluation>
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 1;

    internal DprfPartialEvaluation(PrimeOrderGroup group, int serverIndex, Element value, DleqProof proof)
    {
        Group = group;
        ServerIndex = serverIndex;
        Value = value;
        Proof = proof;
    }

    public PrimeOrderGroup Group { get; }

    public int ServerIndex { get; }

    /// <summary>Y_i = x_i * H(m).</summary>
    public Element Value { get; }

    public DleqProof Proof { get; }

    /// <inheritdoc />
    int ICanonicalEncodable.EncodedLength => EncodedLength(Group);

    /// <summary>Bytes of a standalone encoded partial (header included) in <paramref name="group"/>.</summary>
    public static int EncodedLength(PrimeOrderGroup group) => CanonicalWriter.HeaderSize + BodyLength(group);

    /// <summary>Bytes of a partial without its header, as it sits inside a <see cref="DprfOutput"/>.</summary>
    public static int BodyLength(PrimeOrderGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return 4 + group.ElementLength + DleqProof.EncodedLength(group);
    }

    /// <summary>The canonical encoding into a caller's buffer of exactly <see cref="EncodedLength"/> bytes.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length != EncodedLength(Group))
        {
            throw new ArgumentException($"A {Group.Name} partial evaluation takes {EncodedLength(Group)} bytes.", nameof(destination));
        }

        var writer = new CanonicalWriter(destination);
        WriteTo(ref writer);
    }

    /// <summary>The canonical encoding (header included).</summary>
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
        writer.WriteU32((uint)ServerIndex);
        writer.WriteElement(Group, Value);
        Proof.WriteTo(ref writer);
    }

    /// <summary>
    /// Decodes one partial of <paramref name="group"/>: exact length, known version and group id,
    /// index at least 1, a valid non-identity element, canonical proof scalars. False otherwise.
    /// Decoding does not verify the proof (that needs the message and X_i).
    /// </summary>
    public static bool TryDecode(PrimeOrderGroup group, ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out DprfPartialEvaluation? partial) =>
        TryDecode(group, encoding, out partial, out _);

    /// <summary>As the other overload, but the failure says what went wrong, at which offset and in which field.</summary>
    public static bool TryDecode(PrimeOrderGroup group, ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out DprfPartialEvaluation? partial, out CodecFailure failure)
    {
        ArgumentNullException.ThrowIfNull(group);
        return CanonicalEncoding.TryDecode<DprfPartialEvaluation>(encoding, group, out partial, out failure);
    }

    /// <inheritdoc />
    public static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out DprfPartialEvaluation value)
    {
        value = null;
        return reader.TryReadHeader(FormatVersion, expectedSuite, out var group)
            && TryReadBody(ref reader, group, out value);
    }

    /// <summary>Reads the fields without a header, in <paramref name="group"/>; see <see cref="WriteBodyTo"/>.</summary>
    public static bool TryReadBody(ref CanonicalReader reader, PrimeOrderGroup group, [NotNullWhen(true)] out DprfPartialEvaluation? value)
    {
        ArgumentNullException.ThrowIfNull(group);
        value = null;
        var indexOffset = reader.Offset;
        if (!reader.TryReadU32(out var index, "serverIndex"))
        {
            return false;
        }

        if (index is 0 or > int.MaxValue)
        {
            return reader.Fail(CodecError.InvalidValue, indexOffset, "serverIndex");
        }

        if (!reader.TryReadElement(group, out var y, field: "value") || !DleqProof.TryRead(ref reader, group, out var proof))
        {
            return false;
        }

        value = new DprfPartialEvaluation(group, (int)index, y, proof);
        return true;
    }

    public override string ToString() => $"DprfPartialEvaluation({Group.Name}, server {ServerIndex})";
}
