using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Codec;

/// <summary>Writes one item of a list; see <see cref="CanonicalWriter.WriteList{T}"/>.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <param name="writer">The writer to append to.</param>
/// <param name="index">The item's position, for types whose rules depend on it.</param>
/// <param name="item">The item.</param>
public delegate void WriteItem<T>(ref CanonicalWriter writer, int index, T item);

/// <summary>
/// Appends the one canonical encoding of protocol structures, so that everything we hash or sign
/// has exactly one byte representation (toolkit paper section 6.2; STYLE.md "Wire formats").
/// </summary>
/// <remarks>
/// <para><b>The format.</b> An encoded structure starts with a format version byte and the suite id
/// (<see cref="GroupId"/>), then its fields in a fixed order, with no tags, no optional fields and
/// nothing after the last field:</para>
/// <list type="bullet">
/// <item>integers: fixed-width big-endian u8, u16, u32, u64;</item>
/// <item>bool: one byte, 0 or 1;</item>
/// <item>byte strings and UTF-8 strings: a u32 big-endian byte length, then the bytes; every such
/// field has a maximum length that the writer enforces and the reader checks before touching the
/// data (a fixed-width prefix is canonical by construction, unlike a varint);</item>
/// <item>lists: a u32 big-endian count, then the items; every list has a maximum count;</item>
/// <item>scalars and elements: the group's fixed-length canonical encoding (RFC 9591 section 3.1),
/// the identity only in fields that say it is allowed.</item>
/// </list>
/// <para><b>The convention for types.</b> A wire type:</para>
/// <list type="number">
/// <item>declares <c>public const byte FormatVersion</c> and documents its field layout;</item>
/// <item>implements <see cref="ICanonicalEncodable"/>: <c>EncodedLength</c> and <c>WriteTo</c>,
/// which writes the header then the fields, and offers <c>byte[] Encode()</c> via
/// <see cref="CanonicalEncoding.Encode{T}"/>;</item>
/// <item>implements <see cref="ICanonicalDecodable{TSelf}"/>: a static <c>TryRead</c> that checks
/// the header with <see cref="CanonicalReader.TryReadHeader"/> and reads the fields, never throwing
/// on bad data; and offers <c>static bool TryDecode(ReadOnlySpan&lt;byte&gt;, PrimeOrderGroup?,
/// out T, out CodecError)</c> via <see cref="CanonicalEncoding.TryDecode{T}"/>, which also rejects
/// trailing bytes;</item>
/// <item>when it is nested inside a larger structure, writes and reads only its body there
/// (<c>WriteBodyTo</c>/<c>TryReadBody</c>): the outer header already fixes version and suite;</item>
/// <item>pins its bytes with a snapshot test and registers a sample in the decoder fuzz test.</item>
/// </list>
/// <para>Values that break a declared limit are the caller's mistake and throw
/// <see cref="ArgumentException"/>; they are never silently truncated.</para>
/// <para>The writer is a ref struct over either an <see cref="IBufferWriter{T}"/> (for example an
/// <see cref="ArrayBufferWriter{T}"/>) or a fixed destination span, so encoding allocates nothing
/// beyond the output itself. Encoded secrets (scalars of secret shares) land in that output:
/// the caller owns wiping it.</para>
/// </remarks>
public ref struct CanonicalWriter
{
    /// <summary>Length prefix of byte strings and UTF-8 strings.</summary>
    public const int LengthPrefixSize = 4;

    /// <summary>Count prefix of lists.</summary>
    public const int CountPrefixSize = 4;

    /// <summary>Version byte plus suite byte.</summary>
    public const int HeaderSize = 2;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly IBufferWriter<byte>? _output;
    private readonly Span<byte> _destination;
    private int _written;

    /// <summary>Appends to a growable buffer.</summary>
    public CanonicalWriter(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _destination = default;
        _written = 0;
    }

    /// <summary>
    /// Writes into a fixed span, for types that know their exact encoded length; writing past its end
    /// throws, because it means the type's <c>EncodedLength</c> is wrong.
    /// </summary>
    public CanonicalWriter(Span<byte> destination)
    {
        _output = null;
        _destination = destination;
        _written = 0;
    }

    /// <summary>Bytes written so far through this writer.</summary>
    public readonly int BytesWritten => _written;

    /// <summary>The format version of the structure, then its suite: always the first two bytes.</summary>
    public void WriteHeader(byte version, GroupId suite)
    {
        var span = Begin(HeaderSize);
        span[0] = version;
        span[1] = (byte)suite;
        Commit(HeaderSize);
    }

    /// <summary>The header for a structure whose fields live in <paramref name="suite"/>.</summary>
    public void WriteHeader(byte version, PrimeOrderGroup suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        WriteHeader(version, suite.Id);
    }

    public void WriteU8(byte value)
    {
        Begin(1)[0] = value;
        Commit(1);
    }

    public void WriteU16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(Begin(2), value);
        Commit(2);
    }

    public void WriteU32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(Begin(4), value);
        Commit(4);
    }

    public void WriteU64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(Begin(8), value);
        Commit(8);
    }

    /// <summary>One byte, 0 or 1; the reader refuses every other byte.</summary>
    public void WriteBool(bool value) => WriteU8(value ? (byte)1 : (byte)0);

    /// <summary>
    /// Raw bytes with no prefix, for fields whose length the format fixes (a hash, a nonce); the
    /// reader must ask for the same length.
    /// </summary>
    public void WriteFixedBytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(Begin(value.Length));
        Commit(value.Length);
    }

    /// <summary>A u32 length, then the bytes; throws if the value exceeds the field's declared limit.</summary>
    public void WriteBytes(ReadOnlySpan<byte> value, int maxLength)
    {
        CheckLimit(maxLength, nameof(maxLength));
        if (value.Length > maxLength)
        {
            throw new ArgumentException($"The value has {value.Length} bytes; the field allows at most {maxLength}.", nameof(value));
        }

        var span = Begin(LengthPrefixSize + value.Length);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)value.Length);
        value.CopyTo(span[LengthPrefixSize..]);
        Commit(LengthPrefixSize + value.Length);
    }

    /// <summary>
    /// A u32 byte length, then the UTF-8 bytes (no BOM, no normalization: the bytes are the value).
    /// Throws if the string has an unpaired surrogate, which has no UTF-8 encoding, or if its
    /// encoding exceeds <paramref name="maxByteLength"/>.
    /// </summary>
    public void WriteString(string value, int maxByteLength)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckLimit(maxByteLength, nameof(maxByteLength));

        // EncoderFallbackException is an ArgumentException: an unpaired surrogate is a caller mistake.
        var length = StrictUtf8.GetByteCount(value);
        if (length > maxByteLength)
        {
            throw new ArgumentException($"The string takes {length} UTF-8 bytes; the field allows at most {maxByteLength}.", nameof(value));
        }

        var span = Begin(LengthPrefixSize + length);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)length);
        _ = StrictUtf8.GetBytes(value, span[LengthPrefixSize..]);
        Commit(LengthPrefixSize + length);
    }

    /// <summary>The group's canonical scalar encoding (<see cref="PrimeOrderGroup.ScalarLength"/> bytes).</summary>
    public void WriteScalar(PrimeOrderGroup group, Scalar value)
    {
        ArgumentNullException.ThrowIfNull(group);
        var length = group.ScalarLength;
        group.EncodeScalar(value, Begin(length));
        Commit(length);
    }

    /// <summary>
    /// The group's canonical element encoding (<see cref="PrimeOrderGroup.ElementLength"/> bytes).
    /// Throws for the identity unless the field allows it, as the reader will refuse it.
    /// </summary>
    public void WriteElement(PrimeOrderGroup group, Element value, bool allowIdentity = false)
    {
        ArgumentNullException.ThrowIfNull(group);
        var length = group.ElementLength;
        group.EncodeElement(value, Begin(length), allowIdentity);
        Commit(length);
    }

    /// <summary>A list's u32 count, for callers that write the items themselves.</summary>
    public void WriteCount(int count, int maxCount)
    {
        CheckLimit(maxCount, nameof(maxCount));
        if (count < 0 || count > maxCount)
        {
            throw new ArgumentException($"The list has {count} items; the field allows 0 to {maxCount}.", nameof(count));
        }

        WriteU32((uint)count);
    }

    /// <summary>A u32 count, then each item as <paramref name="writeItem"/> writes it.</summary>
    public void WriteList<T>(ReadOnlySpan<T> items, int maxCount, WriteItem<T> writeItem)
    {
        ArgumentNullException.ThrowIfNull(writeItem);
        WriteCount(items.Length, maxCount);
        for (var i = 0; i < items.Length; i++)
        {
            writeItem(ref this, i, items[i]);
        }
    }

    private static void CheckLimit(int limit, string name)
    {
        // The prefix is a u32, but int.MaxValue already exceeds anything we buffer.
        ArgumentOutOfRangeException.ThrowIfNegative(limit, name);
    }

    private readonly Span<byte> Begin(int length)
    {
        if (_output is not null)
        {
            return _output.GetSpan(length)[..length];
        }

        if (_destination.Length - _written < length)
        {
            throw new ArgumentException("The destination is too small for this encoding (is the type's EncodedLength wrong?).");
        }

        return _destination.Slice(_written, length);
    }

    private void Commit(int length)
    {
        _output?.Advance(length);
        _written += length;
    }
}
