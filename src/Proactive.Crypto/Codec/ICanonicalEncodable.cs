using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Codec;

/// <summary>
/// A wire type that writes its one canonical encoding (header first); see the conventions in
/// <see cref="CanonicalWriter"/>.
/// </summary>
public interface ICanonicalEncodable
{
    /// <summary>The exact length <see cref="WriteTo"/> writes, so that encoding allocates once.</summary>
    int EncodedLength { get; }

    /// <summary>Writes the header (version, suite) and then every field in order.</summary>
    void WriteTo(ref CanonicalWriter writer);
}

/// <summary>
/// A wire type that reads its encoding from untrusted bytes without throwing. Being an interface
/// lets tests find every decoder by reflection and fuzz it.
/// </summary>
/// <typeparam name="TSelf">The implementing type.</typeparam>
public interface ICanonicalDecodable<TSelf>
    where TSelf : ICanonicalDecodable<TSelf>
{
    /// <summary>
    /// Reads the header and fields, leaving the reader after the last field (the caller checks the
    /// end, so the type can also be read from inside a longer buffer). On failure returns false and
    /// the reader holds the reason.
    /// </summary>
    /// <param name="reader">Positioned at the header.</param>
    /// <param name="expectedSuite">The suite the caller expects, or null to accept any known suite.</param>
    /// <param name="value">The decoded value when the method returns true.</param>
    static abstract bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out TSelf value);
}

/// <summary>Reads one value of a type whose encoding names no suite, leaving the reader after it.</summary>
public delegate bool ReadValue<T>(ref CanonicalReader reader, [MaybeNullWhen(false)] out T value);

/// <summary>Whole-buffer encode and decode for the types that follow the codec convention.</summary>
public static class CanonicalEncoding
{
    /// <summary>
    /// Decodes a whole buffer with <paramref name="read"/>: the value must fill it exactly. For types
    /// whose encoding names no suite (keys, envelopes, tables); never throws on bad data.
    /// </summary>
    public static bool TryDecodeWith<T>(ReadOnlySpan<byte> encoding, ReadValue<T> read, [MaybeNullWhen(false)] out T value, out CodecFailure failure)
    {
        ArgumentNullException.ThrowIfNull(read);
        var reader = new CanonicalReader(encoding);
        if (!read(ref reader, out value) || !reader.TryReadEnd())
        {
            failure = reader.FailureOrInvalidValue;
            value = default;
            return false;
        }

        failure = default;
        return true;
    }

    /// <summary>The encoding of <paramref name="value"/> in a new array of exactly the right length.</summary>
    public static byte[] Encode<T>(T value)
        where T : ICanonicalEncodable
    {
        ArgumentNullException.ThrowIfNull(value);
        var bytes = new byte[value.EncodedLength];
        var writer = new CanonicalWriter(bytes);
        value.WriteTo(ref writer);
        if (writer.BytesWritten != bytes.Length)
        {
            // A type whose EncodedLength disagrees with WriteTo is a bug, not bad data.
            throw new InvalidOperationException($"{typeof(T).Name} wrote {writer.BytesWritten} bytes but declared {bytes.Length}.");
        }

        return bytes;
    }

    /// <summary>
    /// Decodes a whole buffer: the value must fill it exactly. Never throws on bad data; the failure
    /// says what, where and in which field.
    /// </summary>
    public static bool TryDecode<T>(ReadOnlySpan<byte> encoding, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out T value, out CodecFailure failure)
        where T : ICanonicalDecodable<T>
    {
        var reader = new CanonicalReader(encoding);
        if (!T.TryRead(ref reader, expectedSuite, out value) || !reader.TryReadEnd())
        {
            // A decoder that returns false without recording a reason still must not pass.
            failure = reader.FailureOrInvalidValue;
            value = default;
            return false;
        }

        failure = default;
        return true;
    }
}
