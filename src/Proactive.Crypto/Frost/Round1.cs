// References: RFC 9591 section 4.1 (nonce_generate), section 5.1 (Round One - Commitment),
// section 7.3 (nonce reuse attacks: a nonce pair must sign at most once).
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
/// <remarks>Wire form: version (1) || suite id (1) || SerializeScalar(identifier) || SerializeElement(D) || SerializeElement(E).</remarks>
public sealed class SigningCommitments
{
    /// <summary>Version byte of the wire form.</summary>
    public const byte Version = 1;

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

    /// <summary>Bytes of the wire form for a suite.</summary>
    public static int EncodedLength(Ciphersuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return 2 + suite.Group.ScalarLength + (2 * suite.Group.ElementLength);
    }

    public byte[] Encode()
    {
        var ns = Suite.Group.ScalarLength;
        var ne = Suite.Group.ElementLength;
        var bytes = new byte[EncodedLength(Suite)];
        bytes[0] = Version;
        bytes[1] = (byte)Suite.Id;
        Identifier.Encode(bytes.AsSpan(2, ns));
        _hidingEncoding.CopyTo(bytes.AsSpan(2 + ns));
        _bindingEncoding.CopyTo(bytes.AsSpan(2 + ns + ne));
        return bytes;
    }

    /// <summary>
    /// Decodes the wire form for <paramref name="suite"/>. False, never an exception, for a wrong length or
    /// version, another suite, a zero or non-canonical identifier, or an element that is invalid, outside
    /// the prime-order group, or the identity.
    /// </summary>
    public static bool TryDecode(Ciphersuite suite, ReadOnlySpan<byte> encoding, out SigningCommitments? commitments)
    {
        ArgumentNullException.ThrowIfNull(suite);
        commitments = null;
        var group = suite.Group;
        var ns = group.ScalarLength;
        var ne = group.ElementLength;
        if (encoding.Length != EncodedLength(suite) || encoding[0] != Version || encoding[1] != (byte)suite.Id)
        {
            return false;
        }

        var hidingBytes = encoding.Slice(2 + ns, ne);
        var bindingBytes = encoding.Slice(2 + ns + ne, ne);
        if (!Identifier.TryDecode(suite, encoding.Slice(2, ns), out var identifier)
            || !group.TryDecodeElement(hidingBytes, out var hiding)
            || !group.TryDecodeElement(bindingBytes, out var binding))
        {
            return false;
        }

        commitments = new SigningCommitments(suite, identifier, hiding, binding, hidingBytes.ToArray(), bindingBytes.ToArray());
        return true;
    }

    public override string ToString() => $"SigningCommitments({Identifier})";
}
