namespace Proactive.Crypto.Codec;

/// <summary>
/// Why a canonical decode refused its input. Untrusted bytes never throw; they produce one of
/// these, so a node can report a peer's bad message precisely and keep running.
/// </summary>
public enum CodecError : byte
{
    /// <summary>No failure was recorded.</summary>
    None = 0,

    /// <summary>The input ended inside a field (or before a count's items could fit).</summary>
    Truncated,

    /// <summary>A length or count exceeds the limit the format declares for that field.</summary>
    TooLong,

    /// <summary>Bytes remain after the last field: the encoding would not be unique otherwise.</summary>
    TrailingBytes,

    /// <summary>A value has another, canonical, encoding (for example a bool byte other than 0 or 1).</summary>
    NonCanonical,

    /// <summary>A scalar is not below the group order (the only way a fixed-length scalar can be wrong).</summary>
    InvalidScalar,

    /// <summary>
    /// An element is non-canonical, off the curve, outside the prime-order subgroup, or the
    /// identity where the field does not allow it.
    /// </summary>
    InvalidElement,

    /// <summary>The format version byte is not the one this decoder reads.</summary>
    WrongVersion,

    /// <summary>The suite id is a known suite, but not the one the caller expected.</summary>
    WrongSuite,

    /// <summary>The suite id names no suite this build knows.</summary>
    UnknownSuite,

    /// <summary>A string field is not strictly valid UTF-8.</summary>
    InvalidUtf8,

    /// <summary>Well-formed bytes that break a rule of the type (a count of zero, a flag that contradicts a field).</summary>
    InvalidValue,
}

/// <summary>
/// The first failure a <see cref="CanonicalReader"/> hit: what went wrong, at which byte offset
/// (the start of the failing field, or the end of the data for <see cref="CodecError.TrailingBytes"/>),
/// and the field's name when the decoder gave one, so logs can say "field X at offset N: Truncated".
/// </summary>
/// <param name="Error">What went wrong; <see cref="CodecError.None"/> when nothing did.</param>
/// <param name="Offset">Byte offset in the decoded buffer where the failing field starts.</param>
/// <param name="Field">The name the decoder gave the field, or null.</param>
public readonly record struct CodecFailure(CodecError Error, int Offset, string? Field)
{
    /// <summary>Whether this records a failure at all.</summary>
    public bool IsFailure => Error != CodecError.None;

    /// <summary>A message fit for a log line or an error reply; it never contains the input bytes.</summary>
    public override string ToString() => Error == CodecError.None
        ? "no error"
        : Field is null
            ? $"at offset {Offset}: {Error}"
            : $"field '{Field}' at offset {Offset}: {Error}";
}
