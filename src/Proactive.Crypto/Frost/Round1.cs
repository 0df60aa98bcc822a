// References: RFC 9591 section 4.1 (nonce_generate), section 5.1 (Round One - Commitment),
// section 7.3 (nonce reuse attacks: a nonce pair must sign at most once).
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Secrets;

namespace Proactive.Crypto.Frost;

/// <summary>Round one of FROST signing (RFC 9591 section 5.1).</summary>
public static class Round1
{
    /// <summary>
    /// RFC 9591 section 5.1 commit: draws the hiding and binding nonces (d_i, e_i) with
    /// <c>nonce_generate</c> and returns them with their public commitments (D_i, E_i) = (d_i*G, e_i*G).
    /// Send <see cref="SigningNonces.Commitments"/>; keep the nonces for exactly one <see cref="Round2.Sign"/>.
    /// </summary>
    public static SigningNonces Commit(SigningShare signingShare, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(signingShare);
        ArgumentNullException.ThrowIfNull(random);
        var suite = signingShare.Suite;
        var secret = signingShare.Value;
        var hiding = NonceGenerate(suite, secret, random);
        var binding = NonceGenerate(suite, secret, random);
        return new SigningNonces(suite, signingShare.Identifier, hiding, binding);
    }

    /// <summary>
    /// RFC 9591 section 4.1 nonce_generate: H3(random_bytes(32) || SerializeScalar(secret)). Mixing the
    /// long-term secret in keeps the nonce unpredictable even if the random source is weak.
    /// </summary>
    internal static Scalar NonceGenerate(Ciphersuite suite, Scalar secret, IRandomSource random)
    {
        var ns = suite.Group.ScalarLength;
        Span<byte> input = stackalloc byte[32 + ns];
        try
        {
            random.Fill(input[..32]);
            suite.Group.EncodeScalar(secret, input[32..]);
            return suite.H3(input);
        }
        finally
        {
            input.Clear();
        }
    }
}

/// <summary>
/// A participant's round-one secret: the nonce pair (d_i, e_i) (ZF frost <c>SigningNonces</c>). It has no
/// encoding on purpose: it must never leave its owner. <see cref="Round2.Sign"/> consumes it, so a nonce pair
/// can sign at most once (RFC 9591 section 7.3); a second use throws <see cref="InvalidOperationException"/>.
/// </summary>
public sealed class SigningNonces : IDisposable
{
    private readonly SecretScalar _hiding;
    private readonly SecretScalar _binding;
    private bool _used;
    private bool _disposed;

    internal SigningNonces(Ciphersuite suite, Identifier identifier, Scalar hiding, Scalar binding)
    {
        var group = suite.Group;
        _hiding = new SecretScalar(group, hiding);
        _binding = new SecretScalar(group, binding);
        Commitments = new SigningCommitments(suite, identifier, group.MultiplyBase(hiding), group.MultiplyBase(binding));
    }

    public Ciphersuite Suite => Commitments.Suite;

    public Identifier Identifier => Commitments.Identifier;

    /// <summary>The public commitments (D_i, E_i), the message to send to the coordinator.</summary>
    public SigningCommitments Commitments { get; }

    /// <summary>True once a <see cref="Round2.Sign"/> call has taken these nonces.</summary>
    public bool IsUsed => _used;

    /// <summary>d_i, for the test vectors only.</summary>
    internal Scalar HidingValue => _hiding.Value;

    /// <summary>e_i, for the test vectors only.</summary>
    internal Scalar BindingValue => _binding.Value;

    public override string ToString() => $"SigningNonces({Identifier}, <redacted>)";

    public void Dispose()
    {
        _hiding.Dispose();
        _binding.Dispose();
        _disposed = true;
    }

    /// <summary>
    /// Hands out (d_i, e_i) once and wipes them: the single point where a nonce pair turns into a signature
    /// share, so reuse is impossible through the API.
    /// </summary>
    internal (Scalar Hiding, Scalar Binding) Consume()
    {
        if (_used)
        {
            throw new InvalidOperationException(
                "These signing nonces were already used by Round2.Sign; signing twice with one nonce pair reveals the signing share. Run Round1.Commit again.");
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        _used = true;
        var pair = (_hiding.Value, _binding.Value);
        Dispose();
        return pair;
    }
}

/// <summary>
/// A participant's round-one message: its identifier and nonce commitments (D_i, E_i) = (d_i*G, e_i*G)
/// (ZF frost <c>SigningCommitments</c>). Public; neither element is ever the identity (RFC 9591 section 5.1
/// deserialization rejects it).
/// </summary>
/// <remarks>
/// <para>Wire format, version 1, in the codec's layout (<see cref="CanonicalWriter"/>), fixed length per suite:</para>
/// <code>
/// u8      version = 1
/// u8      suite (GroupId of the ciphersuite's group)
/// scalar  identifier   (SerializeScalar, nonzero)
/// element D            (SerializeElement, never the identity)
/// element E            (SerializeElement, never the identity)
/// </code>
/// </remarks>
public sealed class SigningCommitments : ICanonicalEncodable, ICanonicalDecodable<SigningCommitments>
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 1;

    private readonly byte[] _hidingEncoding;
    private readonly byte[] _bindingEncoding;

    /// <summary>Builds commitments from elements; the identity is refused (it has no RFC 9591 encoding).</summary>
    public SigningCommitments(Ciphersuite suite, Identifier identifier, Element hiding, Element binding)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (identifier.Group != suite.Group)
        {
            throw new ArgumentException("The identifier belongs to another suite.", nameof(identifier));
        }

        Suite = suite;
        Identifier = identifier;
        Hiding = hiding;
        Binding = binding;
        _hidingEncoding = suite.Group.EncodeElement(hiding);
        _bindingEncoding = suite.Group.EncodeElement(binding);
    }

    private SigningCommitments(Ciphersuite suite, Identifier identifier, Element hiding, Element binding, byte[] hidingEncoding, byte[] bindingEncoding)
    {
        Suite = suite;
        Identifier = identifier;
        Hiding = hiding;
        Binding = binding;
        _hidingEncoding = hidingEncoding;
        _bindingEncoding = bindingEncoding;
    }

    public Ciphersuite Suite { get; }

    public Identifier Identifier { get; }

    /// <summary>D_i = d_i * G.</summary>
    public Element Hiding { get; }

    /// <summary>E_i = e_i * G.</summary>
    public Element Binding { get; }

    internal ReadOnlySpan<byte> HidingEncoding => _hidingEncoding;

    internal ReadOnlySpan<byte> BindingEncoding => _bindingEncoding;

    /// <inheritdoc />
    int ICanonicalEncodable.EncodedLength => EncodedLength(Suite);

    /// <summary>Bytes of the wire form for a suite.</summary>
    public static int EncodedLength(Ciphersuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return CanonicalWriter.HeaderSize + suite.Group.ScalarLength + (2 * suite.Group.ElementLength);
    }

    /// <summary>The canonical encoding (header included).</summary>
    public byte[] Encode() => CanonicalEncoding.Encode(this);

    /// <inheritdoc />
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteHeader(FormatVersion, Suite.Group);
        writer.WriteScalar(Suite.Group, Identifier.Value);

        // The cached encodings are the canonical ones (made by EncodeElement or accepted by TryDecodeElement).
        writer.WriteFixedBytes(_hidingEncoding);
        writer.WriteFixedBytes(_bindingEncoding);
    }

    /// <summary>
    /// Decodes the wire form for <paramref name="suite"/>. False, never an exception, for a wrong length or
    /// version, another suite, a zero or non-canonical identifier, or an element that is invalid, outside
    /// the prime-order group, or the identity.
    /// </summary>
    public static bool TryDecode(Ciphersuite suite, ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out SigningCommitments? commitments) =>
        TryDecode(suite, encoding, out commitments, out _);

    /// <summary>As the other overload, but the failure says what went wrong, at which offset and in which field.</summary>
    public static bool TryDecode(Ciphersuite suite, ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out SigningCommitments? commitments, out CodecFailure failure)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return CanonicalEncoding.TryDecode<SigningCommitments>(encoding, suite.Group, out commitments, out failure);
    }

    /// <inheritdoc />
    public static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out SigningCommitments value)
    {
        value = null;
        if (!reader.TryReadHeader(FormatVersion, expectedSuite, out var group))
        {
            return false;
        }

        if (!Ciphersuite.TryFromGroupId(group.Id, out var suite))
        {
            return reader.Fail(CodecError.UnknownSuite, reader.Offset - 1, "suite");
        }

        if (!FrostWire.TryReadIdentifier(ref reader, suite, out var identifier)
            || !FrostWire.TryReadElementKeepingBytes(ref reader, group, "hiding", out var hiding, out var hidingBytes)
            || !FrostWire.TryReadElementKeepingBytes(ref reader, group, "binding", out var binding, out var bindingBytes))
        {
            return false;
        }

        value = new SigningCommitments(suite, identifier, hiding, binding, hidingBytes, bindingBytes);
        return true;
    }

    public override string ToString() => $"SigningCommitments({Identifier})";
}

/// <summary>Field readers shared by the FROST wire types.</summary>
internal static class FrostWire
{
    /// <summary>A nonzero canonical scalar (RFC 9591 section 3.1); zero is <see cref="CodecError.InvalidValue"/>.</summary>
    internal static bool TryReadIdentifier(ref CanonicalReader reader, Ciphersuite suite, out Identifier identifier)
    {
        identifier = default;
        var start = reader.Offset;
        if (!reader.TryReadScalar(suite.Group, out var value, "identifier"))
        {
            return false;
        }

        if (value.IsZero)
        {
            return reader.Fail(CodecError.InvalidValue, start, "identifier");
        }

        identifier = Identifier.FromScalar(suite, value);
        return true;
    }

    /// <summary>
    /// An element validated as <see cref="CanonicalReader.TryReadElement"/> does, also returning its
    /// bytes, which the FROST transcripts hash as they are (saves re-encoding, a field inversion on P-256).
    /// </summary>
    internal static bool TryReadElementKeepingBytes(ref CanonicalReader reader, PrimeOrderGroup group, string field, out Element element, [NotNullWhen(true)] out byte[]? bytes)
    {
        element = default;
        bytes = null;
        var start = reader.Offset;
        if (!reader.TryReadFixedBytes(group.ElementLength, out var raw, field))
        {
            return false;
        }

        if (!group.TryDecodeElement(raw, out element))
        {
            return reader.Fail(CodecError.InvalidElement, start, field);
        }

        bytes = raw.ToArray();
        return true;
    }
}
