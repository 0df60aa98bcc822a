using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text.Unicode;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Codec;

/// <summary>Reads one item of a list; see <see cref="CanonicalReader.TryReadList{T}"/>.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <param name="reader">The reader positioned at the item.</param>
/// <param name="index">The item's position, for types whose rules depend on it.</param>
/// <param name="item">The item, when the method returns true.</param>
/// <returns>False when the item is bad; the reader then holds the reason.</returns>
public delegate bool TryReadItem<T>(ref CanonicalReader reader, int index, out T item);

/// <summary>
/// Reads the canonical encoding that <see cref="CanonicalWriter"/> writes, from untrusted bytes.
/// </summary>
/// <remarks>
/// <para>Nothing here throws on bad data: every read is a <c>TryRead*</c> that returns false and
/// records the first failure (<see cref="Failure"/>: the <see cref="CodecError"/>, the offset where
/// the failing field starts, and the field name the caller passed). After a failure every further
/// read returns false too, so a decoder can chain reads and report once at the end; the first
/// failure is never overwritten.</para>
/// <para>Lengths and counts are checked against the caller's limit (<see cref="CodecError.TooLong"/>)
/// and then against the bytes actually present (<see cref="CodecError.Truncated"/>) before anything
/// is allocated, so a prefix claiming 4 GB costs nothing.</para>
/// <para>A decoder finishes with <see cref="TryReadEnd"/>: trailing bytes would give one value two
/// encodings.</para>
/// </remarks>
public ref struct CanonicalReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _offset;
    private CodecFailure _failure;

    /// <summary>Reads <paramref name="data"/> from its first byte.</summary>
    public CanonicalReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _offset = 0;
        _failure = default;
    }

    /// <summary>Bytes consumed so far.</summary>
    public readonly int Offset => _offset;

    /// <summary>Bytes not yet consumed.</summary>
    public readonly int Remaining => _data.Length - _offset;

    /// <summary>Whether a read has failed; every later read then fails too.</summary>
    public readonly bool Failed => _failure.Error != CodecError.None;

    /// <summary>The first failure, or a value with <see cref="CodecError.None"/>.</summary>
    public readonly CodecFailure Failure => _failure;

    /// <summary>
    /// The recorded failure, or an <see cref="CodecError.InvalidValue"/> at the current offset when a
    /// decoder returned false without recording one: a failed decode always has a reason to report.
    /// </summary>
    public readonly CodecFailure FailureOrInvalidValue => Failed ? _failure : new CodecFailure(CodecError.InvalidValue, _offset, null);

    /// <summary>The kind of the first failure, or <see cref="CodecError.None"/>.</summary>
    public readonly CodecError Error => _failure.Error;

    /// <summary>
    /// Records a failure that a type's own rules found (for example <see cref="CodecError.InvalidValue"/>
    /// for a forbidden combination of fields) and returns false, so a decoder can write
    /// <c>return reader.Fail(...)</c>. Keeps an earlier failure if there is one.
    /// </summary>
    /// <param name="error">What went wrong; not <see cref="CodecError.None"/>.</param>
    /// <param name="offset">Where the offending field starts (a value of <see cref="Offset"/> saved before reading it).</param>
    /// <param name="field">The field's name, for the report.</param>
    public bool Fail(CodecError error, int offset, string? field = null)
    {
        if (error == CodecError.None)
        {
            throw new ArgumentException("A failure needs a reason.", nameof(error));
        }

        if (!Failed)
        {
            _failure = new CodecFailure(error, offset, field);
        }

        return false;
    }

    /// <summary>
    /// Reads the version and suite bytes and checks them: the version must be
    /// <paramref name="expectedVersion"/>, the suite a known one and, when
    /// <paramref name="expectedSuite"/> is given, that one. Returns the suite's group.
    /// </summary>
    public bool TryReadHeader(byte expectedVersion, PrimeOrderGroup? expectedSuite, [NotNullWhen(true)] out PrimeOrderGroup? suite)
    {
        suite = null;
        var start = _offset;
        if (!TryTake(1, "version", out var version))
        {
            return false;
        }

        if (version[0] != expectedVersion)
        {
            return Fail(CodecError.WrongVersion, start, "version");
        }

        if (!TryTake(1, "suite", out var id))
        {
            return false;
        }

        if (!PrimeOrderGroup.TryFromId((GroupId)id[0], out var group))
        {
            return Fail(CodecError.UnknownSuite, start + 1, "suite");
        }

        if (expectedSuite is not null && expectedSuite.Id != group.Id)
        {
            return Fail(CodecError.WrongSuite, start + 1, "suite");
        }

        suite = group;
        return true;
    }

    public bool TryReadU8(out byte value, string? field = null)
    {
        value = 0;
        if (!TryTake(1, field, out var bytes))
        {
            return false;
        }

        value = bytes[0];
        return true;
    }

    public bool TryReadU16(out ushort value, string? field = null)
    {
        value = 0;
        if (!TryTake(2, field, out var bytes))
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt16BigEndian(bytes);
        return true;
    }

    public bool TryReadU32(out uint value, string? field = null)
    {
        value = 0;
        if (!TryTake(4, field, out var bytes))
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        return true;
    }

    public bool TryReadU64(out ulong value, string? field = null)
    {
        value = 0;
        if (!TryTake(8, field, out var bytes))
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        return true;
    }

    /// <summary>A bool byte: 0 or 1; 2..255 are <see cref="CodecError.NonCanonical"/>.</summary>
    public bool TryReadBool(out bool value, string? field = null)
    {
        value = false;
        var start = _offset;
        if (!TryTake(1, field, out var bytes))
        {
            return false;
        }

        if (bytes[0] > 1)
        {
            return Fail(CodecError.NonCanonical, start, field);
        }

        value = bytes[0] == 1;
        return true;
    }

    /// <summary>Exactly <paramref name="length"/> bytes with no prefix, as a view into the input (no copy).</summary>
    public bool TryReadFixedBytes(int length, out ReadOnlySpan<byte> value, string? field = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return TryTake(length, field, out value);
    }

    /// <summary>
    /// A u32-length-prefixed byte string of at most <paramref name="maxLength"/> bytes, as a view into
    /// the input (no copy). The limit is checked before the remaining length.
    /// </summary>
    public bool TryReadBytes(int maxLength, out ReadOnlySpan<byte> value, string? field = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        value = default;
        var start = _offset;
        if (!TryReadU32(out var length, field))
        {
            return false;
        }

        if (length > (uint)maxLength)
        {
            return Fail(CodecError.TooLong, start, field);
        }

        if (length > (uint)Remaining)
        {
            return Fail(CodecError.Truncated, start, field);
        }

        return TryTake((int)length, field, out value);
    }

    /// <summary>
    /// A u32-length-prefixed UTF-8 string of at most <paramref name="maxByteLength"/> bytes. Anything
    /// that is not strictly valid UTF-8 (overlong forms, surrogates, code points above U+10FFFF,
    /// stray continuation bytes) is <see cref="CodecError.InvalidUtf8"/>.
    /// </summary>
    public bool TryReadString(int maxByteLength, [NotNullWhen(true)] out string? value, string? field = null)
    {
        value = null;
        var start = _offset;
        if (!TryReadBytes(maxByteLength, out var bytes, field))
        {
            return false;
        }

        if (!Utf8.IsValid(bytes))
        {
            return Fail(CodecError.InvalidUtf8, start, field);
        }

        value = System.Text.Encoding.UTF8.GetString(bytes);
        return true;
    }

    /// <summary>A scalar in the group's canonical encoding; values not below the order are <see cref="CodecError.InvalidScalar"/>.</summary>
    public bool TryReadScalar(PrimeOrderGroup group, out Scalar value, string? field = null)
    {
        ArgumentNullException.ThrowIfNull(group);
        value = default;
        var start = _offset;
        if (!TryTake(group.ScalarLength, field, out var bytes))
        {
            return false;
        }

        return group.TryDecodeScalar(bytes, out value) || Fail(CodecError.InvalidScalar, start, field);
    }

    /// <summary>
    /// An element in the group's canonical encoding, validated by the group: non-canonical encodings,
    /// points off the curve or outside the prime-order subgroup, and the identity unless
    /// <paramref name="allowIdentity"/>, are <see cref="CodecError.InvalidElement"/>.
    /// </summary>
    public bool TryReadElement(PrimeOrderGroup group, out Element value, bool allowIdentity = false, string? field = null)
    {
        ArgumentNullException.ThrowIfNull(group);
        value = default;
        var start = _offset;
        if (!TryTake(group.ElementLength, field, out var bytes))
        {
            return false;
        }

        return group.TryDecodeElement(bytes, out value, allowIdentity) || Fail(CodecError.InvalidElement, start, field);
    }

    /// <summary>
    /// A list's u32 count, checked against <paramref name="maxCount"/> and against the bytes left,
    /// given that every item takes at least <paramref name="minItemLength"/> bytes; so a caller may
    /// allocate <paramref name="count"/> items without trusting the sender.
    /// </summary>
    public bool TryReadCount(int maxCount, int minItemLength, out int count, string? field = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(minItemLength, 1);
        count = 0;
        var start = _offset;
        if (!TryReadU32(out var raw, field))
        {
            return false;
        }

        if (raw > (uint)maxCount)
        {
            return Fail(CodecError.TooLong, start, field);
        }

        if ((ulong)raw * (ulong)minItemLength > (ulong)Remaining)
        {
            return Fail(CodecError.Truncated, start, field);
        }

        count = (int)raw;
        return true;
    }

    /// <summary>
    /// A u32 count (see <see cref="TryReadCount"/>), then that many items read by
    /// <paramref name="readItem"/>. Fails on the first bad item, whose reason the reader keeps.
    /// </summary>
    public bool TryReadList<T>(int maxCount, int minItemLength, TryReadItem<T> readItem, out T[] items, string? field = null)
    {
        ArgumentNullException.ThrowIfNull(readItem);
        items = [];
        if (!TryReadCount(maxCount, minItemLength, out var count, field))
        {
            return false;
        }

        var result = count == 0 ? [] : new T[count];
        for (var i = 0; i < count; i++)
        {
            if (!readItem(ref this, i, out result[i]))
            {
                // An item reader that returns false without saying why is still a failure.
                return Fail(CodecError.InvalidValue, _offset, field);
            }
        }

        items = result;
        return true;
    }

    /// <summary>Succeeds only if every byte was consumed; otherwise <see cref="CodecError.TrailingBytes"/>.</summary>
    public bool TryReadEnd()
    {
        if (Failed)
        {
            return false;
        }

        return Remaining == 0 || Fail(CodecError.TrailingBytes, _offset);
    }

    private bool TryTake(int length, string? field, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (Failed)
        {
            return false;
        }

        if (length > Remaining)
        {
            return Fail(CodecError.Truncated, _offset, field);
        }

        bytes = _data.Slice(_offset, length);
        _offset += length;
        return true;
    }
}
